"""The "-post<id>" CMS family: sggp.org.vn (Vietnamese) and its English host (sggpnews.org.vn).

Both hosts are built from ``replica/data/sggp.*``: ``PostIdSite("sggp")`` serves the Vietnamese
editions, ``PostIdSite("sggp-en", english=True)`` the English ones, on its own port, with English
slugs and its own post ids. Each finds the other's base URL in ``self.peers``.

URL layout of each host (path -> kind):

- ``/`` -> listing: home page, hreflang alternate and visible link to the other host
- ``/<section>/`` and ``/<section>/trang-N.html`` -> listing: 10 teasers a page (also
  ``/tin-moi/``, English ``/latest-news/``)
- ``/<section>/<slug>-post<id>.html`` -> article: ``time[datetime]``, ``.article__sapo``,
  ``.article__body.cms-body``, ``.article__author``
- ``/tag/<slug>-<id>.html`` -> tag (latest 30); ``/su-kien/<slug>-<id>.html`` (English
  ``/event/...``) -> listing: the topic page
- ``/rss/<section>-<id>.rss`` -> feed: pubDate ``Sat, 05 Sep 26 17:09:00 +0700`` on the
  Vietnamese host, ``Sat, 05 Sep 2026 17:09:00 GMT+7`` on the English one
- ``/rss/home.rss`` -> feed (Vietnamese host only): 200 with zero items
- ``/rss.html`` -> other: the feed list (pages carry no RSS autodiscovery links)
- ``/sitemaps/news.xml`` -> sitemap: index of ``/sitemaps/news-YYYY-MM-DD.xml`` (sitemap),
  Google News sitemaps of each day's articles with ``lastmod``
- ``/robots.txt`` -> other: one ``Sitemap:`` line for the index
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date, datetime
from functools import cache
from xml.sax.saxutils import escape

from replica import postid_html as tpl
from replica import xmlfeeds
from replica.content import Named, SiteData, Story, load_site_data
from replica.dates import VN_TZ, day_date, iso_minute, iso_seconds
from replica.manifest import Kind, ManifestEntry
from replica.postid_html import LATEST, PAGE_SIZE, ArticleParts, Ctx, Item, Listing
from replica.site import HTML, RSS, TEXT, XML, Page, Site, Snapshot, collect

FEED_SIZE = 50
HOME_SIZE = 12
BLOCK_SIZE = 4
RELATED_SIZE = 4
MOST_READ_SIZE = 5
TAG_SIZE = 30
EN_FIRST_ID = 118230
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def two_digit_year_date(moment: datetime) -> str:
    """``Sat, 05 Sep 26 17:09:00 +0700``: the Vietnamese host's RSS pubDate (two-digit year)."""
    local = moment.astimezone(VN_TZ)
    return f"{_DAYS[local.weekday()]}, {local:%d} {_MONTHS[local.month - 1]} {local:%y %H:%M:%S} +0700"


def gmt_plus7_date(moment: datetime) -> str:
    """``Fri, 04 Sep 2026 18:48:27 GMT+7``: the English host's RSS pubDate."""
    local = moment.astimezone(VN_TZ)
    return f"{_DAYS[local.weekday()]}, {local:%d} {_MONTHS[local.month - 1]} {local:%Y %H:%M:%S} GMT+7"


@cache
def english_ids(key: str) -> dict[int, int]:
    """Post ids of the English host, by story id: allocated in order of English publication."""
    stories = sorted(load_site_data(key).stories, key=lambda s: (s.editions["en"].published, s.id))
    return {story.id: EN_FIRST_ID + 37 * rank + story.id % 7 for rank, story in enumerate(stories)}


class PostIdSite(Site):
    """One host of a "-post<id>" paper: the Vietnamese one, or (``english=True``) the English one."""

    def __init__(self, key: str = "sggp", english: bool = False) -> None:
        self.key = key
        self.english = english
        self.data_key = key.removesuffix("-en") if english else key

    @property
    def lang(self) -> str:
        return "en" if self.english else "vi"

    @property
    def peer_key(self) -> str:
        return self.data_key if self.english else f"{self.key}-en"

    @property
    def data(self) -> SiteData:
        return load_site_data(self.data_key)

    def build(self, day: int, base_url: str) -> Snapshot:
        if day < 0:
            raise ValueError("day must be >= 0")
        builder = _Builder(self, day, base_url)
        return Snapshot(self.key, day, base_url, collect(builder.pages()))

    def not_found(self) -> bytes:
        return tpl.not_found_page(Ctx(self.data, self.lang, "/", None)).encode()


def _newest_first(items: list[Item]) -> list[Item]:
    return sorted(items, key=lambda i: (i.published, i.story.id), reverse=True)


class _Builder:
    """Renders one day of one host."""

    def __init__(self, site: PostIdSite, day: int, base_url: str) -> None:
        self.site = site
        self.data = site.data
        self.day = day
        peer_url = site.peers.get(site.peer_key)
        self.ctx = Ctx(self.data, site.lang, base_url, peer_url)
        self.peer = Ctx(self.data, "vi" if site.english else "en", peer_url, base_url) if peer_url else None
        self.en_ids = english_ids(site.data_key)
        self.items = _newest_first([self.item(story) for story in self.data.stories if self.present(story, site.lang)])

    def present(self, story: Story, lang: str) -> bool:
        return story.editions[lang].published.date() <= day_date(self.day)

    def article_path(self, ctx: Ctx, story: Story) -> str:
        return ctx.article(story, self.en_ids[story.id] if ctx.english else story.id)

    def item(self, story: Story) -> Item:
        edition, modified = story.at_day(self.site.lang, self.day)
        return Item(story, edition, modified, self.article_path(self.ctx, story))

    def entry(self, path: str, kind: Kind) -> ManifestEntry:
        return ManifestEntry(url=self.ctx.absolute(path), site=self.site.key, kind=kind, language=self.site.lang)

    def newest(self, items: Sequence[Item]) -> datetime:
        return max((i.modified for i in items), default=self.data.opened)

    def pages(self) -> Iterator[Page]:
        for item in self.items:
            yield self.article_page(item)
        yield self.home_page()
        yield from self.listing_pages()
        yield from self.feed_pages()
        yield from self.sitemap_pages()
        robots = xmlfeeds.robots_txt(["/tim-kiem/", "/api/", "/*?utm_"], [self.ctx.absolute("/sitemaps/news.xml")])
        yield Page("/robots.txt", robots.encode(), TEXT, self.data.opened, self.entry("/robots.txt", "other"))

    # -- articles ---------------------------------------------------------------------------

    def peer_article(self, story: Story) -> str | None:
        """The other host's edition of ``story``, when that host is known and serves it today."""
        if self.peer is None or not self.present(story, self.peer.lang):
            return None
        return self.peer.absolute(self.article_path(self.peer, story))

    def furniture(self, item: Item) -> list[Item]:
        """Neighbours frozen at the later of day 0 and the article's own day (stable ETags)."""
        cutoff = max(day_date(0), item.published.date())
        return [i for i in self.items if i is not item and i.published.date() <= cutoff]

    def most_read(self, items: Sequence[Item]) -> list[Item]:
        """A deterministic "most read" pick: a fixed pseudo-random order of the candidates."""
        return sorted(items, key=lambda i: ((i.story.id * 7919) % 1009, i.story.id))[:MOST_READ_SIZE]

    def article_page(self, item: Item) -> Page:
        others = self.furniture(item)
        translation = self.peer_article(item.story)
        alternates = [(self.site.lang, self.ctx.absolute(item.path))]
        if translation is not None and self.peer is not None:
            alternates.append((self.peer.lang, translation))
        tags = {t.slug: t for t in self.data.tags}
        parts = ArticleParts(
            alternates=sorted(alternates), tags=[tags[t] for t in item.story.tags],
            related=[i for i in others if i.story.category == item.story.category][:RELATED_SIZE],
            most_read=self.most_read(others), translation=translation)
        html = tpl.article_page(self.ctx, item, parts)
        return Page(item.path, html.encode(), HTML, item.modified, self.article_entry(item, translation))

    def article_entry(self, item: Item, translation: str | None) -> ManifestEntry:
        story, edition = item.story, item.edition
        return replace(
            self.entry(item.path, "article"), title=edition.title, text=edition.plain_text(),
            published_at=iso_minute(edition.published), author=edition.author or None,
            duplicate_group=f"{self.site.data_key}-{story.id}",
            translation_of=translation if self.site.english else None,
            is_conference=story.conference, event=story.event.as_dict() if story.event else None,
            seed_file=edition.seed_file,
        )

    # -- listings -----------------------------------------------------------------------------

    def home_page(self) -> Page:
        sections = [(c.slug, [i for i in self.items if i.story.category == c.slug][:BLOCK_SIZE])
                    for c in self.data.categories]
        tags = [t for t in self.data.tags if any(t.slug in i.story.tags for i in self.items)]
        html = tpl.home_page(self.ctx, self.items[:HOME_SIZE], sections, most_read=self.most_read(self.items),
                             tags=tags, topic=self.has_topic())
        return Page("/", html.encode(), HTML, self.newest(self.items), self.entry("/", "listing"))

    def has_topic(self) -> bool:
        return any(i.story.topic for i in self.items)

    def listing_pages(self) -> Iterator[Page]:
        for slug in [c.slug for c in self.data.categories] + [LATEST["vi"]]:
            in_section = [i for i in self.items if slug in (i.story.category, LATEST["vi"])]
            yield from self.section_pages(slug, in_section)
        for tag in self.data.tags:
            tagged = [i for i in self.items if tag.slug in i.story.tags]
            if tagged:
                yield self.listing(Listing(self.ctx.name(tag), self.ctx.tag(tag), tagged[:TAG_SIZE]), "tag")
        if self.has_topic():
            in_topic = [i for i in self.items if i.story.topic][:TAG_SIZE]
            yield self.listing(Listing(self.ctx.name(self.data.topic), self.ctx.topic(), in_topic), "listing")

    def section_pages(self, slug: str, items: Sequence[Item]) -> Iterator[Page]:
        pages = max(1, -(-len(items) // PAGE_SIZE))
        for number in range(1, pages + 1):
            shown = items[(number - 1) * PAGE_SIZE:number * PAGE_SIZE]
            listing = Listing(self.ctx.section_name(slug), self.ctx.section(slug, number), shown, slug, number, pages)
            yield self.listing(listing, "listing")

    def listing(self, listing: Listing, kind: Kind) -> Page:
        html = tpl.listing_page(self.ctx, listing, self.most_read(self.items))
        return Page(listing.path, html.encode(), HTML, self.newest(self.items), self.entry(listing.path, kind))

    # -- feeds --------------------------------------------------------------------------------

    def feeds(self) -> list[tuple[Named | None, str]]:
        feeds: list[tuple[Named | None, str]] = [(c, self.ctx.feed(c)) for c in self.data.categories]
        if not self.site.english:
            feeds.insert(0, (None, "/rss/home.rss"))
        return feeds

    def feed_pages(self) -> Iterator[Page]:
        names: list[tuple[str, str]] = []
        for category, path in self.feeds():
            items = [] if category is None else \
                [i for i in self.items if i.story.category == category.slug][:FEED_SIZE]
            name = self.ctx.ui("home") if category is None else self.ctx.name(category)
            link = self.ctx.absolute("/" if category is None else self.ctx.section(category.slug))
            xml = self.rss(f"{self.ctx.edition.site_name} - {name}", link, path, items)
            built = self.newest(items) if items else self.data.opened
            names.append((name, path))
            yield Page(path, xml.encode(), RSS, built, self.entry(path, "feed"))
        html = tpl.rss_index_page(self.ctx, names)
        yield Page("/rss.html", html.encode(), HTML, self.data.opened, self.entry("/rss.html", "other"))

    def rss(self, title: str, link: str, path: str, items: Sequence[Item]) -> str:
        stamp = gmt_plus7_date if self.site.english else two_digit_year_date
        host = self.data.image_host
        body = "\n".join(f"""<item>
<title>{escape(i.edition.title)}</title>
<link>{escape(self.ctx.absolute(i.path))}</link>
<guid isPermaLink="false">{i.path.rsplit("-post", 1)[-1].removesuffix(".html")}</guid>
<pubDate>{stamp(i.published)}</pubDate>
<description><![CDATA[<a href="{self.ctx.absolute(i.path)}"><img src="{i.lead_image(host, 300)}" /></a>\
{tpl.e(i.edition.sapo)}]]></description>
</item>""" for i in items)
        built = stamp(self.newest(items) if items else self.data.opened)
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
<title>{escape(title)}</title>
<link>{escape(link)}</link>
<description>{escape(title)}</description>
<language>{self.site.lang}</language>
<copyright>{escape(self.ctx.edition.site_name)}</copyright>
<lastBuildDate>{built}</lastBuildDate>
<atom:link href="{escape(self.ctx.absolute(path))}" rel="self" type="application/rss+xml"/>
{body}
</channel>
</rss>
"""

    # -- sitemaps -----------------------------------------------------------------------------

    def by_day(self) -> dict[date, list[Item]]:
        days: dict[date, list[Item]] = {}
        for item in self.items:
            days.setdefault(item.published.astimezone(VN_TZ).date(), []).append(item)
        return dict(sorted(days.items(), reverse=True))

    def sitemap_pages(self) -> Iterator[Page]:
        index: list[tuple[str, datetime]] = []
        for day, items in self.by_day().items():
            path = f"/sitemaps/news-{day.isoformat()}.xml"
            index.append((self.ctx.absolute(path), self.newest(items)))
            yield Page(path, self.news_urlset(items).encode(), XML, self.newest(items), self.entry(path, "sitemap"))
        rows = "\n".join(f"<sitemap><loc>{escape(loc)}</loc><lastmod>{iso_seconds(mod)}</lastmod></sitemap>"
                         for loc, mod in index)
        xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
{rows}
</sitemapindex>
"""
        yield Page("/sitemaps/news.xml", xml.encode(), XML, self.newest(self.items),
                   self.entry("/sitemaps/news.xml", "sitemap"))

    def news_urlset(self, items: Sequence[Item]) -> str:
        name = escape(self.ctx.edition.site_name)
        host = self.data.image_host
        rows = "\n".join(
            f"<url><loc>{escape(self.ctx.absolute(i.path))}</loc><lastmod>{iso_seconds(i.modified)}</lastmod>"
            f"<news:news><news:publication><news:name>{name}</news:name><news:language>{self.site.lang}"
            f"</news:language></news:publication><news:publication_date>{iso_seconds(i.published)}"
            f"</news:publication_date><news:title>{escape(i.edition.title)}</news:title></news:news>"
            f"<image:image><image:loc>{escape(i.lead_image(host))}</image:loc></image:image></url>"
            for i in items)
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" \
xmlns:news="http://www.google.com/schemas/sitemap-news/0.9" \
xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
{rows}
</urlset>
"""
