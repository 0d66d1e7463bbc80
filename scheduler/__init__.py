"""Scheduling crawls (APScheduler 3): which source is due, no overlap, one leader per archive,
adaptive intervals and source health. Crawls run in child processes; Scrapy is never imported here.

`run_scheduler` and `JOB_TABLE` (scheduler.service, with APScheduler) load on first use: a crawl
child started through `scheduler.crawl_child`, or `newswatch sources list`, does not need them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scheduler.errors import LeaderLockHeldError, LeaderLockLostError, SchedulerError
from scheduler.health import SourceHealth, assess, assess_all
from scheduler.options import SchedulerOptions, settings_env
from scheduler.progress import Progress

if TYPE_CHECKING:
    from scheduler.service import JOB_TABLE, run_scheduler

_FROM_SERVICE = frozenset({"JOB_TABLE", "run_scheduler"})


def __getattr__(name: str) -> Any:
    if name in _FROM_SERVICE:
        from scheduler import service  # noqa: PLC0415

        return getattr(service, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "JOB_TABLE",
    "LeaderLockHeldError",
    "LeaderLockLostError",
    "Progress",
    "SchedulerError",
    "SchedulerOptions",
    "SourceHealth",
    "assess",
    "assess_all",
    "run_scheduler",
    "settings_env",
]
