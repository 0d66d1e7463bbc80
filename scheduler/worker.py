"""`newswatch worker`: take crawl cycles from the Redis queue that `newswatch run` feeds (see
scheduler.dispatch) and run each one in a child process, exactly as the scheduler would locally.

While a cycle runs, a heartbeat renews the job's lease (so the scheduler can tell a lost worker
from a slow crawl) and the source's lock (so a job queued again after a scheduler restart waits
for the crawl still running elsewhere instead of crawling the source twice at once). SIGTERM:
no new job; the running crawl gets SIGTERM, records itself as interrupted, and is reported.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import redis

from scheduler.adaptive import CycleFigures
from scheduler.child import ChildRegistry, CycleOutcome, run_cycle
from scheduler.dispatch import DEFAULT_PREFIX, LEASE_S, POLL_S, RESULT_TTL_S, Keys, outcome_to_json
from scheduler.progress import Progress
from storage import Archive, SourceNotFoundError

logger = logging.getLogger(__name__)

_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


@dataclass(frozen=True)
class WorkerOptions:
    """`crawl_command` + source name runs one crawl cycle and prints its runs as JSON lines."""

    redis_url: str
    crawl_command: tuple[str, ...]
    child_env: Mapping[str, str] = field(default_factory=dict)
    prefix: str = DEFAULT_PREFIX
    stop_grace_s: float = 30.0
    name: str = ""          # how this worker shows in leases; default "host pid=N"


class _Job:
    """One taken job: its lease and source lock, renewed by a heartbeat thread until `finish`."""

    def __init__(self, client: redis.Redis, keys: Keys, data: dict[str, Any], *, worker: str,
                 stop: threading.Event, stop_grace_s: float) -> None:
        self.client, self.keys, self.worker = client, keys, worker
        self.id, self.source = str(data["id"]), str(data["source"])
        self.timeout_s = float(data.get("timeout_s", 3600.0))
        self.children = ChildRegistry()
        self.holds_source = False
        self._stop, self._stop_grace_s = stop, stop_grace_s
        self._done = threading.Event()
        self._beat = threading.Thread(target=self._heartbeat, name=f"lease {self.id}", daemon=True)

    def start(self) -> None:
        self._renew()
        self._beat.start()

    def cancelled(self) -> bool:
        return self._stop.is_set() or bool(self.client.exists(self.keys.cancel(self.id)))

    def take_source(self) -> bool:
        """Wait for the source's lock (held by a crawl of it still running elsewhere); False if cancelled."""
        while not self.client.set(self.keys.source(self.source), self.id, nx=True, px=int(LEASE_S * 1000)):
            if self.cancelled():
                return False
            self._done.wait(POLL_S)
        self.holds_source = True
        return True

    def _renew(self) -> None:
        ttl = int(LEASE_S * 1000)
        self.client.set(self.keys.lease(self.id), self.worker, px=ttl)
        if self.holds_source:
            self.client.pexpire(self.keys.source(self.source), ttl)

    def _heartbeat(self) -> None:
        killed_at: float | None = None
        waited = 0.0
        while not self._done.wait(LEASE_S / 5):
            waited += LEASE_S / 5
            try:
                self._renew()
                if self.cancelled() and not self.children.stopping.is_set():
                    self.children.terminate_all()
                    killed_at = waited + self._stop_grace_s
            except redis.RedisError as exc:  # the lease lapses; the scheduler will see a lost worker
                logger.warning("job %s: could not renew the lease: %s", self.id, exc)
            if killed_at is not None and waited >= killed_at:
                self.children.kill_all()

    def finish(self, outcome: CycleOutcome) -> None:
        self._done.set()
        self._beat.join()
        pipe = self.client.pipeline()
        pipe.lpush(self.keys.result(self.id), outcome_to_json(outcome))
        pipe.expire(self.keys.result(self.id), RESULT_TTL_S)
        pipe.delete(self.keys.lease(self.id), self.keys.cancel(self.id))
        pipe.execute()
        if self.holds_source:
            self.client.eval(_RELEASE, 1, self.keys.source(self.source), self.id)


def run_worker(archive: Archive, options: WorkerOptions, progress: Progress, stop: threading.Event) -> int:
    """Take and run crawl cycles until `stop` is set; returns how many this worker ran."""
    client: redis.Redis = redis.Redis.from_url(options.redis_url, decode_responses=True)
    keys = Keys(options.prefix)
    worker = options.name or f"{socket.gethostname()} pid={os.getpid()}"
    progress.emit("worker_started", worker=worker, queue=keys.jobs)
    done = 0
    while not stop.is_set():
        try:
            reply = cast("list[str] | None", client.brpop([keys.jobs], timeout=POLL_S))
        except redis.ConnectionError as exc:
            logger.warning("work queue unreachable: %s", exc)
            stop.wait(POLL_S)
            continue
        if reply is None:
            continue
        if stop.is_set():  # taken while stopping: back to the queue's far end, for another worker
            client.rpush(keys.jobs, reply[1])
            break
        job = _Job(client, keys, json.loads(reply[1]), worker=worker, stop=stop, stop_grace_s=options.stop_grace_s)
        _run_job(archive, options, progress, job)
        done += 1
    progress.emit("worker_stopped", worker=worker, jobs=done)
    client.close()
    return done


def _run_job(archive: Archive, options: WorkerOptions, progress: Progress, job: _Job) -> None:
    job.start()
    outcome: CycleOutcome
    try:
        if not job.take_source():
            outcome = CycleOutcome(job.source, "interrupted", error="stopped before the crawl began")
        else:
            source = archive.get_source(job.source)
            progress.emit("crawl_started", source=job.source, job=job.id)
            outcome = run_cycle(archive, source, options.crawl_command, env=options.child_env,
                                timeout_s=job.timeout_s, children=job.children)
    except SourceNotFoundError:
        outcome = CycleOutcome(job.source, "crashed", error=f"no source {job.source!r} in this worker's archive")
    except Exception as exc:  # reported to the scheduler, which records it; the worker goes on
        logger.exception("job %s (%s) failed", job.id, job.source)
        outcome = CycleOutcome(job.source, "crashed", error=f"worker error: {exc}")
    job.finish(outcome)
    counters = outcome.counters
    progress.emit("crawl_finished", source=outcome.source, status=outcome.status, seconds=outcome.seconds,
                  new=int(counters.get("items_new", 0)), updated=int(counters.get("items_updated", 0)),
                  known=CycleFigures.from_counters(counters).known, error=outcome.error,
                  runs=[run.id for run in outcome.runs])
