"""Pages per second with 1, 2 and 3 crawl workers (`newswatch worker`), PostgreSQL archive, Redis queue.

    NEWSWATCH_TEST_PG_URL=postgresql://127.0.0.1:5432/test .venv/bin/python bench/scale.py [--workers 1 2 3]

One cycle of every replica source (day 0, an empty archive each time) is queued through the
scheduler's RQ dispatch (scheduler.dispatch); the replica (in this process) counts the requests it
answers. Wall time runs from queueing to the last outcome (worker start-up excluded: the workers
are up first). `first_take_s`: from queueing to the first `crawl_started` a worker prints (an idle
worker taking a job: dequeue, fork of the work horse, source lock). Results: bench/results/scale.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from replica import Replica
from replica.handlers import Handler
from scheduler.child import ChildRegistry
from scheduler.dispatch import RedisDispatch
from storage import Archive
from tests.conftest import _pg_schema_url
from tests.workers_harness import (
    RequestLog,
    add_sources,
    redis_prefix,
    redis_url_or_reason,
    worker_events,
    workers,
)

RESULTS = Path(__file__).resolve().parent / "results" / "scale.json"


def one_run(replica: Replica, log: RequestLog, redis_url: str, count: int) -> dict[str, Any]:
    schema = _pg_schema_url()
    db = next(schema)
    try:
        sources = add_sources(db, replica)
        with redis_prefix(redis_url) as prefix, tempfile.TemporaryDirectory() as logs:
            with workers(db, redis_url, prefix, count, Path(logs)):
                time.sleep(3)  # workers importing and connecting: not part of the figure
                log.clear()
                dispatch = RedisDispatch(redis_url, prefix, wait_for_worker_s=120)
                started, queued_at = time.monotonic(), time.time()
                with Archive.open(db) as archive, ThreadPoolExecutor(len(sources)) as pool:
                    outcomes = list(pool.map(lambda name: dispatch(
                        archive, archive.get_source(name), (), env={}, timeout_s=600, children=ChildRegistry()),
                        sources))
                seconds = time.monotonic() - started
            takes = [datetime.fromisoformat(e["time"]).timestamp() - queued_at
                     for e in worker_events(Path(logs)) if e.get("event") == "crawl_started"]
            per_worker = {e["log"]: 0 for e in worker_events(Path(logs))}
            for event in worker_events(Path(logs)):
                if event.get("event") == "crawl_finished":
                    per_worker[event["log"]] += 1
        pages = sum(log.counts().values())
        items = sum(int(o.counters.get("items_new", 0)) for o in outcomes)
        return {"workers": count, "seconds": round(seconds, 2), "pages": pages, "items": items,
                "pages_per_s": round(pages / seconds, 2), "statuses": sorted(o.status for o in outcomes),
                "cycles_per_worker": sorted(per_worker.values(), reverse=True),
                "longest_cycle_s": round(max(o.seconds for o in outcomes), 2),
                "first_take_s": round(min(takes), 3) if takes else None}
    finally:
        next(schema, None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    redis_url, reason = redis_url_or_reason()
    if redis_url is None or not os.environ.get("NEWSWATCH_TEST_PG_URL"):
        sys.exit(reason or "set NEWSWATCH_TEST_PG_URL")
    log = RequestLog()
    Handler.do_GET = log.hook()  # type: ignore[method-assign,assignment]
    runs = []
    with Replica(day=0) as replica:
        for count in args.workers:
            runs.append(one_run(replica, log, redis_url, count))
            print(json.dumps(runs[-1]))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                                   "sources": 4, "runs": runs}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
