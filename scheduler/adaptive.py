"""Adaptive polling: how long to wait before a source's next crawl.

While a source is healthy its interval stays between a floor and a ceiling (the interval the user
configured, unless another ceiling is set): newswatch may look more often at a busy source, never
less often than the user asked. The aim is a cycle in which one third to two thirds of the items
seen are new: more than that and items may be piling up between looks (shorten), fewer and the
look was mostly wasted (lengthen). A failed cycle backs off exponentially, above the ceiling, up
to `backoff_max`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LOW_NEW_SHARE = 1 / 3
HIGH_NEW_SHARE = 2 / 3
SHORTEN = 0.5
LENGTHEN = 1.5
FLOOR_SHARE_OF_CEILING = 0.25


@dataclass(frozen=True)
class Bounds:
    floor: int
    ceiling: int
    backoff_max: int

    @classmethod
    def for_source(cls, configured: int, floor: int | None, ceiling: int | None, backoff_max: int) -> Bounds:
        top = ceiling if ceiling is not None else configured
        bottom = floor if floor is not None else max(1, int(top * FLOOR_SHARE_OF_CEILING))
        bottom = min(bottom, top)
        return cls(bottom, top, max(backoff_max, top))

    def clamp(self, seconds: float) -> int:
        return int(min(max(seconds, self.floor), self.ceiling))


@dataclass(frozen=True)
class CycleFigures:
    """What one cycle saw: fresh items (new or edited) and items already archived."""

    fresh: int
    known: int

    @classmethod
    def from_counters(cls, counters: Mapping[str, Any]) -> CycleFigures:
        def count(*keys: str) -> int:
            return sum(int(counters.get(key, 0) or 0) for key in keys)

        return cls(fresh=count("items_new", "items_updated"),
                   known=count("items_unchanged", "articles_known", "articles_unchanged"))

    @property
    def new_share(self) -> float | None:
        seen = self.fresh + self.known
        return self.fresh / seen if seen else None


def next_interval(current: int, bounds: Bounds, figures: CycleFigures | None, failures: int) -> int:
    """The interval after a cycle: `figures` None and `failures` > 0 for a failed one."""
    if failures > 0 or figures is None:
        backoff = bounds.ceiling * 2 ** min(max(failures, 1), 16)
        return int(min(backoff, bounds.backoff_max))
    share = figures.new_share
    if share is None or share < LOW_NEW_SHARE:
        return bounds.clamp(current * LENGTHEN)
    if share > HIGH_NEW_SHARE:
        return bounds.clamp(current * SHORTEN)
    return bounds.clamp(current)
