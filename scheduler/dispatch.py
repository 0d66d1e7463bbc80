"""Crawl cycles run by worker hosts through RQ: the scheduler enqueues one job per cycle and waits for it.

The unit of work is one crawl cycle of one source, the same cycle `newswatch run` would start in
a local child process (docs/deployment.md says why not a shared per-request frontier, and why RQ).
Everything about the queue is RQ's own: the queue `rq:queue:<prefix>` (so `rq info -u URL <prefix>`
shows it), its started/failed/canceled registries, worker heartbeats and the abandoned-job
check, results kept for `RESULT_TTL_S`, stop-job commands. What newswatch adds is the mapping
from RQ's outcomes to the `CycleOutcome` a local child gives, and the per-source lock the job
function takes (scheduler.worker).

The archive (PostgreSQL) stays the record: workers' crawls record their runs there, and the
scheduler closes what a lost worker left running, as it does for a crashed local child.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis
from rq import Queue
from rq.command import send_stop_job_command
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job, JobStatus
from rq.results import Result
from rq.serializers import JSONSerializer

from scheduler.child import KILL_GRACE_S, ChildRegistry, CycleOutcome, _close_runs
from storage import Archive
from storage.records import SourceInfo

logger = logging.getLogger(__name__)

DEFAULT_PREFIX = "newswatch"    # the RQ queue's name, and the prefix of the per-source lock keys
JOB_FUNCTION = "scheduler.worker.crawl_job"
POLL_S = 1
RESULT_TTL_S = 3600             # a finished cycle's result: read by the scheduler within seconds
FAILURE_TTL_S = 7 * 86400       # failed cycles stay in RQ's FailedJobRegistry a week, for `rq info`
# RQ's own time limit stays behind the child's (time limit, SIGTERM, grace, SIGKILL), so that the
# crawl is stopped by scheduler.child as in a local cycle and RQ's limit is only a backstop.
JOB_MARGIN_S = 30.0
HEARTBEAT_S = 2                 # how often a busy worker heartbeats its job (RQ job_monitoring_interval)
HEARTBEAT_TTL_S = 10            # a job whose worker has not heartbeaten for this long is abandoned
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def job_timeout_s(timeout_s: float) -> int:
    return int(timeout_s + KILL_GRACE_S + JOB_MARGIN_S)


def cycle_job_id(source: str, when: datetime | None = None) -> str:
    """`crawl-<source>-<UTC time>-<random>`: names the cycle in `rq info`; RQ ids allow [A-Za-z0-9_-]."""
    stamp = (when or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S")
    return f"crawl-{_ID_UNSAFE.sub('_', source)}-{stamp}-{uuid.uuid4().hex[:6]}"


def outcome_to_result(outcome: CycleOutcome) -> dict[str, Any]:
    """What a job returns: small and JSON-able (the runs are in the archive, by id)."""
    return {"source": outcome.source, "status": outcome.status, "error": outcome.error,
            "seconds": outcome.seconds, "counters": outcome.counters, "runs": [run.id for run in outcome.runs]}


def outcome_from_result(archive: Archive, data: Mapping[str, Any]) -> CycleOutcome:
    runs = tuple(archive.get_run(int(run_id)) for run_id in data.get("runs", []))
    return CycleOutcome(str(data["source"]), str(data["status"]), runs, data.get("error"),
                        float(data.get("seconds", 0.0)), dict(data.get("counters") or {}))


def failure_outcome(pending: _Pending, status: JobStatus | None, exc_string: str | None) -> CycleOutcome:
    """A job RQ recorded as failed or stopped, as the outcome a local child would have had."""
    text = exc_string or ""
    if status == JobStatus.STOPPED:
        return pending.gone("interrupted", "stopped by the scheduler (RQ stop-job)")
    if "AbandonedJobError" in text:
        return pending.gone("crashed", f"the worker running it was lost (RQ abandoned job: no heartbeat "
                                       f"for {HEARTBEAT_TTL_S} s)")
    if "JobTimeoutException" in text:
        return pending.gone("timeout", f"timed out after {pending.timeout_s:g} s (RQ job timeout)")
    last = [line.strip() for line in text.splitlines() if line.strip()][-1:] or ["no reason given"]
    return pending.gone("crashed", f"worker error: {last[0]}")


class RedisDispatch:
    """A drop-in for `scheduler.child.run_cycle` that runs the cycle on whichever RQ worker takes it.

    `wait_for_worker_s`: how long a job may stay queued (no worker free) before it is cancelled and
    the cycle fails.
    """

    def __init__(self, redis_url: str, prefix: str = DEFAULT_PREFIX, *, wait_for_worker_s: float = 600.0,
                 stop_grace_s: float = 30.0, poll_s: int = POLL_S) -> None:
        # RQ stores pickled/JSON bytes: a client without decode_responses.
        self.client: redis.Redis = redis.Redis.from_url(redis_url)
        self.queue = Queue(prefix, connection=self.client, serializer=JSONSerializer)
        self.wait_for_worker_s = wait_for_worker_s
        self.stop_grace_s = stop_grace_s
        self.poll_s = max(1, int(poll_s))   # RQ's blocking result read takes whole seconds

    def __call__(
        self, archive: Archive, source: SourceInfo, command: Sequence[str], *,
        env: Mapping[str, str], timeout_s: float, children: ChildRegistry,
    ) -> CycleOutcome:
        """Enqueue one cycle of `source` and wait for its outcome; `command` and `env` are the local
        child's and unused: a worker crawls with its own configuration (its own archive URL)."""
        pending = _Pending(archive, source, timeout_s, children, archive.last_run_id(), time.monotonic())
        try:
            job = self.queue.enqueue(
                JOB_FUNCTION, source.name, timeout_s, job_id=cycle_job_id(source.name),
                description=f"crawl cycle of {source.name}", job_timeout=job_timeout_s(timeout_s),
                result_ttl=RESULT_TTL_S, failure_ttl=FAILURE_TTL_S,
                # a scheduler that died leaves no job queued for ever: it expires while still queued
                ttl=int(self.wait_for_worker_s + JOB_MARGIN_S),
            )
            logger.debug("queued %s for %s", job.id, source.name)
            return self._wait(pending, job)
        except redis.RedisError as exc:
            return pending.gone("crashed", f"lost the work queue: {exc}")
        except NoSuchJobError:
            return pending.gone("crashed", "the job vanished from the work queue")

    def _wait(self, pending: _Pending, job: Job) -> CycleOutcome:
        stop_deadline: float | None = None
        run_deadline: float | None = None
        while True:
            result = job.latest_result(timeout=self.poll_s)
            if result is not None:
                return self._outcome(pending, job, result)
            # RQ's abandoned-job check: a started job whose worker stopped heartbeating moves to the
            # FailedJobRegistry with a failed result, read on the next turn. Workers run it too, but
            # only every 10 minutes.
            self.queue.started_job_registry.cleanup()
            status = job.get_status()
            now = time.monotonic()
            if status == JobStatus.STARTED and run_deadline is None:
                run_deadline = now + job_timeout_s(pending.timeout_s) + HEARTBEAT_TTL_S + self.poll_s
            if pending.children.stopping.is_set() and stop_deadline is None:
                stop_deadline = now + self.stop_grace_s + KILL_GRACE_S
                if self._cancel(job):
                    return pending.gone("interrupted", "stopped before a worker took it")
                self._stop(job)
            if now - pending.started > self.wait_for_worker_s and run_deadline is None and self._cancel(job):
                return pending.gone("crashed", f"no worker took the crawl within {self.wait_for_worker_s:g} s")
            if stop_deadline is not None and now > stop_deadline:
                return pending.gone("interrupted", "the scheduler stopped before the worker reported")
            if run_deadline is not None and now > run_deadline:
                self._stop(job)
                return pending.gone("timeout", f"timed out after {pending.timeout_s:g} s")

    def _outcome(self, pending: _Pending, job: Job, result: Result) -> CycleOutcome:
        if result.type == Result.Type.SUCCESSFUL and isinstance(result.return_value, Mapping):
            return outcome_from_result(pending.archive, result.return_value)
        try:
            status: JobStatus | None = job.get_status()
        except InvalidJobOperation:   # expired already
            status = None
        return failure_outcome(pending, status, result.exc_string)

    @staticmethod
    def _cancel(job: Job) -> bool:
        """Cancel a job no worker has taken (RQ removes it from the queue); False once one has."""
        if job.get_status() not in (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED):
            return False
        job.cancel()
        logger.info("cancelled %s: no longer waited for", job.id)
        return True

    def _stop(self, job: Job) -> None:
        """Ask the worker running `job` to stop it: RQ kills the work horse, the crawl gets SIGTERM."""
        try:
            send_stop_job_command(self.client, job.id, serializer=JSONSerializer)
        except (InvalidJobOperation, NoSuchJobError) as exc:
            logger.info("could not stop %s: %s", job.id, exc)


@dataclass(frozen=True)
class _Pending:
    """A queued cycle, with what is needed to record it when no worker reports it."""

    archive: Archive
    source: SourceInfo
    timeout_s: float
    children: ChildRegistry
    before: int             # the last crawl-run id before the job was queued
    started: float

    def gone(self, status: str, error: str) -> CycleOutcome:
        runs = tuple(self.archive.list_runs(self.source.id, after_id=self.before))
        closing = "interrupted" if status == "interrupted" else "failed"
        closed = _close_runs(self.archive, self.source, runs, error, closing)
        return CycleOutcome(self.source.name, status, closed, error, time.monotonic() - self.started)
