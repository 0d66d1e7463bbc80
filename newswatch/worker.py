"""`newswatch worker`: the composition of a crawl worker host (see docs/deployment.md).

The worker crawls with its own settings (its own `--db`, which must name the scheduler's
PostgreSQL archive as seen from this host) and passes them to each crawl child, with the Redis
URL, so that the children share per-domain politeness with every other worker.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TextIO

from newswatch.config import Settings, load_settings
from newswatch.errors import ConfigError
from scheduler import Progress, settings_env
from scheduler.dispatch import DEFAULT_PREFIX
from scheduler.worker import WorkerOptions, run_worker
from storage import Archive


def crawl_child_command(db: str) -> tuple[str, ...]:
    """One crawl cycle of a source (its name is appended), run as a child by the scheduler or a worker.
    Alerts stay with the scheduler: the child archives, it does not deliver."""
    return (sys.executable, "-m", "newswatch", "--db", db, "crawl", "--json", "--no-alerts", "--source")


def worker_options(settings: Settings, redis_url: str, prefix: str = DEFAULT_PREFIX) -> WorkerOptions:
    if not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"workers.redis_url must be a redis:// URL, not {redis_url!r}")
    if settings.db.startswith("sqlite"):
        raise ConfigError("crawl workers need a PostgreSQL archive that every host reaches (not SQLite)")
    env = {**settings_env(settings), "NEWSWATCH_WORKERS_REDIS_URL": redis_url, "NEWSWATCH_WORKERS_PREFIX": prefix}
    return WorkerOptions(
        redis_url=redis_url, prefix=prefix, child_env=env, stop_grace_s=settings.scheduler.stop_grace_s,
        crawl_command=crawl_child_command(settings.db),
    )


def serve(archive: Archive, options: WorkerOptions, out: TextIO, as_json: bool = False) -> int:
    """Run crawl cycles from the queue until SIGTERM/SIGINT (RQ's signal handlers); returns how many ran."""
    return run_worker(archive, options, Progress(out, as_json))


def main(argv: list[str] | None = None) -> None:
    """`python -m newswatch.worker --db URL --redis-url URL`: the same as `newswatch worker`."""
    parser = argparse.ArgumentParser(prog="python -m newswatch.worker")
    parser.add_argument("--db", required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--prefix", default=DEFAULT_PREFIX)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    settings = load_settings(env=os.environ, overrides={"db": args.db})
    options = worker_options(settings, args.redis_url, args.prefix)
    with Archive.open(settings.db) as archive:
        serve(archive, options, sys.stdout, args.json)


if __name__ == "__main__":
    main()
