"""The archive's outbox table as the delivery loop's `OutboxStore`, and alert messages built from events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from alerts.delivery import Delivery
from alerts.model import AlertMessage
from storage import Archive
from storage import events as store


def alert_message(event: store.EventInfo, idempotency_key: str) -> AlertMessage:
    """What a channel says about an event: built when it is sent, so late editions are listed too."""
    first = event.reports[0] if event.reports else None
    editions = tuple((r.language or "?", r.url) for r in event.reports)
    return AlertMessage(
        event_id=event.id, idempotency_key=idempotency_key, title=event.title or (first.title if first else "") or "",
        source=first.source if first else "", link=first.url if first else "", event_type=event.type,
        event_date=event.event_date, place=event.place or event.province, organizer=event.organizer,
        why=event.alert_reason or "", detected_at=event.created_at, editions=editions,
    )


class ArchiveOutbox:
    """`OutboxStore` over the archive: each call is its own short transaction. Only rows of the
    configured `channels` are handed out; the others wait until their channel is configured again."""

    def __init__(self, archive: Archive, channels: Sequence[str]) -> None:
        self.archive = archive
        self.channels = tuple(channels)

    def due_deliveries(self, now: datetime, limit: int) -> list[Delivery]:
        with self.archive.session() as session:
            rows = store.due_deliveries(session, now, limit, self.channels)
            events = {e.id: e for e in store.load_events(session, sorted({r.event_id for r in rows}))}
        return [Delivery(id=row.id, channel_key=row.channel, idempotency_key=row.idempotency_key, attempts=row.attempts,
                         message=alert_message(events[row.event_id], row.idempotency_key))
                for row in rows if row.event_id in events]

    def mark_sent(self, delivery_id: int, now: datetime) -> None:
        with self.archive.session() as session:
            store.mark_sent(session, delivery_id, now)

    def mark_failed(self, delivery_id: int, error: str, next_attempt_at: datetime | None) -> None:
        with self.archive.session() as session:
            store.mark_failed(session, delivery_id, error, next_attempt_at)
