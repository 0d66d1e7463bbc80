"""Scheduling crawls (APScheduler 3): which source is due, no overlap, one leader per archive,
adaptive intervals and source health. Crawls run in child processes; Scrapy is never imported here."""

from scheduler.errors import LeaderLockHeldError, LeaderLockLostError, SchedulerError
from scheduler.health import SourceHealth, assess, assess_all
from scheduler.options import SchedulerOptions, settings_env
from scheduler.progress import Progress
from scheduler.service import JOB_TABLE, run_scheduler

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
