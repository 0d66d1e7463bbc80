"""Command line for the replica.

``python -m replica serve [--port 0] [--day 0]`` prints ``<site> <base URL>`` per site, then
``ready``, and serves until SIGINT/SIGTERM (exit 0). ``python -m replica manifest [--day N]
[--base-url URL]`` prints the manifest as JSON lines without serving. Bad arguments: one line on
stderr, exit status 2. Both take ``--faults "nghean=5xx,slow:0.5;*=deleted"`` (see
``replica.faults``; default: none); ``serve`` then also prints ``alias <site> <URL>`` lines on
stderr for sites with the ``redirects`` fault.
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import NoReturn

from replica.faults import FaultPlan
from replica.manifest import write_jsonl
from replica.server import DEFAULT_BASE_URL, Replica, base_urls_from

FAULTS_HELP = 'faults per site, e.g. "nghean=5xx,slow:0.5;*=deleted" (default: none)'


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line on stderr and exit status 2 (argparse would also print the usage)."""
        self.exit(2, f"{self.prog}: error: {message}\n")


def _non_negative(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {value!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0: {value}")
    return number


def _port(value: str) -> int:
    number = _non_negative(value)
    if number > 65535:
        raise argparse.ArgumentTypeError(f"not a port number: {value}")
    return number


def _base_url(value: str) -> str:
    url = value if value.endswith("/") else value + "/"
    try:
        base_urls_from(url, ["check"])
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return url


def _faults(value: str) -> FaultPlan:
    try:
        return FaultPlan.parse(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m replica", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    serve = commands.add_parser("serve", help="serve the replica until SIGINT/SIGTERM")
    serve.add_argument("--port", type=_port, default=0, help="port of the first site (0: free ports)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--day", type=_non_negative, default=0, help="simulated day to serve")
    serve.add_argument("--faults", type=_faults, default=FaultPlan(), help=FAULTS_HELP)
    manifest = commands.add_parser("manifest", help="print the manifest as JSON lines")
    manifest.add_argument("--day", type=_non_negative, default=0, help="simulated day")
    manifest.add_argument("--base-url", type=_base_url, default=DEFAULT_BASE_URL,
                          help=f"base URL of the first site (default {DEFAULT_BASE_URL})")
    manifest.add_argument("--faults", type=_faults, default=FaultPlan(), help=FAULTS_HELP)
    return parser


def _serve(port: int, host: str, day: int, faults: FaultPlan) -> int:
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    replica = Replica(day=day, faults=faults)
    try:
        replica.start(port=port, host=host)
    except OSError as exc:
        print(f"python -m replica: error: cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        return 1
    try:
        for key, url in replica.base_urls.items():
            print(f"{key} {url}", flush=True)
        for key, url in replica.alias_urls.items():
            print(f"alias {key} {url}", file=sys.stderr, flush=True)
        print("ready", flush=True)  # every site is listening: callers may stop reading here
        while not stop.wait(0.5):
            pass
    finally:
        replica.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        Replica(faults=args.faults)  # names only known sites
    except ValueError as exc:
        parser.error(f"argument --faults: {exc}")
    if args.command == "serve":
        return _serve(args.port, args.host, args.day, args.faults)
    replica = Replica(day=args.day, base_url=args.base_url, faults=args.faults)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(encoding="utf-8")
    try:
        write_jsonl(replica.manifest(), sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
