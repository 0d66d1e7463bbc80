"""What newswatch keeps of a page: the main text (trafilatura) and the metadata around it.

trafilatura setting chosen by measurement (bench/extraction_settings.py, BENCHMARKS.md):
`include_comments=False` scored best on the WCXB article pages; `favor_recall` is the fallback
when that returns nothing, since an empty text loses the item.
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
from crawler.dates import decode_dnum
from crawler.errors import ExtractionError
from crawler.language import detect_language

logger = logging.getLogger(__name__)

MIN_ARTICLE_CHARS = 300
MIN_ARTICLE_CHARS_CJK = 120
# Teaser headlines (h2/h3 links) from which a page without article metadata is a listing.
LISTING_TEASERS = 6
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


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """Decode with the declared charset, the meta tag, or sniffing (w3lib's order), then NFC.

    windows-1258 writes Vietnamese with combining marks (ô + dot below for ộ); NFC composes
    them so the text compares equal to the same words from a UTF-8 page.
    """
    _encoding, text = html_to_unicode(content_type, body)
    return unicodedata.normalize("NFC", text)


def _main_text(html: str, url: str) -> str:
    text = trafilatura.extract(html, url=url, output_format="txt", include_comments=False)
    if not text:
        text = trafilatura.extract(html, url=url, output_format="txt", include_comments=False, favor_recall=True)
    return decode_dnum(text or "").strip()


def _is_cjk(text: str) -> bool:
    return len(re.findall(r"[\u3400-\u9fff]", text[:2000])) > len(text[:2000]) * 0.2


def classify_page(tree: HtmlElement, url: str, text: str) -> PageType:
    """Article or listing, from the page's own signals; listings and hubs are never archived."""
    og_type = (page_meta.meta_content(tree, "og:type") or "").lower()
    has_article_meta = og_type == "article" or page_meta.meta_content(tree, "article:published_time") is not None
    ld_types = {str(obj.get("@type", "")) for obj in page_meta.json_ld_objects(tree)}
    if ld_types & {"NewsArticle", "Article", "ReportageNewsArticle", "BlogPosting"}:
        has_article_meta = True
    teasers = len(tree.xpath("//h2//a[@href] | //h3//a[@href]"))
    minimum = MIN_ARTICLE_CHARS_CJK if _is_cjk(text) else MIN_ARTICLE_CHARS
    if _HUB_URL.search(urlsplit(url).path) and not has_article_meta:
        return PageType.LISTING
    if not text.strip():
        return PageType.OTHER
    if has_article_meta and len(text) >= minimum // 2:
        return PageType.ARTICLE
    if teasers >= LISTING_TEASERS or og_type in {"website", "object"}:
        return PageType.LISTING
    return PageType.ARTICLE if len(text) >= minimum else PageType.OTHER


def extract_page(html: str, url: str, tz: tzinfo) -> ExtractedPage:
    """Everything newswatch keeps of one page; ExtractionError when it is not HTML."""
    if not html.strip():
        raise ExtractionError(url, "empty body")
    html = unicodedata.normalize("NFC", html)
    try:
        tree = lxml_html.document_fromstring(html)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionError(url, f"not parseable as HTML ({exc})") from exc
    text = _main_text(html, url)
    return ExtractedPage(
        url=url,
        canonical_url=page_meta.find_canonical(tree, url),
        page_type=classify_page(tree, url, text),
        title=page_meta.find_title(tree),
        author=page_meta.find_author(tree),
        description=page_meta.meta_content(tree, "description", "og:description"),
        published_at=page_meta.find_published(tree, tz),
        language=page_meta.find_language(tree, url) or detect_language(text),
        text=text,
        images=tuple(page_meta.find_images(tree)),
        alternates=page_meta.find_alternates(tree, url),
    )
