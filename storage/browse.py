"""Read-only views of the archive for browsing (the dashboard, its JSON API and feeds).

Every query is bounded by the caller's limit; nothing here writes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from storage.models import Event, EventReport, Item

logger = logging.getLogger(__name__)

# The text of an item in a listing: enough for a summary, never the whole page.
SUMMARY_CHARS = 400


@dataclass(frozen=True)
class ItemSummary:
    id: int
    url: str
    canonical_url: str
    source: str
    language: str | None
    title: str | None
    author: str | None
    published_at: datetime | None
    first_seen_at: datetime
    summary: str
    is_seed: bool
    duplicate_of_id: int | None
    duplicate_kind: str | None
    duplicate_score: float | None
    alerted: bool


@dataclass(frozen=True)
class ItemDetail:
    item: ItemSummary
    text: str
    version: int
    root_id: int
    # The group: its canonical item first, then every item linked to it, oldest first.
    group: tuple[ItemSummary, ...]
    event_ids: tuple[int, ...]


@dataclass(frozen=True)
class DailyCount:
    day: date
    source: str
    items: int


def _summary(item: Item) -> ItemSummary:
    text = item.description or item.text or ""
    return ItemSummary(
        id=item.id, url=item.url, canonical_url=item.canonical_url, source=item.source, language=item.language,
        title=item.title, author=item.author, published_at=item.published_at, first_seen_at=item.first_seen_at,
        summary=text[:SUMMARY_CHARS], is_seed=item.is_seed, duplicate_of_id=item.duplicate_of_id,
        duplicate_kind=item.duplicate_kind, duplicate_score=item.duplicate_score, alerted=item.alerted,
    )


def _item_filters(source: str | None, canonical_only: bool) -> list[ColumnElement[bool]]:
    filters = []
    if source is not None:
        filters.append(Item.source == source)
    if canonical_only:
        filters.append(Item.duplicate_of_id.is_(None))
    return filters


def latest_items(session: Session, limit: int, offset: int = 0, *, source: str | None = None,
                 canonical_only: bool = False) -> list[ItemSummary]:
    """Items newest first (by when they were archived), of one source or all."""
    stmt = (select(Item).where(*_item_filters(source, canonical_only))
            .order_by(Item.first_seen_at.desc(), Item.id.desc()).limit(limit).offset(offset))
    return [_summary(item) for item in session.scalars(stmt)]


def count_items(session: Session, *, source: str | None = None, canonical_only: bool = False) -> int:
    stmt = select(func.count()).select_from(Item).where(*_item_filters(source, canonical_only))
    return int(session.scalar(stmt) or 0)


def item_detail(session: Session, item_id: int, max_group: int) -> ItemDetail | None:
    """An item with its dedup group (at most `max_group` members) and the events the group reports."""
    item = session.get(Item, item_id)
    if item is None:
        return None
    root_id = item.duplicate_of_id or item.id
    root = session.get(Item, root_id) or item
    direct = select(Item.id).where(Item.duplicate_of_id == root.id)
    stmt = (select(Item).where(or_(Item.duplicate_of_id == root.id, Item.duplicate_of_id.in_(direct)))
            .order_by(Item.first_seen_at, Item.id).limit(max(max_group - 1, 0)))
    members = [_summary(root), *(_summary(member) for member in session.scalars(stmt))]
    if item.id not in {member.id for member in members}:
        members.append(_summary(item))
    group_ids = [member.id for member in members]
    events = (select(EventReport.event_id).where(EventReport.item_id.in_(group_ids))
              .group_by(EventReport.event_id).order_by(EventReport.event_id))
    return ItemDetail(item=_summary(item), text=item.text or "", version=item.version, root_id=root.id,
                      group=tuple(members), event_ids=tuple(session.scalars(events)))


def group_size(session: Session, root_id: int) -> int:
    return int(session.scalar(select(func.count()).where(or_(Item.id == root_id, Item.duplicate_of_id == root_id)))
               or 0)


def event_ids(session: Session, limit: int, offset: int = 0, *, alerted_only: bool = True) -> list[int]:
    """Event ids newest first, one page of them."""
    stmt = select(Event.id).order_by(Event.id.desc())
    if alerted_only:
        stmt = stmt.where(Event.alerted.is_(True))
    return list(session.scalars(stmt.limit(limit).offset(offset)))


def count_events(session: Session, *, alerted_only: bool = True) -> int:
    stmt = select(func.count()).select_from(Event)
    if alerted_only:
        stmt = stmt.where(Event.alerted.is_(True))
    return int(session.scalar(stmt) or 0)


def items_per_day(session: Session, days: int, sources: Sequence[str] | None = None,
                  today: date | None = None) -> list[DailyCount]:
    """Items per publication day (UTC) and source over the `days` days up to the newest publication
    (not after `today`); undated items are left out."""
    today = today or datetime.now(UTC).date()
    ceiling = datetime.combine(today + timedelta(days=1), datetime.min.time(), UTC)
    newest = session.scalar(select(func.max(Item.published_at)).where(Item.published_at < ceiling))
    if newest is None:
        return []
    newest_day = _as_date(newest)
    start = datetime.combine(newest_day - timedelta(days=days - 1), datetime.min.time(), UTC)
    end = datetime.combine(newest_day + timedelta(days=1), datetime.min.time(), UTC)
    day = func.date(Item.published_at)
    stmt = (select(day, Item.source, func.count()).where(Item.published_at >= start, Item.published_at < end)
            .group_by(day, Item.source).order_by(day, Item.source))
    if sources is not None:
        stmt = stmt.where(Item.source.in_(list(sources)))
    return [DailyCount(_as_date(when), source, int(n)) for when, source, n in session.execute(stmt)]


def _as_date(value: object) -> date:
    """func.date gives text on SQLite and a date on PostgreSQL; max() skips the UTC type on SQLite."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    raise TypeError(f"not a date: {value!r}")
