"""Watch rules: which detected events the user wants alerts for, and the reason given when one fires."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from alerts.errors import AlertsError
from alerts.model import EVENT_TYPES, EventRecord, ReportText


def fold(value: str) -> str:
    """Case- and accent-insensitive form ('Nghệ An' and 'nghe an' match); đ folds to d."""
    decomposed = unicodedata.normalize("NFKD", value.casefold().replace("đ", "d"))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


@dataclass(frozen=True)
class WatchRule:
    """Every non-empty criterion must hold; within one criterion any listed value will do.

    An empty rule watches every event.
    """

    name: str = "every conference"
    types: tuple[str, ...] = ()
    provinces: tuple[str, ...] = ()
    organizers: tuple[str, ...] = ()  # parts of the organizer's name
    keywords: tuple[str, ...] = ()  # words in the title, lead or text
    languages: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise AlertsError("a watch rule needs a name")
        unknown = sorted(set(self.types) - set(EVENT_TYPES))
        if unknown:
            raise AlertsError(f"watch rule {self.name!r}: unknown event types {unknown} "
                              f"(known: {', '.join(EVENT_TYPES)})")

    def match(self, event: EventRecord, report: ReportText) -> str | None:
        """Why this rule fires for `event` as `report` tells it, or None."""
        reasons: list[str] = []
        if self.types and event.type not in self.types:
            return None
        if self.languages and (report.language or "").split("-")[0].lower() not in self.languages:
            return None
        if self.provinces:
            province = fold(event.province or event.place or "")
            hit = next((p for p in self.provinces if fold(p) and fold(p) in province), None)
            if hit is None:
                return None
            reasons.append(f"province {hit}")
        if self.organizers:
            organizer = fold(event.organizer or "")
            hit = next((o for o in self.organizers if fold(o) and fold(o) in organizer), None)
            if hit is None:
                return None
            reasons.append(f"organizer {hit}")
        if self.keywords:
            body = fold(" ".join((report.title, report.lead, report.text)))
            hits = [k for k in self.keywords if fold(k) and fold(k) in body]
            if not hits:
                return None
            reasons.append("keywords " + ", ".join(repr(k) for k in hits))
        matched = ", ".join(repr(m) for m in event.matched[:6]) or "-"
        detail = f"; {'; '.join(reasons)}" if reasons else ""
        return f"rule {self.name!r}: {event.type.replace('_', ' ')} detected ({event.rule}; matched {matched}){detail}"


DEFAULT_RULES = (WatchRule(),)


def first_match(rules: Sequence[WatchRule], event: EventRecord, report: ReportText) -> str | None:
    """The reason of the first rule that fires, or None when no rule watches this event."""
    for rule in rules or DEFAULT_RULES:
        reason = rule.match(event, report)
        if reason is not None:
            return reason
    return None
