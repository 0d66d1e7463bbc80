"""Telling article links from other links by the URL shapes a source's feeds and sitemaps use.

The crawler learns, per source, which of the known article URL shapes its feed and sitemap
URLs follow; links on listing pages are then followed as articles only when they have one of
those shapes. Topic hubs (`-event123.html`), tag and category pages never match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

# Shapes seen on provincial sites (docs/architecture.md, the reference notes), most specific first.
KNOWN_SHAPES: dict[str, str] = {
    "post-id": r"-post\d+\.html?$",
    "a-id": r"-a\d+\.html?$",
    "postid-bbg": r"-postid\d+\.bbg$",
    "date-folder-hex": r"/\d{6}/[a-z0-9-]+-[0-9a-f]{5,}/?$",
    "slug-id": r"[a-z0-9]-\d{5,}\.html?$",
    "slug-id-htm": r"[a-z0-9]-\d{4,}\.htm$",
    "tin-bai": r"/tin-bai/[a-z0-9-]+/[a-z0-9-]{10,}/?$",
}
# Never articles, whatever shape they have.
NOT_ARTICLE = re.compile(
    r"(-event\d+\.html?$|/(tag|tags|topic|chu-de|tim-kiem|search|video|podcast|print)/|/rss(/|$)|\.(xml|rss)$)",
    re.IGNORECASE,
)
MIN_SHARE = 0.3


def _path(url: str) -> str:
    return urlsplit(url).path.lower()


def learn_patterns(article_urls: Iterable[str]) -> list[str]:
    """Names of the shapes that at least MIN_SHARE of the given article URLs follow."""
    paths = [_path(url) for url in article_urls if not NOT_ARTICLE.search(_path(url))]
    if not paths:
        return []
    learned = []
    for name, pattern in KNOWN_SHAPES.items():
        matched = sum(1 for path in paths if re.search(pattern, path))
        if matched / len(paths) >= MIN_SHARE:
            learned.append(name)
    return learned


def looks_like_article(url: str, learned: Iterable[str]) -> bool:
    """Whether a link is worth fetching as an article: a learned shape, or any known one."""
    path = _path(url)
    if NOT_ARTICLE.search(path):
        return False
    names = list(learned) or list(KNOWN_SHAPES)
    return any(re.search(KNOWN_SHAPES[name], path) for name in names if name in KNOWN_SHAPES)
