"""RSS 2.0, XML sitemaps and robots.txt, shared by every CMS family."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape

from replica.dates import iso_seconds, rfc822


@dataclass(frozen=True)
class FeedItem:
    title: str
    link: str
    published: datetime
    description_html: str
    category: str = ""
    author: str = ""


@dataclass(frozen=True)
class SitemapUrl:
    loc: str
    lastmod: datetime
    images: tuple[str, ...] = ()


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _item(item: FeedItem) -> str:
    category = f"<category>{escape(item.category)}</category>" if item.category else ""
    author = f"<author>{escape(item.author)}</author>" if item.author else ""
    return f"""<item>
<title>{escape(item.title)}</title>
<link>{escape(item.link)}</link>
<guid isPermaLink="true">{escape(item.link)}</guid>
<pubDate>{rfc822(item.published)}</pubDate>
<description>{_cdata(item.description_html)}</description>{category}{author}
</item>"""


def rss(*, title: str, link: str, language: str, items: Sequence[FeedItem], built: datetime,
        self_url: str) -> str:
    """An RSS 2.0 channel; items are written in the order given."""
    body = "\n".join(_item(item) for item in items)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
<title>{escape(title)}</title>
<link>{escape(link)}</link>
<description>{escape(title)}</description>
<language>{escape(language)}</language>
<lastBuildDate>{rfc822(built)}</lastBuildDate>
<atom:link href="{escape(self_url)}" rel="self" type="application/rss+xml"/>
{body}
</channel>
</rss>
"""


def _url(url: SitemapUrl) -> str:
    images = "".join(
        f"<image:image><image:loc>{escape(image)}</image:loc></image:image>" for image in url.images
    )
    return f"<url><loc>{escape(url.loc)}</loc><lastmod>{iso_seconds(url.lastmod)}</lastmod>{images}</url>"


def urlset(urls: Sequence[SitemapUrl]) -> str:
    """A sitemap ``urlset`` with Google image extensions."""
    body = "\n".join(_url(url) for url in urls)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" \
xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
{body}
</urlset>
"""


def robots_txt(disallow: Sequence[str], sitemaps: Sequence[str]) -> str:
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in disallow), ""]
    lines.extend(f"Sitemap: {url}" for url in sitemaps)
    return "\n".join(lines) + "\n"
