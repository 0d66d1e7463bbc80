"""The "-a<id>" CMS family: baobinhduong.vn (sister sites: baotayninh.vn, baocantho.com.vn, baodongthap.vn).

URL layout (``<e>`` is the edition prefix: empty for Vietnamese, ``en/``, ``cn/``; ``<section>``
is the edition's own folder name, ``chinh-tri`` in Vietnamese but ``politic`` in English):

=====================================  ========  ================================================
path                                   kind      what
=====================================  ========  ================================================
``/<e>``                               listing   edition home page, latest 12 teasers
``/<e><section>/[?p=N]``               listing   section listing, 12 ``div.article-item`` a page
``/<e><latest>/[?p=N]``                listing   every article, newest first (``tin-moi``,
                                                 ``latest-news``)
``/<slug>-a<id>.html``                 article   Vietnamese article
``/en/<english-slug>-a<id>.html``      article   English translation: own slug, the same id
``/cn/<slug>-a<id>.html``              article   Chinese translation (Vietnamese slug)
``/<e>rss/<section>.rss``              feed      RSS 2.0, latest 10 items of 30 days (``home.rss``: all)
``/<e>rss.html``                       other     list of the edition's feeds
``/sitemap.xml``                       sitemap   sitemap index of the monthly sitemaps
``/sitemap-YYYY-M.xml[.gz]``           sitemap   articles (all editions) published that month;
                                                 months of earlier years are gzip-compressed
``/robots.txt``                        other     ``Sitemap: /sitemap.xml``, ``Disallow: /api/``
=====================================  ========  ================================================

On baobinhduong.vn the English edition's home and section pages are rendered by JavaScript
only (``script_listings`` in the site file): an empty container and a script that would call
``/api/list?cat=...``. English articles are reachable through feeds and sitemaps only.
Article pages carry no ``article:published_time``: the ``Update:`` line is the only date.
"""

from __future__ import annotations

import gzip
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from functools import cache
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from replica import aid_html as tpl
from replica import xmlfeeds
from replica.aid_html import HOME_FEED, LATEST, Ctx, View
from replica.content import SiteData, Story, load_site_data, read_toml, story_files
from replica.dates import VN_TZ, day_date, iso_minute, iso_seconds
from replica.manifest import Kind, ManifestEntry
from replica.site import HTML, RSS, TEXT, XML, Page, Site, Snapshot, collect

PAGE_SIZE = 12
FEED_SIZE = 10
FEED_DAYS = 30
"""Feeds list the latest ``FEED_SIZE`` items of the last ``FEED_DAYS`` days: older articles are in sitemaps only."""
RELATED_SIZE = 6
CLOCK_AT = time(23, 45, 20)
"""The header clock shows the day a page was rendered at this fixed time of day."""
GZIP = "application/x-gzip"


@dataclass(frozen=True)
class Extras:
    """What the shared content model does not hold: per-edition section folders and slugs, translators."""

    paths: Mapping[str, Mapping[str, str]]
    script_listings: frozenset[str]
    translators: Mapping[tuple[int, str], str]
    slugs: Mapping[tuple[int, str], str]


@cache
def load_extras(key: str) -> Extras:
    """Read (once) the family-specific fields of ``<key>.site.toml`` and the story files."""
    site = read_toml(f"{key}.site.toml")
    paths = {str(c["slug"]): {str(k): str(v) for k, v in c.get("paths", {}).items()}
             for c in site.get("categories", [])}
    translators: dict[tuple[int, str], str] = {}
    slugs: dict[tuple[int, str], str] = {}
    for name in story_files(key):
        story = read_toml(name)
        for lang, table in story.get("editions", {}).items():
            if "translator" in table:
                translators[(int(story["id"]), lang)] = str(table["translator"]).strip()
            if "slug" in table:
                slugs[(int(story["id"]), lang)] = str(table["slug"]).strip()
    return Extras(paths, frozenset(str(x) for x in site.get("script_listings", [])), translators, slugs)


def slugify(text: str) -> str:
    """``Committee's "key" tasks in 2025`` -> ``committees-key-tasks-in-2025``; drops diacritics and đ."""
    folded = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_text = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    ascii_text = re.sub(r"['’]", "", ascii_text)
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


class AidSnapshot(Snapshot):
    """Listing pages of this family paginate with ``?p=N`` (``?page=`` means nothing here).

    Pages are keyed ``<path>?p=N``. The server's fault layer looks pages up with
    :func:`replica.site.page_target`, which must therefore keep ``p`` as it keeps ``page``.
    """

    def lookup(self, path: str, query: str = "") -> Page | None:
        pages = parse_qs(query).get("p")
        if pages and pages[-1] not in ("", "1"):
            return self.pages.get(f"{path}?p={pages[-1]}")
        return self.pages.get(path)


class AidSite(Site):
    """A "-a<id>" newspaper whose content is ``replica/data/<key>.site.toml`` plus its stories."""

    def __init__(self, key: str = "binhduong") -> None:
        self.key = key

    @property
    def data(self) -> SiteData:
        return load_site_data(self.key)

    @property
    def extras(self) -> Extras:
        return load_extras(self.key)

    def article_path(self, story: Story, lang: str) -> str:
        """``/<slug>-a<id>.html``; English slugs come from the English headline."""
        prefix = self.data.editions[lang].prefix
        slug = self.extras.slugs.get((story.id, lang))
        if slug is None:
            slug = slugify(story.editions["en"].title) if lang == "en" else story.slug
        return f"/{prefix + '/' if prefix else ''}{slug}-a{story.id}.html"

    def build(self, day: int, base_url: str) -> Snapshot:
        if day < 0:
            raise ValueError("day must be >= 0")
        builder = _Builder(self, day, base_url)
        return AidSnapshot(self.key, day, base_url, collect(builder.pages()))

    def not_found(self) -> bytes:
        data = self.data
        ctx = Ctx(data, data.editions["vi"], "/", self.extras.paths)
        return tpl.not_found_page(ctx, datetime.combine(day_date(0), CLOCK_AT, VN_TZ)).encode()


def _newest_first(views: Sequence[View]) -> list[View]:
    return sorted(views, key=lambda v: (v.published, v.story.id), reverse=True)


def _pages(count: int) -> int:
    return max(1, -(-count // PAGE_SIZE))


def month_sitemap_path(month: date, today: date) -> str:
    """``/sitemap-2026-9.xml``; months of earlier years are archived as ``.xml.gz``."""
    suffix = ".xml.gz" if month.year < today.year else ".xml"
    return f"/sitemap-{month.year}-{month.month}{suffix}"


def sitemap_index(entries: Sequence[tuple[str, datetime]]) -> str:
    body = "\n".join(f"<sitemap><loc>{escape(loc)}</loc><lastmod>{iso_seconds(when)}</lastmod></sitemap>"
                     for loc, when in entries)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
{body}
</sitemapindex>
"""


class _Builder:
    """Renders one day of one "-a<id>" site."""

    def __init__(self, site: AidSite, day: int, base_url: str) -> None:
        self.site = site
        self.data = site.data
        self.extras = site.extras
        self.day = day
        self.today = day_date(day)
        self.base_url = base_url
        self.now = datetime.combine(self.today, CLOCK_AT, VN_TZ)
        views: dict[str, list[View]] = {lang: [] for lang in self.data.editions}
        for story in self.data.stories:
            for lang, edition in story.editions.items():
                if edition.published.date() <= self.today:
                    served, modified = story.at_day(lang, day)
                    translator = self.extras.translators.get((story.id, lang), "")
                    views[lang].append(View(story, served, modified, site.article_path(story, lang), translator))
        self.views = {lang: _newest_first(found) for lang, found in views.items()}

    def ctx(self, lang: str) -> Ctx:
        return Ctx(self.data, self.data.editions[lang], self.base_url, self.extras.paths)

    def entry(self, path: str, kind: Kind, lang: str) -> ManifestEntry:
        return ManifestEntry(url=self.base_url + path.lstrip("/"), site=self.data.key, kind=kind, language=lang)

    def pages(self) -> Iterator[Page]:
        for lang in self.data.editions:
            yield from self.article_pages(lang)
            yield from self.listing_pages(lang)
            yield from self.feed_pages(lang)
        yield from self.sitemap_pages()
        yield from self.misc_pages()

    # -- articles ---------------------------------------------------------------------------

    def article_pages(self, lang: str) -> Iterator[Page]:
        ctx = self.ctx(lang)
        for view in self.views[lang]:
            # Frozen at the later of day 0 and the last edit: clock and related block only change
            # when the article does, so an unchanged article keeps its ETag.
            frozen = max(day_date(0), view.modified.date())
            related = [replace(v, edition=v.story.editions[lang]) for v in self.views[lang]
                       if v is not view and v.story.category == view.story.category
                       and v.published.date() <= frozen][:RELATED_SIZE]
            html = tpl.article_page(ctx, view, related, datetime.combine(frozen, CLOCK_AT, VN_TZ))
            yield Page(view.path, html.encode(), HTML, view.modified, self.article_entry(view))

    def article_entry(self, view: View) -> ManifestEntry:
        story, edition = view.story, view.edition
        original = None if view.lang == "vi" else self.base_url + self.site.article_path(story, "vi").lstrip("/")
        return replace(
            self.entry(view.path, "article", view.lang), title=edition.title, text=edition.plain_text(),
            published_at=iso_minute(edition.published), author=edition.author or None,
            duplicate_group=f"{self.data.key}-{story.id}", translation_of=original,
            is_conference=story.conference, event=story.event.as_dict() if story.event else None,
            seed_file=edition.seed_file,
        )

    # -- listings -----------------------------------------------------------------------------

    def listing_pages(self, lang: str) -> Iterator[Page]:
        ctx = self.ctx(lang)
        views = self.views[lang]
        scripted = lang in self.extras.script_listings
        if scripted:
            html = tpl.script_listing_page(ctx, ctx.edition.site_name, ctx.root, HOME_FEED, self.now)
        else:
            html = tpl.listing_page(ctx, ctx.edition.site_name, ctx.root, views[:PAGE_SIZE], next_path=None,
                                    now=self.now)
        yield Page(ctx.root, html.encode(), HTML, self.newest(views), self.entry(ctx.root, "listing", lang))
        for category in self.data.categories:
            in_section = [v for v in views if v.story.category == category.slug]
            yield from self.section_pages(ctx, category.slug, in_section, scripted)
        yield from self.section_pages(ctx, LATEST, views, scripted)

    def section_pages(self, ctx: Ctx, slug: str, views: Sequence[View], scripted: bool) -> Iterator[Page]:
        heading = ctx.section_name(slug)
        pages = _pages(len(views))
        for number in range(1, pages + 1):
            path = ctx.section(slug, number)
            shown = views[(number - 1) * PAGE_SIZE:number * PAGE_SIZE]
            if scripted:
                html = tpl.script_listing_page(ctx, heading, path, ctx.section_path(slug), self.now)
            else:
                more = ctx.section(slug, number + 1) if number < pages else None
                html = tpl.listing_page(ctx, heading, path, shown, next_path=more, now=self.now)
            yield Page(path, html.encode(), HTML, self.newest(shown), self.entry(path, "listing", ctx.lang))

    def newest(self, views: Sequence[View]) -> datetime:
        return max((v.modified for v in views), default=self.data.opened)

    # -- feeds --------------------------------------------------------------------------------

    def feed_pages(self, lang: str) -> Iterator[Page]:
        ctx = self.ctx(lang)
        groups = [(HOME_FEED, self.views[lang])]
        groups += [(c.slug, [v for v in self.views[lang] if v.story.category == c.slug])
                   for c in self.data.categories]
        for slug, views in groups:
            shown = [v for v in views if (self.today - v.published.date()).days <= FEED_DAYS][:FEED_SIZE]
            items = [xmlfeeds.FeedItem(
                v.edition.title, ctx.absolute(v.path), v.published,
                f'<a href="{ctx.absolute(v.path)}"><img src="{ctx.lead_image(v)}" /></a>{tpl.e(v.edition.sapo)}',
                ctx.section_name(v.story.category)) for v in shown]
            path = ctx.feed(slug)
            link = ctx.absolute(ctx.root if slug == HOME_FEED else ctx.section(slug))
            xml = xmlfeeds.rss(title=f"{ctx.edition.site_name} - {ctx.section_name(slug)}", link=link,
                               language=lang, items=items, built=self.newest(shown), self_url=ctx.absolute(path))
            # This family writes the offset as "GMT+7" in pubDate (seen on the real sites).
            xml = re.sub(r"(<pubDate>[^<]*) \+0700</pubDate>", r"\1 GMT+7</pubDate>", xml)
            yield Page(path, xml.encode(), RSS, self.newest(shown), self.entry(path, "feed", lang))
        html = tpl.rss_index_page(ctx, self.now)
        path = ctx.rss_index()
        yield Page(path, html.encode(), HTML, self.data.opened, self.entry(path, "other", lang))

    # -- sitemaps, robots.txt -----------------------------------------------------------------

    def by_month(self) -> dict[date, list[View]]:
        months: dict[date, list[View]] = defaultdict(list)
        for views in self.views.values():
            for view in views:
                months[view.published.date().replace(day=1)].append(view)
        return {m: _newest_first(months[m]) for m in sorted(months, reverse=True)}

    def sitemap_pages(self) -> Iterator[Page]:
        index: list[tuple[str, datetime]] = []
        for month, views in self.by_month().items():
            urls = [xmlfeeds.SitemapUrl(self.base_url + v.path.lstrip("/"), v.modified,
                                        tuple(self.ctx(v.lang).image(v.story, name) for name in v.edition.images()))
                    for v in views]
            path = month_sitemap_path(month, self.today)
            body = xmlfeeds.urlset(urls).encode()
            compressed = path.endswith(".gz")
            if compressed:
                body = gzip.compress(body, mtime=0)
            index.append((self.base_url + path.lstrip("/"), self.newest(views)))
            yield Page(path, body, GZIP if compressed else XML, self.newest(views), self.entry(path, "sitemap", "vi"))
        newest = max((when for _, when in index), default=self.data.opened)
        yield Page("/sitemap.xml", sitemap_index(index).encode(), XML, newest,
                   self.entry("/sitemap.xml", "sitemap", "vi"))

    def misc_pages(self) -> Iterator[Page]:
        searches = [f"{self.ctx(lang).root}tim-kiem/" for lang in self.data.editions]
        robots = xmlfeeds.robots_txt(["/api/", *searches, "/admin/"], [self.base_url + "sitemap.xml"])
        yield Page("/robots.txt", robots.encode(), TEXT, self.data.opened, self.entry("/robots.txt", "other", "vi"))
