"""The archive side of alerts: items awaiting detection, events and their reports, the outbox.

Plain values cross the boundary; the decisions (is it a conference, which event, does a rule fire)
belong to the alerts package. Every write here is idempotent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select, text, update
from sqlalchemy.orm import Session

from storage.dedup.canonical import canonical_key, ranks_first
from storage.models import AlertCheck, AlertDelivery, Event, EventReport, Item, utcnow
from storage.upsert import insert_ignoring_conflict, upsert_row

# One advisory lock key serializes event attachment across processes on PostgreSQL (SQLite already
# serializes writers), so two reports of one event found at once still make one event.
EVENTS_LOCK_KEY = 0x6E77_6576  # "nwev"


@dataclass(frozen=True)
class PendingReport:
    """An archived item whose current version detection has not read yet."""

    item_id: int
    url: str
    source: str
    language: str | None
    title: str
    lead: str
    text: str
    published_at: datetime | None
    first_seen_at: datetime
    version: int
    is_seed: bool
    group_root_id: int


@dataclass(frozen=True)
class NewEvent:
    type: str
    event_date: date | None
    province: str | None
    place: str | None
    organizer: str | None
    organizer_key: str | None
    topic: str | None
    title: str | None
    details: dict[str, Any]


@dataclass(frozen=True)
class ReportInfo:
    item_id: int
    url: str
    source: str
    language: str | None
    title: str | None
    published_at: datetime | None
    relation: str
    evidence: dict[str, Any]


@dataclass(frozen=True)
class EventInfo:
    id: int
    type: str
    event_date: date | None
    province: str | None
    place: str | None
    organizer: str | None
    topic: str | None
    title: str | None
    details: dict[str, Any]
    alerted: bool
    alert_reason: str | None
    created_at: datetime
    reports: tuple[ReportInfo, ...]

    @property
    def first_url(self) -> str | None:
        return self.reports[0].url if self.reports else None


@dataclass(frozen=True)
class DeliveryRow:
    id: int
    event_id: int
    channel: str
    idempotency_key: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    sent_at: datetime | None


def lock_events(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": EVENTS_LOCK_KEY})


def pending_reports(session: Session, limit: int, after_id: int = 0) -> list[PendingReport]:
    """Items never read by detection, or edited since it read them: the `limit` oldest, in
    canonical order (storage.dedup.canonical)."""
    stmt = (
        select(Item).outerjoin(AlertCheck, AlertCheck.item_id == Item.id)
        .where(Item.id > after_id, or_(AlertCheck.item_id.is_(None), AlertCheck.version < Item.version))
        .order_by(Item.id).limit(limit)
    )
    # Within a batch the report that ranks first as a canonical item (the original before its
    # translations and republications) is read first, so it founds the event whichever arrived first.
    items = sorted(session.scalars(stmt), key=canonical_key)
    return [
        PendingReport(
            item_id=item.id, url=item.url, source=item.source, language=item.language, title=item.title or "",
            lead=item.description or "", text=item.text, published_at=item.published_at,
            first_seen_at=item.first_seen_at, version=item.version, is_seed=item.is_seed,
            group_root_id=item.duplicate_of_id or item.id,
        )
        for item in items
    ]


def record_check(session: Session, item_id: int, version: int, detected: bool) -> None:
    upsert_row(session, AlertCheck, {"item_id": item_id, "version": version, "detected": detected,
                                     "checked_at": utcnow()}, conflict_columns=("item_id",))


def group_root_now(session: Session, item_id: int) -> int | None:
    """The item's dedup group root as committed now: a crawl may have linked it to another group
    since its pending report was read. None when the item is gone."""
    row = session.execute(select(Item.duplicate_of_id).where(Item.id == item_id)).first()
    return None if row is None else (row[0] or item_id)


def group_events(session: Session, root_id: int) -> list[int]:
    """Events reported by any item of a dedup group (its root and the items linked to it), oldest first."""
    members = select(Item.id).where(or_(Item.id == root_id, Item.duplicate_of_id == root_id))
    stmt = (select(EventReport.event_id).where(EventReport.item_id.in_(members))
            .group_by(EventReport.event_id).order_by(EventReport.event_id))
    return list(session.scalars(stmt))


def events_on(session: Session, event_type: str, event_date: date,
              province: str | None) -> list[tuple[int, str | None]]:
    """(id, organizer key) of the events of one type, day and province."""
    stmt = select(Event.id, Event.organizer_key).where(
        Event.type == event_type, Event.event_date == event_date,
        Event.province.is_(None) if province is None else Event.province == province,
    ).order_by(Event.id)
    return [(int(i), k) for i, k in session.execute(stmt)]


def create_event(session: Session, new: NewEvent, first_item_id: int) -> int:
    event = Event(type=new.type, event_date=new.event_date, province=new.province, place=new.place,
                  organizer=new.organizer, organizer_key=new.organizer_key, topic=new.topic, title=new.title,
                  first_item_id=first_item_id, details=new.details, alerted=False)
    session.add(event)
    session.flush()
    return event.id


def attach_report(session: Session, item_id: int, event_id: int, relation: str, *, evidence: dict[str, Any],
                  item_event: dict[str, Any]) -> None:
    """Tie an item to its event (again after an edit) and give the item the event's export fields."""
    upsert_row(session, EventReport, {"item_id": item_id, "event_id": event_id, "relation": relation,
                                      "evidence": evidence, "attached_at": utcnow()}, conflict_columns=("item_id",))
    event = session.get(Event, event_id)
    session.execute(update(Item).where(Item.id == item_id).values(
        event=item_event, alerted=bool(event and event.alerted)))


def promote_report(session: Session, event_id: int, item_id: int, new: NewEvent) -> bool:
    """Tell the event as `item` tells it when `item` ranks before the report the event is told
    from (storage.dedup.canonical): what an event says does not follow which report was read first."""
    event = session.get(Event, event_id)
    item = session.get(Item, item_id)
    if event is None or item is None:
        return False
    current = session.get(Item, event.first_item_id) if event.first_item_id is not None else None
    if current is not None and not ranks_first(item, current):
        return False
    # Every field the report tells, the province and day too: a translation that founded the event
    # may name no province its original names.
    event.type, event.event_date, event.province = new.type, new.event_date, new.province
    event.place, event.organizer, event.organizer_key = new.place, new.organizer, new.organizer_key
    event.topic, event.title, event.details, event.first_item_id = new.topic, new.title, new.details, item_id
    return True


def refresh_report(session: Session, item_id: int, item_event: dict[str, Any]) -> bool:
    """Give an item already tied to an event its fields again (after an edit); False when it has none."""
    report = session.get(EventReport, item_id)
    if report is None:
        return False
    session.execute(update(Item).where(Item.id == item_id).values(event=item_event))
    return True


def first_report_url(session: Session, event_id: int) -> str | None:
    stmt = select(Item.url).join(Event, Event.first_item_id == Item.id).where(Event.id == event_id)
    return session.scalars(stmt).first()


def event_state(session: Session, event_id: int) -> tuple[bool, str | None]:
    event = session.get(Event, event_id)
    if event is None:
        raise LookupError(f"no event {event_id}")
    return event.alerted, event.alert_reason


def set_alert_reason(session: Session, event_id: int, reason: str, alerted: bool) -> None:
    """Record why an event alerted (or why not); an alerted event marks all its reports alerted."""
    session.execute(update(Event).where(Event.id == event_id).values(alert_reason=reason, alerted=alerted))
    if alerted:
        reports = select(EventReport.item_id).where(EventReport.event_id == event_id)
        session.execute(update(Item).where(Item.id.in_(reports)).values(alerted=True))


def enqueue(session: Session, event_id: int, channel: str, idempotency_key: str, now: datetime | None = None) -> bool:
    """One outbox row per event and channel, due at `now` (the alerts cycle's clock, so that the
    same cycle delivers it); True when this call added it."""
    due = now or utcnow()
    return insert_ignoring_conflict(session, AlertDelivery, {
        "event_id": event_id, "channel": channel, "idempotency_key": idempotency_key, "status": "pending",
        "attempts": 0, "next_attempt_at": due, "created_at": due}, conflict_columns=("idempotency_key",))


def due_deliveries(session: Session, now: datetime, limit: int,
                   channels: Sequence[str] | None = None) -> list[DeliveryRow]:
    """Pending rows whose time has come, of the given channels only (rows of a channel removed from
    the configuration wait for it, and must not fill every batch ahead of the others)."""
    stmt = (select(AlertDelivery).where(AlertDelivery.status == "pending",
                                        or_(AlertDelivery.next_attempt_at.is_(None),
                                            AlertDelivery.next_attempt_at <= now))
            .order_by(AlertDelivery.next_attempt_at, AlertDelivery.id).limit(limit))
    if channels is not None:
        stmt = stmt.where(AlertDelivery.channel.in_(list(channels)))
    return [_delivery_row(row) for row in session.scalars(stmt)]


def mark_sent(session: Session, delivery_id: int, now: datetime) -> None:
    session.execute(update(AlertDelivery).where(AlertDelivery.id == delivery_id).values(
        status="sent", sent_at=now, attempts=AlertDelivery.attempts + 1, last_error=None, next_attempt_at=None))


def mark_failed(session: Session, delivery_id: int, error: str, next_attempt_at: datetime | None) -> None:
    session.execute(update(AlertDelivery).where(AlertDelivery.id == delivery_id).values(
        status="pending" if next_attempt_at else "gave_up", attempts=AlertDelivery.attempts + 1,
        last_error=error[:2000], next_attempt_at=next_attempt_at))


def retry_deliveries(session: Session, now: datetime, channel: str | None = None) -> int:
    """Make every undelivered row (pending or given up) due now; the number of rows."""
    stmt = update(AlertDelivery).where(AlertDelivery.status.in_(("pending", "gave_up")))
    if channel is not None:
        stmt = stmt.where(AlertDelivery.channel == channel)
    result = session.execute(stmt.values(status="pending", next_attempt_at=now))
    return int(getattr(result, "rowcount", 0) or 0)


def deliveries(session: Session, event_ids: Sequence[int] | None = None) -> list[DeliveryRow]:
    stmt = select(AlertDelivery).order_by(AlertDelivery.id)
    if event_ids is not None:
        stmt = stmt.where(AlertDelivery.event_id.in_(list(event_ids)))
    return [_delivery_row(row) for row in session.scalars(stmt)]


def load_events(session: Session, event_ids: Sequence[int] | None = None, alerted_only: bool = False,
                limit: int | None = None) -> list[EventInfo]:
    """Events (newest first) with their reports, the one the event is told from first, then in
    canonical order."""
    stmt = select(Event).order_by(Event.id.desc())
    if event_ids is not None:
        stmt = stmt.where(Event.id.in_(list(event_ids)))
    if alerted_only:
        stmt = stmt.where(Event.alerted.is_(True))
    if limit is not None:
        stmt = stmt.limit(limit)
    events = list(session.scalars(stmt))
    reports: dict[int, list[ReportInfo]] = {event.id: [] for event in events}
    if events:
        rows = session.execute(
            select(EventReport, Item).join(Item, Item.id == EventReport.item_id)
            .where(EventReport.event_id.in_(list(reports))).order_by(EventReport.attached_at, EventReport.item_id))
        first = {event.id: event.first_item_id for event in events}
        ordered = sorted(rows, key=lambda row: (row[1].id != first[row[0].event_id], canonical_key(row[1])))
        for report, item in ordered:
            reports[report.event_id].append(ReportInfo(item.id, item.url, item.source, item.language, item.title,
                                                       item.published_at, report.relation, dict(report.evidence)))
    return [_event_info(event, reports[event.id]) for event in events]


def _event_info(event: Event, reports: list[ReportInfo]) -> EventInfo:
    return EventInfo(event.id, event.type, event.event_date, event.province, event.place, event.organizer,
                     event.topic, event.title, dict(event.details or {}), event.alerted, event.alert_reason,
                     event.created_at, tuple(reports))


def _delivery_row(row: AlertDelivery) -> DeliveryRow:
    return DeliveryRow(row.id, row.event_id, row.channel, row.idempotency_key, row.status, row.attempts,
                       row.next_attempt_at, row.last_error, row.sent_at)
