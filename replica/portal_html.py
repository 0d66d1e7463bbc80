"""URL scheme and HTML templates of the republishing portal (vietnam.vn style).

The page furniture follows the captured pages of the seeds: the Vietnamese site banner in every
language, the headline, the source paper's name twice glued to the date (``Báo Nghệ AnBáo Nghệ
An05/09/2026``; the only date on an article page), the machine-translated body, the author line,
"Source" with a link to the original, "Comment (0)", then "Same tag", "Same category", "Same
author" and the portal's category boxes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING

from replica.dates import VN_TZ

if TYPE_CHECKING:
    from replica.content import Block, Edition
    from replica.portal import PortalData, PortalStory

SIDE_BOXES = ("heritage", "figure", "business", "no_videos", "news", "ministry", "local", "product")


def e(text: str) -> str:
    return escape(text, quote=True)


# -- URL scheme ---------------------------------------------------------------------------------


def root(lang: str) -> str:
    """``/`` for Vietnamese, ``/<lang>/`` for the machine-translated editions."""
    return "/" if lang == "vi" else f"/{lang}/"


def article_path(lang: str, slug: str) -> str:
    """``/<lang>/<slug>``: one ASCII Vietnamese slug for every language, no numeric id."""
    return root(lang) + slug


def section_path(lang: str, province: str, page: int = 1) -> str:
    return f"{root(lang)}{province}/" + (f"?page={page}" if page > 1 else "")


def feed_path(lang: str) -> str:
    return root(lang) + "rss"


def sitemap_path(lang: str) -> str:
    return f"/sitemap-{lang}.xml"


@dataclass(frozen=True)
class Ctx:
    """What every template needs: the portal, the language and the absolute base URL."""

    data: PortalData
    lang: str
    base_url: str

    def ui(self, key: str) -> str:
        strings = self.data.ui.get(self.lang, {})
        return strings.get(key) or self.data.ui["en"].get(key, key)

    def absolute(self, path: str) -> str:
        return self.base_url + path.lstrip("/")

    def province(self, slug: str) -> str:
        names = self.data.provinces[slug]
        return names.get(self.lang, names["vi"])


@dataclass(frozen=True)
class View:
    """One language edition of a portal story as served on a given day."""

    story: PortalStory
    edition: Edition
    modified: datetime
    path: str

    @property
    def lang(self) -> str:
        return self.edition.lang

    @property
    def published(self) -> datetime:
        return self.edition.published

    def image_url(self, data: PortalData, name: str) -> str:
        day = self.story.editions["vi"].published
        return f"{data.image_host}/thumb/1200x675/vietnam/resource/IMAGE/{day.year}/{day.month}/{day.day}/{name}"


# -- page frame ---------------------------------------------------------------------------------


def page(ctx: Ctx, title: str, head: str, main: str, body_class: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="{ctx.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title>
<meta property="og:site_name" content="Vietnam.vn">
{head}
<link rel="alternate" type="application/rss+xml" title="Vietnam.vn RSS" href="{feed_path(ctx.lang)}">
<link rel="stylesheet" href="{ctx.data.static_host}/css/vietnam.min.css">
<script async src="{ctx.data.static_host}/js/app.min.js"></script>
</head>
<body class="{body_class}">
{_header(ctx)}
<main class="main container">
{main}
</main>
{_footer(ctx)}
</body>
</html>
"""


def _languages(ctx: Ctx) -> str:
    links = "".join(
        f'<li><a class="lang{" active" if lang == ctx.lang else ""}" hreflang="{lang}" href="{root(lang)}">'
        f"{e(ctx.data.ui[lang].get('label', lang))}</a></li>"
        for lang in ctx.data.langs
    )
    return f'<ul class="header__langs">{links}</ul>'


def _menu(ctx: Ctx) -> str:
    items = "".join(
        f'<li><a href="{section_path(ctx.lang, slug)}">{e(ctx.province(slug))}</a></li>'
        for slug in ctx.data.provinces
    )
    return f'<ul class="menu"><li><a href="{root(ctx.lang)}">{e(ctx.ui("home"))}</a></li>{items}</ul>'


def _header(ctx: Ctx) -> str:
    return f"""<header class="header">
<div class="header__brand"><a class="header__logo" href="{root(ctx.lang)}">{e(ctx.data.banner)}</a></div>
{_languages(ctx)}
<nav class="header__nav">{_menu(ctx)}</nav>
<form class="header__search" action="{root(ctx.lang)}search" method="get"><input name="q" \
placeholder="{e(ctx.ui("search"))}"></form>
</header>"""


def _side_boxes(ctx: Ctx) -> str:
    boxes = "\n".join(
        f'<section class="box box--{key}"><h3 class="box__title">{e(ctx.ui(key))}</h3></section>'
        for key in SIDE_BOXES
    )
    return f'<aside class="sidebar">\n{boxes}\n</aside>'


def _footer(ctx: Ctx) -> str:
    return f"""<footer class="footer">
<nav class="footer__nav">{_menu(ctx)}</nav>
<p class="footer__about">{e(ctx.ui("about"))}</p>
<p class="footer__copyright">© Vietnam.vn</p>
</footer>"""


# -- articles -----------------------------------------------------------------------------------


def date_line(view: View) -> str:
    """``dd/mm/yyyy`` as shown after the doubled source name."""
    return view.edition.published.astimezone(VN_TZ).strftime("%d/%m/%Y")


def _block(ctx: Ctx, view: View, block: Block) -> str:
    if block.kind == "h":
        return f"<h2>{e(block.text)}</h2>"
    if block.kind == "p":
        return f"<p>{e(block.text)}</p>"
    caption = f"<figcaption>{e(block.text)}</figcaption>" if block.text else ""
    return f'<figure class="image"><img src="{view.image_url(ctx.data, block.image)}" alt="{e(block.image)}" ' \
           f'loading="lazy">{caption}</figure>'


def _teaser_links(ctx: Ctx, views: Sequence[View]) -> str:
    if not views:
        return f'<p class="empty">{e(ctx.ui("no_data"))}</p>'
    return "\n".join(f'<a class="related__item" href="{v.path}">{e(v.edition.title)}</a>' for v in views)


def _related(ctx: Ctx, css: str, heading: str, views: Sequence[View]) -> str:
    return f'<section class="related related--{css}"><h2 class="related__title">{e(heading)}</h2>\n' \
           f"{_teaser_links(ctx, views)}\n</section>"


def _article_head(ctx: Ctx, view: View, alternates: Sequence[tuple[str, str]]) -> str:
    ed = view.edition
    links = "\n".join(
        f'<link rel="alternate" hreflang="{lang}" href="{ctx.absolute(path)}">' for lang, path in alternates
    )
    images = ed.images()
    image = f'\n<meta property="og:image" content="{view.image_url(ctx.data, images[0])}">' if images else ""
    return f"""<meta name="description" content="{e(ed.sapo)}">
<meta property="og:type" content="article">
<meta property="og:title" content="{e(ed.title)}">
<meta property="og:url" content="{ctx.absolute(view.path)}">{image}
<link rel="canonical" href="{ctx.absolute(view.path)}">
{links}"""


@dataclass(frozen=True)
class Furniture:
    """The blocks under an article: stories of the same province, category and source."""

    same_tag: Sequence[View]
    same_category: Sequence[View]
    same_author: Sequence[View]


def article_page(ctx: Ctx, view: View, *, source_url: str, source_home: str,
                 alternates: Sequence[tuple[str, str]], furniture: Furniture) -> str:
    ed, story = view.edition, view.story
    name = e(story.origin.name)
    body = "\n".join(_block(ctx, view, block) for block in ed.blocks)
    sapo = f'<p class="article__sapo"><strong>{e(ed.sapo)}</strong></p>\n' if ed.sapo else ""
    author = f'\n<p class="article__author" style="text-align: right;"><strong>{e(ed.author)}</strong></p>' \
        if ed.author else ""
    original = story.editions["vi"].title
    main = f"""<div class="breadcrumb"><a href="{root(ctx.lang)}">{e(ctx.ui("home"))}</a> / \
<a href="{section_path(ctx.lang, story.province)}">{e(ctx.province(story.province))}</a></div>
<article class="article">
<h1 class="article__title">{e(ed.title)}</h1>
<div class="article__meta"><a class="article__source-logo" href="{e(source_home)}" rel="nofollow">{name}</a>\
<span class="article__source-name">{name}</span><span class="article__date">{date_line(view)}</span></div>
<div class="article__body">
{sapo}{body}{author}
</div>
<div class="article__source"><span class="article__source-label">{e(ctx.ui("source"))}</span>
<a class="source-link" href="{e(source_url)}" target="_blank" rel="nofollow noopener">{e(original)}</a></div>
</article>
<section class="comment"><h2 class="comment__title">{e(ctx.ui("comment"))} (0)</h2>
<p class="comment__empty">{e(ctx.ui("no_data"))}</p><p class="comment__empty">{e(ctx.ui("no_data"))}</p></section>
{_related(ctx, "tag", ctx.ui("same_tag"), furniture.same_tag)}
{_related(ctx, "category", ctx.ui("same_category"), furniture.same_category)}
{_related(ctx, "author", ctx.ui("same_author"), furniture.same_author)}
{_side_boxes(ctx)}"""
    return page(ctx, ed.title, _article_head(ctx, view, alternates), main, "page-detail")


# -- listings -----------------------------------------------------------------------------------


def teaser(ctx: Ctx, view: View) -> str:
    title = e(view.edition.title)
    images = view.edition.images()
    thumb = f'<a class="story__thumb" href="{view.path}"><img src="{view.image_url(ctx.data, images[0])}" ' \
            f'alt="{title}"></a>' if images else ""
    return f"""<div class="story">{thumb}
<h3 class="story__title"><a href="{view.path}">{title}</a></h3>
<p class="story__source">{e(view.story.origin.name)}</p>
<p class="story__summary">{e(view.edition.sapo)}</p></div>"""


def _teasers(ctx: Ctx, views: Sequence[View]) -> str:
    if not views:
        return f'<p class="empty">{e(ctx.ui("no_data"))}</p>'
    return "\n".join(teaser(ctx, view) for view in views)


def listing_page(ctx: Ctx, province: str, number: int, views: Sequence[View], pages: int) -> str:
    """A province section page, with numbered pagination."""
    heading = ctx.province(province)
    links = "".join(
        f'<a class="pagination__item{" active" if n == number else ""}" href="{section_path(ctx.lang, province, n)}">'
        f"{n}</a>" for n in range(1, pages + 1)
    ) if pages > 1 else ""
    following = f'<a class="pagination__next" rel="next" href="{section_path(ctx.lang, province, number + 1)}">' \
                f"{e(ctx.ui('next'))}</a>" if number < pages else ""
    main = f"""<div class="breadcrumb"><a href="{root(ctx.lang)}">{e(ctx.ui("home"))}</a> / {e(heading)}</div>
<h1 class="category__title">{e(heading)}</h1>
<div class="stories">
{_teasers(ctx, views)}
</div>
<div class="pagination">{links}{following}</div>
{_side_boxes(ctx)}"""
    head = f'<link rel="canonical" href="{ctx.absolute(section_path(ctx.lang, province, number))}">'
    return page(ctx, f"{heading} - Vietnam.vn", head, main, "page-category")


def home_page(ctx: Ctx, latest: Sequence[View], sections: Sequence[tuple[str, Sequence[View]]]) -> str:
    blocks = "\n".join(
        f'<section class="home__section"><h2><a href="{section_path(ctx.lang, slug)}">{e(ctx.province(slug))}</a>'
        f"</h2>\n{_teasers(ctx, views)}</section>"
        for slug, views in sections
    )
    main = f"""<section class="home__latest"><h2>{e(ctx.ui("latest"))}</h2>
<div class="stories">
{_teasers(ctx, latest)}
</div></section>
{blocks}
{_side_boxes(ctx)}"""
    head = f'<link rel="canonical" href="{ctx.absolute(root(ctx.lang))}">\n' \
           f'<meta name="description" content="{e(ctx.ui("about"))}">'
    return page(ctx, ctx.data.banner, head, main, "page-home")


def not_found_page(ctx: Ctx) -> str:
    main = f'<h1 class="category__title">404</h1><p>{e(ctx.ui("not_found"))}</p>'
    return page(ctx, "404 - Vietnam.vn", '<meta name="robots" content="noindex">', main, "page-404")
