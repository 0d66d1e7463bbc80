"""Why an item is (or is not) a duplicate: the decision and the evidence, recomputed from the items."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from storage.dedup.index import item_features, judge_near, judge_translation, near_evidence
from storage.dedup.urls import canonicalize_url
from storage.errors import StorageError
from storage.models import Item

logger = logging.getLogger(__name__)


class ItemNotFoundError(StorageError):
    def __init__(self, url: str) -> None:
        super().__init__(f"no archived item at {url}")
        self.url = url


def _find(session: Session, url: str) -> Item:
    item = session.scalars(select(Item).where(or_(Item.url == url, Item.canonical_url == url))
                           .order_by(Item.id).limit(1)).first()
    if item is None:
        raise ItemNotFoundError(url)
    return item


def explain_item(session: Session, url: str) -> dict[str, Any]:
    """The item's dedup decision (canonical, or duplicate of what, of which kind, with what score)
    and the evidence behind it: URL keys, Jaccard and containment, shared anchors."""
    item = _find(session, url)
    features = item_features(item)
    result: dict[str, Any] = {
        "url": item.url, "language": features.language, "is_seed": item.is_seed,
        "canonical_urls": list(features.urls), "decision": "canonical", "duplicate_of": None,
        "duplicate_kind": item.duplicate_kind, "duplicate_score": item.duplicate_score,
        "duplicates": session.scalar(select(func.count()).where(Item.duplicate_of_id == item.id)) or 0,
    }
    if item.duplicate_of_id is None:
        return result
    target = session.get(Item, item.duplicate_of_id)
    if target is None:
        return result
    other = item_features(target, with_bands=False)
    sim, cont = near_evidence(features, other)
    near = judge_near(features, other, item.is_seed or target.is_seed)
    translation = judge_translation(features, other)
    result.update({
        "decision": "duplicate", "duplicate_of": target.url,
        "evidence": {
            "same_url": bool({canonicalize_url(u) for u in features.urls} & set(other.urls)),
            "same_text": item.text_hash == target.text_hash,
            "jaccard": round(sim, 3), "containment": round(cont, 3), "near_duplicate": near is not None,
            "anchors": translation[1] if translation else None,
            "note": None if (near or translation or item.duplicate_kind in ("url", "exact"))
            else "linked through another member of the group",
        },
    })
    return result
