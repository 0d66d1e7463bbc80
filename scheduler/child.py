"""Running one crawl cycle in a child process, with a time limit, and recording what happened.

Each cycle is `crawl_command + [source]` in its own process: a Twisted reactor cannot be
restarted, and a fresh process returns all its memory when it exits (docs/scheduler.md). The
child is started through `scheduler.crawl_child`, which asks the kernel to send it SIGTERM when
the scheduler dies, so a killed scheduler leaves no crawl running on its own. A child that runs
past its time limit gets SIGTERM (finish the item in flight), then SIGKILL; its run is recorded
as failed. So is a child that crashed before or during its crawl.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from storage import Archive
from storage.records import RunInfo, SourceInfo

logger = logging.getLogger(__name__)

KILL_GRACE_S = 5.0
STDERR_TAIL = 3


@dataclass(frozen=True)
class CycleOutcome:
    source: str
    status: str                           # finished | failed | interrupted | timeout | crashed
    runs: tuple[RunInfo, ...] = ()
    error: str | None = None
    seconds: float = 0.0
    counters: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "finished"


class ChildRegistry:
    """The crawl processes running now, so that a stopping scheduler can signal them once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._children: dict[str, subprocess.Popen[str]] = {}
        self.stopping = threading.Event()

    def add(self, source: str, process: subprocess.Popen[str]) -> None:
        with self._lock:
            self._children[source] = process
            if self.stopping.is_set():  # started while the scheduler was being stopped
                _signal(process, signal.SIGTERM)

    def remove(self, source: str) -> None:
        with self._lock:
            self._children.pop(source, None)

    def running(self) -> list[str]:
        with self._lock:
            return sorted(self._children)

    def terminate_all(self) -> None:
        self.stopping.set()
        with self._lock:
            children = list(self._children.values())
        for process in children:
            _signal(process, signal.SIGTERM)

    def kill_all(self) -> None:
        with self._lock:
            children = list(self._children.values())
        for process in children:
            _signal(process, signal.SIGKILL)


def _signal(process: subprocess.Popen[str], signum: int) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signum)


def child_argv(command: Sequence[str], source: str) -> list[str]:
    """argv for one crawl: the pdeath wrapper when the command is a Python module call."""
    argv = [*command, source]
    if len(argv) > 2 and argv[0] == sys.executable and argv[1] == "-m":
        return [sys.executable, "-m", "scheduler.crawl_child", str(os.getpid()), *argv[2:]]
    return argv


def run_cycle(
    archive: Archive,
    source: SourceInfo,
    command: Sequence[str],
    *,
    env: Mapping[str, str],
    timeout_s: float,
    children: ChildRegistry,
) -> CycleOutcome:
    """One crawl of `source` in a child process; the outcome is also recorded in the archive."""
    before = archive.last_run_id()
    started = time.monotonic()
    process = subprocess.Popen(
        child_argv(command, source.name), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        encoding="utf-8", errors="replace", env={**os.environ, **env}, start_new_session=True,
    )
    children.add(source.name, process)
    try:
        stdout, stderr, timed_out = _wait(process, timeout_s)
    finally:
        children.remove(source.name)
    seconds = time.monotonic() - started
    runs = tuple(archive.list_runs(source.id, after_id=before))
    if timed_out:
        error = f"timed out after {timeout_s:g} s"
        return CycleOutcome(source.name, "timeout", _close_runs(archive, source, runs, error), error, seconds)
    reported = _parse_runs(stdout)
    if process.returncode not in (0, 1) or not reported:
        stopped = children.stopping.is_set()
        error = _crash_reason(process.returncode, stderr)
        status = "interrupted" if stopped else "crashed"
        closed = _close_runs(archive, source, runs, error, "interrupted" if stopped else "failed")
        return CycleOutcome(source.name, status, closed, error, seconds)
    if any(run.status == "running" for run in runs):  # stopped before its spider closed
        stopped = children.stopping.is_set()
        error = "stopped before the crawl could record its end" if stopped else "crawl ended without recording it"
        runs = _close_runs(archive, source, runs, error, "interrupted" if stopped else "failed")
    last = runs[-1] if runs else None
    if last is None:
        return CycleOutcome(source.name, "crashed", (), "the crawl recorded no run", seconds)
    return CycleOutcome(source.name, last.status, runs, last.error, seconds, dict(last.counters))


def _wait(process: subprocess.Popen[str], timeout_s: float) -> tuple[str, str, bool]:
    try:
        stdout, stderr = process.communicate(timeout=timeout_s)
        return stdout, stderr, False
    except subprocess.TimeoutExpired:
        logger.warning("crawl process %d ran past %g s: stopping it", process.pid, timeout_s)
    _signal(process, signal.SIGTERM)
    try:
        stdout, stderr = process.communicate(timeout=KILL_GRACE_S)
    except subprocess.TimeoutExpired:
        _signal(process, signal.SIGKILL)
        stdout, stderr = process.communicate()
    return stdout, stderr, True


def _parse_runs(stdout: str) -> list[dict[str, Any]]:
    runs = []
    for line in stdout.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict) and "status" in value:
            runs.append(value)
    return runs


def _crash_reason(returncode: int, stderr: str) -> str:
    tail = [line.strip() for line in stderr.splitlines() if line.strip()][-STDERR_TAIL:]
    how = f"killed by signal {-returncode}" if returncode < 0 else f"exit status {returncode}"
    return f"crawl process ended with {how}" + (f": {' | '.join(tail)}" if tail else "")


def _close_runs(
    archive: Archive, source: SourceInfo, runs: tuple[RunInfo, ...], error: str, status: str = "failed"
) -> tuple[RunInfo, ...]:
    """Record the cycle's runs as `status` with `error`; one new run when the child left none."""
    if not runs:
        run_id = archive.start_run(source.id)
        archive.finish_run(run_id, status, {}, error)
        return (archive.get_run(run_id),)
    closed = []
    for run in runs:
        if run.status == "running" or (run.status == "interrupted" and status == "failed"):
            archive.finish_run(run.id, status, run.counters, error)
        closed.append(archive.get_run(run.id))
    return tuple(closed)
