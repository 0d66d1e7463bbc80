"""The republishing, machine-translating portal (vietnam.vn): one slug, many languages, no id.

The portal republishes stories of the provincial papers of the replica (the Vietnamese text
verbatim, one day after the original or the same day) and publishes its own machine
translations of them: awkward, with translated names ("Нгеан", "义安"), but with the facts,
figures and image file names of the original. It also carries a few stories of its own (two of
them are seed documents). Content: ``replica/data/portal.site.toml`` and
``portal-story-*.toml``; see :func:`load_portal_data` for the story file format.

URL layout (``<l>/`` is empty for Vietnamese, else ``en/``, ``uk/``, ``ru/``, ``zh/``, ``fr/``, ``es/``):

=============================  ========  ================================================
path                           kind      what
=============================  ========  ================================================
``/<l>``                       listing   home page of the language
``/<l><province>/[?page=N]``   listing   ``nghean``, ``quangtri``, ``binhthuan`` sections
``/<l><slug>``                 article   one ASCII Vietnamese slug for all languages
``/<l>rss``                    feed      RSS 2.0, latest 50 articles of the language
``/sitemap-<lang>.xml``        sitemap   every article of the language, ``lastmod``
``/robots.txt``                other     one ``Sitemap:`` line per language
=============================  ========  ================================================
"""

from __future__ import annotations

import tomllib
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from replica import portal_html as tpl
from replica import xmlfeeds
from replica.content import (
    Edition,
    Event,
    Revision,
    Story,
    edition_at_day,
    load_site_data,
    parse_body,
    story_files,
)
from replica.dates import DAY0, day_date, iso_minute, parse_local, with_seconds
from replica.manifest import Kind, ManifestEntry
from replica.onecms_model import Urls
from replica.portal_html import View
from replica.site import HTML, RSS, TEXT, XML, Page, Site, Snapshot, collect

PORTAL_LANGS: tuple[str, ...] = ("vi", "en", "uk", "ru", "zh", "fr", "es")
# Minutes between the Vietnamese copy and each machine translation.
DELAY_MINUTES = {"vi": 0, "en": 4, "uk": 7, "ru": 9, "zh": 12, "fr": 15, "es": 18}
PAGE_SIZE = 10
FEED_SIZE = 50
HOME_SIZE = 15
BLOCK_SIZE = 4


@dataclass(frozen=True)
class Origin:
    """Where a story comes from: a paper of the replica (``peer``) or an outside page (``url``)."""

    name: str
    url: str = ""
    peer: str = ""
    story: Story | None = None


@dataclass(frozen=True)
class PortalStory:
    key: str
    slug: str
    province: str
    category: str
    conference: bool
    event: Event | None
    origin: Origin
    editions: dict[str, Edition]
    revisions: tuple[Revision, ...]
    group_id: str = ""

    @property
    def group(self) -> str:
        """The duplicate group: the original's (``nghean-10330155``) for republications."""
        if self.origin.story is not None:
            return f"{self.origin.peer}-{self.origin.story.id}"
        return self.group_id or f"portal-{self.slug}"

    def at_day(self, lang: str, day: int) -> tuple[Edition, datetime]:
        return edition_at_day(self.editions, self.revisions, lang, day)


@dataclass(frozen=True)
class PortalData:
    key: str
    banner: str
    image_host: str
    static_host: str
    opened: datetime
    langs: tuple[str, ...]
    ui: dict[str, dict[str, str]]
    provinces: dict[str, dict[str, str]]
    peer_homes: dict[str, str]
    stories: tuple[PortalStory, ...]


# -- loading --------------------------------------------------------------------------------------


def _str(table: Mapping[str, Any], key: str, default: str | None = None) -> str:
    value = table.get(key, default)
    if not isinstance(value, str):
        raise ValueError(f"expected a string at {key!r}, got {value!r}")
    return value.strip()


def _table(table: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = table.get(key, {})
    if not isinstance(value, dict):
        raise ValueError(f"expected a table at {key!r}")
    return value


def _read(name: str) -> dict[str, Any]:
    return tomllib.loads(resources.files("replica").joinpath("data", name).read_text("utf-8"))


def _revision(table: Mapping[str, Any], salt: int) -> Revision:
    sapo = table.get("sapo")
    return Revision(
        day=int(table["day"]), lang=_str(table, "lang"),
        modified=with_seconds(parse_local(_str(table, "modified")), salt),
        sapo=sapo.strip() if isinstance(sapo, str) else None,
        replacements=tuple((str(old), str(new)) for old, new in table.get("replace", [])),
        append=parse_body(_str(table, "append", "")),
    )


def _edition(lang: str, table: Mapping[str, Any], vi: Edition | None, published: datetime) -> Edition:
    """An edition from its table; the title, sapo, body and author default to ``vi``'s."""
    if vi is None or "title" in table:
        title, sapo, blocks = _str(table, "title"), _str(table, "sapo", ""), parse_body(_str(table, "body"))
    else:
        title, sapo, blocks = vi.title, vi.sapo, vi.blocks
    if "published" in table:
        published = parse_local(_str(table, "published"))
    author = _str(table, "author", vi.author if vi is not None else "")
    return Edition(lang=lang, title=title, sapo=sapo, blocks=blocks, published=published, author=author,
                   seed_file=table.get("seed_file"))


def _source_story(source: Mapping[str, Any]) -> tuple[str, Story, str]:
    peer = _str(source, "site")
    site = load_site_data(peer)
    story_id = int(source["story"])
    for story in site.stories:
        if story.id == story_id:
            return peer, story, site.editions["vi"].site_name
    raise ValueError(f"portal: no story {story_id} on {peer}")


def _republished_vi(story: Story, published: datetime) -> Edition:
    """The original's Vietnamese text as it stood when the portal copied it."""
    original = story.editions["vi"].published
    if published < original or (published.date() - original.date()).days > 1:
        raise ValueError(f"portal: story {story.id} must be republished the same day or the day after")
    text, _ = story.at_day("vi", (published.date() - DAY0).days)
    return replace(text, published=published, seed_file=None, garbled_date=False, author_unit="")


def parse_portal_story(key: str, data: Mapping[str, Any]) -> PortalStory:
    salt = zlib.crc32(key.encode())
    published = with_seconds(parse_local(_str(data, "published")), salt)
    tables = _table(data, "editions")
    source = data.get("source")
    if isinstance(source, dict):
        peer, story, name = _source_story(source)
        origin = Origin(name=name, peer=peer, story=story)
        vi = _republished_vi(story, published)
        conference, event, category = story.conference, story.event, story.category
    else:
        origin = Origin(name=_str(data, "source_name"), url=_str(data, "source_url"))
        vi = _edition("vi", tables["vi"], None, published)
        event_table = data.get("event")
        event = Event(**{k: _str(event_table, k) for k in ("type", "date", "place", "organizer")}) \
            if isinstance(event_table, dict) else None
        conference, category = bool(data.get("conference", False)), _str(data, "category")
    editions = {"vi": vi}
    for index, lang in enumerate(PORTAL_LANGS[1:], start=1):
        if lang in tables:
            moment = with_seconds(published + timedelta(minutes=DELAY_MINUTES[lang]), salt + index)
            editions[lang] = _edition(lang, tables[lang], vi, moment)
    if set(tables) - set(PORTAL_LANGS):
        raise ValueError(f"portal story {key}: unknown languages {set(tables) - set(PORTAL_LANGS)}")
    return PortalStory(
        key=key, slug=_str(data, "slug", story.slug if isinstance(source, dict) else None),
        province=_str(data, "province"), category=_str(data, "category", category), conference=conference,
        event=event, origin=origin, editions=editions,
        revisions=tuple(_revision(t, salt) for t in data.get("revisions", [])), group_id=_str(data, "group", ""),
    )


@cache
def load_portal_data(key: str = "portal") -> PortalData:
    """Load (once) ``<key>.site.toml`` and every ``<key>-story-<name>.toml``.

    A republication names its original (``[source] site``, ``story``) and the portal's
    ``published`` time; its Vietnamese edition is the original's text, its other editions
    (``[editions.<lang>]``: ``title``, ``sapo``, ``body``, optional ``author``) are the portal's
    translations. A story of the portal's own also has ``category``, ``source_name``,
    ``source_url``, ``[editions.vi]`` and optionally ``conference`` with ``[event]``.
    """
    site = _read(f"{key}.site.toml")
    stories = tuple(parse_portal_story(name.removeprefix(f"{key}-story-").removesuffix(".toml"), _read(name))
                    for name in story_files(key))
    data = PortalData(
        key=key, banner=_str(site, "banner"), image_host=_str(site, "image_host"),
        static_host=_str(site, "static_host"), opened=parse_local(_str(site, "opened")),
        langs=tuple(str(lang) for lang in site["langs"]),
        ui={lang: {k: str(v) for k, v in t.items()} for lang, t in _table(site, "ui").items()},
        provinces={slug: {k: str(v) for k, v in t.items()} for slug, t in _table(site, "provinces").items()},
        peer_homes={k: str(v) for k, v in _table(site, "peer_homes").items()},
        stories=stories,
    )
    _check(data)
    return data


def _check(data: PortalData) -> None:
    slugs: set[str] = set()
    for story in data.stories:
        if story.slug in slugs:
            raise ValueError(f"portal: two stories with slug {story.slug}")
        slugs.add(story.slug)
        if story.province not in data.provinces:
            raise ValueError(f"portal story {story.key}: unknown province {story.province}")
        if story.conference != (story.event is not None):
            raise ValueError(f"portal story {story.key}: conference stories need an event, others none")
        vi = story.editions["vi"]
        for edition in story.editions.values():
            if edition.published.date() != vi.published.date():
                raise ValueError(f"portal story {story.key}: {edition.lang} not published on the day of vi")
            if edition.images() != vi.images():
                raise ValueError(f"portal story {story.key}: {edition.lang} images differ from vi")


# -- building -------------------------------------------------------------------------------------


class PortalSite(Site):
    """The portal whose content is ``replica/data/<key>.site.toml`` plus its stories."""

    def __init__(self, key: str = "portal") -> None:
        self.key = key

    @property
    def data(self) -> PortalData:
        return load_portal_data(self.key)

    def build(self, day: int, base_url: str) -> Snapshot:
        if day < 0:
            raise ValueError("day must be >= 0")
        builder = _Builder(self.data, day, base_url, self.peers)
        return Snapshot(self.key, day, base_url, collect(builder.pages()))

    def not_found(self) -> bytes:
        return tpl.not_found_page(tpl.Ctx(self.data, "vi", "/")).encode()


def _newest_first(views: list[View]) -> list[View]:
    return sorted(views, key=lambda v: (v.published, v.story.slug), reverse=True)


class _Builder:
    """Renders one day of the portal."""

    def __init__(self, data: PortalData, day: int, base_url: str, peers: Mapping[str, str]) -> None:
        self.data, self.day, self.base_url, self.peers = data, day, base_url, peers
        last = day_date(day)
        views: dict[str, list[View]] = {lang: [] for lang in data.langs}
        for story in data.stories:
            for lang, edition in story.editions.items():
                if edition.published.date() <= last:
                    served, modified = story.at_day(lang, day)
                    views[lang].append(View(story, served, modified, tpl.article_path(lang, story.slug)))
        self.views = {lang: _newest_first(found) for lang, found in views.items()}

    def ctx(self, lang: str) -> tpl.Ctx:
        return tpl.Ctx(self.data, lang, self.base_url)

    def entry(self, path: str, kind: Kind, lang: str) -> ManifestEntry:
        return ManifestEntry(url=self.base_url + path.lstrip("/"), site=self.data.key, kind=kind, language=lang)

    def pages(self) -> Iterator[Page]:
        for lang in self.data.langs:
            yield from self.article_pages(lang)
            yield from self.listing_pages(lang)
            yield self.feed_page(lang)
            yield self.sitemap_page(lang)
        yield self.robots_page()

    def newest(self, views: Sequence[View]) -> datetime:
        return max((v.modified for v in views), default=self.data.opened)

    # -- articles -----------------------------------------------------------------------------

    def peer_base(self, peer: str) -> str:
        return self.peers.get(peer) or self.data.peer_homes[peer]

    def source_url(self, story: PortalStory) -> str:
        """The original's address: on the peer site of the replica, or outside."""
        origin = story.origin
        if origin.story is None:
            return origin.url
        return self.peer_base(origin.peer) + Urls("").article(origin.story).lstrip("/")

    def source_home(self, story: PortalStory) -> str:
        if story.origin.story is not None:
            return self.peer_base(story.origin.peer)
        parts = urlsplit(story.origin.url)
        return f"{parts.scheme}://{parts.netloc}/"

    def article_pages(self, lang: str) -> Iterator[Page]:
        ctx = self.ctx(lang)
        for view in self.views[lang]:
            html = tpl.article_page(ctx, view, source_url=self.source_url(view.story),
                                    source_home=self.source_home(view.story),
                                    alternates=self.alternates(view), furniture=self.furniture(view))
            yield Page(view.path, html.encode(), HTML, view.modified, self.article_entry(view))

    def alternates(self, view: View) -> list[tuple[str, str]]:
        """Every edition of the story (all of them are published on one day)."""
        return [(lang, tpl.article_path(lang, view.story.slug)) for lang in self.data.langs
                if lang in view.story.editions]

    def furniture(self, view: View) -> tpl.Furniture:
        """Same province, category and source, frozen at the later of day 0 and the article's day."""
        cutoff = max(day_date(0), view.published.date())
        others = [v for v in self.views[view.lang] if v.story is not view.story and v.published.date() <= cutoff]
        story = view.story
        return tpl.Furniture(
            same_tag=[v for v in others if v.story.province == story.province][:BLOCK_SIZE],
            same_category=[v for v in others if v.story.category == story.category][:BLOCK_SIZE],
            same_author=[v for v in others if v.story.origin.name == story.origin.name][:BLOCK_SIZE],
        )

    def article_entry(self, view: View) -> ManifestEntry:
        story, edition = view.story, view.edition
        if story.origin.story is not None:
            original: str | None = self.source_url(story)
        else:
            original = None if view.lang == "vi" else self.base_url + story.slug
        return replace(
            self.entry(view.path, "article", view.lang), title=edition.title, text=edition.plain_text(),
            published_at=iso_minute(edition.published), author=edition.author or None,
            duplicate_group=story.group, translation_of=original, is_conference=story.conference,
            event=story.event.as_dict() if story.event else None, seed_file=edition.seed_file,
        )

    # -- listings, feeds, sitemaps ------------------------------------------------------------

    def listing_pages(self, lang: str) -> Iterator[Page]:
        ctx = self.ctx(lang)
        views = self.views[lang]
        sections = [(slug, [v for v in views if v.story.province == slug]) for slug in self.data.provinces]
        html = tpl.home_page(ctx, views[:HOME_SIZE], [(slug, found[:BLOCK_SIZE]) for slug, found in sections])
        yield Page(tpl.root(lang), html.encode(), HTML, self.newest(views), self.entry(tpl.root(lang), "listing", lang))
        for slug, found in sections:
            pages = max(1, -(-len(found) // PAGE_SIZE))
            for number in range(1, pages + 1):
                shown = found[(number - 1) * PAGE_SIZE:number * PAGE_SIZE]
                path = tpl.section_path(lang, slug, number)
                html = tpl.listing_page(ctx, slug, number, shown, pages)
                yield Page(path, html.encode(), HTML, self.newest(shown), self.entry(path, "listing", lang))

    def feed_page(self, lang: str) -> Page:
        ctx = self.ctx(lang)
        views = self.views[lang][:FEED_SIZE]
        items = [xmlfeeds.FeedItem(v.edition.title, ctx.absolute(v.path), v.published,
                                   self.feed_description(ctx, v), ctx.province(v.story.province)) for v in views]
        path = tpl.feed_path(lang)
        xml = xmlfeeds.rss(title=f"Vietnam.vn - {ctx.ui('latest')}", link=ctx.absolute(tpl.root(lang)),
                           language=lang, items=items, built=self.newest(views), self_url=ctx.absolute(path))
        return Page(path, xml.encode(), RSS, self.newest(views), self.entry(path, "feed", lang))

    def feed_description(self, ctx: tpl.Ctx, view: View) -> str:
        images = view.edition.images()
        image = f'<a href="{ctx.absolute(view.path)}"><img src="{view.image_url(self.data, images[0])}" /></a>' \
            if images else ""
        return image + tpl.e(view.edition.sapo)

    def sitemap_page(self, lang: str) -> Page:
        views = self.views[lang]
        urls = [xmlfeeds.SitemapUrl(self.base_url + v.path.lstrip("/"), v.modified,
                                    tuple(v.image_url(self.data, name) for name in v.edition.images()))
                for v in views]
        path = tpl.sitemap_path(lang)
        return Page(path, xmlfeeds.urlset(urls).encode(), XML, self.newest(views), self.entry(path, "sitemap", lang))

    def robots_page(self) -> Page:
        sitemaps = [self.base_url + tpl.sitemap_path(lang).lstrip("/") for lang in self.data.langs]
        robots = xmlfeeds.robots_txt(["/search", "/api/", "/*?q="], sitemaps)
        everything = [v for views in self.views.values() for v in views]
        return Page("/robots.txt", robots.encode(), TEXT, self.newest(everything),
                    self.entry("/robots.txt", "other", "vi"))
