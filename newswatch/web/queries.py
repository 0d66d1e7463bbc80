"""The data each page shows, read in one short session: storage's own reads, put together for a page."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from newswatch.app import Newswatch
from scheduler.health import SourceHealth
from storage import browse
from storage.browse import DailyCount, ItemDetail, ItemSummary
from storage.dedup import ItemNotFoundError, explain_item
from storage.events import DeliveryRow, EventInfo, deliveries, load_events
from storage.records import SourceInfo

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ItemsPage:
    total: int
    limit: int
    offset: int
    items: list[ItemSummary]


@dataclass(frozen=True)
class GroupMember:
    """One edition or duplicate of a story, with the dedup decision about it and its evidence."""

    item: ItemSummary
    explanation: dict[str, Any]


@dataclass(frozen=True)
class ItemPage:
    detail: ItemDetail
    members: list[GroupMember]
    group_total: int
    events: list[EventInfo]


@dataclass(frozen=True)
class SourceRow:
    source: SourceInfo
    health: SourceHealth | None


@dataclass(frozen=True)
class EventsPage:
    total: int
    limit: int
    offset: int
    events: list[EventInfo]


@dataclass(frozen=True)
class EventPage:
    event: EventInfo
    deliveries: list[DeliveryRow]


def latest_items(newswatch: Newswatch, limit: int, offset: int, source: str | None = None,
                 canonical_only: bool = False) -> ItemsPage:
    with newswatch.archive.session() as session:
        items = browse.latest_items(session, limit, offset, source=source, canonical_only=canonical_only)
        total = browse.count_items(session, source=source, canonical_only=canonical_only)
    return ItemsPage(total, limit, offset, items)


def item_page(newswatch: Newswatch, item_id: int, max_group: int) -> ItemPage | None:
    with newswatch.archive.session() as session:
        detail = browse.item_detail(session, item_id, max_group)
        if detail is None:
            return None
        members = []
        for member in detail.group:
            try:
                explanation = explain_item(session, member.url)
            except ItemNotFoundError:  # removed since the group was read
                continue
            members.append(GroupMember(member, explanation))
        events = load_events(session, list(detail.event_ids)) if detail.event_ids else []
        total = browse.group_size(session, detail.root_id)
    return ItemPage(detail, members, max(total, len(members)), events)


def sources(newswatch: Newswatch) -> list[SourceRow]:
    health = newswatch.source_health()
    return [SourceRow(source, health.get(source.name)) for source in newswatch.list_sources()]


def events(newswatch: Newswatch, limit: int, offset: int, alerted_only: bool = True) -> EventsPage:
    with newswatch.archive.session() as session:
        ids = browse.event_ids(session, limit, offset, alerted_only=alerted_only)
        found = load_events(session, ids) if ids else []
        total = browse.count_events(session, alerted_only=alerted_only)
    return EventsPage(total, limit, offset, found)


def event_page(newswatch: Newswatch, event_id: int) -> EventPage | None:
    with newswatch.archive.session() as session:
        found = load_events(session, [event_id])
        if not found:
            return None
        return EventPage(found[0], deliveries(session, [event_id]))


def items_per_day(newswatch: Newswatch, days: int, source: str | None = None) -> list[DailyCount]:
    with newswatch.archive.session() as session:
        return browse.items_per_day(session, days, [source] if source else None)

