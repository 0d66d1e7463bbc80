"""Archiving items: idempotent upserts, URL and exact-text duplicate links, the export rows."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from storage import dedup, search
from storage.dedup import Features
from storage.models import Item, ItemVersion, utcnow
from storage.records import PageRecord, UpsertOutcome, UpsertResult
from storage.upsert import insert_ignoring_conflict

logger = logging.getLogger(__name__)

_CONTENT_FIELDS = ("canonical_url", "language", "title", "author", "description", "published_at")


def find_duplicate(session: Session, record: PageRecord, exclude_url: str) -> tuple[Item, str, float] | None:
    """The canonical item `record` repeats (URL, exact text, near-duplicate text, translation).

    A match that is itself a duplicate leads to its canonical item, so every group has one root.
    """
    exclude = session.scalars(select(Item.id).where(Item.url == exclude_url)).first() or -1
    features = dedup.features_of_record(record)
    decision = dedup.find_match(session, features, exclude, record.text_hash, bool(record.text.strip()),
                                record.is_seed)
    root = dedup.group_root(session, decision, exclude) if decision else None
    if decision is None or root is None:
        return None
    return root, decision.kind, decision.score


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


def _link_duplicate(session: Session, item: Item, record: PageRecord, features: Features, edited: bool) -> None:
    """File the item in the dedup index and link it to the canonical item of its group; `edited`
    when an archived item's content changed, so the group it roots is judged again."""
    features = dedup.dated(features, record.published_at, item.first_seen_at)
    if edited:
        # The members of a group the item roots are judged against its new text, wherever it goes.
        dedup.rejudge_members(session, item)
    if record.is_seed:
        item.duplicate_of_id, item.duplicate_kind, item.duplicate_score = None, None, None
        dedup.write_keys(session, item.id, features)
        dedup.adopt_matches(session, item, features)  # seeds are always canonical
        return
    decision = dedup.find_match(session, features, item.id, record.text_hash, bool(record.text.strip()))
    root = dedup.group_root(session, decision, item.id) if decision else None
    dedup.write_keys(session, item.id, features)
    if decision is None or root is None:
        item.duplicate_of_id, item.duplicate_kind, item.duplicate_score = None, None, None
        return
    if dedup.ranks_first(item, root):
        dedup.take_over(session, root, item, decision.kind, decision.score)
        root = item
    elif edited:
        dedup.take_over(session, item, root, decision.kind, decision.score)  # its members follow it
    else:
        item.duplicate_of_id = root.id
        item.duplicate_kind, item.duplicate_score = dedup.relation(item, root, (decision.kind, decision.score))
    session.flush()
    dedup.merge_groups(session, root, features, item.id)
    session.refresh(item)


def upsert_item(session: Session, record: PageRecord) -> UpsertResult:
    """Insert `record` or update the item at its URL; running it twice changes nothing."""
    now = utcnow()
    features = dedup.features_of_record(record, now)
    # The dedup key locks come before any item row lock: a write that links or re-judges a copy
    # updates the copy's row, so the copy's own write, had it locked its row first and then waited
    # for these keys, would deadlock with it (an original and its republication edited at once).
    dedup.lock_keys(session, features, record.text_hash)
    # Kept with the item, so verifying it as a later item's candidate parses instead of re-extracting.
    # They do not depend on the item's date: a new item gets them in its INSERT, with no UPDATE.
    anchors = dedup.dump_anchors(features.anchors)
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
            "dedup_anchors": anchors,
        },
        conflict_columns=("url",),
    )
    item = session.scalars(select(Item).where(Item.url == record.url).with_for_update()).one()
    if inserted:
        outcome = UpsertOutcome.NEW
    elif _content_changed(item, record):
        dedup.delete_keys(session, item.id, dedup.item_features(item))
        if item.text_hash != record.text_hash:
            # Keep the text being replaced, so every edition of an edited story stays readable.
            session.add(
                ItemVersion(item_id=item.id, version=item.version, title=item.title, text=item.text,
                            text_hash=item.text_hash)
            )
        _apply(item, record)
        item.dedup_anchors = anchors
        item.version += 1
        outcome = UpsertOutcome.UPDATED
    else:
        return UpsertResult(item.id, UpsertOutcome.UNCHANGED, *_duplicate_summary(session, item))
    _link_duplicate(session, item, record, features, edited=outcome is UpsertOutcome.UPDATED)
    session.flush()
    search.index_text(session, item.id, item.title, item.text, new=outcome is UpsertOutcome.NEW)
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
