"""Which event a detected report belongs to: the dedup group first, then the event's own fields.

Translations and republications are linked by dedup, so they join the event of their group;
follow-up reports (another story about the same meeting) join an event of the same type, day and
province with the same organizer. Two conferences in one province on one day stay apart unless
their organizers agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from alerts.model import EventRecord
from alerts.rules import fold
from storage import events as store


@dataclass(frozen=True)
class Assignment:
    event_id: int
    relation: str  # first | duplicate | same_event
    evidence: dict[str, Any]

    @property
    def created(self) -> bool:
        return self.relation == "first"


def organizer_key(organizer: str | None) -> str | None:
    return fold(organizer)[:500] if organizer else None


def item_event_fields(record: EventRecord) -> dict[str, Any]:
    """The `event` object of the export contract, as this report tells it."""
    return {"type": record.type, "date": record.date.isoformat() if record.date else None,
            "place": record.place, "organizer": record.organizer}


def assign(session: Session, pending: store.PendingReport, record: EventRecord) -> Assignment:
    """Attach the report to its event, creating the event when it is the first report of it."""
    # The root as it is now, not as the batch read it: an item linked into a group that already
    # has an event meanwhile (a crawl's write in between) joins that event instead of founding one.
    root_id = store.group_root_now(session, pending.item_id) or pending.group_root_id
    group = store.group_events(session, root_id)
    if group:
        evidence: dict[str, Any] = {"dedup_group_root": root_id}
        if len(group) > 1:
            evidence["group_events"] = group
        return _attach(session, pending, record, Assignment(group[0], "duplicate", evidence))
    key = organizer_key(record.organizer)
    if record.date is not None and key:
        for event_id, other_key in store.events_on(session, record.type, record.date, record.province):
            if other_key == key:
                evidence = {"type": record.type, "date": record.date.isoformat(), "province": record.province,
                            "organizer": record.organizer}
                return _attach(session, pending, record, Assignment(event_id, "same_event", evidence))
    event_id = store.create_event(session, _told_by(pending, record), pending.item_id)
    return _attach(session, pending, record, Assignment(event_id, "first", {"detected_by": record.rule}))


def _told_by(pending: store.PendingReport, record: EventRecord) -> store.NewEvent:
    """The event as this report tells it."""
    return store.NewEvent(
        type=record.type, event_date=record.date, province=record.province, place=record.place,
        organizer=record.organizer, organizer_key=organizer_key(record.organizer), topic=record.topic,
        title=pending.title or None,
        details={"officials": [{"name": o.name, "title": o.title} for o in record.officials],
                 "matched": list(record.matched), "rule": record.rule, "score": record.score,
                 "language": pending.language},
    )


def _attach(session: Session, pending: store.PendingReport, record: EventRecord, assignment: Assignment) -> Assignment:
    store.attach_report(session, pending.item_id, assignment.event_id, assignment.relation,
                        evidence=assignment.evidence, item_event=item_event_fields(record))
    if not assignment.created:
        store.promote_report(session, assignment.event_id, pending.item_id, _told_by(pending, record))
    return assignment
