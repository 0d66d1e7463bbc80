"""Archiving items: idempotent upserts, URL and exact-text duplicate links, the export rows."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import tzinfo
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from storage.models import Item, ItemVersion, utcnow
from storage.records import PageRecord, UpsertOutcome, UpsertResult
from storage.upsert import insert_ignoring_conflict

logger = logging.getLogger(__name__)

_CONTENT_FIELDS = ("canonical_url", "language", "title", "author", "description", "published_at")


def _group_root(session: Session, item: Item) -> Item:
    if item.duplicate_of_id is None:
        return item
    return session.get(Item, item.duplicate_of_id) or item


def find_duplicate(session: Session, record: PageRecord, exclude_url: str) -> tuple[Item, str, float] | None:
    """The canonical item `record` repeats, by URL first and exact text second; seeds win ties.

    A match that is itself a duplicate leads to its canonical item, so every group has one root.
    """
    seed_first = (Item.is_seed.desc(), Item.duplicate_of_id.is_(None).desc(), Item.id.asc())
    by_url = session.scalars(
        select(Item)
        .where(Item.url != exclude_url)
        .where(or_(Item.canonical_url == record.canonical_url, Item.url == record.canonical_url))
        .order_by(*seed_first)
        .limit(1)
    ).first()
    if by_url is not None:
        return _group_root(session, by_url), "url", 1.0
    if not record.text.strip():
        return None
    by_text = session.scalars(
        select(Item)
        .where(Item.url != exclude_url, Item.text_hash == record.text_hash)
        .order_by(*seed_first)
        .limit(1)
    ).first()
    if by_text is not None:
        return _group_root(session, by_text), "exact", 1.0
    return None


def _content_changed(item: Item, record: PageRecord) -> bool:
    if item.text_hash != record.text_hash or item.source_links != list(record.source_links):
        return True
    return any(getattr(item, name) != getattr(record, name) for name in _CONTENT_FIELDS)


def _apply(item: Item, record: PageRecord) -> None:
    for name in _CONTENT_FIELDS:
        setattr(item, name, getattr(record, name))
    item.text = record.text
    item.text_hash = record.text_hash
    item.images = list(record.images)
    item.source_links = list(record.source_links)
    item.updated_at = utcnow()


def _link_duplicate(session: Session, item: Item, record: PageRecord) -> None:
    if record.is_seed:
        return  # seeds are always canonical
    match = find_duplicate(session, record, exclude_url=item.url)
    if match is None or match[0].id == item.id:
        item.duplicate_of_id, item.duplicate_kind, item.duplicate_score = None, None, None
        return
    canonical, kind, score = match
    item.duplicate_of_id, item.duplicate_kind, item.duplicate_score = canonical.id, kind, score


def upsert_item(session: Session, record: PageRecord) -> UpsertResult:
    """Insert `record` or update the item at its URL; running it twice changes nothing."""
    now = utcnow()
    inserted = insert_ignoring_conflict(
        session,
        Item,
        {
            "url": record.url,
            "canonical_url": record.canonical_url,
            "source": record.source,
            "source_id": record.source_id,
            "text": record.text,
            "text_hash": record.text_hash,
            "images": list(record.images),
            "source_links": list(record.source_links),
            "is_seed": record.is_seed,
            "language": record.language,
            "title": record.title,
            "author": record.author,
            "description": record.description,
            "published_at": record.published_at,
            "first_seen_at": now,
            "updated_at": now,
            "version": 1,
            "alerted": False,
        },
        conflict_columns=("url",),
    )
    item = session.scalars(select(Item).where(Item.url == record.url).with_for_update()).one()
    if inserted:
        outcome = UpsertOutcome.NEW
    elif _content_changed(item, record):
        if item.text_hash != record.text_hash:
            # Keep the text being replaced, so every edition of an edited story stays readable.
            session.add(
                ItemVersion(item_id=item.id, version=item.version, title=item.title, text=item.text,
                            text_hash=item.text_hash)
            )
        _apply(item, record)
        item.version += 1
        outcome = UpsertOutcome.UPDATED
    else:
        return UpsertResult(item.id, UpsertOutcome.UNCHANGED, *_duplicate_summary(session, item))
    _link_duplicate(session, item, record)
    session.flush()
    return UpsertResult(item.id, outcome, *_duplicate_summary(session, item))


def _duplicate_summary(session: Session, item: Item) -> tuple[str | None, str | None]:
    if item.duplicate_of_id is None:
        return None, None
    target = session.get(Item, item.duplicate_of_id)
    return (target.url if target else None), item.duplicate_kind


def iter_export_rows(session: Session, display_tz: tzinfo, batch: int = 500) -> Iterator[dict[str, Any]]:
    """Every item as a dict of the JSONL export contract, oldest first, streamed in batches."""
    canonical = aliased(Item)
    stmt = (
        select(Item, canonical.url)
        .outerjoin(canonical, Item.duplicate_of_id == canonical.id)
        .order_by(Item.id)
        .execution_options(yield_per=batch)
    )
    for item, duplicate_url in session.execute(stmt):
        published = item.published_at.astimezone(display_tz).isoformat() if item.published_at else None
        yield {
            "url": item.url,
            "canonical_url": item.canonical_url,
            "source": item.source,
            "language": item.language,
            "title": item.title,
            "author": item.author,
            "published_at": published,
            "text": item.text,
            "description": item.description,
            "images": item.images,
            "source_links": item.source_links,
            "is_seed": item.is_seed,
            "duplicate_of": duplicate_url,
            "duplicate_kind": item.duplicate_kind,
            "duplicate_score": item.duplicate_score,
            "event": item.event,
            "alerted": item.alerted,
            "version": item.version,
        }
