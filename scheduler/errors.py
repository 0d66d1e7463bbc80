"""The scheduler's exceptions: one base, each carrying its subject."""

from __future__ import annotations


class SchedulerError(Exception):
    """Base of the errors `newswatch run` reports as one line."""


class LeaderLockHeldError(SchedulerError):
    """Another `newswatch run` is the active scheduler of this archive."""

    def __init__(self, holder: str) -> None:
        super().__init__(f"another scheduler is running on this archive ({holder}); "
                         "stop it, or start this one with --wait to take over when it exits")
        self.holder = holder


class LeaderLockLostError(SchedulerError):
    """The leader lock went away while this scheduler was running (its database connection dropped)."""
