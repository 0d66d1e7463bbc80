"""The dedup decision, run inside the inserting transaction: URL, exact, near, translation."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, delete, func, select, text
from sqlalchemy.orm import Session

from storage.dedup import anchors as anchor_mod
from storage.dedup.features import UNDATED, Features, compute, day_number
from storage.dedup.shingles import containment, index_key, jaccard, shingles
from storage.models import DedupKey, Item
from storage.upsert import dialect_insert

logger = logging.getLogger(__name__)

NEAR_JACCARD = 0.8
# A page that carries furniture (menus, "Same category") around a seed's text contains it.
NEAR_CONTAINMENT = 0.9
CUT_COPY_RATIO = 0.6
TRANSLATION_SCORE = 0.5
TRANSLATION_MIN_SHARED = 5.0
DAY_WINDOW = 3
MAX_CANDIDATES = 12
MIN_WEAK_HITS = 3
MAX_TRANSLATION_CANDIDATES = 6


@dataclass(frozen=True)
class Decision:
    target_id: int
    kind: str  # url | exact | near | translation
    score: float
    evidence: dict[str, Any] = field(default_factory=dict)


def item_features(item: Item, with_bands: bool = True) -> Features:
    return compute(item.url, item.canonical_url, item.text, item.language, item.images, item.source_links,
                   item.published_at, item.first_seen_at, with_bands)


def candidate_features(item: Item, kind: str) -> Features:
    """What verifying a candidate needs: its shingles for `near`, its anchors and day otherwise."""
    if kind == "near":
        return Features((), (item.language or "").split("-")[0].lower() or None, frozenset(shingles(item.text)),
                        (), frozenset(), 0)
    found = anchor_mod.extract(item.text, item.url, item.images, item.source_links)
    return Features((), None, frozenset(), (), frozenset(found), day_number(item.published_at, item.first_seen_at))


def write_keys(session: Session, item_id: int, features: Features) -> None:
    rows = [{"key": key, "day": day, "item_id": item_id} for key, day in features.rows()]
    if rows:
        stmt = dialect_insert(session, DedupKey).values(rows).on_conflict_do_nothing(
            index_elements=["key", "day", "item_id"])
        session.execute(stmt)


def delete_keys(session: Session, item_id: int, features: Features) -> None:
    for key, day in features.rows():
        session.execute(delete(DedupKey).where(DedupKey.key == key, DedupKey.day == day,
                                               DedupKey.item_id == item_id))


def lock_keys(session: Session, features: Features, text_hash: str) -> None:
    """On PostgreSQL, serialize transactions that could find each other (shared URL, text, band or
    strong anchor key) until commit; SQLite already serializes writers on its database lock."""
    if session.get_bind().dialect.name != "postgresql":
        return
    strong = [index_key("anchor", str(a)) for a in features.anchors if a.kind in anchor_mod.STRONG]
    keys = sorted({*features.url_index_keys(), *features.bands, *strong, index_key("text", text_hash)})
    session.execute(text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k ORDER BY k"),
                    {"keys": keys})


def root_of(session: Session, item_id: int) -> Item | None:
    item = session.get(Item, item_id)
    if item is not None and item.duplicate_of_id is not None:
        return session.get(Item, item.duplicate_of_id) or item
    return item


def _by_keys(session: Session, keys: Sequence[int], exclude: int, day: int | None = None) -> dict[int, int]:
    if not keys:
        return {}
    stmt = (select(DedupKey.item_id, func.count()).where(DedupKey.key.in_(bindparam("keys", expanding=True)),
                                                         DedupKey.item_id != exclude)
            .group_by(DedupKey.item_id).order_by(func.count().desc(), DedupKey.item_id).limit(MAX_CANDIDATES))
    stmt = stmt.where(DedupKey.day == UNDATED) if day is None else stmt.where(
        DedupKey.day.between(day - DAY_WINDOW, day + DAY_WINDOW))
    return {int(i): int(n) for i, n in session.execute(stmt, {"keys": list(keys)})}


def near_evidence(a: Features, b: Features) -> tuple[float, float]:
    return jaccard(set(a.shingles), set(b.shingles)), containment(set(a.shingles), set(b.shingles))


def judge_near(a: Features, b: Features, seedish: bool) -> tuple[float, dict[str, Any]] | None:
    """Near-duplicate when Jaccard >= 0.8, or when containment >= 0.9 against a seed or a copy at
    least 0.6 of the other's size."""
    if a.language and b.language and a.language != b.language:
        return None
    sim, cont = near_evidence(a, b)
    sizes = sorted((len(a.shingles), len(b.shingles)))
    # Containment for seeds (their text carries page furniture) and for copies cut by a paragraph.
    contained = cont >= NEAR_CONTAINMENT and (seedish or sizes[0] >= CUT_COPY_RATIO * sizes[1])
    value = sim if sim >= NEAR_JACCARD else (cont if contained else 0.0)
    if not value:
        return None
    return round(value, 3), {"jaccard": round(sim, 3), "containment": round(cont, 3)}


def judge_translation(a: Features, b: Features) -> tuple[float, dict[str, Any]] | None:
    """The same story (in another language or another rendering) by its shared anchors, in the window."""
    if abs(a.day - b.day) > DAY_WINDOW:
        return None
    result = anchor_mod.score(set(a.anchors), set(b.anchors))
    weak_shared = sum(x.weight for x in result.shared if x.kind not in anchor_mod.STRONG)
    if not (result.strong or (result.score >= TRANSLATION_SCORE and weak_shared >= TRANSLATION_MIN_SHARED)):
        return None
    value = 1.0 if result.strong else result.score
    return value, {"anchor_score": result.score, "shared": [str(x) for x in result.shared[:20]],
                   "days_apart": abs(a.day - b.day)}


def _best(session: Session, ids: Sequence[int], kind: str, features: Features, seedish: bool) -> Decision | None:
    best: Decision | None = None
    for candidate_id in ids:
        candidate = session.get(Item, candidate_id)
        if candidate is None:
            continue
        other = candidate_features(candidate, kind)
        if kind == "near":
            found = judge_near(features, other, seedish or candidate.is_seed)
        else:
            found = judge_translation(features, other)
        if found and (best is None or found[0] > best.score or (found[0] == best.score and candidate.is_seed)):
            best = Decision(candidate_id, kind, found[0], found[1])
    return best


def _near(session: Session, features: Features, item_id: int, is_seed_side: bool) -> Decision | None:
    return _best(session, list(_by_keys(session, features.bands, item_id)), "near", features, is_seed_side)


def strong_keys(features: Features) -> list[int]:
    return [index_key("anchor", str(a)) for a in anchor_mod.indexed(set(features.anchors))
            if a.kind in anchor_mod.STRONG]


def _translation(session: Session, features: Features, item_id: int) -> Decision | None:
    hits = _by_keys(session, features.anchor_index_keys(), item_id, day=features.day)
    strong = _by_keys(session, strong_keys(features), item_id, day=features.day)
    # Only a candidate with a strong anchor, or several shared ones, is worth scoring.
    ids = [i for i, n in hits.items() if i in strong or n >= MIN_WEAK_HITS][:MAX_TRANSLATION_CANDIDATES]
    return _best(session, ids, "translation", features, False)


def find_match(  # noqa: PLR0917
        session: Session, features: Features, item_id: int, text_hash: str, has_text: bool,
               is_seed: bool = False) -> Decision | None:
    """The best earlier item this one repeats, cheapest layer first; its group root is the target."""
    seed_first = (Item.is_seed.desc(), Item.duplicate_of_id.is_(None).desc(), Item.id.asc())
    by_url = _by_keys(session, features.url_index_keys(), item_id)
    if by_url:
        return Decision(min(by_url), "url", 1.0, {"urls": list(features.urls)})
    if has_text:
        exact = session.scalars(select(Item.id).where(Item.id != item_id, Item.text_hash == text_hash)
                                .order_by(*seed_first).limit(1)).first()
        if exact is not None:
            return Decision(exact, "exact", 1.0, {"text_hash": text_hash})
        near = _near(session, features, item_id, is_seed)
        if near is not None:
            return near
    return _translation(session, features, item_id)


def merge_groups(session: Session, root: Item, features: Features, item_id: int) -> int:
    """Groups that the new item ties to `root` by a strong anchor are merged into the older root
    (a seed first): editions seen before their group's link was known end in one group."""
    merged = 0
    for candidate_id in _by_keys(session, strong_keys(features), item_id, day=features.day):
        other = root_of(session, candidate_id)
        if other is None or other.id in (root.id, item_id):
            continue
        candidate = session.get(Item, candidate_id)
        found = judge_translation(features, candidate_features(candidate, "translation")) if candidate else None
        if not found or found[0] < 1.0:
            continue
        keep, lose = (root, other) if (root.is_seed, -root.id) >= (other.is_seed, -other.id) else (other, root)
        if lose.is_seed:
            continue
        for member in session.scalars(select(Item).where(Item.duplicate_of_id == lose.id)):
            member.duplicate_of_id = keep.id
        lose.duplicate_of_id, lose.duplicate_kind, lose.duplicate_score = keep.id, "translation", found[0]
        root = keep
        merged += 1
    return merged


def group_root(session: Session, decision: Decision, item_id: int) -> Item | None:
    root = root_of(session, decision.target_id)
    if root is None or root.id == item_id:
        return None
    return root
