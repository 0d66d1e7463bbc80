"""What newswatch keeps of a page: the main text (trafilatura) and the metadata around it.

trafilatura setting chosen by measurement (bench/extraction_settings.py, bench/extraction.py,
BENCHMARKS.md): `include_comments=False`; when that gives a short text that looks cut
(`needs_recall`), `favor_recall` too, keeping the longer.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from enum import StrEnum
from urllib.parse import urlsplit

import trafilatura
from lxml import etree
from lxml import html as lxml_html
from lxml.html import HtmlElement
from w3lib.encoding import html_to_unicode

from crawler import page_meta
from crawler.body_text import body_coverage, complete_text, locate_body
from crawler.dates import decode_dnum
from crawler.errors import ExtractionError
from crawler.language import detect_language

logger = logging.getLogger(__name__)

# Main texts shorter than this get a second, recall-oriented trafilatura pass when they also
# cover less than RECALL_BODY_COVERAGE of the text of the element holding their paragraphs or
# less than RECALL_PAGE_SHARE of the page's visible text (chosen on WCXB: bench/extraction.py,
# BENCHMARKS.md). A text that fills its element is complete: the recall pass adds nothing there.
RECALL_RETRY_CHARS = 3000
RECALL_BODY_COVERAGE = 0.8
RECALL_PAGE_SHARE = 0.2
_TIMESTAMP_LINE = re.compile(r"^[\d\s/:.,|\-]+$")
# Page classification thresholds, chosen on the WCXB article/listing/collection pages
# (bench/extraction.py, BENCHMARKS.md). Lengths are in characters; CJK text counts triple.
LONG_PARAGRAPH = 150
ARTICLE_META_MAX_LINK_DENSITY = 0.7
MANY_PARAGRAPHS = 5
MANY_PARAGRAPHS_MAX_LINK_DENSITY = 0.5
LISTING_MIN_LINK_DENSITY = 0.25
LONG_TEXT = 3000
SHORT_ARTICLE_PARAGRAPHS = 2
SHORT_ARTICLE_TEXT = 400
_HUB_URL = re.compile(r"(-event\d+\.html?$|/(tag|tags|topic|chu-de|category|danh-muc)/)", re.IGNORECASE)


class PageType(StrEnum):
    ARTICLE = "article"
    LISTING = "listing"
    OTHER = "other"


@dataclass(frozen=True)
class ExtractedPage:
    url: str
    canonical_url: str
    page_type: PageType
    title: str | None
    author: str | None
    description: str | None
    published_at: datetime | None
    language: str | None
    text: str
    images: tuple[str, ...] = ()
    alternates: dict[str, str] = field(default_factory=dict)
    source_links: tuple[str, ...] = ()


# Charsets servers claim by default while sending UTF-8 (a misconfigured header).
_DEFAULT_SINGLE_BYTE = frozenset({"cp1252", "iso8859-1", "latin-1", "latin1", "iso-8859-1", "windows-1252", "ascii"})


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not body.isascii()


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """Decode with the declared charset, the meta tag, or sniffing (w3lib's order), then NFC.

    A header that claims a Western single-byte charset for a body that is valid UTF-8 is
    overruled (mojibake otherwise). windows-1258 writes Vietnamese with combining marks
    (ô + dot below for ộ); NFC composes them so the text equals the same words in UTF-8.
    """
    encoding, text = html_to_unicode(content_type, body)
    if encoding.lower().replace("_", "-") in _DEFAULT_SINGLE_BYTE and _is_utf8(body):
        text = body.decode("utf-8")
    return unicodedata.normalize("NFC", text)


def _precision_text(html: str, url: str) -> str:
    return trafilatura.extract(html, url=url, output_format="txt", include_comments=False) or ""


def _recall_text(html: str, url: str) -> str:
    recall = trafilatura.extract(html, url=url, output_format="txt", include_comments=False, favor_recall=True)
    # Without the bare timestamps of "latest news" blocks that the recall pass lets in.
    return "\n".join(line for line in (recall or "").split("\n") if not _TIMESTAMP_LINE.match(line))


def needs_recall(text: str, lines: list[str], body: HtmlElement | None, visible_chars: int) -> bool:
    """Whether the precision pass's text looks cut: short, and either well under the text of the
    element that holds its paragraphs or a small share of the page's visible text."""
    scale = 3 if _is_cjk(text) else 1
    if len(text) * scale >= RECALL_RETRY_CHARS:
        return False
    kept = sum(map(len, lines))
    return (body_coverage(body, lines) < RECALL_BODY_COVERAGE
            or (visible_chars > 0 and kept / visible_chars < RECALL_PAGE_SHARE))


def _is_cjk(text: str) -> bool:
    return len(re.findall(r"[\u3400-\u9fff]", text[:2000])) > len(text[:2000]) * 0.2


_VISIBLE_TEXT = etree.XPath(
    "//body//text()[not(ancestor::script) and not(ancestor::style) and not(ancestor::noscript)]")
_LINK_TEXT = etree.XPath("//body//a//text()")


def visible_chars(tree: HtmlElement) -> int:
    """Characters of the page's visible text (stripped text nodes of the body)."""
    return sum(len(part.strip()) for part in _VISIBLE_TEXT(tree))


def link_density(tree: HtmlElement, visible: int | None = None) -> float:
    """Share of the page's visible text that sits inside links (high on listings)."""
    total = visible_chars(tree) if visible is None else visible
    linked = sum(len(part.strip()) for part in _LINK_TEXT(tree))
    return linked / total if total else 0.0


def _has_article_meta(tree: HtmlElement) -> bool:
    og_type = (page_meta.meta_content(tree, "og:type") or "").lower()
    if og_type == "article" or page_meta.meta_content(tree, "article:published_time") is not None:
        return True
    ld_types = {str(obj.get("@type", "")) for obj in page_meta.json_ld_objects(tree)}
    return bool(ld_types & {"NewsArticle", "Article", "ReportageNewsArticle", "BlogPosting"})


def classify_page(tree: HtmlElement, url: str, text: str, visible: int | None = None) -> PageType:
    """Article or listing, from the page's own signals; listings and hubs are never archived.

    `visible` is `visible_chars(tree)` when the caller has it already."""
    has_meta = _has_article_meta(tree)
    if _HUB_URL.search(urlsplit(url).path) and not has_meta:
        return PageType.LISTING
    if not text.strip():
        return PageType.OTHER
    scale = 3 if _is_cjk(text) else 1
    long_paragraphs = sum(1 for line in text.split("\n") if len(line) * scale > LONG_PARAGRAPH)
    density = link_density(tree, visible)
    if has_meta and density < ARTICLE_META_MAX_LINK_DENSITY:
        return PageType.ARTICLE
    if long_paragraphs >= MANY_PARAGRAPHS and density < MANY_PARAGRAPHS_MAX_LINK_DENSITY:
        return PageType.ARTICLE
    if density > LISTING_MIN_LINK_DENSITY and long_paragraphs <= MANY_PARAGRAPHS:
        return PageType.LISTING
    length = len(text) * scale
    short_article = long_paragraphs >= SHORT_ARTICLE_PARAGRAPHS and length >= SHORT_ARTICLE_TEXT
    return PageType.ARTICLE if length >= LONG_TEXT or short_article else PageType.OTHER


def extract_page(html: str, url: str, tz: tzinfo) -> ExtractedPage:
    """Everything newswatch keeps of one page; ExtractionError when it is not HTML."""
    if not html.strip():
        raise ExtractionError(url, "empty body")
    html = unicodedata.normalize("NFC", html)
    try:
        tree = lxml_html.document_fromstring(html)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionError(url, f"not parseable as HTML ({exc})") from exc
    raw = _precision_text(html, url)
    lines, body = locate_body(tree, raw)
    visible = visible_chars(tree)
    if needs_recall(raw, lines, body, visible):
        recall = _recall_text(html, url)
        if len(recall) > len(raw):
            raw = recall
            lines, body = locate_body(tree, raw)
    main_text = decode_dnum(raw).strip()
    page_type = classify_page(tree, url, main_text, visible)
    # The body element found for the raw text serves unless DNUM_ tokens were decoded in it.
    text = complete_text(tree, main_text, (lines, body) if main_text == raw.strip() else None)
    return ExtractedPage(
        url=url,
        canonical_url=page_meta.find_canonical(tree, url),
        page_type=page_type,
        title=page_meta.find_title(tree),
        author=page_meta.find_author(tree),
        description=page_meta.meta_content(tree, "description", "og:description"),
        published_at=page_meta.find_published(tree, tz),
        language=page_meta.find_language(tree, url) or detect_language(text),
        text=text,
        images=tuple(page_meta.find_images(tree)),
        alternates=page_meta.find_alternates(tree, url),
        source_links=tuple(page_meta.find_source_links(tree, url)),
    )
