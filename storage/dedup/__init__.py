"""Deduplication: URL canonicalization, exact text, MinHash LSH near-duplicates and cross-language
anchors, with its index persisted in the archive's own `dedup_keys` table."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from storage.dedup.anchors import dump as dump_anchors
from storage.dedup.canonical import canonical_key, ranks_first
from storage.dedup.explain import ItemNotFoundError, explain_item
from storage.dedup.features import Features, compute, dated, text_features
from storage.dedup.index import (
    Decision,
    delete_keys,
    find_match,
    group_root,
    item_features,
    lock_keys,
    merge_groups,
    rejudge_members,
    relation,
    take_over,
    write_keys,
)
from storage.dedup.shingles import RECENT_SHINGLES
from storage.dedup.urls import canonicalize_url
from storage.models import Item
from storage.records import PageRecord

logger = logging.getLogger(__name__)

__all__ = [
    "Decision",
    "Features",
    "ItemNotFoundError",
    "adopt_matches",
    "canonical_key",
    "canonicalize_url",
    "dated",
    "delete_keys",
    "dump_anchors",
    "explain_item",
    "features_of_record",
    "find_match",
    "group_root",
    "item_features",
    "lock_keys",
    "merge_groups",
    "ranks_first",
    "rejudge_members",
    "relation",
    "take_over",
    "text_features",
    "write_keys",
]


def features_of_record(record: PageRecord, first_seen: datetime | None = None) -> Features:
    if record.features is not None:  # computed with the extraction, for this record's text
        # The record's shingles are what judging its group's members against it will need.
        RECENT_SHINGLES.remember(record.text, record.features.shingles)
        return dated(record.features, record.published_at, first_seen)
    return compute(record.url, record.canonical_url, record.text, record.language, record.images,
                   record.source_links, record.published_at, first_seen)


def adopt_matches(session: Session, seed: Item, features: Features) -> int:
    """A seed archived after its copies becomes their group's canonical item; returns groups moved."""
    from storage.dedup.index import _best, _by_keys  # noqa: PLC0415 - private helpers, one caller

    moved = 0
    candidates = {*_by_keys(session, features.url_index_keys(), seed.id), *_by_keys(session, features.bands, seed.id),
                  *_by_keys(session, features.anchor_index_keys(), seed.id, day=features.day)}
    for candidate_id in sorted(candidates):
        decision = _best(session, [candidate_id], "near", features, True) or _best(
            session, [candidate_id], "translation", features, False)
        root = group_root(session, decision, seed.id) if decision else None
        if decision is None or root is None or root.is_seed:
            continue
        take_over(session, root, seed, decision.kind, decision.score)
        moved += 1
    if moved:
        logger.info("seed %s adopted %d earlier group(s)", seed.url, moved)
    return moved
