"""Shared by the crawl-worker tests and bench/scale.py: Redis and PostgreSQL for the test, worker
processes, the replica's per-URL request log, and the archive as comparable rows."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import redis

from replica import Replica
from replica.handlers import Handler

REDIS_URL_VARIABLE = "NEWSWATCH_TEST_REDIS_URL"
DEFAULT_TEST_REDIS = "redis://127.0.0.1:6379/15"
REPO_ROOT = Path(__file__).resolve().parent.parent
ITEM_FIELDS = ("url", "canonical_url", "title", "text", "language", "published_at", "duplicate_of",
               "duplicate_kind", "event", "alerted")


def redis_url_or_reason() -> tuple[str | None, str]:
    url = os.environ.get(REDIS_URL_VARIABLE, DEFAULT_TEST_REDIS)
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        return None, f"crawl-worker tests need Redis at {url} ({REDIS_URL_VARIABLE}): {exc}"
    return url, ""


@contextmanager
def redis_prefix(url: str) -> Iterator[str]:
    """A fresh key prefix; only its keys are deleted afterwards."""
    prefix = f"nwtest:{uuid.uuid4().hex[:10]}"
    try:
        yield prefix
    finally:
        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()


class RequestLog:
    """Every GET the replica answers, as (URL, monotonic time), recorded by its handler threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: list[tuple[str, str, float]] = []   # (netloc, url, time)

    def hook(self) -> Callable[[Handler], None]:
        original = Handler.do_GET

        def do_get(handler: Handler) -> None:
            address = cast("tuple[str, int]", handler.server.server_address)
            netloc = f"{address[0]}:{address[1]}"
            with self.lock:
                self.entries.append((netloc, f"http://{netloc}{handler.path}", time.monotonic()))
            original(handler)

        return do_get

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = defaultdict(int)
        with self.lock:
            for _netloc, url, _when in self.entries:
                found[url] += 1
        return dict(found)

    def gaps(self) -> list[float]:
        """Every time between consecutive requests to one netloc."""
        times: dict[str, list[float]] = defaultdict(list)
        with self.lock:
            for netloc, _url, when in self.entries:
                times[netloc].append(when)
        found = []
        for seen in times.values():
            ordered = sorted(seen)
            found += [b - a for a, b in itertools.pairwise(ordered)]
        return found

    def closest_gaps(self) -> dict[str, float]:
        """Per netloc, the shortest time between two consecutive requests to it."""
        times: dict[str, list[float]] = defaultdict(list)
        with self.lock:
            for netloc, _url, when in self.entries:
                times[netloc].append(when)
        gaps = {}
        for netloc, seen in times.items():
            ordered = sorted(seen)
            if len(ordered) > 1:
                gaps[netloc] = min(b - a for a, b in itertools.pairwise(ordered))
        return gaps


def env_for_crawls() -> dict[str, str]:
    return {**os.environ, "NEWSWATCH_CRAWL_AUTOTHROTTLE": "false", "PYTHONPATH": str(REPO_ROOT)}


def newswatch(db: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "newswatch", "--db", db, *args], capture_output=True,
                            text=True, encoding="utf-8", env=env or env_for_crawls(), timeout=600, check=False)
    assert result.returncode == 0, f"newswatch {' '.join(args)} failed:\n{result.stderr}"
    return result


def add_sources(db: str, replica: Replica) -> list[str]:
    names = []
    for key, base_url in replica.base_urls.items():
        if not key.endswith("-en"):  # a separate English host is an edition, found from its home page
            newswatch(db, "sources", "add", base_url, "--name", key)
            names.append(key)
    return names


@contextmanager
def workers(db: str, redis_url: str, prefix: str, count: int, logs: Path) -> Iterator[list[subprocess.Popen[str]]]:
    """`count` worker processes (python -m newswatch.worker), stopped with SIGTERM afterwards."""
    procs = []
    logs.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        out = (logs / f"worker{index}.jsonl").open("w", encoding="utf-8")
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "newswatch.worker", "--db", db, "--redis-url", redis_url, "--prefix", prefix,
             "--json"], stdout=out, stderr=subprocess.STDOUT, text=True, env=env_for_crawls()))
    try:
        yield procs
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()


def worker_events(logs: Path) -> list[dict[str, Any]]:
    events = []
    for path in sorted(logs.glob("worker*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("{"):
                events.append({**json.loads(line), "log": path.stem})
    return events


def wait_for_event(logs: Path, event: str, timeout_s: float = 60.0) -> dict[str, Any]:
    """The first `event` any worker in `logs` printed, waiting for it up to `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            found = [e for e in worker_events(logs) if e.get("event") == event]
        except ValueError:  # a line being written
            found = []
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no worker printed {event} within {timeout_s:g} s")


def export_rows(db: str) -> dict[str, dict[str, Any]]:
    rows = [json.loads(line) for line in newswatch(db, "export", "--format", "jsonl").stdout.splitlines()]
    return {row["url"]: {name: row.get(name) for name in ITEM_FIELDS} for row in rows}


def event_rows(db: str) -> list[dict[str, Any]]:
    """Every detected event as `alerts list --json --all` tells it, without what names one archive
    (ids, times, deliveries) or one run's history: `why` is the reason given when the alert fired,
    and an edition's `relation`/`evidence` say how it was attached (which report came first)."""
    rows = []
    for line in newswatch(db, "alerts", "list", "--json", "--all").stdout.splitlines():
        event = json.loads(line)
        for key in ("id", "detected_at", "deliveries", "why"):
            event.pop(key, None)
        event["editions"] = [{k: v for k, v in edition.items() if k not in ("relation", "evidence")}
                             for edition in event["editions"]]
        rows.append(event)
    return sorted(rows, key=lambda e: json.dumps(e, sort_keys=True, ensure_ascii=False))
