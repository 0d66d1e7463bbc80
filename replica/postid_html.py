"""URL scheme, per-day article view and HTML templates of the "-post<id>" CMS family.

The family (sggp.org.vn, baogialai.com.vn, baohatinh.vn) marks articles ``-post<id>.html``,
lists them as ``article.story h2 a`` / ``a.cms-link`` and prints the structured date in
``time[datetime]``. sggp.org.vn serves its English edition on a separate host with English
slugs and its own ids; each host links the other through hreflang alternates.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

from replica.content import Block, Edition, EditionConfig, Named, SiteData, Story
from replica.dates import VN_TZ, iso_minute

PAGE_SIZE = 10
EN_SECTION_ID_OFFSET = 40
EN_TAG_ID_OFFSET = 40000
LATEST = {"vi": "tin-moi", "en": "latest-news"}
WEEKDAYS = {
    "vi": ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
             "October", "November", "December")


def e(text: str) -> str:
    return escape(text, quote=True)


def slugify(text: str) -> str:
    """``Kỳ họp thứ 4 HĐND TPHCM`` -> ``ky-hop-thu-4-hdnd-tphcm`` (how the CMS makes slugs)."""
    folded = text.replace("đ", "d").replace("Đ", "D")
    plain = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")


def shown_date(moment: datetime, lang: str) -> str:
    """The visible header date: ``Thứ Bảy, 05/09/2026 17:09`` or ``Saturday, September 5, 2026 17:09``."""
    local = moment.astimezone(VN_TZ)
    weekday = WEEKDAYS[lang][local.weekday()]
    if lang == "en":
        return f"{weekday}, {MONTHS_EN[local.month - 1]} {local.day}, {local.year} {local:%H:%M} (GMT+7)"
    return f"{weekday}, {local:%d/%m/%Y %H:%M}"


@dataclass(frozen=True)
class Item:
    """One edition of a story as served on one host on a given day."""

    story: Story
    edition: Edition
    modified: datetime
    path: str

    @property
    def published(self) -> datetime:
        return self.edition.published

    def image_url(self, host: str, name: str, width: int = 1000) -> str:
        day = self.story.editions["vi"].published
        return f"{host}/w{width}/Uploaded/{day.year}/evofjasfzyr/{day:%Y_%m_%d}/{name}"

    def lead_image(self, host: str, width: int = 1000) -> str:
        images = self.edition.images() or self.story.editions["vi"].images()
        return self.image_url(host, images[0], width) if images else f"{host}/assets/web/styles/img/no-image.png"


@dataclass(frozen=True)
class Ctx:
    """What every template needs: the site data, the host's language, its base URL and its peer's."""

    data: SiteData
    lang: str
    base_url: str
    peer_url: str | None

    @property
    def edition(self) -> EditionConfig:
        return self.data.editions[self.lang]

    @property
    def english(self) -> bool:
        return self.lang == "en"

    @property
    def peer_lang(self) -> str:
        return "vi" if self.english else "en"

    def ui(self, key: str) -> str:
        return self.edition.ui.get(key, key)

    def absolute(self, path: str) -> str:
        return self.base_url + path.lstrip("/")

    def name(self, named: Named) -> str:
        return named.names.get(self.lang, named.names["vi"])

    # -- URL scheme ----------------------------------------------------------------------------

    def section_slug(self, category: str) -> str:
        if category == LATEST["vi"]:
            return LATEST[self.lang]
        if not self.english:
            return category
        named = next(c for c in self.data.categories if c.slug == category)
        return slugify(named.names["en"])

    def section(self, category: str, page: int = 1) -> str:
        slug = self.section_slug(category)
        return f"/{slug}/" if page == 1 else f"/{slug}/trang-{page}.html"

    def section_name(self, category: str) -> str:
        if category == LATEST["vi"]:
            return self.ui("latest")
        return self.name(next(c for c in self.data.categories if c.slug == category))

    def article(self, story: Story, post_id: int) -> str:
        slug = slugify(story.editions["en"].title) if self.english else story.slug
        return f"/{self.section_slug(story.category)}/{slug}-post{post_id}.html"

    def tag(self, tag: Named) -> str:
        if self.english:
            return f"/tag/{slugify(tag.names['en'])}-{tag.id + EN_TAG_ID_OFFSET}.html"
        return f"/tag/{tag.slug}-{tag.id}.html"

    def topic(self) -> str:
        topic = self.data.topic
        if self.english:
            return f"/event/{slugify(topic.names['en'])}-{topic.id}.html"
        return f"/su-kien/{topic.slug}-{topic.id}.html"

    def feed(self, category: Named) -> str:
        if self.english:
            return f"/rss/{self.section_slug(category.slug)}-{category.id + EN_SECTION_ID_OFFSET}.rss"
        return f"/rss/{category.slug}-{category.id}.rss"


# -- page frame ---------------------------------------------------------------------------------


def _alternate_links(alternates: Sequence[tuple[str, str]]) -> str:
    return "\n".join(f'<link rel="alternate" hreflang="{lang}" href="{e(url)}">' for lang, url in alternates)


def page(ctx: Ctx, title: str, head: str, main: str, body_class: str, *,
         alternates: Sequence[tuple[str, str]] = ()) -> str:
    """A complete document; no RSS autodiscovery links (the real site has none)."""
    host = ctx.data.image_host
    return f"""<!DOCTYPE html>
<html lang="{ctx.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title>
<meta property="og:site_name" content="{e(ctx.edition.site_name)}">
{head}
{_alternate_links(alternates)}
<link rel="stylesheet" href="{host}/assets/web/styles/css/main.min.css?v=20260812">
<link rel="shortcut icon" href="{host}/assets/web/styles/img/favicon.ico">
<script src="{host}/assets/web/js/cms.min.js?v=20260812" defer></script>
</head>
<body class="{body_class}">
{_header(ctx)}
<div class="site-body"><div class="container">
{main}
</div></div>
{_footer(ctx)}
</body>
</html>
"""


def _menu(ctx: Ctx) -> str:
    slugs = [c.slug for c in ctx.data.categories] + [LATEST["vi"]]
    items = "".join(f'<li class="menu__item"><a class="menu__link" href="{ctx.section(s)}">'
                    f"{e(ctx.section_name(s))}</a></li>" for s in slugs)
    return f'<ul class="menu"><li class="menu__item menu__item--home"><a class="menu__link" href="/">' \
           f'{e(ctx.ui("home"))}</a></li>{items}</ul>'


def _language_link(ctx: Ctx, href: str | None = None, css: str = "header__lang") -> str:
    target = href or ctx.peer_url
    if target is None:
        return ""
    return f'<a class="{css}" hreflang="{ctx.peer_lang}" href="{e(target)}">{e(ctx.ui("other_language"))}</a>'


def _header(ctx: Ctx) -> str:
    return f"""<header class="site-header">
<div class="header__top container"><span class="header__date">{e(ctx.ui("hotline"))}</span>
{_language_link(ctx)}
<form class="header__search" action="/tim-kiem/" method="get"><input type="text" name="q" \
placeholder="{e(ctx.ui("search"))}"></form></div>
<div class="header__logo"><a href="/" title="{e(ctx.edition.site_name)}"><img src="{ctx.data.image_host}\
/assets/web/styles/img/logo-{ctx.lang}.png" alt="{e(ctx.edition.site_name)}"></a></div>
<nav class="site-menu">{_menu(ctx)}</nav>
</header>"""


def _footer(ctx: Ctx) -> str:
    lines = "".join(f"<p>{e(line)}</p>" for line in ctx.edition.footer)
    return f"""<footer class="site-footer">
<nav class="footer__menu">{_menu(ctx)}</nav>
<div class="footer__info">{lines}</div>
<div class="footer__links"><a href="/rss.html">RSS</a> {_language_link(ctx)}</div>
</footer>"""


# -- teasers and blocks ------------------------------------------------------------------------


def teaser(ctx: Ctx, item: Item, summary: bool = True) -> str:
    title = e(item.edition.title)
    sapo = f'<div class="story__summary">{e(item.edition.sapo)}</div>' if summary else ""
    return f"""<article class="story">
<figure class="story__thumb"><a class="cms-link" href="{item.path}" title="{title}"><img \
src="{item.lead_image(ctx.data.image_host, 480)}" alt="{title}"></a></figure>
<h2 class="story__heading"><a class="cms-link" href="{item.path}" title="{title}">{title}</a></h2>
<div class="story__meta"><span class="story__time">{item.published.astimezone(VN_TZ):%d/%m/%Y}</span></div>{sapo}
</article>"""


def teasers(ctx: Ctx, items: Sequence[Item], summary: bool = True) -> str:
    return "\n".join(teaser(ctx, item, summary) for item in items)


def box(css: str, heading: str, body: str) -> str:
    return f'<section class="box {css}"><h3 class="box-heading">{e(heading)}</h3>' \
           f'<div class="box-content">{body}</div></section>'


def _block(ctx: Ctx, item: Item, block: Block) -> str:
    if block.kind == "h":
        return f"<h2>{e(block.text)}</h2>"
    if block.kind == "p":
        return f"<p>{e(block.text)}</p>"
    caption = f"<figcaption>{e(block.text)}</figcaption>" if block.text else ""
    return f'<figure class="image"><img src="{item.image_url(ctx.data.image_host, block.image)}" ' \
           f'alt="{e(item.edition.title)}">{caption}</figure>'


def _tags(ctx: Ctx, tags: Sequence[Named]) -> str:
    links = "".join(f'<a class="article__tag-item" href="{ctx.tag(t)}">{e(ctx.name(t))}</a>' for t in tags)
    return f'<div class="article__tag"><span>{e(ctx.ui("tags"))}:</span>{links}</div>' if links else ""


def _comments(ctx: Ctx) -> str:
    return f"""<section class="box comment"><h3 class="box-heading">{e(ctx.ui("comments"))} (0)</h3>
<form class="comment__form" method="post" action="/api/comment"><textarea name="content" \
placeholder="{e(ctx.ui("comment_placeholder"))}"></textarea><input type="text" name="name" \
placeholder="{e(ctx.ui("comment_name"))}"><button type="submit">{e(ctx.ui("comment_submit"))}</button></form>
</section>"""


def _article_head(ctx: Ctx, item: Item) -> str:
    ed = item.edition
    url = ctx.absolute(item.path)
    return f"""<meta name="description" content="{e(ed.sapo)}">
<meta property="og:title" content="{e(ed.title)}">
<meta property="og:type" content="article">
<meta property="og:url" content="{e(url)}">
<meta property="og:image" content="{item.lead_image(ctx.data.image_host)}">
<meta property="og:description" content="{e(ed.sapo)}">
<meta property="article:published_time" content="{ed.published.isoformat(timespec="seconds")}">
<meta property="article:modified_time" content="{item.modified.isoformat(timespec="seconds")}">
<meta property="article:section" content="{e(ctx.section_name(item.story.category))}">
<link rel="canonical" href="{e(url)}">"""


@dataclass(frozen=True)
class ArticleParts:
    """The furniture around an article body."""

    alternates: Sequence[tuple[str, str]]
    tags: Sequence[Named]
    related: Sequence[Item]
    most_read: Sequence[Item]
    translation: str | None


def article_page(ctx: Ctx, item: Item, parts: ArticleParts) -> str:
    ed = item.edition
    body = "\n".join(_block(ctx, item, block) for block in ed.blocks)
    section = item.story.category
    translation = _language_link(ctx, parts.translation, "article__lang") if parts.translation else ""
    translator = f'<span class="article__translator"> – {e(ed.author_unit)}</span>' if ed.author_unit else ""
    main = f"""<div class="breadcrumbs"><a class="breadcrumbs__link" href="{ctx.section(section)}">\
{e(ctx.section_name(section))}</a></div>
<div class="main-col">
<article class="article" data-id="{item.path.rsplit("-post", 1)[-1].removesuffix(".html")}">
<div class="article__header">
<h1 class="article__title cms-title">{e(ed.title)}</h1>
<div class="article__meta"><time class="time" datetime="{iso_minute(ed.published)}">\
{shown_date(ed.published, ctx.lang)}</time>{translation}</div>
</div>
<div class="article__sapo cms-desc">{e(ed.sapo)}</div>
<div class="article__body cms-body">
{body}
</div>
<div class="article__author"><span class="name cms-author">{e(ed.author)}</span>{translator}</div>
{_tags(ctx, parts.tags)}
</article>
{box("box-related", ctx.ui("related"), teasers(ctx, parts.related, summary=False))}
{_comments(ctx)}
</div>
<aside class="sidebar">{box("box-most-read", ctx.ui("most_read"), teasers(ctx, parts.most_read, False))}</aside>"""
    return page(ctx, f"{ed.title} | {ctx.edition.site_name}", _article_head(ctx, item), main,
                "page-detail", alternates=parts.alternates)


def _pagination(ctx: Ctx, category: str, number: int, pages: int) -> str:
    if pages <= 1:
        return ""
    links = [f'<a class="pagination__item{" is-active" if n == number else ""}" href="{ctx.section(category, n)}">'
             f"{n}</a>" for n in range(1, pages + 1)]
    if number < pages:
        links.append(f'<a class="pagination__next" rel="next" href="{ctx.section(category, number + 1)}">'
                     f"{e(ctx.ui('next'))}</a>")
    return f'<div class="pagination">{"".join(links)}</div>'


@dataclass(frozen=True)
class Listing:
    heading: str
    path: str
    items: Sequence[Item]
    category: str = ""
    number: int = 1
    pages: int = 1


def listing_page(ctx: Ctx, listing: Listing, most_read: Sequence[Item]) -> str:
    """A section (paginated as ``trang-N.html``), tag or topic listing."""
    items = teasers(ctx, listing.items) if listing.items else f'<p class="empty">{e(ctx.ui("empty"))}</p>'
    pager = _pagination(ctx, listing.category, listing.number, listing.pages) if listing.category else ""
    main = f"""<h1 class="category-heading">{e(listing.heading)}</h1>
<div class="main-col"><div class="timeline">
{items}
</div>
{pager}</div>
<aside class="sidebar">{box("box-most-read", ctx.ui("most_read"), teasers(ctx, most_read, False))}</aside>"""
    title = listing.heading if listing.number == 1 else f"{listing.heading} - {ctx.ui('page')} {listing.number}"
    head = f'<link rel="canonical" href="{e(ctx.absolute(listing.path))}">'
    return page(ctx, f"{title} | {ctx.edition.site_name}", head, main, "page-category")


def home_page(ctx: Ctx, top: Sequence[Item], sections: Sequence[tuple[str, Sequence[Item]]], *,
              most_read: Sequence[Item], tags: Sequence[Named], topic: bool) -> str:
    blocks = "\n".join(
        box(f"box-category box-category--{slug}", ctx.section_name(slug), teasers(ctx, items, summary=False))
        for slug, items in sections if items)
    topic_html = box("box-event", ctx.ui("topic"), f'<a class="event__link" href="{ctx.topic()}">'
                     f"{e(ctx.name(ctx.data.topic))}</a>") if topic else ""
    main = f"""<div class="main-col">
{box("box-featured", ctx.ui("top_stories"), teasers(ctx, top))}
{topic_html}
{blocks}
</div>
<aside class="sidebar">{box("box-most-read", ctx.ui("most_read"), teasers(ctx, most_read, False))}
{_tags(ctx, tags)}</aside>"""
    head = f'<link rel="canonical" href="{e(ctx.absolute("/"))}">\n<meta name="description" ' \
           f'content="{e(ctx.ui("description"))}">'
    alternates = [(ctx.lang, ctx.absolute("/"))] + ([(ctx.peer_lang, ctx.peer_url)] if ctx.peer_url else [])
    return page(ctx, ctx.edition.site_name, head, main, "page-home", alternates=alternates)


def rss_index_page(ctx: Ctx, feeds: Sequence[tuple[str, str]]) -> str:
    """``/rss.html``: the human-readable list of the host's feeds (name, path)."""
    rows = "\n".join(f'<li><a href="{path}">{e(name)}</a> <span class="rss__url">{e(ctx.absolute(path))}</span></li>'
                     for name, path in feeds)
    main = f"""<h1 class="category-heading">RSS</h1>
<p class="rss__intro">{e(ctx.ui("rss_intro"))}</p>
<ul class="rss-list">
{rows}
</ul>"""
    return page(ctx, f"RSS | {ctx.edition.site_name}", "", main, "page-rss")


def not_found_page(ctx: Ctx) -> str:
    main = f'<h1 class="category-heading">404</h1><p>{e(ctx.ui("not_found"))}</p>'
    return page(ctx, f"404 | {ctx.edition.site_name}", '<meta name="robots" content="noindex">', main, "page-404")
