"""Crawl cycles run by worker hosts: the scheduler queues them in Redis and waits for the outcome.

The unit of work is one crawl cycle of one source, the same cycle `newswatch run` would start in
a local child process (docs/deployment.md says why not a shared per-request frontier). Protocol,
every key under one prefix:

- `<prefix>:jobs`            a list of queued jobs (JSON); the scheduler LPUSHes, workers BRPOP.
- `<prefix>:lease:<job>`     the worker that took the job, with a TTL it keeps renewing.
- `<prefix>:result:<job>`    a list the worker pushes the cycle's outcome (JSON) to.
- `<prefix>:cancel:<job>`    set by a stopping scheduler: the worker stops that crawl.
- `<prefix>:source:<name>`   held by the worker crawling that source: never two crawls of one source.

The archive (PostgreSQL) stays the record: workers' crawls record their runs there, and the
scheduler closes what a lost worker left running, as it does for a crashed local child.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import redis

from scheduler.child import KILL_GRACE_S, ChildRegistry, CycleOutcome, _close_runs
from storage import Archive
from storage.records import SourceInfo

logger = logging.getLogger(__name__)

DEFAULT_PREFIX = "newswatch"
LEASE_S = 10.0
POLL_S = 1.0
RESULT_TTL_S = 3600


@dataclass(frozen=True)
class Keys:
    prefix: str = DEFAULT_PREFIX

    @property
    def jobs(self) -> str:
        return f"{self.prefix}:jobs"

    def lease(self, job: str) -> str:
        return f"{self.prefix}:lease:{job}"

    def result(self, job: str) -> str:
        return f"{self.prefix}:result:{job}"

    def cancel(self, job: str) -> str:
        return f"{self.prefix}:cancel:{job}"

    def source(self, name: str) -> str:
        return f"{self.prefix}:source:{name}"


def outcome_to_json(outcome: CycleOutcome) -> str:
    return json.dumps({"source": outcome.source, "status": outcome.status, "error": outcome.error,
                       "seconds": outcome.seconds, "counters": outcome.counters,
                       "runs": [run.id for run in outcome.runs]}, default=str)


def outcome_from_json(archive: Archive, text: str) -> CycleOutcome:
    data: dict[str, Any] = json.loads(text)
    runs = tuple(archive.get_run(int(run_id)) for run_id in data.get("runs", []))
    return CycleOutcome(str(data["source"]), str(data["status"]), runs, data.get("error"),
                        float(data.get("seconds", 0.0)), dict(data.get("counters") or {}))


class RedisDispatch:
    """A drop-in for `scheduler.child.run_cycle` that runs the cycle on whichever worker takes it.

    `wait_for_worker_s`: how long a job may stay queued (no worker up) before the cycle fails.
    """

    def __init__(self, redis_url: str, prefix: str = DEFAULT_PREFIX, *, wait_for_worker_s: float = 600.0,
                 stop_grace_s: float = 30.0, poll_s: float = POLL_S) -> None:
        self.client: redis.Redis = redis.Redis.from_url(redis_url, decode_responses=True)
        self.keys = Keys(prefix)
        self.wait_for_worker_s = wait_for_worker_s
        self.stop_grace_s = stop_grace_s
        self.poll_s = poll_s

    def __call__(
        self, archive: Archive, source: SourceInfo, command: Sequence[str], *,
        env: Mapping[str, str], timeout_s: float, children: ChildRegistry,
    ) -> CycleOutcome:
        """Queue one cycle of `source` and wait for its outcome; `command` and `env` are the local
        child's and unused: a worker crawls with its own configuration (its own archive URL)."""
        job = uuid.uuid4().hex
        pending = _Pending(archive, source, job, timeout_s, children, archive.last_run_id(), time.monotonic())
        payload = json.dumps({"id": job, "source": source.name, "timeout_s": timeout_s, "queued_at": time.time()})
        self.client.lpush(self.keys.jobs, payload)
        try:
            return self._wait(pending, payload)
        except redis.RedisError as exc:
            return pending.gone("crashed", f"lost the work queue: {exc}")
        finally:
            self.client.delete(self.keys.result(job))

    def _wait(self, pending: _Pending, payload: str) -> CycleOutcome:
        keys, job = self.keys, pending.job
        claimed = False
        stop_deadline: float | None = None
        # The worker ends its crawl at timeout_s (then SIGKILL after its grace); past that, it is gone.
        run_deadline: float | None = None
        while True:
            reply = cast("list[str] | None", self.client.brpop([keys.result(job)], timeout=self.poll_s))
            if reply is not None:
                return outcome_from_json(pending.archive, reply[1])
            now = time.monotonic()
            leased = bool(self.client.exists(keys.lease(job)))
            if leased and not claimed:
                claimed, run_deadline = True, now + pending.timeout_s + KILL_GRACE_S + 2 * LEASE_S
            if pending.children.stopping.is_set() and stop_deadline is None:
                stop_deadline = now + self.stop_grace_s + KILL_GRACE_S
                if self.client.lrem(keys.jobs, 1, payload):
                    return pending.gone("interrupted", "stopped before a worker took it")
                self.client.set(keys.cancel(job), "1", ex=RESULT_TTL_S)
            queued_s = now - pending.started
            if not claimed and queued_s > self.wait_for_worker_s and self.client.lrem(keys.jobs, 1, payload):
                return pending.gone("crashed", f"no worker took the crawl within {self.wait_for_worker_s:g} s")
            if claimed and not leased and not self.client.exists(keys.result(job)):
                return pending.gone("crashed", f"the worker crawling it stopped renewing its lease ({LEASE_S:g} s)")
            if stop_deadline is not None and now > stop_deadline:
                return pending.gone("interrupted", "the scheduler stopped before the worker reported")
            if run_deadline is not None and now > run_deadline:
                return pending.gone("timeout", f"timed out after {pending.timeout_s:g} s")


@dataclass(frozen=True)
class _Pending:
    """A queued cycle, with what is needed to record it when no worker reports it."""

    archive: Archive
    source: SourceInfo
    job: str
    timeout_s: float
    children: ChildRegistry
    before: int             # the last crawl-run id before the job was queued
    started: float

    def gone(self, status: str, error: str) -> CycleOutcome:
        runs = tuple(self.archive.list_runs(self.source.id, after_id=self.before))
        closing = "interrupted" if status == "interrupted" else "failed"
        closed = _close_runs(self.archive, self.source, runs, error, closing)
        return CycleOutcome(self.source.name, status, closed, error, time.monotonic() - self.started)
