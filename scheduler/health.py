"""Source health from the archive's figures: is a source failing, or has it stopped yielding?

A source is `stalled` when the days since its last new item exceed both `STALL_MIN_DAYS` and
`STALL_FACTOR` times its usual gap between publications (from the dates of its recent items);
with too few dated items to know its rhythm, after `STALL_UNKNOWN_RATE_DAYS`. It is `failing`
after `FAILING_AFTER` failed cycles in a row, and `new` before its first finished cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

DAY_S = 86400.0
STALL_FACTOR = 3.0
STALL_MIN_DAYS = 2.0
STALL_UNKNOWN_RATE_DAYS = 7.0
FAILING_AFTER = 3
MIN_DATED_FOR_RATE = 3


@dataclass(frozen=True)
class SourceHealth:
    source: str
    status: str                      # ok | new | failing | stalled
    last_success_at: datetime | None
    consecutive_failures: int
    days_since_new: float | None     # since the newest item was first archived
    usual_gap_days: float | None     # the source's usual time between publications
    undated_share: float | None
    duplicate_share: float | None
    items: int

    @property
    def flagged(self) -> bool:
        return self.status in ("failing", "stalled")


def usual_gap_days(figures: Mapping[str, Any]) -> float | None:
    dated = int(figures.get("dated_recent") or 0)
    first, last = figures.get("first_published_recent"), figures.get("last_published_recent")
    if dated < MIN_DATED_FOR_RATE or first is None or last is None:
        return None
    span: float = (last - first).total_seconds()
    return max(span / DAY_S / (dated - 1), 1 / 24)


def assess(source: str, figures: Mapping[str, Any], now: datetime | None = None) -> SourceHealth:
    now = now or datetime.now(UTC)
    items = int(figures.get("items") or 0)
    last_new = figures.get("last_new_at")
    since_new = (now - last_new).total_seconds() / DAY_S if last_new is not None else None
    gap = usual_gap_days(figures)
    failures = int(figures.get("consecutive_failures") or 0)
    status = "ok"
    if failures >= FAILING_AFTER:
        status = "failing"
    elif figures.get("last_success_at") is None:
        status = "new"
    elif since_new is None or since_new > _stall_after(gap):
        status = "stalled"
    return SourceHealth(
        source=source, status=status, last_success_at=figures.get("last_success_at"),
        consecutive_failures=failures, days_since_new=since_new, usual_gap_days=gap,
        undated_share=int(figures.get("undated") or 0) / items if items else None,
        duplicate_share=int(figures.get("duplicates") or 0) / items if items else None, items=items,
    )


def _stall_after(gap: float | None) -> float:
    if gap is None:
        return STALL_UNKNOWN_RATE_DAYS
    return max(STALL_MIN_DAYS, STALL_FACTOR * gap)


def assess_all(figures: Mapping[str, Mapping[str, Any]], now: datetime | None = None) -> dict[str, SourceHealth]:
    return {name: assess(name, values, now) for name, values in figures.items()}
