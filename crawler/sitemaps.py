"""Sitemaps: robots.txt `Sitemap:` lines, sitemap indexes, url sets, gzip, lastmod and news dates.

Parsed with lxml's iterparse with entity resolution and network access off, so a hostile
sitemap cannot expand entities or fetch anything.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from io import BytesIO

from lxml import etree
from scrapy.utils.gz import gunzip

from crawler.dates import parse_iso, parse_page_date
from crawler.discovery import join_url

logger = logging.getLogger(__name__)

_SITEMAP_LINE = re.compile(r"^\s*sitemap\s*:\s*(\S+)", re.IGNORECASE | re.MULTILINE)
_GZIP_MAGIC = b"\x1f\x8b"
_ENTITY_DECL = b"<!ENTITY"
_PROLOG_BYTES = 64 * 1024  # where a DOCTYPE's internal subset would be


@dataclass(frozen=True)
class SitemapEntry:
    url: str
    lastmod: datetime | None
    published: datetime | None  # news:publication_date, when the sitemap is a news sitemap


@dataclass(frozen=True)
class ParsedSitemap:
    is_index: bool
    entries: list[SitemapEntry]
    problem: str | None = None
    declares_entities: bool = False  # a DOCTYPE with <!ENTITY>: never expanded, but hostile


def sitemaps_from_robots(robots_txt: str) -> list[str]:
    found: list[str] = []
    for url in _SITEMAP_LINE.findall(robots_txt):
        if url not in found:
            found.append(url)
    return found


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _date(text: str | None, tz: tzinfo) -> datetime | None:
    if not text:
        return None
    return parse_iso(text, tz) or parse_page_date(text, tz)


def _entry(element: etree._Element, tz: tzinfo) -> SitemapEntry | None:
    loc = lastmod = published = None
    for child in element.iter():
        name = _local(child.tag)
        text = (child.text or "").strip()
        if name == "loc" and loc is None and text:
            loc = text
        elif name == "lastmod":
            lastmod = text
        elif name == "publication_date":
            published = text
    if loc is None or join_url(loc, loc) is None:  # "http://[::1": urllib cannot even split it
        return None
    return SitemapEntry(loc, _date(lastmod, tz), _date(published, tz))


def parse_sitemap(body: bytes, tz: tzinfo, max_bytes: int) -> ParsedSitemap:
    """Entries of a sitemap or sitemap index; gzip is inflated up to `max_bytes`."""
    if body[:2] == _GZIP_MAGIC:
        try:
            body = gunzip(body, max_size=max_bytes)
        except (OSError, EOFError, ValueError) as exc:
            return ParsedSitemap(False, [], f"bad gzip ({exc.__class__.__name__}: {exc})")
    entries: list[SitemapEntry] = []
    root_name = ""
    try:
        events = etree.iterparse(
            BytesIO(body), events=("start", "end"), resolve_entities=False, no_network=True,
            huge_tree=False, recover=True, remove_comments=True, remove_pis=True,
        )
        for event, element in events:
            name = _local(element.tag)
            if event == "start":
                root_name = root_name or name
                continue
            if name in ("url", "sitemap"):
                entry = _entry(element, tz)
                if entry is not None:
                    entries.append(entry)
                element.clear()
    except etree.XMLSyntaxError as exc:
        if not entries:
            return ParsedSitemap(False, [], f"not a sitemap ({exc})")
    if root_name not in ("urlset", "sitemapindex"):
        return ParsedSitemap(False, [], f"not a sitemap (root element {root_name or 'missing'})")
    problem = None if entries else "sitemap lists no URLs"
    return ParsedSitemap(root_name == "sitemapindex", entries, problem, _ENTITY_DECL in body[:_PROLOG_BYTES])
