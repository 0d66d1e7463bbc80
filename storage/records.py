"""Plain values that cross the storage boundary, so callers never hold ORM objects."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storage.dedup.features import Features

_WHITESPACE = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """NFKC, case-folded, whitespace collapsed: what 'the same text' means for exact dedup."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def text_fingerprint(text: str) -> str:
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class PageRecord:
    """An extracted page (or seed document) ready to be archived."""

    url: str
    canonical_url: str
    source: str
    text: str
    source_id: int | None = None
    language: str | None = None
    title: str | None = None
    author: str | None = None
    description: str | None = None
    published_at: datetime | None = None
    images: tuple[str, ...] = ()
    source_links: tuple[str, ...] = ()
    is_seed: bool = False
    # storage.dedup.text_features of these fields, when the caller computed them beforehand (a
    # crawl's extraction workers do); the archive computes them otherwise.
    features: Features | None = field(default=None, compare=False, repr=False)

    @cached_property
    def text_hash(self) -> str:
        # Cached: one archive write reads it several times, and normalising a long text is not free.
        return text_fingerprint(self.text)


class UpsertOutcome(StrEnum):
    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class UpsertResult:
    item_id: int
    outcome: UpsertOutcome
    duplicate_of: str | None = None
    duplicate_kind: str | None = None


@dataclass(frozen=True)
class SourceInfo:
    id: int
    name: str
    home_url: str
    interval_seconds: int
    enabled: bool
    discovered: dict[str, Any] = field(default_factory=dict)
    items: int = 0
    last_run_status: str | None = None
    last_run_at: datetime | None = None


@dataclass(frozen=True)
class FetchInfo:
    url: str
    kind: str
    status: int | None
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    last_checked_at: datetime | None


@dataclass(frozen=True)
class KnownArticle:
    url: str
    published_at: datetime | None
    last_checked_at: datetime | None
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class RunInfo:
    id: int
    source: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    counters: dict[str, Any]
    error: str | None
