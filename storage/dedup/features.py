"""What the dedup layers compare: an item's URL keys, shingles, band keys, anchors and date."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from storage.dedup import anchors as anchor_mod
from storage.dedup.anchors import Anchor
from storage.dedup.shingles import band_keys, index_key, shingles, signature
from storage.dedup.urls import url_keys

EPOCH = date(1970, 1, 1)
# Local day of the sites (UTC+7): the publication day anchors are filed under.
SITE_OFFSET = timedelta(hours=7)
UNDATED = 0  # day of keys that are looked up regardless of date (URL and band keys)


@dataclass(frozen=True)
class Features:
    urls: tuple[str, ...]
    language: str | None
    shingles: frozenset[str]
    bands: tuple[int, ...]
    anchors: frozenset[Anchor]
    day: int

    def url_index_keys(self) -> list[int]:
        return [index_key("url", u) for u in self.urls]

    def anchor_index_keys(self) -> list[int]:
        return [index_key("anchor", str(a)) for a in anchor_mod.indexed(set(self.anchors))]

    def rows(self) -> list[tuple[int, int]]:
        """(key, day) rows this item files in the dedup index."""
        undated = [(k, UNDATED) for k in (*self.url_index_keys(), *self.bands)]
        return sorted(set(undated + [(k, self.day) for k in self.anchor_index_keys()]))


def day_number(published_at: datetime | None, fallback: datetime | None = None) -> int:
    moment = published_at or fallback or datetime.now(UTC)
    return ((moment.astimezone(UTC) + SITE_OFFSET).date() - EPOCH).days


def compute(  # noqa: PLR0917 - the item fields, in PageRecord order
        url: str, canonical_url: str | None, text: str, language: str | None, images: list[str] | tuple[str, ...],
            source_links: list[str] | tuple[str, ...], published_at: datetime | None,
            first_seen: datetime | None = None, with_bands: bool = True) -> Features:
    """An item's features; `with_bands=False` skips the MinHash (a candidate is compared exactly)."""
    shingle_set = shingles(text)
    bands = tuple(band_keys(signature(shingle_set))) if shingle_set and with_bands else ()
    return Features(
        urls=tuple(url_keys(url, canonical_url)),
        language=(language or "").split("-")[0].lower() or None,
        shingles=frozenset(shingle_set),
        bands=bands,
        anchors=frozenset(anchor_mod.extract(text, url, images, source_links)),
        day=day_number(published_at, first_seen),
    )


def text_features(  # noqa: PLR0917 - the item fields, in PageRecord order
        url: str, canonical_url: str | None, text: str, language: str | None, images: list[str] | tuple[str, ...],
        source_links: list[str] | tuple[str, ...]) -> Features:
    """The features that do not depend on the item's date, computed where the page is extracted
    (a crawl's worker process); `dated` files them under the item's day when it is archived."""
    return compute(url, canonical_url, text, language, images, source_links, None, datetime(1970, 1, 1, tzinfo=UTC))


def dated(features: Features, published_at: datetime | None, first_seen: datetime | None = None) -> Features:
    return replace(features, day=day_number(published_at, first_seen))
