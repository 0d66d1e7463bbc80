"""Items per day per source as the geometry of a stacked bar chart, drawn as inline SVG by a template."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from storage.browse import DailyCount

logger = logging.getLogger(__name__)

# Colour-blind-safe (Okabe-Ito), then greys for more sources than colours.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000")
WIDTH, HEIGHT = 760, 240
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 10, 40


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    color: str
    label: str  # shown as the bar's tooltip (<title>)


@dataclass(frozen=True)
class Tick:
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class LegendEntry:
    source: str
    color: str
    items: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot_left: int
    plot_bottom: int
    plot_right: int
    bars: list[Bar]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    legend: list[LegendEntry]
    first_day: date | None
    last_day: date | None

    @property
    def empty(self) -> bool:
        return not self.bars


def _days(counts: Sequence[DailyCount]) -> list[date]:
    first, last = min(c.day for c in counts), max(c.day for c in counts)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _y_ticks(peak: int, scale: float) -> list[Tick]:
    step = max(1, -(-peak // 4))
    return [Tick(LEFT - 4, HEIGHT - BOTTOM - value * scale, str(value)) for value in range(0, peak + 1, step)]


def build_chart(counts: Sequence[DailyCount]) -> Chart:
    """Stacked bars, one per day from the first counted day to the last, one colour per source."""
    if not counts:
        return Chart(WIDTH, HEIGHT, LEFT, HEIGHT - BOTTOM, WIDTH - RIGHT, [], [], [], [], None, None)
    days = _days(counts)
    totals = dict.fromkeys(sorted({c.source for c in counts}), 0)
    for count in counts:
        totals[count.source] += count.items
    colors = {source: PALETTE[n] if n < len(PALETTE) else "#999999" for n, source in enumerate(totals)}
    per_day: dict[date, int] = {}
    for count in counts:
        per_day[count.day] = per_day.get(count.day, 0) + count.items
    peak = max(per_day.values())
    scale = (HEIGHT - TOP - BOTTOM) / peak
    slot = (WIDTH - LEFT - RIGHT) / len(days)
    index = {day: n for n, day in enumerate(days)}
    stacked: dict[date, int] = {}
    bars = []
    for count in sorted(counts, key=lambda c: (c.day, c.source)):
        below = stacked.get(count.day, 0)
        stacked[count.day] = below + count.items
        bars.append(Bar(
            x=round(LEFT + index[count.day] * slot + slot * 0.1, 2),
            y=round(HEIGHT - BOTTOM - (below + count.items) * scale, 2),
            width=round(max(slot * 0.8, 1.0), 2), height=round(count.items * scale, 2), color=colors[count.source],
            label=f"{count.day.isoformat()} {count.source}: {count.items}",
        ))
    every = max(1, len(days) // 8)
    x_ticks = [Tick(round(LEFT + n * slot + slot / 2, 2), HEIGHT - BOTTOM + 16, day.strftime("%m-%d"))
               for n, day in enumerate(days) if n % every == 0]
    legend = [LegendEntry(source, colors[source], total) for source, total in totals.items()]
    return Chart(WIDTH, HEIGHT, LEFT, HEIGHT - BOTTOM, WIDTH - RIGHT, bars, x_ticks, _y_ticks(peak, scale), legend,
                 days[0], days[-1])
