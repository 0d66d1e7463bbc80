"""Crawl workers on several hosts (docs/deployment.md), against the real PostgreSQL and Redis.

Three worker processes take the cycles that the scheduler's RQ dispatch queues; the replica
counts every request it answers. The archive and its events must equal those of a
single-process crawl of the same replica, item for item.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
from rq import Queue
from rq.serializers import JSONSerializer

from replica import Replica
from replica.handlers import Handler
from scheduler.child import ChildRegistry, CycleOutcome
from scheduler.dispatch import RedisDispatch
from storage import Archive
from tests.conftest import _pg_schema_url
from tests.workers_harness import (
    RequestLog,
    add_sources,
    event_rows,
    export_rows,
    newswatch,
    redis_prefix,
    wait_for_event,
    worker_events,
    workers,
)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    with redis_prefix(redis_url) as made:
        yield made


@pytest.fixture
def pg_single() -> Iterator[str]:
    yield from _pg_schema_url()


@pytest.fixture
def pg_workers() -> Iterator[str]:
    yield from _pg_schema_url()


@pytest.fixture
def logged_replica(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Replica, RequestLog]]:
    log = RequestLog()
    monkeypatch.setattr(Handler, "do_GET", log.hook())
    with Replica(day=0) as running:
        yield running, log


def dispatch_cycle(db: str, redis_url: str, prefix: str, sources: list[str], *, wait_for_worker_s: float = 60,
                   children: ChildRegistry | None = None) -> list[CycleOutcome]:
    """One cycle of every source through the RQ queue, in parallel, as `newswatch run` does."""
    dispatch = RedisDispatch(redis_url, prefix, wait_for_worker_s=wait_for_worker_s, stop_grace_s=5)
    children = children or ChildRegistry()
    with Archive.open(db) as archive, ThreadPoolExecutor(len(sources)) as pool:
        futures = [pool.submit(dispatch, archive, archive.get_source(name), (), env={}, timeout_s=300,
                               children=children) for name in sources]
        return [future.result() for future in futures]


def test_three_workers_equal_a_single_process_crawl(
    logged_replica: tuple[Replica, RequestLog], pg_single: str, pg_workers: str, redis_url: str, prefix: str,
    tmp_path: Path,
) -> None:
    replica, log = logged_replica
    articles = {entry.url for entry in replica.manifest() if entry.kind == "article"}
    add_sources(pg_single, replica)
    newswatch(pg_single, "crawl", "--json", "--no-alerts")
    newswatch(pg_single, "alerts", "run")
    single_counts = log.counts()

    sources = add_sources(pg_workers, replica)
    for day in (0, 1):
        expected = articles
        if day:
            replica.set_day(1)
            day1 = {e.url: e for e in replica.manifest() if e.kind == "article"}
            expected = {url for url in day1 if url not in articles}
            newswatch(pg_single, "crawl", "--json", "--no-alerts")
            newswatch(pg_single, "alerts", "run")
        log.clear()
        with workers(pg_workers, redis_url, prefix, 3, tmp_path) as procs:
            started = time.monotonic()
            outcomes = dispatch_cycle(pg_workers, redis_url, prefix, sources)
            seconds = time.monotonic() - started
            assert all(proc.poll() is None for proc in procs), "a worker died"
        assert [o.status for o in outcomes] == ["finished"] * len(sources), [(o.source, o.error) for o in outcomes]
        counts = log.counts()
        fetched = {url: n for url, n in counts.items() if url in expected}
        assert sorted(expected - set(fetched)) == [], f"day {day}: articles not fetched"
        assert {url: n for url, n in fetched.items() if n > 1} == {}, f"day {day}: an article fetched twice"
        print(f"day {day}: {len(sources)} sources on 3 workers in {seconds:.1f}s, {sum(counts.values())} requests")
    assert max(single_counts[url] for url in articles) == 1

    taken = {event["log"] for event in worker_events(tmp_path) if event.get("event") == "crawl_started"}
    assert len(taken) >= 2, "the cycles did not spread over the workers"
    newswatch(pg_workers, "alerts", "run")
    single, distributed = export_rows(pg_single), export_rows(pg_workers)
    assert sorted(set(single) ^ set(distributed)) == []
    differing = {url: [name for name in row if row[name] != distributed[url][name]] for url, row in single.items()}
    assert {url: names for url, names in differing.items() if names} == {}
    assert any(row["duplicate_of"] for row in single.values()), "the replica should hold duplicates"
    assert event_rows(pg_single) == event_rows(pg_workers)


def _rq(redis_url: str, prefix: str) -> tuple[redis.Redis, Queue]:
    client = redis.Redis.from_url(redis_url)
    return client, Queue(prefix, connection=client, serializer=JSONSerializer)


def _open_runs(db: str) -> list[int]:
    with Archive.open(db) as archive:
        return [run.id for source in archive.list_sources() for run in archive.list_runs(source.id)
                if run.status == "running"]


def test_a_worker_killed_mid_crawl_is_reported_abandoned_and_the_next_cycle_completes(
    logged_replica: tuple[Replica, RequestLog], pg_workers: str, redis_url: str, prefix: str, tmp_path: Path,
) -> None:
    replica, _log = logged_replica
    source = add_sources(pg_workers, replica)[0]
    with workers(pg_workers, redis_url, prefix, 1, tmp_path / "killed") as procs, ThreadPoolExecutor(1) as pool:
        future = pool.submit(dispatch_cycle, pg_workers, redis_url, prefix, [source])
        started = wait_for_event(tmp_path / "killed", "crawl_started")
        procs[0].send_signal(signal.SIGKILL)   # the host is gone: no result, no more heartbeats
        killed = time.monotonic()
        procs[0].wait(timeout=10)
        [lost] = future.result(timeout=120)
        print(f"killed worker's cycle reported {lost.status} after {time.monotonic() - killed:.1f}s")
    assert lost.status == "crashed", lost
    assert "abandoned" in (lost.error or ""), lost.error
    assert all(run.status != "running" for run in lost.runs)
    client, queue = _rq(redis_url, prefix)
    assert started["job"] in queue.failed_job_registry.get_job_ids()
    assert queue.started_job_registry.get_job_ids() == []
    client.close()

    with workers(pg_workers, redis_url, prefix, 1, tmp_path / "again"):
        [again] = dispatch_cycle(pg_workers, redis_url, prefix, [source])
    assert again.status == "finished", again
    assert again.counters.get("items_new", 0) > 0
    assert _open_runs(pg_workers) == []


def test_a_queued_job_is_cancelled_when_the_scheduler_gives_up_waiting(
    logged_replica: tuple[Replica, RequestLog], pg_workers: str, redis_url: str, prefix: str,
) -> None:
    replica, _log = logged_replica
    source = add_sources(pg_workers, replica)[0]
    started = time.monotonic()
    [outcome] = dispatch_cycle(pg_workers, redis_url, prefix, [source], wait_for_worker_s=2)  # no worker up
    assert time.monotonic() - started < 10
    assert outcome.status == "crashed"
    assert outcome.error == "no worker took the crawl within 2 s"
    assert [run.status for run in outcome.runs] == ["failed"]
    client, queue = _rq(redis_url, prefix)
    assert queue.count == 0, "the job is still queued for a later worker"
    [cancelled] = queue.canceled_job_registry.get_job_ids()
    assert cancelled.startswith(f"crawl-{source}-")
    client.close()


def test_a_stopping_scheduler_cancels_queued_jobs_and_stops_running_ones(
    logged_replica: tuple[Replica, RequestLog], pg_workers: str, redis_url: str, prefix: str, tmp_path: Path,
) -> None:
    replica, _log = logged_replica
    sources = add_sources(pg_workers, replica)[:2]
    children = ChildRegistry()
    with workers(pg_workers, redis_url, prefix, 1, tmp_path) as procs, ThreadPoolExecutor(1) as pool:
        future = pool.submit(dispatch_cycle, pg_workers, redis_url, prefix, sources, children=children)
        wait_for_event(tmp_path, "crawl_started")
        children.terminate_all()   # what a stopping scheduler does to its cycles
        outcomes = future.result(timeout=60)
        # The worker says so too, though its work horse was killed before it could.
        finished = wait_for_event(tmp_path, "crawl_finished")
        assert procs[0].poll() is None, "the worker should go on after a stopped job"
    assert sorted(o.status for o in outcomes) == ["interrupted", "interrupted"], outcomes
    errors = sorted(o.error or "" for o in outcomes)
    assert errors == ["stopped before a worker took it", "stopped by the scheduler (RQ stop-job)"], errors
    assert _open_runs(pg_workers) == []
    assert (finished["status"], finished["error"]) == ("interrupted", "stopped by the scheduler (RQ stop-job)")
    assert finished["source"] in sources


def test_a_worker_stopped_with_sigterm_interrupts_its_crawl_and_reports_it(
    logged_replica: tuple[Replica, RequestLog], pg_workers: str, redis_url: str, prefix: str, tmp_path: Path,
) -> None:
    replica, _log = logged_replica
    source = add_sources(pg_workers, replica)[0]
    with workers(pg_workers, redis_url, prefix, 1, tmp_path) as procs, ThreadPoolExecutor(1) as pool:
        future = pool.submit(dispatch_cycle, pg_workers, redis_url, prefix, [source])
        wait_for_event(tmp_path, "crawl_started")
        procs[0].terminate()
        [outcome] = future.result(timeout=60)
        assert procs[0].wait(timeout=30) == 0
    assert outcome.status == "interrupted", outcome
    assert [run.status for run in outcome.runs] == ["interrupted"]
    [finished] = [e for e in worker_events(tmp_path) if e.get("event") == "crawl_finished"]
    assert finished["status"] == "interrupted"
