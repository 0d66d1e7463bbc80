"""`newswatch run` end to end: real scheduler processes, real crawl children, the replica on loopback.

Intervals are seconds here; the replica is advanced day by day while the scheduler runs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from replica import Replica
from scheduler.service import STALE_RUN_ERROR
from storage import Archive
from storage.events import load_events, pending_reports
from storage.models import Item, ItemVersion
from storage.records import text_fingerprint

pytestmark = pytest.mark.e2e

SITES = ("nghean", "portal")   # an edited OneCMS site with editions, and the republishing portal
ENV = {"NEWSWATCH_CRAWL_AUTOTHROTTLE": "false", "NEWSWATCH_SCHEDULER_JITTER_S": "0",
       "NEWSWATCH_SCHEDULER_LOCK_POLL_S": "0.5", "NEWSWATCH_SCHEDULER_STOP_GRACE_S": "20"}
CYCLE_TIMEOUT_S = 60


class Scheduler:
    """A `newswatch run --json` process and the events it printed."""

    def __init__(self, db: str, *args: str, env: dict[str, str] | None = None) -> None:
        self._stderr = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 - closed by stderr()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "newswatch", "--db", db, "run", "--json", *args],
            stdout=subprocess.PIPE, stderr=self._stderr, text=True, env={**os.environ, **ENV, **(env or {})},
        )
        self.events: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.events.append(json.loads(line))

    def named(self, event: str) -> list[dict[str, Any]]:
        return [e for e in list(self.events) if e["event"] == event]

    def wait_for(self, event: str, timeout: float = CYCLE_TIMEOUT_S, **match: Any) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for found in self.named(event):
                if all(found.get(key) == value for key, value in match.items()):
                    return found
            assert self.process.poll() is None or event == "stopped", self.stderr()
            time.sleep(0.1)
        raise AssertionError(f"no {event} {match} within {timeout}s: {self.events}")

    def stop(self, signum: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
        code = self.process.wait(60)
        self._reader.join(10)
        return code

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read()[-3000:]


@pytest.fixture
def replica() -> Iterator[Replica]:
    with Replica(day=0) as running:
        yield running


def _add_sources(db: str, replica: Replica, sites: tuple[str, ...], interval: str = "3s") -> None:
    for site in sites:
        subprocess.run([sys.executable, "-m", "newswatch", "--db", db, "sources", "add", replica.base_urls[site],
                        "--name", site, "--interval", interval], check=True, capture_output=True)


def _wait_for_cycles(archive: Archive, sites: tuple[str, ...], after: datetime) -> None:
    """Until every source has a finished crawl that started after `after` (so saw today's replica)."""
    deadline = time.monotonic() + CYCLE_TIMEOUT_S
    while time.monotonic() < deadline:
        done = {run.source for run in archive.list_runs(status="finished") if run.started_at > after}
        if done >= set(sites):
            return
        time.sleep(0.2)
    raise AssertionError(f"no finished cycle of {set(sites) - done} after {after}")


class Truth:
    """The replica's manifest day by day, and what the archive must hold after each day."""

    def __init__(self, sites: tuple[str, ...]) -> None:
        self.sites = {*sites, *(f"{site}-en" for site in sites)}
        self.texts: dict[str, list[str]] = defaultdict(list)   # url -> distinct texts in day order
        self.titles: dict[str, str | None] = {}
        self.groups: dict[str, str] = {}  # url -> story group
        self.conferences: set[str] = set()

    def advance(self, replica: Replica) -> None:
        for entry in replica.manifest():
            if entry.kind != "article" or entry.site not in self.sites:
                continue
            texts = self.texts[entry.url]
            if not texts or texts[-1] != entry.text:
                texts.append(entry.text or "")
            self.titles[entry.url] = entry.title
            self.groups[entry.url] = entry.duplicate_group
            if entry.is_conference:
                self.conferences.add(entry.duplicate_group)

    def check_alerts(self, archive: Archive) -> None:
        """Every conference story alerted exactly once, whatever the number of its editions."""
        with archive.session() as session:
            alerted = load_events(session, alerted_only=True)
        stories = [{self.groups[r.url] for r in event.reports if r.url in self.groups} for event in alerted]
        assert all(len(story) == 1 for story in stories), stories
        flat = [next(iter(story)) for story in stories]
        assert len(flat) == len(set(flat)), "a story alerted twice"
        assert set(flat) == self.conferences

    def check(self, archive: Archive) -> None:
        rows = {row["url"]: row for row in archive.iter_export(UTC) if not row["is_seed"]}
        assert sorted(set(self.titles) - set(rows)) == [], "articles are missing"
        assert sorted(set(rows) - set(self.titles)) == [], "pages that are not articles were archived"
        earlier = _earlier_texts(archive)
        for url, row in rows.items():
            assert row["title"] == self.titles[url], url
            # Each edit keeps the text it replaced. (The version counter also counts metadata-only
            # changes, such as a publication time learnt from a feed on a later fetch.)
            assert earlier.get(url, 0) == len(self.texts[url]) - 1, f"{url}: edits are not versions"
            assert row["version"] >= len(self.texts[url]), url
        groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows.values():
            groups[text_fingerprint(row["text"])].append(row)
        exact = [group for group in groups.values() if len(group) > 1]
        assert exact, "the replica's republished copies should give exact duplicates"
        for group in exact:
            unmarked = [row["url"] for row in group if row["duplicate_of"] is None]
            assert len(unmarked) <= 1, f"copies not marked as duplicates: {unmarked}"


def _earlier_texts(archive: Archive) -> dict[str, int]:
    with archive.session() as session:
        stmt = select(Item.url, func.count(ItemVersion.id)).join(ItemVersion).group_by(Item.url)
        return {row[0]: row[1] for row in session.execute(stmt).all()}


def _replay(db: str, replica: Replica, kill_on_day: int | None = None) -> None:
    """Run the scheduler over replica days 0..2, checking the archive after each day's cycles."""
    _add_sources(db, replica, SITES)
    truth = Truth(SITES)
    scheduler = Scheduler(db, "--interval-floor", "1s")
    with Archive.open(db) as archive:
        try:
            for day in range(3):
                replica.set_day(day)
                truth.advance(replica)
                marker = datetime.now(UTC)
                if day == kill_on_day:
                    scheduler = _kill_mid_crawl(db, archive, scheduler, marker)
                _wait_for_cycles(archive, SITES, marker)
                truth.check(archive)
            # The scheduler runs the alerts cycle after each crawl; wait for the one after the last.
            deadline = time.monotonic() + CYCLE_TIMEOUT_S
            while time.monotonic() < deadline and not _all_read(archive):
                time.sleep(0.2)
        finally:
            assert scheduler.stop() == 0, scheduler.stderr()
        assert not archive.list_runs(status="running"), "a run was left running"
        truth.check_alerts(archive)
    assert scheduler.named("stopped")
    assert any(event.get("alerted") for event in scheduler.named("alerts")), "the scheduler raised no alert"


def _all_read(archive: Archive) -> bool:
    with archive.session() as session:
        return not pending_reports(session, 1)


def _kill_mid_crawl(db: str, archive: Archive, scheduler: Scheduler, after: datetime) -> Scheduler:
    """SIGKILL the scheduler and its crawl children while a crawl is writing; start another."""
    deadline = time.monotonic() + CYCLE_TIMEOUT_S
    while not any(run.started_at > after for run in archive.list_runs(status="running")):
        assert time.monotonic() < deadline, "no crawl started"
        time.sleep(0.05)
    time.sleep(1.0)
    children = _descendants(scheduler.process.pid)
    for pid in [scheduler.process.pid, *children]:
        os.kill(pid, signal.SIGKILL)
    assert scheduler.stop() == -signal.SIGKILL
    left = [run.id for run in archive.list_runs(status="running")]
    assert left, "the kill was not in the middle of a crawl"
    restarted = Scheduler(db, "--interval-floor", "1s")
    restarted.wait_for("leader")
    for run_id in left:
        assert (archive.get_run(run_id).status, archive.get_run(run_id).error) == ("interrupted", STALE_RUN_ERROR)
    return restarted


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        for child in (task / "children").read_text().split():
            found += [int(child), *_descendants(int(child))]
    return found


def test_multi_day_replay_keeps_the_archive_equal_to_the_manifest(replica: Replica, archive_url: str) -> None:
    _replay(archive_url, replica)


def test_replay_with_the_scheduler_killed_mid_crawl_ends_the_same(replica: Replica, tmp_path: Path) -> None:
    _replay(f"sqlite:///{tmp_path / 'killed.db'}", replica, kill_on_day=1)


def test_a_second_scheduler_waits_for_the_lock_and_takes_over(replica: Replica, archive_url: str) -> None:
    _add_sources(archive_url, replica, ("sggp",), interval="2s")
    first = Scheduler(archive_url)
    second: Scheduler | None = None
    try:
        first.wait_for("leader")
        second = Scheduler(archive_url, "--wait")
        waiting = second.wait_for("waiting", timeout=30)
        assert f"pid={first.process.pid}" in waiting["holder"]
        refused = subprocess.run([sys.executable, "-m", "newswatch", "--db", archive_url, "run", "--no-wait"],
                                 capture_output=True, text=True, timeout=60, check=False)
        assert refused.returncode == 1
        [line] = refused.stderr.strip().splitlines()
        assert line.startswith("Error: another scheduler is running")
        assert f"pid={first.process.pid}" in line
        deadline = time.monotonic() + CYCLE_TIMEOUT_S
        while len(first.named("crawl_finished")) < 3:  # several 2-second intervals
            assert time.monotonic() < deadline, first.events
            time.sleep(0.2)
        assert [e["event"] for e in second.events] == ["waiting"], "the waiting scheduler ran jobs"
        crawls_before = len(first.named("crawl_finished"))
        assert first.stop() == 0, first.stderr()
        second.wait_for("leader", timeout=30)
        second.wait_for("crawl_finished", source="sggp")
        assert len(first.named("crawl_finished")) == crawls_before
    finally:
        first.stop()
        if second is not None:
            assert second.stop() == 0, second.stderr()
    with Archive.open(archive_url) as archive:
        runs = archive.list_runs()
        assert not [run for run in runs if run.status == "running"]
        assert all(run.status in ("finished", "interrupted") for run in runs), [(r.status, r.error) for r in runs]


def test_a_hanging_source_is_timed_out_and_the_others_go_on(replica: Replica, tmp_path: Path) -> None:
    import socket  # noqa: PLC0415

    db = f"sqlite:///{tmp_path / 'hang.db'}"
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # accepts connections, never answers
    port = silent.getsockname()[1]
    subprocess.run([sys.executable, "-m", "newswatch", "--db", db, "sources", "add", f"http://127.0.0.1:{port}/",
                    "--name", "silent", "--interval", "2s", "--no-check"], check=True, capture_output=True)
    _add_sources(db, replica, ("sggp",), interval="2s")
    try:
        scheduler = Scheduler(db, env={"NEWSWATCH_SCHEDULER_CRAWL_TIMEOUT": "4s"})
        timed_out = scheduler.wait_for("crawl_finished", source="silent")
        assert (timed_out["status"], timed_out["error"]) == ("timeout", "timed out after 4 s")
        assert timed_out["interval"] == 4, "a failure backs off above the 2 s interval"
        assert len([e for e in scheduler.named("crawl_finished") if e["source"] == "sggp"]) >= 1
        assert scheduler.stop() == 0
    finally:
        silent.close()
    with Archive.open(db) as archive:
        silent_runs = archive.list_runs(archive.get_source("silent").id)
        assert silent_runs[0].status == "failed"
        assert silent_runs[0].error == "timed out after 4 s"


def test_sigterm_during_a_crawl_records_it_interrupted_and_exits_0(replica: Replica, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'stop.db'}"
    _add_sources(db, replica, ("sggp",), interval="2s")
    for delay in (0.3, 1.5, 3.0):  # while the child starts, while it crawls, around its end
        scheduler = Scheduler(db)
        started = scheduler.wait_for("crawl_started")
        time.sleep(delay)
        begun = time.monotonic()
        assert scheduler.stop() == 0, scheduler.stderr()
        assert time.monotonic() - begun < 30
        assert scheduler.named("stopped"), (started, scheduler.events)
    with Archive.open(db) as archive:
        runs = archive.list_runs()
        assert not [run for run in runs if run.status == "running"]
        assert {run.status for run in runs} <= {"finished", "interrupted"}
        assert "interrupted" in {run.status for run in runs}
