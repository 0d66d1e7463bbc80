"""The scheduler's parts on their own: adaptive intervals, health, the leader lock, crawl children."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newswatch.config import SchedulerConfig, load_settings
from newswatch.errors import ConfigError
from scheduler import assess, settings_env
from scheduler.adaptive import Bounds, CycleFigures, next_interval
from scheduler.child import ChildRegistry, run_cycle
from scheduler.lock import leader_lock_for
from storage import Archive

NOW = datetime(2026, 9, 10, 12, 0, tzinfo=UTC)


# -- adaptive intervals --------------------------------------------------------------------------

def test_bounds_default_to_the_configured_interval_and_a_quarter_of_it() -> None:
    assert Bounds.for_source(1800, None, None, 6 * 3600) == Bounds(450, 1800, 6 * 3600)
    assert Bounds.for_source(1800, 60, None, 3600) == Bounds(60, 1800, 3600)
    assert Bounds.for_source(30, 60, None, 10).floor == 30, "a floor above the ceiling is the ceiling"
    assert Bounds.for_source(1800, None, 3600, 60).backoff_max == 3600


@pytest.mark.parametrize(
    ("fresh", "known", "expected"),
    [(10, 0, 300), (9, 1, 300), (5, 5, 600), (4, 6, 600), (1, 9, 900), (0, 0, 900), (0, 50, 900)],
)
def test_the_interval_follows_the_share_of_new_items(fresh: int, known: int, expected: int) -> None:
    bounds = Bounds(60, 1800, 6 * 3600)
    assert next_interval(600, bounds, CycleFigures(fresh, known), failures=0) == expected


def test_a_healthy_source_stays_between_floor_and_ceiling() -> None:
    bounds = Bounds(60, 1800, 6 * 3600)
    interval = 1800
    for _ in range(20):
        interval = next_interval(interval, bounds, CycleFigures(10, 0), failures=0)
    assert interval == 60
    for _ in range(20):
        interval = next_interval(interval, bounds, CycleFigures(0, 10), failures=0)
    assert interval == 1800, "never less often than the user asked while healthy"


def test_failures_back_off_above_the_ceiling_up_to_the_maximum() -> None:
    bounds = Bounds(60, 600, 3600)
    assert [next_interval(600, bounds, None, failures) for failures in (1, 2, 3, 9)] == [1200, 2400, 3600, 3600]


def test_cycle_figures_from_crawl_counters() -> None:
    figures = CycleFigures.from_counters({"items_new": 3, "items_updated": 1, "items_unchanged": 2,
                                          "articles_known": 40, "articles_unchanged": 4})
    assert (figures.fresh, figures.known) == (4, 46)
    assert CycleFigures.from_counters({}).new_share is None


# -- health --------------------------------------------------------------------------------------

def _figures(**values: object) -> dict[str, object]:
    base: dict[str, object] = {"last_success_at": NOW, "consecutive_failures": 0, "items": 10, "undated": 2,
                               "duplicates": 5, "last_new_at": NOW - timedelta(hours=6), "dated_recent": 8,
                               "first_published_recent": NOW - timedelta(days=7), "last_published_recent": NOW}
    return {**base, **values}


def test_a_source_with_its_usual_rhythm_is_ok() -> None:
    health = assess("a", _figures(), NOW)
    assert (health.status, health.flagged) == ("ok", False)
    assert health.usual_gap_days == pytest.approx(1.0)
    assert (health.undated_share, health.duplicate_share) == (0.2, 0.5)


def test_a_source_that_stops_yielding_is_flagged_stalled() -> None:
    health = assess("a", _figures(last_new_at=NOW - timedelta(days=4)), NOW)
    assert (health.status, health.flagged) == ("stalled", True)
    slow = _figures(last_new_at=NOW - timedelta(days=4), first_published_recent=NOW - timedelta(days=35))
    assert assess("a", slow, NOW).status == "ok", "a weekly source is not stalled after four days"


def test_failing_and_new_sources() -> None:
    assert assess("a", _figures(consecutive_failures=3), NOW).status == "failing"
    assert assess("a", _figures(last_success_at=None, items=0, last_new_at=None), NOW).status == "new"


def test_health_figures_come_from_runs_and_items(archive: Archive) -> None:
    source = archive.add_source("s", "http://s.test/", 60)
    for status in ("finished", "failed", "interrupted", "failed"):
        archive.finish_run(archive.start_run(source.id), status, {})
    figures = archive.source_health_figures()["s"]
    assert figures["consecutive_failures"] == 2
    assert figures["last_success_at"] is not None
    assert figures["items"] == 0
    assert assess("s", figures).status == "stalled", "a source that never yielded an item is flagged"


# -- settings ------------------------------------------------------------------------------------

def test_scheduler_settings_are_validated() -> None:
    with pytest.raises(ConfigError, match="interval_floor"):
        SchedulerConfig(interval_floor="1h", interval_ceiling="10m")
    with pytest.raises(ConfigError, match="max_parallel"):
        SchedulerConfig(max_parallel=0)
    settings = load_settings(None, {"NEWSWATCH_SCHEDULER_INTERVAL_FLOOR": "2s"})
    assert settings.scheduler.seconds("interval_floor") == 2


def test_settings_pass_to_the_child_through_the_environment() -> None:
    settings = load_settings(None, {"NEWSWATCH_CRAWL_AUTOTHROTTLE": "false", "NEWSWATCH_LOG_LEVEL": "INFO"})
    env = settings_env(settings)
    assert env["NEWSWATCH_CRAWL_AUTOTHROTTLE"] == "false"
    assert load_settings(None, env) == settings


# -- the leader lock -----------------------------------------------------------------------------

_HOLD = """
import sys, time
from scheduler.lock import leader_lock_for
lock = leader_lock_for(sys.argv[1])
print("held" if lock.try_acquire() else "busy", flush=True)
time.sleep(60)
"""


def test_one_leader_per_archive_and_the_lock_goes_with_the_process(archive_url: str) -> None:
    Archive.open(archive_url).close()
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, archive_url], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        lock = leader_lock_for(archive_url)
        assert not lock.try_acquire()
        assert f"pid={holder.pid}" in lock.holder()
        holder.kill()  # SIGKILL: nothing is released by hand
        holder.wait()
        deadline = time.monotonic() + 10
        while not lock.try_acquire():
            assert time.monotonic() < deadline, "the lock of a killed scheduler was not freed"
            time.sleep(0.2)
        lock.check()
        lock.release()
    finally:
        holder.kill()
        holder.wait()


def test_an_in_memory_archive_cannot_be_scheduled() -> None:
    with pytest.raises(Exception, match="in-memory"):
        leader_lock_for("sqlite://")


# -- crawl children ------------------------------------------------------------------------------

def test_a_crawl_that_hangs_is_ended_and_recorded_as_failed(archive: Archive) -> None:
    source = archive.add_source("slow", "http://slow.test/", 60)
    started = time.monotonic()
    outcome = run_cycle(archive, source, [sys.executable, "-c", "import time; time.sleep(120)"],
                        env={}, timeout_s=1.0, children=ChildRegistry())
    assert time.monotonic() - started < 10
    assert outcome.status == "timeout"
    [run] = archive.list_runs(source.id)
    assert (run.status, run.error) == ("failed", "timed out after 1 s")


def test_a_crawl_that_crashes_is_recorded_as_failed(archive: Archive) -> None:
    source = archive.add_source("broken", "http://broken.test/", 60)
    command = [sys.executable, "-c", "import sys; print('boom', file=sys.stderr); sys.exit(5)"]
    outcome = run_cycle(archive, source, command, env={}, timeout_s=30, children=ChildRegistry())
    assert outcome.status == "crashed"
    [run] = archive.list_runs(source.id)
    assert run.status == "failed"
    assert run.error == "crawl process ended with exit status 5: boom"


def test_the_crawl_child_dies_with_its_scheduler(tmp_path: Path) -> None:
    """scheduler.crawl_child asks for SIGTERM when its parent dies: no crawl outlives a killed scheduler."""
    marker = tmp_path / "child.pid"
    parent_code = (
        "import subprocess, sys, time\n"
        "from scheduler.child import child_argv\n"
        f"argv = child_argv([sys.executable, '-m', 'http.server', '--bind', '127.0.0.1'], '0')\n"
        "child = subprocess.Popen(argv)\n"
        f"open({str(marker)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", parent_code], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not marker.exists() or not marker.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.1)
    child_pid = int(marker.read_text())
    time.sleep(0.5)
    assert Path(f"/proc/{child_pid}").exists()
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while _alive(child_pid):
        assert time.monotonic() < deadline, "the crawl child outlived its scheduler"
        time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


def test_the_job_store_table_is_left_out_of_the_migration_check(archive: Archive) -> None:
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore  # noqa: PLC0415

    from scheduler import JOB_TABLE  # noqa: PLC0415
    from tests.test_storage import test_migrations_match_the_models  # noqa: PLC0415

    store = SQLAlchemyJobStore(engine=archive.engine, tablename=JOB_TABLE)
    store.start(None, "default")  # creates the table, as `newswatch run` does
    test_migrations_match_the_models(archive)
