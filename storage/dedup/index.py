"""The dedup decision, run inside the inserting transaction: URL, exact, near, translation."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, Select, bindparam, case, delete, func, select, text
from sqlalchemy.orm import Session

from storage.dedup import anchors as anchor_mod
from storage.dedup.anchors import Anchor
from storage.dedup.canonical import ranks_first
from storage.dedup.features import UNDATED, Features, compute, day_number
from storage.dedup.shingles import index_key, overlap, stored_shingles
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


def _language(language: str | None) -> str | None:
    return (language or "").split("-")[0].lower() or None


def stored_anchors(item: Item) -> set[Anchor]:
    """The anchors filed with the item at its upsert; rows from before they were stored are recomputed."""
    if item.dedup_anchors is not None:
        return anchor_mod.load(item.dedup_anchors)
    return anchor_mod.extract(item.text, item.url, item.images, item.source_links)


def candidate_features(item: Item, kind: str) -> Features:
    """What verifying a candidate needs: its shingles for `near`, its anchors and day otherwise."""
    if kind == "near":
        return Features((), _language(item.language), stored_shingles(item.text), (), frozenset(), 0)
    return Features((), None, frozenset(), (), frozenset(stored_anchors(item)),
                    day_number(item.published_at, item.first_seen_at))


def write_keys(session: Session, item_id: int, features: Features) -> None:
    rows = [{"key": key, "day": day, "item_id": item_id} for key, day in features.rows()]
    if rows:
        # One statement executed over the rows: its compiled form is cached, while a VALUES list
        # of each item's own length was compiled anew for every item.
        stmt = dialect_insert(session, DedupKey).on_conflict_do_nothing(index_elements=["key", "day", "item_id"])
        session.connection().execute(stmt, rows)


def delete_keys(session: Session, item_id: int, features: Features) -> None:
    for key, day in features.rows():
        session.execute(delete(DedupKey).where(DedupKey.key == key, DedupKey.day == day,
                                               DedupKey.item_id == item_id))


def lock_keys(session: Session, features: Features, text_hash: str) -> None:
    """On PostgreSQL, serialize transactions that could find each other (a shared URL, text, band
    or indexed anchor key) until commit; SQLite already serializes writers on its database lock.

    Every indexed anchor, not only the strong ones: two translations of one story written at once
    by two crawls (the paper's edition and the portal's) may share only codes and numbers, and
    without the lock neither would see the other, leaving one story in two groups."""
    if session.get_bind().dialect.name != "postgresql":
        return
    anchors = [*features.anchor_index_keys(),
               *(index_key("anchor", str(a)) for a in features.anchors if a.kind in anchor_mod.STRONG)]
    keys = sorted({*features.url_index_keys(), *features.bands, *anchors, index_key("text", text_hash)})
    session.execute(text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k ORDER BY k"),
                    {"keys": keys})


def root_of(session: Session, item_id: int) -> Item | None:
    item = session.get(Item, item_id)
    if item is not None and item.duplicate_of_id is not None:
        return session.get(Item, item.duplicate_of_id) or item
    return item


# The look-ups are Core statements built once and run on the session's connection: the ORM's
# per-query overhead (~0.3 ms) was most of a duplicate check. They do not autoflush, so
# `find_match` flushes first.
_KEYS = DedupKey.__table__.c
_ITEMS = Item.__table__.c
_DAY_WINDOW = _KEYS.day.between(bindparam("low"), bindparam("high"))
_COUNT = func.count()


def _hits(*where: Any) -> Select[Any]:
    return (select(_KEYS.item_id, _COUNT)
            .where(_KEYS.key.in_(bindparam("keys", expanding=True)), _KEYS.item_id != bindparam("exclude"), *where)
            .group_by(_KEYS.item_id).order_by(_COUNT.desc(), _KEYS.item_id).limit(MAX_CANDIDATES))


_UNDATED_HITS = _hits(_KEYS.day == UNDATED)
_DATED_HITS = _hits(_DAY_WINDOW)
# Anchor hits and, in the same scan, strong-key hits: an item counts as strong when it is among the
# MAX_CANDIDATES items with most strong hits, as a separate strong-key look-up would have ranked it.
# Strong hits come first: ranked by hit count alone, a translation sharing one strong anchor fell
# behind a dozen items sharing one weak one (a common place name), so whether two editions were
# linked depended on which of them arrived first.
_STRONG = func.sum(case((_KEYS.key.in_(bindparam("strong", expanding=True)), 1), else_=0))
_ANCHOR_HITS = _hits(_DAY_WINDOW).add_columns(
    _STRONG, func.row_number().over(order_by=(_STRONG.desc(), _KEYS.item_id))
).order_by(None).order_by(_STRONG.desc(), _COUNT.desc(), _KEYS.item_id)
_EXACT = (select(_ITEMS.id).where(_ITEMS.id != bindparam("exclude"), _ITEMS.text_hash == bindparam("text_hash"))
          .order_by(_ITEMS.is_seed.desc(), _ITEMS.duplicate_of_id.is_(None).desc(), _ITEMS.id.asc()).limit(1))
_IDS = _ITEMS.id.in_(bindparam("ids", expanding=True))
_NEAR_ROWS = select(_ITEMS.id, _ITEMS.is_seed, _ITEMS.language, _ITEMS.text).where(_IDS)
_ROOTS = select(_ITEMS.id, func.coalesce(_ITEMS.duplicate_of_id, _ITEMS.id)).where(_IDS)
_TRANSLATION_ROWS = select(_ITEMS.id, _ITEMS.is_seed, _ITEMS.published_at, _ITEMS.first_seen_at,
                           _ITEMS.dedup_anchors).where(_IDS)


def _window(day: int) -> dict[str, int]:
    return {"low": day - DAY_WINDOW, "high": day + DAY_WINDOW}


def _by_keys(session: Session, keys: Sequence[int], exclude: int, day: int | None = None) -> dict[int, int]:
    if not keys:
        return {}
    params: dict[str, Any] = {"keys": list(keys), "exclude": exclude}
    stmt = _UNDATED_HITS if day is None else _DATED_HITS
    if day is not None:
        params.update(_window(day))
    return {int(i): int(n) for i, n in session.connection().execute(stmt, params)}


def near_evidence(a: Features, b: Features) -> tuple[float, float]:
    """Jaccard and containment of the two items' shingles."""
    return overlap(a.shingles, b.shingles)


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


def _candidate_rows(session: Session, ids: Sequence[int], kind: str) -> dict[int, Row[Any]]:
    stmt = _NEAR_ROWS if kind == "near" else _TRANSLATION_ROWS
    return {row.id: row for row in session.connection().execute(stmt, {"ids": list(ids)})}


def _judge(session: Session, row: Row[Any], kind: str, features: Features,
           seedish: bool) -> tuple[float, dict[str, Any]] | None:
    """The candidate's verdict, from its row; the cheap refusals of the judges come before any
    shingling or anchor parsing."""
    if kind == "near":
        language = _language(row.language)
        if features.language and language and features.language != language:
            return None
        other = Features((), language, stored_shingles(row.text), (), frozenset(), 0)
        return judge_near(features, other, seedish or row.is_seed)
    day = day_number(row.published_at, row.first_seen_at)
    if abs(features.day - day) > DAY_WINDOW:
        return None
    if row.dedup_anchors is not None:
        found = anchor_mod.load(row.dedup_anchors)
    else:
        item = session.get(Item, row.id)
        found = stored_anchors(item) if item is not None else set()
    return judge_translation(features, Features((), None, frozenset(), (), frozenset(found), day))


def _best(session: Session, ids: Sequence[int], kind: str, features: Features, seedish: bool) -> Decision | None:
    """The highest-scoring candidate, the later one winning a tie only when it is a seed."""
    rows = _candidate_rows(session, ids, kind) if ids else {}
    ranked = [rows[i] for i in ids if i in rows]
    best: Decision | None = None
    for position, row in enumerate(ranked):
        found = _judge(session, row, kind, features, seedish)
        if found and (best is None or found[0] > best.score or (found[0] == best.score and row.is_seed)):
            best = Decision(row.id, kind, found[0], found[1])
        # No score exceeds 1.0, and only a seed takes a tie from an earlier candidate.
        if best is not None and best.score >= 1.0 and not any(r.is_seed for r in ranked[position + 1:]):
            break
    return best


def _near(session: Session, features: Features, item_id: int, is_seed_side: bool) -> Decision | None:
    return _best(session, list(_by_keys(session, features.bands, item_id)), "near", features, is_seed_side)


def strong_keys(features: Features) -> list[int]:
    return [index_key("anchor", str(a)) for a in anchor_mod.indexed(set(features.anchors))
            if a.kind in anchor_mod.STRONG]


def _translation(session: Session, features: Features, item_id: int) -> Decision | None:
    keys = features.anchor_index_keys()
    if not keys:
        return None
    params = {"keys": keys, "strong": strong_keys(features), "exclude": item_id, **_window(features.day)}
    # Only a candidate with a strong anchor, or several shared ones, is worth scoring.
    ids = [int(i) for i, n, strong, strong_rank in session.connection().execute(_ANCHOR_HITS, params)
           if (strong and strong_rank <= MAX_CANDIDATES) or n >= MIN_WEAK_HITS][:MAX_TRANSLATION_CANDIDATES]
    return _best(session, ids, "translation", features, False)


def find_match(  # noqa: PLR0917
        session: Session, features: Features, item_id: int, text_hash: str, has_text: bool,
               is_seed: bool = False) -> Decision | None:
    """The best earlier item this one repeats, cheapest layer first; its group root is the target."""
    session.flush()
    by_url = _by_keys(session, features.url_index_keys(), item_id)
    if by_url:
        return Decision(min(by_url), "url", 1.0, {"urls": list(features.urls)})
    if has_text:
        exact = session.connection().execute(_EXACT, {"exclude": item_id, "text_hash": text_hash}).scalar()
        if exact is not None:
            return Decision(exact, "exact", 1.0, {"text_hash": text_hash})
        near = _near(session, features, item_id, is_seed)
        if near is not None:
            return near
    return _translation(session, features, item_id)


def merge_groups(session: Session, root: Item, features: Features, item_id: int) -> int:
    """Groups that the new item ties to `root` by a strong anchor are merged under the root that
    ranks first (storage.dedup.canonical): editions seen before their group's link was known end
    in one group."""
    merged = 0
    candidates = list(_by_keys(session, strong_keys(features), item_id, day=features.day))
    # Mostly the other editions of a group already joined: skipped by their root ids, without
    # loading their rows (groups are one level deep, and only ever merged into the current root).
    roots = {int(i): int(r) for i, r in session.connection().execute(_ROOTS, {"ids": candidates})} if candidates else {}
    joined = {root.id, item_id}
    for candidate_id in candidates:
        if roots.get(candidate_id) in joined:
            continue
        other = root_of(session, candidate_id)
        if other is None or other.id in (root.id, item_id):
            continue
        candidate = session.get(Item, candidate_id)
        found = judge_translation(features, candidate_features(candidate, "translation")) if candidate else None
        if not found or found[0] < 1.0:
            continue
        keep, lose = (other, root) if ranks_first(other, root) else (root, other)
        if lose.is_seed:
            continue
        take_over(session, lose, keep, "translation", found[0])
        root = keep
        joined |= {lose.id, keep.id}
        merged += 1
    return merged


def group_root(session: Session, decision: Decision, item_id: int) -> Item | None:
    root = root_of(session, decision.target_id)
    if root is None or root.id == item_id:
        return None
    return root


def take_over(session: Session, old_root: Item, new_root: Item, kind: str, score: float) -> None:
    """Make `new_root` the canonical item of `old_root`'s group: its members follow, each with its
    relation to the new root (so a member's kind does not depend on which root it was filed under
    first), and `old_root` becomes a duplicate of `new_root` with the decision that tied them."""
    members = select(Item).where(Item.duplicate_of_id == old_root.id, Item.id != new_root.id)
    for member in session.scalars(members):
        member.duplicate_of_id = new_root.id
        member.duplicate_kind, member.duplicate_score = relation(member, new_root, (member.duplicate_kind or kind,
                                                                                  member.duplicate_score or score))
    new_root.duplicate_of_id, new_root.duplicate_kind, new_root.duplicate_score = None, None, None
    old_root.duplicate_of_id = new_root.id
    old_root.duplicate_kind, old_root.duplicate_score = relation(old_root, new_root, (kind, score))


def rejudge_members(session: Session, root: Item) -> None:
    """Judge each member of `root`'s group again after the root's text changed: an edited story's
    copies are then filed by how they repeat its current text, whichever of them was edited first."""
    for member in session.scalars(select(Item).where(Item.duplicate_of_id == root.id)):
        member.duplicate_kind, member.duplicate_score = relation(
            member, root, (member.duplicate_kind or "near", member.duplicate_score or 0.0))


def relation(member: Item, root: Item, otherwise: tuple[str, float]) -> tuple[str, float]:
    """How `member` repeats its group's root: the same text, a near copy or a translation, judged
    against the root itself (not the member it was matched through, which depends on what had
    arrived); `otherwise` when no judge links the two directly."""
    return _relation(member, root) or otherwise


def _relation(member: Item, root: Item) -> tuple[str, float] | None:
    if member.text_hash == root.text_hash and member.text.strip():
        return "exact", 1.0
    near = judge_near(candidate_features(member, "near"), candidate_features(root, "near"), root.is_seed)
    if near is not None:
        return "near", near[0]
    found = judge_translation(candidate_features(member, "translation"), candidate_features(root, "translation"))
    return ("translation", found[0]) if found is not None else None
