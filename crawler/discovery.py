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
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and parts.netloc.lower() in netlocs


def strip_fragment(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def feed_links(selector: Selector, base_url: str) -> list[str]:
    """Feeds announced by <link rel="alternate"> autodiscovery, in page order."""
    found: list[str] = []
    for link in selector.xpath('//link[contains(concat(" ", normalize-space(@rel), " "), " alternate ")]'):
        kind = (link.attrib.get("type") or "").split(";")[0].strip().lower()
        href = (link.attrib.get("href") or "").strip()
        if href and kind in FEED_TYPES:
            url = strip_fragment(urljoin(base_url, href))
            if url not in found:
                found.append(url)
    return found


def anchor_feed_links(selector: Selector, base_url: str, netlocs: frozenset[str]) -> list[str]:
    """Feed-looking links in the page body, as an RSS index page lists its category feeds."""
    found: list[str] = []
    for href in selector.xpath("//a/@href").getall():
        url = strip_fragment(urljoin(base_url, href.strip()))
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
        url = strip_fragment(urljoin(base_url, link.attrib["href"].strip()))
        if language and urlsplit(url).scheme in ("http", "https"):
            editions.setdefault(language, url)
    for href in selector.xpath("//a/@href").getall():
        url = strip_fragment(urljoin(base_url, href.strip()))
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
        url = strip_fragment(urljoin(base_url, str(link).strip()))
        entries.append(FeedEntry(url=url, title=entry.get("title"), published_at=_entry_date(entry, tz)))
    problem = None if entries else "feed has no items"
    return ParsedFeed(entries, is_feed=True, problem=problem)
