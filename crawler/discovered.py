"""What a crawl learns about a source and keeps for the next cycle (stored as JSON on the source)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Discovered:
    """Feeds, sitemaps, editions, sections and article URL shapes of one source.

    `sitemap_marks` holds, per sitemap, the newest lastmod already processed, so a later cycle
    takes only entries that are newer: no wall clock is involved, only the site's own dates.
    """

    feeds: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    editions: dict[str, str] = field(default_factory=dict)
    sections: list[str] = field(default_factory=list)
    patterns: list[str] = field(default_factory=list)
    sitemap_marks: dict[str, str] = field(default_factory=dict)
    untrusted_hosts: list[str] = field(default_factory=list)
    crawl_delay: float | None = None
    problems: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Discovered:
        data = data or {}
        known = set(cls.__dataclass_fields__)
        return cls(**{key: value for key, value in data.items() if key in known})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def add(self, listing: list[str], url: str) -> bool:
        if url in listing:
            return False
        listing.append(url)
        return True

    def mark(self, sitemap: str) -> datetime | None:
        value = self.sitemap_marks.get(sitemap)
        return datetime.fromisoformat(value) if value else None

    def raise_mark(self, sitemap: str, seen: datetime) -> None:
        current = self.mark(sitemap)
        if current is None or seen > current:
            self.sitemap_marks[sitemap] = seen.isoformat()
