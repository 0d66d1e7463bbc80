"""`newswatch demo`: the whole pipeline offline, against the local replica on loopback.

The replica runs as a child process (`python -m replica serve`) so that no product code path
imports it.
"""

from __future__ import annotations

import dataclasses
import logging
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from newswatch import report
from newswatch.app import make_app
from newswatch.config import Settings
from newswatch.errors import NewswatchError

logger = logging.getLogger(__name__)

REPLICA_START_TIMEOUT_S = 30


class ReplicaError(NewswatchError):
    """The local replica could not be started."""


def _read_base_urls(process: subprocess.Popen[str]) -> dict[str, str]:
    """`<site> <url>` lines until the replica says it is ready."""
    urls: dict[str, str] = {}
    deadline = time.monotonic() + REPLICA_START_TIMEOUT_S
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        parts = line.split()
        if len(parts) == 2 and parts[1].startswith("http"):
            urls[parts[0]] = parts[1]
        elif line.strip() == "ready":
            return urls
    raise ReplicaError(f"the replica did not start (exit status {process.poll()})")


@contextmanager
def running_replica(day: int) -> Iterator[dict[str, str]]:
    command = [sys.executable, "-m", "replica", "serve", "--port", "0", "--day", str(day)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, encoding="utf-8")
    try:
        yield _read_base_urls(process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


DEMO_ALERTS_SHOWN = 10


def run_demo(settings: Settings, day: int, explicit_db: bool) -> None:
    if not explicit_db:
        folder = Path(tempfile.mkdtemp(prefix="newswatch-demo-"))
        settings = dataclasses.replace(settings, db=f"sqlite:///{folder / 'demo.db'}")
    echo = click.echo
    echo(f"archive: {settings.db}")
    with running_replica(day) as base_urls, make_app(settings) as app:
        echo(f"replica: {len(base_urls)} sites on loopback (day {day})")
        for key, url in base_urls.items():
            if key.endswith("-en"):
                continue  # a separate English host: an edition its main site declares, not a source
            name = f"replica-{key}"
            if name not in {source.name for source in app.list_sources()}:
                app.add_source(url, name, None)
            echo(f"  source {name}: {url}")
        seeds = app.load_seeds()
        echo(f"seeds: {seeds.loaded} documents loaded")
        result = app.crawl()
        report.print_runs(result.runs, as_json=False)
        archive = app.archive
        languages = archive.language_counts()
        echo(f"items archived: {archive.count_items()} ({archive.count_items(is_seed=True)} seeds)")
        echo("by language: " + ", ".join(f"{lang} {n}" for lang, n in sorted(languages.items())))
        matched = archive.seeds_matched()
        echo(f"seeds matched by crawled pages: {len(matched)}")
        for title, url, kind in matched:
            echo(f"  [{kind}] {title[:60]} <- {url}")
        if result.alerts is not None:
            report.print_alerts_cycle(result.alerts, as_json=False)
            for event in app.list_alerts(limit=DEMO_ALERTS_SHOWN):
                editions = ", ".join(sorted({r.language or "?" for r in event.reports}))
                echo(f"  alert: {event.event_date or '?'} {event.type} in {event.province or '?'}: "
                     f"{(event.title or '')[:70]} [{editions}]")
    echo(
        "\nTo watch real sites: newswatch sources import   (the shipped provincial list), or\n"
        "  newswatch sources add https://baonghean.vn/ --name baonghean --interval 30m\n"
        "then: newswatch crawl, newswatch alerts list, and newswatch export --format jsonl > archive.jsonl\n"
        f"Browse this demo's archive: newswatch --db {settings.db} serve   (http://127.0.0.1:8000/)\n"
        f"Explore this demo's archive with: newswatch --db {settings.db} export --format jsonl"
    )
