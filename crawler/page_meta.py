"""Page metadata read from the HTML tree: title, author, date, language, canonical URL, alternates."""

from __future__ import annotations

import copy
import json
import logging
import re
from collections.abc import Iterator
from datetime import datetime, tzinfo
from typing import Any
from urllib.parse import urlsplit

from htmldate import find_date
from lxml import etree
from lxml.cssselect import CSSSelector
from lxml.html import HtmlElement

from crawler.dates import parse_iso, parse_page_date
from crawler.discovery import join_url
from crawler.language import language_from_path, normalize_language

logger = logging.getLogger(__name__)

_DATE_META = (
    "article:published_time", "og:published_time", "datePublished", "pubdate", "publishdate",
    "date", "dc.date.issued", "DC.date.issued", "publish-date", "sailthru.date",
)


def css_selectors(*selectors: str) -> tuple[CSSSelector, ...]:
    """CSS selectors compiled once (to XPath): compiling them on every page cost more than running them."""
    return tuple(CSSSelector(selector, translator="html") for selector in selectors)


# Visible date elements of the site families we know, then generic ones near the headline.
_DATE_SELECTORS = css_selectors(
    ".sc-longform-header-date", ".c-detail-head__time", ".article__meta time", ".detail-time",
    ".publish-date", ".post-date", ".date-time", ".article-date", ".time-update", ".date", ".time",
)
_AUTHOR_SELECTORS = css_selectors(
    ".sc-longform-header-author", ".c-detail-head__author", ".article__author", ".author-name",
    ".author", "[rel=author]", ".byline",
)
# XPaths are compiled once too, for the same reason.
_META_BY = tuple(etree.XPath(f"//meta[@{attr}=$name]/@content") for attr in ("property", "name", "itemprop"))
_JSON_LD = etree.XPath('//script[@type="application/ld+json"]/text()')
_TIME_DATETIME = etree.XPath("//article//time/@datetime | //time[@pubdate]/@datetime")
_AFTER_HEADLINE = etree.XPath("(//h1)[1]/following::*[normalize-space(text())][position() <= 12]")
_H1 = etree.XPath("//h1")
_CANONICAL = etree.XPath('//link[@rel="canonical"]/@href')
_ALTERNATES = etree.XPath('//link[@rel="alternate"][@hreflang][@href]')
_SOURCE_CLASS_LINKS = etree.XPath("//a[contains(@class, 'source')][@href]")
_TEXT_ELEMENTS = etree.XPath("//body//*[not(self::script)][normalize-space(text())]")
_LINKS_AFTER_LABEL = etree.XPath("(.//a[@href] | following::a[@href])[position() <= 3]")
_HEADLINE_ARTICLE = etree.XPath("//h1/ancestor::article[1]")
_IMAGES_IN = etree.XPath(".//img/@src")
_CAPTIONED_IMAGES = etree.XPath("//figure[figcaption]//img/@src")
_DOUBLED_NAME_DATE = re.compile(r"^(?P<name>.+?)(?P=name)\s*(?P<date>\d{1,2}/\d{1,2}/\d{4})$")
_DATE_CHARS = re.compile(r"[\d/:.,|\-\s]+")
_DATE_LINE_MAX = 80
_DATE_LINE_MAX_WORDS_CHARS = 25
_TITLE_SEPARATORS = re.compile(r"\s+[-|–—:»]\s+")
_BYLINE = re.compile(
    r"^(?:Reported by|Written by|By|Bài(?: và ảnh)?:?|Theo)\s+(?P<name>.+?)(?:\s+-\s+Translated by\s+.+)?$",
    re.IGNORECASE,
)


def clean_byline(text: str) -> str:
    """'Reported by Tri Dung - Translated by Ngoc Huynh' -> 'Tri Dung'."""
    match = _BYLINE.match(text.strip())
    return match["name"].strip() if match else text.strip()


def meta_content(tree: HtmlElement, *names: str) -> str | None:
    for name in names:
        for by_attr in _META_BY:
            found = by_attr(tree, name=name)
            if found and str(found[0]).strip():
                return str(found[0]).strip()
    return None


def _first_text(tree: HtmlElement, selectors: tuple[CSSSelector, ...], max_len: int) -> Iterator[str]:
    for selector in selectors:
        for element in selector(tree):
            text = " ".join(element.text_content().split())
            if text and len(text) <= max_len:
                yield text


def json_ld_objects(tree: HtmlElement) -> Iterator[dict[str, Any]]:
    for script in _JSON_LD(tree):
        try:
            data = json.loads(script)
        except ValueError:
            continue
        stack = [data]
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(node)
            elif isinstance(node, dict):
                yield node
                stack.extend(value for key, value in node.items() if key == "@graph")


def find_published(tree: HtmlElement, tz: tzinfo) -> datetime | None:
    """Structured metadata first, then the page's visible date line; never the header clock."""
    for obj in json_ld_objects(tree):
        value = obj.get("datePublished")
        if isinstance(value, str) and (found := parse_iso(value, tz) or parse_page_date(value, tz)):
            return found
    meta = meta_content(tree, *_DATE_META)
    iso = parse_iso(meta, tz) if meta else None
    if iso is not None:
        return iso
    for value in _TIME_DATETIME(tree):
        if found := parse_iso(str(value), tz):
            return found
    for text in _first_text(tree, _DATE_SELECTORS, 120):
        if found := parse_page_date(text, tz):
            return found
    if meta and (found := parse_page_date(meta, tz)):
        return found
    return _date_line_after_headline(tree, tz) or _htmldate(tree, tz)


def _date_line_after_headline(tree: HtmlElement, tz: tzinfo) -> datetime | None:
    """A short line just after the headline that is a date, such as the republishing portal's
    'Báo Nghệ AnBáo Nghệ An05/09/2026' (source name twice, then the date)."""
    for element in _AFTER_HEADLINE(tree):
        text = " ".join(element.text_content().split())
        if not text or len(text) > _DATE_LINE_MAX:
            continue
        portal = _DOUBLED_NAME_DATE.match(text)
        if portal:
            return parse_page_date(portal["date"], tz)
        found = parse_page_date(text, tz)
        if found is not None and len(_DATE_CHARS.sub("", text)) <= _DATE_LINE_MAX_WORDS_CHARS:
            return found
    return None


def _htmldate(tree: HtmlElement, tz: tzinfo) -> datetime | None:
    """htmldate over the page's markup only (no guessing from free text), as the last resort."""
    try:
        # htmldate cleans the tree it is given: hand it a copy.
        found = find_date(copy.deepcopy(tree), extensive_search=False, original_date=True, outputformat="%Y-%m-%d")
    except (ValueError, TypeError):
        return None
    return datetime.fromisoformat(found).replace(tzinfo=tz) if found else None


def find_author(tree: HtmlElement) -> str | None:
    for obj in json_ld_objects(tree):
        author = obj.get("author")
        if isinstance(author, list) and author:
            author = author[0]
        if isinstance(author, dict):
            author = author.get("name")
        if isinstance(author, str) and author.strip():
            return author.strip()
    meta = meta_content(tree, "author", "article:author", "dc.creator")
    if meta and not meta.startswith("http"):
        return meta
    for text in _first_text(tree, _AUTHOR_SELECTORS, 80):
        return clean_byline(text)
    return None


def _strip_site_suffix(title: str, site_name: str | None) -> str:
    separators = list(_TITLE_SEPARATORS.finditer(title))
    if not separators:
        return title
    last = separators[-1]
    suffix = title[last.end() :]
    if (site_name and site_name.casefold() in suffix.casefold()) or len(suffix) < 30:
        return title[: last.start()]
    return title


def find_title(tree: HtmlElement) -> str | None:
    """The headline: the page's h1 when it has one, else og:title or <title> without the site name."""
    for h1 in _H1(tree):
        text = " ".join(h1.text_content().split())
        if len(text) >= 3:
            return text
    site_name = meta_content(tree, "og:site_name")
    for candidate in (meta_content(tree, "og:title", "twitter:title"), tree.findtext(".//title")):
        if candidate and candidate.strip():
            return _strip_site_suffix(" ".join(candidate.split()), site_name)
    return None


def find_language(tree: HtmlElement, url: str) -> str | None:
    declared = tree.get("lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang")
    return (
        normalize_language(declared)
        or normalize_language(meta_content(tree, "og:locale", "language", "content-language"))
        or language_from_path(urlsplit(url).path)
    )


def find_canonical(tree: HtmlElement, url: str) -> str:
    for href in _CANONICAL(tree):
        if str(href).strip() and (joined := join_url(url, str(href))) is not None:
            return joined
    return url


def find_alternates(tree: HtmlElement, url: str) -> dict[str, str]:
    """hreflang alternates: language code -> absolute URL."""
    alternates: dict[str, str] = {}
    for link in _ALTERNATES(tree):
        language = normalize_language(link.get("hreflang"))
        joined = join_url(url, link.get("href"))
        if language and joined is not None:
            alternates.setdefault(language, joined)
    return alternates


# Labels that introduce the original of a republished story.
SOURCE_LABELS = frozenset(
    label.casefold()
    for label in ("Source", "Sources", "Nguồn", "Theo", "Джерело", "Источник", "来源", "Fuente", "Quelle")
)


def find_source_links(tree: HtmlElement, url: str) -> list[str]:
    """Links to the original of a republished story ("Source: <a>…</a>") on other hosts."""
    own_host = urlsplit(url).netloc.lower()
    found: list[str] = []
    candidates = _SOURCE_CLASS_LINKS(tree)
    for label in _TEXT_ELEMENTS(tree):
        text = " ".join((label.text or "").split()).rstrip(":").casefold()
        if text in SOURCE_LABELS:
            candidates.extend(_LINKS_AFTER_LABEL(label))
    for anchor in candidates:
        target = join_url(url, anchor.get("href", ""))
        if target is None:
            continue
        parts = urlsplit(target)
        outbound = parts.scheme in ("http", "https") and parts.netloc.lower() != own_host
        if outbound and parts.path.strip("/") and target not in found:  # a story, not a home page
            found.append(target)
    return found


def find_images(tree: HtmlElement) -> list[str]:
    """File names of the story's pictures: the same names recur in every edition of a story."""
    names: list[str] = []
    # Teasers of other stories carry pictures too (often in <article> elements of their own):
    # take the article element that holds the headline, else captioned figures only.
    articles = _HEADLINE_ARTICLE(tree)
    sources = _IMAGES_IN(articles[0]) if articles else _CAPTIONED_IMAGES(tree)
    for src in sources:
        name = urlsplit(str(src)).path.rsplit("/", 1)[-1]
        if name and name not in names:
            names.append(name)
    return names
