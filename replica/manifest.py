"""The ground-truth manifest: one entry for every URL the replica serves on a given day."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Literal, TextIO

Kind = Literal["article", "listing", "tag", "feed", "sitemap", "other"]
KINDS: tuple[Kind, ...] = ("article", "listing", "tag", "feed", "sitemap", "other")


@dataclass(frozen=True)
class ManifestEntry:
    """What a page is and, for articles, what a perfect extractor would return from it.

    ``text`` is the article body as plain text: the sapo (lead) first, then paragraphs,
    sub-headings and image captions in page order, joined by ``"\\n"``; no headline, no image
    file names, no page furniture. ``published_at`` is ISO 8601 with the +07:00 offset, to the
    minute. ``duplicate_group`` is shared by every language edition of one story and
    ``translation_of`` points a non-Vietnamese edition at its Vietnamese original.
    """

    url: str
    site: str
    kind: Kind
    language: str
    title: str | None = None
    text: str | None = None
    published_at: str | None = None
    author: str | None = None
    duplicate_group: str | None = None
    translation_of: str | None = None
    is_conference: bool = False
    event: dict[str, str] | None = None
    seed_file: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (a copy: mutating it does not touch the entry)."""
        data = asdict(self)
        if self.event is not None:
            data["event"] = dict(self.event)
        return data


def write_jsonl(entries: Iterable[ManifestEntry], out: TextIO) -> int:
    """Write entries as JSON lines; return how many were written."""
    count = 0
    for entry in entries:
        out.write(json.dumps(entry.to_json(), ensure_ascii=False, sort_keys=True))
        out.write("\n")
        count += 1
    return count
