"""Plain values shared by detection, events and delivery: what a report says, what an event is,
what an alert message carries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

# Canonical event types; vocabulary files map their words onto these.
EVENT_TYPES = ("conference", "working_session", "congress", "council_session", "press_conference", "workshop",
               "meeting")


@dataclass(frozen=True)
class ReportText:
    """What detection reads of one archived item."""

    url: str
    language: str | None
    title: str
    lead: str
    text: str
    published_at: datetime | None


@dataclass(frozen=True)
class Official:
    name: str
    title: str


@dataclass(frozen=True)
class EventRecord:
    """A conference (or other event) reported by one item, with why it was detected."""

    type: str
    date: date | None
    place: str | None
    province: str | None
    organizer: str | None
    officials: tuple[Official, ...] = ()
    topic: str | None = None
    matched: tuple[str, ...] = ()  # the words and patterns that matched, as they stand in the text
    rule: str = ""  # which detection rule fired (e.g. "title:hội nghị", "lead:<time> <d/m> ... tổ chức")
    score: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "date": self.date.isoformat() if self.date else None,
            "place": self.place,
            "province": self.province,
            "organizer": self.organizer,
            "officials": [{"name": o.name, "title": o.title} for o in self.officials],
            "topic": self.topic,
            "matched": list(self.matched),
            "rule": self.rule,
            "score": self.score,
        }


@dataclass(frozen=True)
class AlertMessage:
    """What a channel delivers for one event."""

    event_id: int
    idempotency_key: str  # stable per event and channel: receivers drop repeats by it
    title: str
    source: str
    link: str
    event_type: str
    event_date: date | None
    place: str | None
    organizer: str | None
    why: str  # the watch rule and the words that matched
    detected_at: datetime
    editions: tuple[tuple[str, str], ...] = field(default=())  # (language, url) of every report
