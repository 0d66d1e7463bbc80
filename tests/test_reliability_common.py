"""Shared helpers of the reliability suite (no tests here): the CLI in a subprocess with its
resource use, and the archive checks every reliability test ends with."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from replica import Replica

# Short timeouts keep held connections brief; no autothrottle so timings do not drift.
FAST_ENV = {"NEWSWATCH_CRAWL_AUTOTHROTTLE": "false", "NEWSWATCH_CRAWL_DOWNLOAD_TIMEOUT_S": "3",
            "NEWSWATCH_CRAWL_RETRY_TIMES": "1", "NEWSWATCH_CRAWL_RETRY_BACKOFF_S": "0.1"}


@dataclass(frozen=True)
class Finished:
    """A finished CLI subprocess: exit status, output, wall time and peak RSS of that child alone."""

    returncode: int
    stdout: str
    stderr: str
    wall_s: float
    peak_rss_mb: float


def cli_args(db: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "newswatch", "--db", db, *args]


def run_cli(db: str, *args: str, env: dict[str, str] | None = None, timeout: float = 300.0,
            workdir: Path | None = None) -> Finished:
    """Run the CLI and measure its peak RSS from /proc (VmHWM of the exec'd program): a child's
    ru_maxrss keeps the high-water mark of the forked copy of this (large) test process."""
    out_dir = workdir or Path(os.environ.get("TMPDIR", "/tmp"))
    stamp = f"{os.getpid()}-{time.monotonic_ns()}"
    out_path, err_path = out_dir / f"cli-{stamp}.out", out_dir / f"cli-{stamp}.err"
    started = time.monotonic()
    with out_path.open("wb") as out, err_path.open("wb") as err:
        process = subprocess.Popen(cli_args(db, *args), stdout=out, stderr=err,
                                   env={**os.environ, **FAST_ENV, **(env or {})})
        status, peak_kb = _wait(process, timeout)
    wall = time.monotonic() - started
    stdout, stderr = out_path.read_text("utf-8", "replace"), err_path.read_text("utf-8", "replace")
    out_path.unlink()
    err_path.unlink()
    return Finished(status, stdout, stderr, wall, peak_kb / 1024)


def _high_water_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _wait(process: subprocess.Popen[bytes], timeout: float) -> tuple[int, int]:
    """Exit status and the largest VmHWM read while it ran (polled until it exits)."""
    deadline = time.monotonic() + timeout
    peak = 0
    while time.monotonic() < deadline:
        peak = max(peak, _high_water_kb(process.pid))
        pid, status = os.waitpid(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return process.returncode, peak
        time.sleep(0.05)
    process.kill()
    _pid, status = os.waitpid(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    raise AssertionError(f"{process.args!r} ran longer than {timeout} s")


def check_cli(db: str, *args: str, env: dict[str, str] | None = None) -> Finished:
    finished = run_cli(db, *args, env=env)
    assert finished.returncode == 0, f"newswatch {' '.join(args)} failed:\n{finished.stderr[-3000:]}"
    return finished


def add_sources(db: str, replica: Replica, keys: tuple[str, ...] | None = None) -> None:
    for key, base_url in replica.base_urls.items():
        # A separate English host is an edition, found from its home page.
        if not key.endswith("-en") and (keys is None or key in keys):
            check_cli(db, "sources", "add", base_url, "--name", key)


def crawl_json(db: str, env: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """One clean crawl cycle; every run must finish. Counters by source."""
    finished = check_cli(db, "crawl", "--json", "--no-alerts", env=env)
    runs = [row for row in map(json.loads, finished.stdout.splitlines()) if "source" in row]
    assert all(run["status"] == "finished" for run in runs), runs
    return {run["source"]: run["counters"] for run in runs}


def query(db: str, sql: str) -> list[tuple[Any, ...]]:
    engine = create_engine(db)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()


def check_no_duplicates(db: str) -> None:
    """Straight from the tables: no story twice under one URL or canonical URL, one fetch state per URL."""
    twice = query(db, "SELECT canonical_url, text_hash, COUNT(*) FROM items "
                      "GROUP BY canonical_url, text_hash HAVING COUNT(*) > 1")
    assert twice == [], f"items archived twice: {twice[:5]}"
    crossed = query(db, "SELECT a.url, b.url FROM items a JOIN items b ON a.id < b.id "
                        "AND a.text_hash = b.text_hash AND (a.url = b.canonical_url OR b.url = a.canonical_url "
                        "OR a.url = b.url)")
    assert crossed == [], f"one story at a URL and as another's canonical URL: {crossed[:5]}"
    states = query(db, "SELECT url, COUNT(*) FROM fetch_state GROUP BY url HAVING COUNT(*) > 1")
    assert states == [], f"fetch_state rows per URL: {states[:5]}"


def check_fetch_state(db: str) -> None:
    """Every archived article was recorded as fetched; no crawl run is left 'running'."""
    missing = query(db, "SELECT i.url, f.kind, f.status FROM items i LEFT JOIN fetch_state f ON f.url = i.url "
                        "WHERE i.is_seed = 0 AND (f.url IS NULL OR f.kind != 'article' "
                        "OR f.status IS NULL OR f.status NOT IN (200, 304))")
    assert missing == [], f"{len(missing)} archived articles without a good fetch state, e.g. {missing[:5]}"
    running = query(db, "SELECT id, source_id FROM crawl_runs WHERE status = 'running'")
    assert running == [], f"crawl runs left 'running': {running}"


def archived_urls(db: str) -> set[str]:
    return {str(row[0]) for row in query(db, "SELECT url FROM items WHERE is_seed = 0")}


def article_urls(replica: Replica) -> set[str]:
    return {entry.url for entry in replica.manifest() if entry.kind == "article"}


def check_archive_is_manifest(db: str, replica: Replica) -> None:
    archived, articles = archived_urls(db), article_urls(replica)
    assert sorted(articles - archived) == [], "articles lost"
    assert sorted(archived - articles) == [], "pages that are not articles archived"


# -- a tiny loopback site for what the replica lacks -----------------------------------------

Route = tuple[int, dict[str, str], bytes]


class TinySite:
    """A ThreadingHTTPServer on 127.0.0.1 answering from `routes(path_and_query)`; logs every request."""

    def __init__(self, routes: Callable[[str], Route | None] | None = None) -> None:
        self.requests: list[str] = []
        self.routes = routes or (lambda _path: None)  # settable once self.url is known
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requests.append(self.path)
                status, headers, body = site.routes(self.path) or (404, {"Content-Type": "text/plain"}, b"no")
                self.send_response(status)
                for name, value in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> TinySite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def html(body: str, head: str = "") -> Route:
    page = f'<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">{head}</head><body>{body}</body></html>'
    return 200, {"Content-Type": "text/html; charset=utf-8"}, page.encode()
