"""The Site abstraction: a CMS family renders one day of a site into a snapshot of pages.

A :class:`Snapshot` is a complete, immutable map from request target to :class:`Page`; the
server answers from it and the manifest is read from it, so the two can never disagree.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from urllib.parse import parse_qs

from replica.manifest import ManifestEntry

HTML = "text/html; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
XML = "application/xml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class Page:
    """One served resource. ``target`` is the path, plus ``?page=N`` for later listing pages."""

    target: str
    body: bytes
    content_type: str
    last_modified: datetime
    entry: ManifestEntry
    etag: str = field(init=False)

    def __post_init__(self) -> None:
        digest = hashlib.sha256(self.body).hexdigest()[:20]
        object.__setattr__(self, "etag", f'"{digest}"')


def page_target(path: str, query: str) -> str:
    """Normalise a request to a snapshot key: only the page-number parameter matters
    (``page`` on most families, ``p`` on the "-a<id>" family)."""
    params = parse_qs(query)
    for name in ("page", "p"):
        values = params.get(name)
        if values and values[-1] not in ("", "1"):
            return f"{path}?{name}={values[-1]}"
    return path


@dataclass(frozen=True)
class Snapshot:
    """Everything one site serves on one simulated day, at one base URL."""

    site: str
    day: int
    base_url: str
    pages: Mapping[str, Page]

    def lookup(self, path: str, query: str = "") -> Page | None:
        return self.pages.get(page_target(path, query))

    def manifest(self) -> list[ManifestEntry]:
        return [page.entry for page in self.pages.values()]


def collect(pages: Iterable[Page]) -> dict[str, Page]:
    """Index pages by target, refusing two pages at one target (a site bug)."""
    indexed: dict[str, Page] = {}
    for page in pages:
        if page.target in indexed:
            raise ValueError(f"two pages at {page.target}")
        indexed[page.target] = page
    return indexed


class Site(ABC):
    """A replicated news site. Subclasses implement one CMS family's layout and URL scheme."""

    key: str
    # Base URLs of every site of the replica, by key: a republishing portal links its sources.
    peers: Mapping[str, str] = MappingProxyType({})

    def bind_peers(self, peers: Mapping[str, str]) -> None:
        """Tell the site where the other sites are served (called before every build)."""
        self.peers = MappingProxyType(dict(peers))

    @abstractmethod
    def build(self, day: int, base_url: str) -> Snapshot:
        """Render every page the site serves on ``day`` with absolute URLs under ``base_url``."""

    @abstractmethod
    def not_found(self) -> bytes:
        """The body of the site's 404 page."""
