"""Listing pages: section links in a home page's navigation, article links, the next page."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from parsel import Selector

from crawler.discovery import absolute, same_site
from crawler.url_patterns import NOT_ARTICLE, looks_like_article

_NAV = "//nav//a/@href | //header//a/@href | //*[contains(@class, 'menu')]//a/@href"
# A section path: one or two slug segments, no file extension (/thoi-su/, /en/kinh-te/).
_SECTION_PATH = re.compile(r"^/(?:[a-z]{2}/)?[a-z0-9-]{3,}(?:/[a-z0-9-]{3,})?/?$")
_NEXT_XPATH = (
    "//a[@rel='next']/@href | //*[contains(@class, 'loadmore') or contains(@class, 'load-more')"
    " or contains(@class, 'c-more') or contains(@class, 'pagination') or contains(@class, 'paging')]//a/@href"
)
_PAGE_PARAMS = ("page", "p", "trang")


def section_links(selector: Selector, base_url: str, netlocs: frozenset[str]) -> list[str]:
    """Section listing pages linked from the navigation, in page order."""
    found: list[str] = []
    for href in selector.xpath(_NAV).getall():
        url = absolute(base_url, href)
        path = urlsplit(url).path
        if (
            same_site(url, netlocs)
            and _SECTION_PATH.match(path)
            and not NOT_ARTICLE.search(path)
            and not re.fullmatch(r"/[a-z]{2}/?", path)  # an edition's home, not a section
            and url not in found
        ):
            found.append(url)
    return found


def article_links(selector: Selector, base_url: str, netlocs: frozenset[str], learned: list[str]) -> list[str]:
    found: list[str] = []
    for href in selector.xpath("//a/@href").getall():
        url = absolute(base_url, href)
        if same_site(url, netlocs) and looks_like_article(url, learned) and url not in found:
            found.append(url)
    return found


def page_number(url: str) -> int:
    query = parse_qs(urlsplit(url).query)
    for name in _PAGE_PARAMS:
        if query.get(name, [""])[-1].isdigit():
            return int(query[name][-1])
    match = re.search(r"/(?:page|trang)[/-](\d+)/?$", urlsplit(url).path)
    return int(match.group(1)) if match else 1


def next_page(selector: Selector, base_url: str, netlocs: frozenset[str]) -> str | None:
    """The link to the following page of a listing ('load more', rel=next, ?page=N+1)."""
    current = page_number(base_url)
    candidates = selector.xpath(_NEXT_XPATH).getall() + selector.xpath("//a/@href").getall()
    for href in candidates:
        url = absolute(base_url, href)
        same_listing = urlsplit(url).path == urlsplit(base_url).path
        if same_site(url, netlocs) and same_listing and page_number(url) == current + 1:
            return url
    return None
