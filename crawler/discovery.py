"""Finding a source's feeds, language editions and article links from its own pages."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import feedparser
from parsel import Selector

from crawler.dates import parse_feed_date
from crawler.language import language_from_path, normalize_language

logger = logging.getLogger(__name__)

FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml", "text/xml")
# Where sites without autodiscovery keep their feeds (seen on provincial sites, see docs/).
USUAL_FEED_PATHS = ("/rss", "/feed", "/rss.xml", "/rss/home.rss", "/feed.xml", "/rss.htm", "/rss.html")
_FEED_LINK = re.compile(r"(/rss(/|\.xml$|\.rss$|\.html?$|$)|/feed(/|\.xml$|$)|\.rss$|/atom\.xml$)", re.IGNORECASE)
_LANGUAGE_SWITCH = re.compile(r"^/([a-z]{2})/?$")


@dataclass(frozen=True)
class FeedEntry:
    url: str
    title: str | None
    published_at: datetime | None


@dataclass(frozen=True)
class ParsedFeed:
    entries: list[FeedEntry]
    is_feed: bool
    problem: str | None = None


def same_site(url: str, netlocs: frozenset[str]) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed IPv6 bracket ("http://[::1"): no site's URL
        return False
    return parts.scheme in ("http", "https") and parts.netloc.lower() in netlocs


def strip_fragment(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def join_url(base_url: str, href: str) -> str | None:
    """`href` resolved against `base_url`; None for what urllib cannot parse ("http://[::1"),
    which would otherwise raise ValueError and end the callback reading a hostile page."""
    try:
        joined = urljoin(base_url, href.strip())
        urlsplit(joined)
    except ValueError:
        return None
    return joined


def absolute(base_url: str, href: str) -> str:
    """`href` made absolute without its fragment; "" when it cannot be parsed (no site's URL)."""
    joined = join_url(base_url, href)
    return strip_fragment(joined) if joined is not None else ""


def feed_links(selector: Selector, base_url: str) -> list[str]:
    """Feeds announced by <link rel="alternate"> autodiscovery, in page order."""
    found: list[str] = []
    for link in selector.xpath('//link[contains(concat(" ", normalize-space(@rel), " "), " alternate ")]'):
        kind = (link.attrib.get("type") or "").split(";")[0].strip().lower()
        href = (link.attrib.get("href") or "").strip()
        if href and kind in FEED_TYPES:
            url = absolute(base_url, href)
            if url and url not in found:
                found.append(url)
    return found


def anchor_feed_links(selector: Selector, base_url: str, netlocs: frozenset[str]) -> list[str]:
    """Feed-looking links in the page body, as an RSS index page lists its category feeds."""
    found: list[str] = []
    for href in selector.xpath("//a/@href").getall():
        url = absolute(base_url, href)
        if same_site(url, netlocs) and _FEED_LINK.search(urlsplit(url).path) and url not in found:
            found.append(url)
    return found


def edition_links(selector: Selector, base_url: str, netlocs: frozenset[str]) -> dict[str, str]:
    """Home pages of the other language editions: hreflang alternates and /xx/ switcher links.

    An hreflang alternate of a home page may sit on another host (a separate English site):
    the source declares it, so it is an edition. Switcher links must stay on the source's hosts.
    """
    editions: dict[str, str] = {}
    for link in selector.xpath("//link[@hreflang][@href]"):
        language = normalize_language(link.attrib.get("hreflang"))
        url = absolute(base_url, link.attrib["href"])
        if language and urlsplit(url).scheme in ("http", "https"):
            editions.setdefault(language, url)
    for href in selector.xpath("//a/@href").getall():
        url = absolute(base_url, href)
        path = urlsplit(url).path
        language = language_from_path(path)
        if language and _LANGUAGE_SWITCH.match(path) and same_site(url, netlocs):
            editions.setdefault(language, url)
    return editions


def _entry_date(entry: Any, tz: tzinfo) -> datetime | None:
    for key in ("published", "updated", "created"):
        value = entry.get(key)
        if isinstance(value, str) and (found := parse_feed_date(value, tz)):
            return found
    return None


def parse_feed(body: bytes, base_url: str, tz: tzinfo) -> ParsedFeed:
    """RSS 2.0, Atom or RDF entries; a body that is no feed (an HTML page) says so."""
    parsed = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)
    if not parsed.get("version"):
        reason = parsed.get("bozo_exception")
        return ParsedFeed([], is_feed=False, problem=f"not a feed ({reason})" if reason else "not a feed")
    entries: list[FeedEntry] = []
    for entry in parsed.entries:
        link = entry.get("link") or (entry.get("id") if str(entry.get("id", "")).startswith("http") else None)
        if not link:
            continue
        url = absolute(base_url, str(link))
        if not url:
            continue
        entries.append(FeedEntry(url=url, title=entry.get("title"), published_at=_entry_date(entry, tz)))
    problem = None if entries else "feed has no items"
    if parsed.get("bozo"):
        # Read leniently, but said: an unclosed element or entities that were not expanded
        # (billion laughs) are worth a counter on the source.
        problem = f"malformed feed ({parsed.get('bozo_exception')})"
    return ParsedFeed(entries, is_feed=True, problem=problem)
