"""The OneCMS family ("POWERED BY ONECMS - A PRODUCT OF NEKO"): baonghean.vn and sister papers.

URL layout of a site (``<e>`` is the edition prefix: empty for Vietnamese, ``en/``, ``cn/``,
``ru/``, ``fr/``):

======================================  ========  ===========================================
path                                    kind      what
======================================  ========  ===========================================
``/<e>``                                listing   edition home page
``/<e><section>/[?page=N]``             listing   section listing, 10 teasers a page
``/<e>tin-moi/[?page=N]``               listing   all articles of the edition, newest first
``/<e><section>/<slug>-<id>.html``      article   article (same slug and id in every edition)
``/<e><slug>-event<id>.html[?page=N]``  listing   topic hub (looks like an article URL)
``/<e>tag/<slug>-<id>.html[?page=N]``   tag       tag listing (looks like an article URL)
``/<e>rss/<section>``                   feed      RSS 2.0, latest 50 items
``/<e>rss``                             other     HTML list of the edition's feeds
``/sitemap-article-YYYY-MM-DD.xml``     sitemap   articles (all editions) published that day
``/robots.txt``                         other     ``Sitemap:`` lines, ``Disallow: /admin/``
``/admin/``                             other     CMS login page (disallowed by robots.txt)
======================================  ========  ===========================================
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import date, datetime
from functools import partial

from replica import onecms_html as tpl
from replica import xmlfeeds
from replica.content import Named, SiteData, Story, load_site_data
from replica.dates import day_date, iso_minute
from replica.manifest import Kind, ManifestEntry
from replica.onecms_model import (
    FEED_SIZE,
    LATEST_SLUG,
    PAGE_SIZE,
    ArticleView,
    Ctx,
    Urls,
    paginate,
    sitemap_path,
)
from replica.site import HTML, RSS, TEXT, XML, Page, Site, Snapshot, collect

HOME_SIZE = 12
SECTION_BLOCK_SIZE = 4
RELATED_SIZE = 5


class OneCmsSite(Site):
    """A OneCMS newspaper whose content is ``replica/data/<key>.site.toml`` plus its stories."""

    def __init__(self, key: str = "nghean") -> None:
        self.key = key

    @property
    def data(self) -> SiteData:
        return load_site_data(self.key)

    def build(self, day: int, base_url: str) -> Snapshot:
        if day < 0:
            raise ValueError("day must be >= 0")
        builder = _Builder(self.data, day, base_url)
        return Snapshot(self.key, day, base_url, collect(builder.pages()))

    def not_found(self) -> bytes:
        data = self.data
        ctx = Ctx(data, data.editions["vi"], "/")
        return tpl.not_found_page(ctx).encode()


def _newest_first(views: list[ArticleView]) -> list[ArticleView]:
    return sorted(views, key=lambda v: (v.published, v.story.id), reverse=True)


class _Builder:
    """Renders one day of one OneCMS site."""

    def __init__(self, data: SiteData, day: int, base_url: str) -> None:
        self.data = data
        self.day = day
        self.base_url = base_url
        self.views: dict[str, list[ArticleView]] = {lang: [] for lang in data.editions}
        last = day_date(day)
        for story in data.stories:
            for lang, edition in story.editions.items():
                if edition.published.date() <= last:
                    served, modified = story.at_day(lang, day)
                    path = Urls(data.editions[lang].prefix).article(story)
                    self.views[lang].append(ArticleView(story, served, modified, path))
        self.views = {lang: _newest_first(views) for lang, views in self.views.items()}
        self.present = {(lang, v.story.id) for lang, views in self.views.items() for v in views}

    def ctx(self, lang: str) -> Ctx:
        return Ctx(self.data, self.data.editions[lang], self.base_url)

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
        tags = {tag.slug: tag for tag in self.data.tags}
        for view in self.views[lang]:
            others = self.furniture(view)
            related = [v for v in others if v.story.category == view.story.category][:RELATED_SIZE]
            html = tpl.article_page(ctx, view, alternates=self.alternates(view.story),
                                    tags=[tags[t] for t in view.story.tags], related=related,
                                    latest=others[:RELATED_SIZE])
            yield Page(view.path, html.encode(), HTML, view.modified, self.article_entry(view))

    def furniture(self, view: ArticleView) -> list[ArticleView]:
        """Articles for the "latest" and "same category" blocks, newest first.

        Frozen at the later of day 0 and the article's own day, so that an article page only
        changes (new ETag) when the article itself is edited, and old articles still have
        neighbours to show.
        """
        cutoff = max(day_date(0), view.published.date())
        return [v for v in self.views[view.lang] if v is not view and v.published.date() <= cutoff]

    def alternates(self, story: Story) -> list[tuple[str, str]]:
        return [(lang, Urls(self.data.editions[lang].prefix).article(story))
                for lang in self.data.editions if (lang, story.id) in self.present]

    def article_entry(self, view: ArticleView) -> ManifestEntry:
        story, edition = view.story, view.edition
        original = None
        if view.lang != "vi":
            original = self.base_url + Urls(self.data.editions["vi"].prefix).article(story).lstrip("/")
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
        yield self.home_page(ctx)
        for category in self.data.categories:
            in_section = [v for v in views if v.story.category == category.slug]
            yield from self.paged(ctx, ctx.section_name(category.slug), in_section, "listing",
                                  partial(ctx.urls.section, category.slug))
        yield from self.paged(ctx, ctx.section_name(LATEST_SLUG), views, "listing",
                              partial(ctx.urls.section, LATEST_SLUG))
        for tag in self.data.tags:
            tagged = [v for v in views if tag.slug in v.story.tags]
            if tagged:
                yield from self.paged(ctx, tag.names.get(lang, tag.names["vi"]), tagged, "tag",
                                      partial(ctx.urls.tag, tag))
        topic = self.data.topic
        in_topic = [v for v in views if v.story.topic]
        if self.has_hub(lang):
            yield from self.paged(ctx, topic.names.get(lang, topic.names["vi"]), in_topic, "listing",
                                  partial(ctx.urls.hub, topic))

    def has_hub(self, lang: str) -> bool:
        return self.data.topic.created is not None and any(v.story.topic for v in self.views[lang])

    def paged(self, ctx: Ctx, heading: str, views: Sequence[ArticleView], kind: Kind,
              target: Callable[[int], str]) -> Iterator[Page]:
        pages = paginate(len(views))
        for number in range(1, pages + 1):
            shown = views[(number - 1) * PAGE_SIZE:number * PAGE_SIZE]
            more = target(number + 1) if number < pages else None
            html = tpl.listing_page(ctx, heading, target(1), shown, more)
            yield Page(target(number), html.encode(), HTML, self.newest(shown), self.entry(target(number), kind,
                                                                                        ctx.lang))

    def newest(self, views: Sequence[ArticleView]) -> datetime:
        return max((v.modified for v in views), default=self.data.opened)

    def home_page(self, ctx: Ctx) -> Page:
        views = self.views[ctx.lang]
        sections = [(c.slug, [v for v in views if v.story.category == c.slug][:SECTION_BLOCK_SIZE])
                    for c in self.data.categories]
        hub = self.data.topic if self.has_hub(ctx.lang) else None
        tags = [t for t in self.data.tags if any(t.slug in v.story.tags for v in views)]
        html = tpl.home_page(ctx, views[:HOME_SIZE], sections, hub, tags)
        return Page(ctx.urls.root, html.encode(), HTML, self.newest(views), self.entry(ctx.urls.root, "listing",
                                                                                         ctx.lang))

    # -- feeds --------------------------------------------------------------------------------

    def feed_pages(self, lang: str) -> Iterator[Page]:
        ctx = self.ctx(lang)
        for category in self.data.categories:
            views = [v for v in self.views[lang] if v.story.category == category.slug]
            items = [self.feed_item(ctx, v) for v in views]
            if lang == "vi" and category.slug == "thoi-su" and self.has_hub(lang):
                items.append(self.hub_item(ctx, self.data.topic))
            items = sorted(items, key=lambda i: i.published, reverse=True)[:FEED_SIZE]
            path = ctx.urls.feed(category.slug)
            name = ctx.section_name(category.slug)
            xml = xmlfeeds.rss(title=f"{ctx.edition.site_name} - {name}",
                               link=ctx.absolute(ctx.urls.section(category.slug)), language=lang, items=items,
                               built=self.newest(views), self_url=ctx.absolute(path))
            yield Page(path, xml.encode(), RSS, self.newest(views), self.entry(path, "feed", lang))
        html = tpl.rss_index_page(ctx)
        path = ctx.urls.rss_index()
        yield Page(path, html.encode(), HTML, self.data.opened, self.entry(path, "other", lang))

    def feed_item(self, ctx: Ctx, view: ArticleView) -> xmlfeeds.FeedItem:
        link = ctx.absolute(view.path)
        description = f'<a href="{link}"><img src="{view.lead_image(self.data, "300x200")}" /></a>' \
                      f"{tpl.e(view.edition.sapo)}"
        return xmlfeeds.FeedItem(view.edition.title, link, view.published, description,
                                 ctx.section_name(view.story.category))

    def hub_item(self, ctx: Ctx, topic: Named) -> xmlfeeds.FeedItem:
        link = ctx.absolute(ctx.urls.hub(topic))
        image = f"{self.data.image_host}/{topic.image}" if topic.image else ""
        description = f'<a href="{link}"><img src="{image}" /></a>{tpl.e(topic.description.get(ctx.lang, ""))}'
        assert topic.created is not None
        return xmlfeeds.FeedItem(topic.names.get(ctx.lang, topic.names["vi"]), link, topic.created, description)

    # -- sitemaps, robots.txt, admin ---------------------------------------------------------

    def by_day(self) -> dict[date, list[ArticleView]]:
        days: dict[date, list[ArticleView]] = defaultdict(list)
        for views in self.views.values():
            for view in views:
                days[view.published.date()].append(view)
        return {d: _newest_first(days[d]) for d in sorted(days, reverse=True)}

    def sitemap_pages(self) -> Iterator[Page]:
        for day, views in self.by_day().items():
            urls = [xmlfeeds.SitemapUrl(self.base_url + v.path.lstrip("/"), v.modified,
                                        tuple(v.image_url(self.data, name) for name in v.edition.images()))
                    for v in views]
            path = sitemap_path(day)
            yield Page(path, xmlfeeds.urlset(urls).encode(), XML, self.newest(views),
                       self.entry(path, "sitemap", "vi"))

    def misc_pages(self) -> Iterator[Page]:
        sitemaps = [self.base_url + sitemap_path(day).lstrip("/") for day in self.by_day()]
        robots = xmlfeeds.robots_txt(["/admin/", "/tim-kiem", "/comment"], sitemaps)
        everything = [v for views in self.views.values() for v in views]
        yield Page("/robots.txt", robots.encode(), TEXT, self.newest(everything),
                   self.entry("/robots.txt", "other", "vi"))
        html = tpl.admin_page(self.ctx("vi"))
        yield Page("/admin/", html.encode(), HTML, self.data.opened, self.entry("/admin/", "other", "vi"))
