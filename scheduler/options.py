"""What `newswatch run` needs to know, resolved once by the caller (the composition root)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any


@dataclass(frozen=True)
class SchedulerOptions:
    """How to schedule crawls. `crawl_command` + source name runs one crawl cycle and prints its
    runs as JSON lines (by default `python -m newswatch --db URL crawl --json --source`)."""

    archive_url: str
    crawl_command: tuple[str, ...]
    child_env: Mapping[str, str] = field(default_factory=dict)
    interval_floor_s: int | None = None      # None: a quarter of each source's ceiling
    interval_ceiling_s: int | None = None    # None: each source's own interval
    error_backoff_max_s: int = 6 * 3600
    jitter_s: float = 30.0
    misfire_grace_s: int = 15 * 60
    crawl_timeout_s: float = 3600.0
    stop_grace_s: float = 30.0
    max_parallel: int = 4
    wait_for_lock: bool = False
    lock_poll_s: float = 5.0
    reconcile_every_s: float = 5.0           # how often the source list is compared with the jobs
    # Runs in the scheduler after every crawl (detection and alert delivery); returns figures to report.
    after_cycle: Callable[[], Mapping[str, Any]] | None = None
    # Runs one cycle instead of a local child (scheduler.child.run_cycle's signature), e.g. on a
    # worker host through scheduler.dispatch.RedisDispatch; None: a local child process.
    cycle_runner: Callable[..., Any] | None = None


def settings_env(settings: Any, prefix: str = "NEWSWATCH_") -> dict[str, str]:
    """A frozen settings dataclass as NEWSWATCH_* variables, so a child resolves the same settings."""
    env: dict[str, str] = {}
    for item in fields(settings):
        value = getattr(settings, item.name)
        key = f"{prefix}{item.name.upper()}"
        if is_dataclass(value):
            env.update(settings_env(value, f"{key}_"))
        elif isinstance(value, tuple | list | dict):
            # Structured settings (alert channels, watch rules) stay with the parent: a crawl child
            # does not deliver alerts.
            continue
        elif isinstance(value, bool):
            env[key] = "true" if value else "false"
        else:
            env[key] = str(value)
    return env
