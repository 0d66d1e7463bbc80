"""`newswatch worker`: an RQ worker on the queue `newswatch run` feeds (see scheduler.dispatch); each
job is one crawl cycle, run in a child process exactly as the scheduler would run it locally.

RQ's forking worker runs each job in a work horse (a fork of this process) and heartbeats it;
the job function (`crawl_job`) starts the crawl child (`scheduler.child.run_cycle`: the same time
limit, SIGTERM then SIGKILL) and returns the cycle's outcome as a small JSON object. Around it:

- a per-source redis-py `Lock`, renewed while the crawl runs: a cycle queued again after a
  scheduler restart waits for the crawl of that source still running elsewhere, never two at once;
- the horse dies with its worker (PR_SET_PDEATHSIG), so a worker killed with SIGKILL leaves no
  unsupervised crawl: its job stops heartbeating and RQ's abandoned-job check fails it;
- SIGTERM to the worker (warm shutdown): no new job; the running crawl gets SIGTERM, records
  itself as interrupted and is reported (RQ alone would wait for the whole cycle).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import redis
from redis.lock import Lock
from rq import Queue, Worker
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer
from sqlalchemy.exc import SQLAlchemyError

from scheduler.adaptive import CycleFigures
from scheduler.child import ChildRegistry, CycleOutcome, run_cycle
from scheduler.dispatch import DEFAULT_PREFIX, HEARTBEAT_S, HEARTBEAT_TTL_S, RESULT_TTL_S, outcome_to_result
from scheduler.progress import Progress
from storage import Archive, SourceNotFoundError
from storage.records import RunInfo

logger = logging.getLogger(__name__)

LOCK_S = 15.0          # the source lock's TTL; renewed every LOCK_S / 3 while the crawl runs
LOCK_POLL_S = 1.0
PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class WorkerOptions:
    """`crawl_command` + source name runs one crawl cycle and prints its runs as JSON lines."""

    redis_url: str
    crawl_command: tuple[str, ...]
    child_env: Mapping[str, str] = field(default_factory=dict)
    prefix: str = DEFAULT_PREFIX
    stop_grace_s: float = 30.0
    name: str = ""          # how this worker shows in `rq info`; default "host.pid"


@dataclass(frozen=True)
class _Context:
    archive: Archive
    options: WorkerOptions
    progress: Progress
    worker_pid: int


# Set by run_worker before the work loop starts: the job function runs in a fork of this process
# (RQ's work horse), which inherits it; RQ passes a job only its own arguments.
_context: _Context | None = None


class CrawlWorker(Worker):
    """RQ's forking worker with a heartbeat lapse of HEARTBEAT_TTL_S instead of RQ's fixed +60 s
    (a lost worker's cycle is failed within seconds, as with the lease before), and a warm
    shutdown that stops the running crawl instead of waiting for the whole cycle."""

    jobs_run = 0

    def get_heartbeat_ttl(self, job: Job) -> int:
        return max(HEARTBEAT_TTL_S, int(self.job_monitoring_interval) + 1)

    def handle_warm_shutdown_request(self) -> None:
        super().handle_warm_shutdown_request()  # type: ignore[no-untyped-call]
        if self.horse_pid:  # crawl_job turns this into a SIGTERM for the crawl (the horse is its own group)
            self.kill_horse(signal.SIGTERM)

    def execute_job(self, job: Job, queue: Queue) -> None:
        before = _last_run_id(_context)
        super().execute_job(job, queue)
        self.jobs_run += 1
        status = job.get_status(refresh=True)
        if status is not JobStatus.FINISHED and _context is not None and job.args:
            # The horse reports its cycle's end itself; one stopped (RQ stop-job) or killed could not.
            _report_lost_horse(_context, str(job.args[0]), status, before)


def _last_run_id(context: _Context | None) -> int | None:
    """The archive's last run id, None while the archive is unreachable: the worker's own loop must
    not die of a database error (the horse's crawl reports that one)."""
    if context is None:
        return None
    try:
        return context.archive.last_run_id()
    except SQLAlchemyError as exc:
        logger.warning("archive unavailable before a job: %s", exc)
        return None


def _report_lost_horse(context: _Context, source: str, status: JobStatus | None, before: int | None) -> None:
    stopped = status is JobStatus.STOPPED
    runs: list[RunInfo] = []
    try:
        if before is not None:
            runs = context.archive.list_runs(context.archive.get_source(source).id, after_id=before)
    except SourceNotFoundError:
        pass
    except SQLAlchemyError as exc:
        logger.warning("%s: archive unavailable while reporting a lost work horse: %s", source, exc)
    seconds = sum(((run.finished_at or run.started_at) - run.started_at).total_seconds() for run in runs)
    error = "stopped by the scheduler (RQ stop-job)" if stopped else f"the work horse ended, job {status}"
    _emit_finished(context.progress, CycleOutcome(source, "interrupted" if stopped else "crashed", tuple(runs),
                                                  error, seconds, dict(runs[-1].counters) if runs else {}))


def _emit_finished(progress: Progress, outcome: CycleOutcome) -> None:
    counters = outcome.counters
    progress.emit(
        "crawl_finished", source=outcome.source, status=outcome.status, seconds=outcome.seconds,
        new=int(counters.get("items_new", 0)), updated=int(counters.get("items_updated", 0)),
        known=CycleFigures.from_counters(counters).known, error=outcome.error, runs=[run.id for run in outcome.runs])


def run_worker(archive: Archive, options: WorkerOptions, progress: Progress) -> int:
    """Take and run crawl cycles until SIGTERM/SIGINT (RQ's handlers); returns how many this worker ran."""
    global _context  # noqa: PLW0603 - see _context
    client: redis.Redis = redis.Redis.from_url(options.redis_url)
    name = options.name or f"{socket.gethostname()}.{os.getpid()}"
    worker = CrawlWorker([options.prefix], connection=client, name=name, serializer=JSONSerializer,
                         job_monitoring_interval=HEARTBEAT_S, default_result_ttl=RESULT_TTL_S)
    _context = _Context(archive, options, progress, os.getpid())
    progress.emit("worker_started", worker=name, queue=options.prefix)
    try:
        worker.work(logging_level="WARNING")
    finally:
        _context = None
        progress.emit("worker_stopped", worker=name, jobs=worker.jobs_run)
        client.close()
    return worker.jobs_run


def crawl_job(source: str, timeout_s: float) -> dict[str, Any]:
    """RQ job function (runs in the work horse): one crawl cycle of `source`; the outcome as JSON."""
    context = _context
    if context is None:
        raise RuntimeError("crawl_job runs in a `newswatch worker` only")
    _die_with_worker(context.worker_pid)
    # A forked horse must not share the worker's pooled database connections (SQLAlchemy's fork recipe).
    context.archive.engine.dispose(close=False)
    children = ChildRegistry()
    _stop_crawl_on_sigterm(children, context.options.stop_grace_s)
    client: redis.Redis = redis.Redis.from_url(context.options.redis_url)
    lock = client.lock(f"{context.options.prefix}:source:{source}", timeout=LOCK_S, thread_local=False)
    try:
        outcome = _locked_cycle(context, lock, source, timeout_s, children)
    finally:
        with contextlib.suppress(redis.exceptions.LockError, redis.RedisError):
            lock.release()
        client.close()
    _emit_finished(context.progress, outcome)
    return outcome_to_result(outcome)


def _locked_cycle(context: _Context, lock: Lock, source: str, timeout_s: float,
                  children: ChildRegistry) -> CycleOutcome:
    while not lock.acquire(blocking=True, blocking_timeout=LOCK_POLL_S):
        if children.stopping.is_set():
            return CycleOutcome(source, "interrupted", error="stopped before the crawl began")
    try:
        archive = context.archive
        found = archive.get_source(source)
        context.progress.emit("crawl_started", source=source, job=os.environ.get("RQ_JOB_ID", ""))
        with _renewing(lock):
            return run_cycle(archive, found, context.options.crawl_command, env=context.options.child_env,
                             timeout_s=timeout_s, children=children)
    except SourceNotFoundError:
        return CycleOutcome(source, "crashed", error=f"no source {source!r} in this worker's archive")
    except Exception as exc:  # reported to the scheduler, which records it; the worker goes on
        logger.exception("crawl job for %s failed", source)
        return CycleOutcome(source, "crashed", error=f"worker error: {exc}")


@contextlib.contextmanager
def _renewing(lock: Lock) -> Iterator[None]:
    """Keep the source lock while the crawl runs; it lapses LOCK_S after this horse dies."""
    done = threading.Event()

    def renew() -> None:
        while not done.wait(LOCK_S / 3):
            try:
                lock.reacquire()
            except (redis.exceptions.LockError, redis.RedisError) as exc:
                logger.warning("could not renew the lock %s: %s", lock.name, exc)

    thread = threading.Thread(target=renew, name=f"lock {lock.name}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def _die_with_worker(worker_pid: int) -> None:
    """SIGKILL this horse when its worker dies: a lost worker's crawl must not go on unwatched (the
    crawl child, whose parent is this horse, then gets SIGTERM from scheduler.crawl_child)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != worker_pid:  # the worker died before the request took effect
        os._exit(1)


def _stop_crawl_on_sigterm(children: ChildRegistry, grace_s: float) -> None:
    """SIGTERM (the worker's warm shutdown): SIGTERM the crawl, SIGKILL it after `grace_s`."""
    def handle(_signum: int, _frame: FrameType | None) -> None:
        children.terminate_all()
        timer = threading.Timer(grace_s, children.kill_all)
        timer.daemon = True
        timer.start()

    signal.signal(signal.SIGTERM, handle)
