"""`newswatch run`: APScheduler 3 jobs, one per source, in the archive database; one leader.

Each job runs one crawl of its source in a child process (scheduler.child), then moves the
source's interval (scheduler.adaptive) by rescheduling itself: the interval lives in the job
store, so it survives restarts without a table of its own. Jobs coalesce, never overlap
(max_instances=1) and may start up to `misfire_grace_s` late; after a restart, jobs that are
overdue run at once.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor  # type: ignore[import-untyped]
from apscheduler.job import Job  # type: ignore[import-untyped]
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore  # type: ignore[import-untyped]
from apscheduler.schedulers.background import BackgroundScheduler  # type: ignore[import-untyped]
from apscheduler.schedulers.base import STATE_STOPPED  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

from scheduler.adaptive import Bounds, CycleFigures, next_interval
from scheduler.child import ChildRegistry, CycleOutcome, run_cycle
from scheduler.errors import LeaderLockHeldError
from scheduler.lock import LeaderLock, holder_description, leader_lock_for
from scheduler.options import SchedulerOptions
from scheduler.progress import Progress
from storage import Archive, SourceNotFoundError
from storage.records import SourceInfo

logger = logging.getLogger(__name__)

JOB_TABLE = "apscheduler_jobs"
JOB_PREFIX = "crawl:"
JITTER_SHARE = 0.1
STALE_RUN_ERROR = "left running when the previous scheduler stopped"

_active: Service | None = None


def crawl_job(source: str, configured: int = 0, failures: int = 0) -> None:
    """The job function APScheduler stores by reference; the arguments live in the job store."""
    service = _active
    if service is None:
        logger.warning("job for %s ran without an active scheduler", source)
        return
    service.run_job(source)


def job_id(source: str) -> str:
    return f"{JOB_PREFIX}{source}"


class _Scheduler(BackgroundScheduler):  # type: ignore[misc]
    """APScheduler 3 processes due jobs once more after shutdown() and fails to submit them to the
    stopped executor (and moves their next run time on); a stopped scheduler does nothing here."""

    def _process_jobs(self) -> float | None:
        if self.state == STATE_STOPPED:
            return None
        wait: float | None = super()._process_jobs()
        return wait


class _QuietOverlap(logging.Filter):
    """A crawl that outlasts its interval makes APScheduler skip the overlapping run, as it should
    (max_instances=1); the job reschedules itself when the crawl ends, so this is not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


class Service:
    """The leader's scheduler: jobs in sync with the sources, crawls in child processes."""

    def __init__(self, archive: Archive, options: SchedulerOptions, progress: Progress) -> None:
        self.archive = archive
        self.options = options
        self.progress = progress
        self.children = ChildRegistry()
        self._active = 0
        self._active_lock = threading.Lock()
        self._after_lock = threading.Lock()
        self.scheduler = _Scheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=archive.engine, tablename=JOB_TABLE)},
            executors={"default": ThreadPoolExecutor(options.max_parallel)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": options.misfire_grace_s},
            timezone=UTC,
        )

    # -- jobs ----------------------------------------------------------------------------------

    def bounds(self, configured: int) -> Bounds:
        options = self.options
        return Bounds.for_source(configured, options.interval_floor_s, options.interval_ceiling_s,
                                 options.error_backoff_max_s)

    def trigger(self, seconds: int) -> IntervalTrigger:
        return IntervalTrigger(seconds=seconds, jitter=min(self.options.jitter_s, seconds * JITTER_SHARE) or None,
                               timezone=UTC)

    def reconcile(self, starting: bool = False) -> None:
        """Jobs for enabled sources, none for others; overdue jobs run now when `starting`."""
        now = datetime.now(UTC)
        sources = {source.name: source for source in self.archive.list_sources() if source.enabled}
        jobs = {job.id: job for job in self.scheduler.get_jobs() if job.id.startswith(JOB_PREFIX)}
        for name, source in sources.items():
            job = jobs.pop(job_id(name), None)
            if job is None:
                self._add_job(source, now)
            elif job.kwargs.get("configured") != source.interval_seconds:
                self._set_interval(job, self.bounds(source.interval_seconds).ceiling, source.interval_seconds)
            elif starting and self._resume_now(job, source, now):
                job.modify(next_run_time=now)
        for stale in jobs.values():
            stale.remove()
            self.progress.emit("job_removed", source=stale.id.removeprefix(JOB_PREFIX))

    @staticmethod
    def _resume_now(job: Job, source: SourceInfo, now: datetime) -> bool:
        """Overdue, or its last crawl was cut short (by a stop or a kill): crawl it at once."""
        overdue = job.next_run_time is not None and job.next_run_time < now
        return overdue or source.last_run_status in ("running", "interrupted")

    def _add_job(self, source: SourceInfo, now: datetime) -> None:
        interval = self.bounds(source.interval_seconds).ceiling
        self.scheduler.add_job(
            crawl_job, self.trigger(interval), id=job_id(source.name), name=source.name,
            args=[source.name], kwargs={"configured": source.interval_seconds, "failures": 0},
            next_run_time=now, replace_existing=True,
        )

    def _set_interval(self, job: Job, seconds: int, configured: int, failures: int = 0) -> datetime:
        trigger = self.trigger(seconds)
        next_run: datetime = trigger.get_next_fire_time(None, datetime.now(UTC))
        self.scheduler.modify_job(job.id, trigger=trigger, next_run_time=next_run,
                                  kwargs={"configured": configured, "failures": failures})
        return next_run

    def run_job(self, name: str) -> None:
        # A stopping scheduler's shutdown() holds APScheduler's job store lock while it waits for
        # running jobs, so a job must not touch the scheduler once stopping has begun.
        with self._active_lock:
            if self.children.stopping.is_set():
                return
            self._active += 1
        try:
            self._run_job(name)
        finally:
            with self._active_lock:
                self._active -= 1

    def _run_job(self, name: str) -> None:
        try:
            source = self.archive.get_source(name)
        except SourceNotFoundError:
            return
        self.progress.emit("crawl_started", source=name)
        runner = self.options.cycle_runner or run_cycle
        outcome: CycleOutcome = runner(self.archive, source, self.options.crawl_command, env=self.options.child_env,
                                       timeout_s=self.options.crawl_timeout_s, children=self.children)
        if self.children.stopping.is_set():
            self._report(outcome, None, None)
            return
        self._after_cycle()
        job = self.scheduler.get_job(job_id(name))
        if job is None:
            self._report(outcome, None, None)
            return
        failures = 0 if outcome.ok else int(job.kwargs.get("failures", 0)) + 1
        figures = CycleFigures.from_counters(outcome.counters) if outcome.ok else None
        current = int(job.trigger.interval.total_seconds())
        interval = next_interval(current, self.bounds(source.interval_seconds), figures, failures)
        next_run = self._set_interval(job, interval, source.interval_seconds, failures)
        self._report(outcome, interval, next_run)

    def _after_cycle(self) -> None:
        hook = self.options.after_cycle
        if hook is None:
            return
        # One at a time: crawls of several sources finish in parallel threads.
        with self._after_lock:
            try:
                figures = hook()
            except Exception as exc:  # a failing hook must not stop the scheduler
                logger.exception("after-crawl step failed")
                self.progress.emit("alerts_failed", error=str(exc))
                return
        self.progress.emit("alerts", **figures)

    def _report(self, outcome: CycleOutcome, interval: int | None, next_run: datetime | None) -> None:
        figures = CycleFigures.from_counters(outcome.counters)
        self.progress.emit(
            "crawl_finished", source=outcome.source, status=outcome.status, seconds=outcome.seconds,
            new=int(outcome.counters.get("items_new", 0)), updated=int(outcome.counters.get("items_updated", 0)),
            known=figures.known, error=outcome.error, runs=[run.id for run in outcome.runs],
            interval=interval, next_run_at=next_run,
        )

    def upcoming(self) -> list[tuple[str, datetime | None]]:
        jobs = [job for job in self.scheduler.get_jobs() if job.id.startswith(JOB_PREFIX)]
        return sorted(((job.name, job.next_run_time) for job in jobs),
                      key=lambda pair: pair[1] or datetime.max.replace(tzinfo=UTC))

    # -- life cycle ----------------------------------------------------------------------------

    def _jobs_active(self) -> bool:
        with self._active_lock:
            return self._active > 0

    def sweep_stale_runs(self) -> None:
        """Runs left 'running' by a scheduler (and crawl) killed outright are recorded as interrupted."""
        for run in self.archive.list_runs(status="running"):
            self.archive.finish_run(run.id, "interrupted", run.counters, STALE_RUN_ERROR)

    def serve(self, stop: threading.Event, lock: LeaderLock) -> None:
        global _active  # noqa: PLW0603 - APScheduler stores job functions by reference, not bound to us
        _active = self
        quiet = _QuietOverlap()
        logging.getLogger("apscheduler.scheduler").addFilter(quiet)
        self.sweep_stale_runs()
        self.scheduler.start(paused=True)
        try:
            self.reconcile(starting=True)
            self.scheduler.resume()
            self.progress.emit("leader", archive=self.options.archive_url, holder=holder_description(),
                               jobs=len(self.upcoming()))
            self._emit_next()
            while not stop.wait(self.options.reconcile_every_s):
                lock.check()
                self.reconcile()
        finally:
            self.stop()
            logging.getLogger("apscheduler.scheduler").removeFilter(quiet)
            _active = None

    def _emit_next(self) -> None:
        now = datetime.now(UTC)
        parts = [f"{name} in {max(0, int((when - now).total_seconds()))}s" for name, when in self.upcoming() if when]
        self.progress.emit("next", summary=", ".join(parts) or "nothing scheduled",
                           jobs=[{"source": name, "next_run_at": when} for name, when in self.upcoming()])

    def stop(self) -> None:
        """No new crawls; running ones get SIGTERM and `stop_grace_s` to record their run, then SIGKILL."""
        if self.scheduler.running:
            self.scheduler.pause()
        self.progress.emit("stopping", running=len(self.children.running()))
        with self._active_lock:
            self.children.terminate_all()  # sets `stopping`: no job starts from here on
        deadline = datetime.now(UTC) + timedelta(seconds=self.options.stop_grace_s)
        while self.children.running() and datetime.now(UTC) < deadline:
            threading.Event().wait(0.1)
        self.children.kill_all()
        while self._jobs_active():  # killed children: their jobs record the runs and return
            threading.Event().wait(0.1)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        self.progress.emit("stopped")


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Set `stop` on SIGTERM/SIGINT while inside; the previous handlers come back after."""

    def handler(signum: int, frame: FrameType | None) -> None:
        logger.info("received signal %d: stopping", signum)
        stop.set()

    previous = {signum: signal.signal(signum, handler) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def _acquire(lock: LeaderLock, options: SchedulerOptions, progress: Progress, stop: threading.Event) -> bool:
    if lock.try_acquire():
        return True
    holder = lock.holder()
    if not options.wait_for_lock:
        raise LeaderLockHeldError(holder)
    progress.emit("waiting", holder=holder)
    while not stop.wait(options.lock_poll_s):
        if lock.try_acquire():
            return True
    return False


def run_scheduler(archive: Archive, options: SchedulerOptions, progress: Progress) -> None:
    """Schedule crawls until SIGTERM/SIGINT (returns normally then); LeaderLockHeldError when another
    scheduler holds the archive and `options.wait_for_lock` is off."""
    lock = leader_lock_for(options.archive_url)
    stop = threading.Event()
    with stop_on_signals(stop):
        if not _acquire(lock, options, progress, stop):
            return
        try:
            Service(archive, options, progress).serve(stop, lock)
        finally:
            lock.release()
