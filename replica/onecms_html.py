"""HTML templates of the OneCMS family (baonghean.vn and its sister papers)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from replica.content import Block, Named
from replica.dates import dnum_date, header_date, us_meta
from replica.onecms_model import LATEST_SLUG, ArticleView, Ctx

POWERED = "POWERED BY ONECMS - A PRODUCT OF NEKO"


def e(text: str) -> str:
    return escape(text, quote=True)


def _feed_links(ctx: Ctx) -> str:
    return "\n".join(
        f'<link rel="alternate" type="application/rss+xml" title="{e(ctx.edition.site_name)} - '
        f'{e(ctx.section_name(c.slug))}" href="{ctx.urls.feed(c.slug)}">'
        for c in ctx.data.categories
    )


def page(ctx: Ctx, title: str, head: str, main: str, body_class: str) -> str:
    """A complete document: head, site header, ``main`` and the big footer."""
    return f"""<!DOCTYPE html>
<html lang="{ctx.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title>
<meta property="og:site_name" content="{e(ctx.edition.site_name)}">
{head}
{_feed_links(ctx)}
<link rel="stylesheet" href="{ctx.data.image_host}/assets/onecms/css/main.min.css">
<link rel="icon" href="{ctx.data.image_host}/assets/onecms/favicon.ico">
<script>window.dataLayer = window.dataLayer || []; dataLayer.push({{"pageType": "{body_class}"}});</script>
</head>
<body class="onecms {body_class}">
{_header(ctx)}
<main class="l-main">
{main}
</main>
{_footer(ctx)}
</body>
</html>
"""


def _menu(ctx: Ctx) -> str:
    slugs = [c.slug for c in ctx.data.categories] + [LATEST_SLUG]
    items = "".join(
        f'<li class="c-menu__item"><a href="{ctx.urls.section(s)}">{e(ctx.section_name(s))}</a></li>'
        for s in slugs
    )
    return f'<ul class="c-menu__list"><li class="c-menu__item"><a href="{ctx.urls.root}">' \
           f'{e(ctx.ui("home"))}</a></li>{items}</ul>'


def _languages(ctx: Ctx) -> str:
    links = "".join(
        f'<a class="c-lang__item{" is-active" if ed.lang == ctx.lang else ""}" hreflang="{ed.lang}" '
        f'href="/{ed.prefix + "/" if ed.prefix else ""}">{e(ed.label)}</a>'
        for ed in ctx.data.editions.values()
    )
    return f'<div class="c-lang">{links}</div>'


def _header(ctx: Ctx) -> str:
    return f"""<header class="c-header">
<div class="c-header__top">{_languages(ctx)}
<form class="c-search" action="{ctx.urls.root}tim-kiem" method="get"><input type="text" name="q" \
placeholder="{e(ctx.ui("search"))}"><button type="submit">{e(ctx.ui("search"))}</button></form></div>
<div class="c-header__logo"><a href="{ctx.urls.root}" title="{e(ctx.edition.site_name)}">\
<img src="{ctx.data.image_host}/assets/onecms/logo.png" alt="{e(ctx.edition.site_name)}"></a></div>
<nav class="c-menu">{_menu(ctx)}</nav>
</header>"""


def _footer(ctx: Ctx) -> str:
    lines = "".join(f"<p>{e(line)}</p>" for line in ctx.edition.footer)
    return f"""<footer class="c-footer">
<nav class="c-footer__menu">{_menu(ctx)}</nav>
<div class="c-footer__info">{lines}</div>
<div class="c-footer__rss"><a href="{ctx.urls.rss_index()}">RSS</a></div>
<div class="c-footer__powered">{POWERED}</div>
</footer>"""


def teaser(ctx: Ctx, view: ArticleView, desc: bool = True) -> str:
    title = e(view.edition.title)
    sapo = f'<div class="b-grid__desc">{e(view.edition.sapo)}</div>' if desc else ""
    return f"""<article class="b-grid">
<div class="b-grid__img"><a href="{view.path}" title="{title}"><img src="\
{view.lead_image(ctx.data, "540x360")}" alt="{title}"></a></div>
<div class="b-grid__content"><h3 class="b-grid__title"><a href="{view.path}" title="{title}">{title}</a></h3>
<div class="b-grid__time">{header_date(view.published)}</div>{sapo}</div>
</article>"""


def _teasers(ctx: Ctx, views: Iterable[ArticleView], desc: bool = True) -> str:
    return "\n".join(teaser(ctx, view, desc) for view in views)


def _block(ctx: Ctx, view: ArticleView, block: Block) -> str:
    if block.kind == "h":
        return f"<h2>{e(block.text)}</h2>"
    if block.kind == "p":
        return f"<p>{e(block.text)}</p>"
    caption = f"<figcaption>{e(block.text)}</figcaption>" if block.text else ""
    return f'<figure class="image"><img src="{view.image_url(ctx.data, block.image)}" ' \
           f'alt="{e(view.edition.title)}">{caption}</figure>'


def _byline(view: ArticleView) -> str:
    edition = view.edition
    shown = dnum_date(edition.published) if edition.garbled_date else header_date(edition.published)
    unit = f'<span class="sc-longform-header-unit">, {e(edition.author_unit)}</span>' \
        if edition.author_unit else ""
    return f'<div class="sc-longform-header-meta"><span class="sc-longform-header-author">' \
           f'{e(edition.author)}</span>{unit} <span class="sc-longform-header-date">{shown}</span></div>'


def _article_head(ctx: Ctx, view: ArticleView, alternates: Sequence[tuple[str, str]]) -> str:
    ed = view.edition
    links = "\n".join(
        f'<link rel="alternate" hreflang="{lang}" href="{ctx.absolute(path)}">' for lang, path in alternates
    )
    return f"""<meta name="description" content="{e(ed.sapo)}">
<meta property="og:title" content="{e(ed.title)}">
<meta property="og:type" content="article">
<meta property="og:url" content="{ctx.absolute(view.path)}">
<meta property="og:image" content="{view.lead_image(ctx.data)}">
<meta property="og:description" content="{e(ed.sapo)}">
<meta property="article:published_time" content="{us_meta(ed.published)}">
<meta property="article:section" content="{e(ctx.section_name(view.story.category))}">
<link rel="canonical" href="{ctx.absolute(view.path)}">
{links}"""


def _side_block(css: str, heading: str, body: str) -> str:
    return f'<section class="{css}"><h2 class="c-block__title">{e(heading)}</h2>' \
           f'<div class="c-block__list">{body}</div></section>'


def _tag_links(ctx: Ctx, tags: Sequence[Named]) -> str:
    links = "".join(
        f'<a class="c-tags__item" href="{ctx.urls.tag(t)}">{e(t.names.get(ctx.lang, t.names["vi"]))}</a>'
        for t in tags
    )
    return f'<div class="c-tags"><span>{e(ctx.ui("tags"))}:</span>{links}</div>' if links else ""


def _comment_box(ctx: Ctx) -> str:
    return f"""<section class="c-comment"><h2 class="c-block__title">{e(ctx.ui("comments"))} (0)</h2>
<form class="c-comment__form" method="post" action="{ctx.urls.root}comment">
<textarea name="content" placeholder="{e(ctx.ui("comment_placeholder"))}"></textarea>
<button type="submit">{e(ctx.ui("comment_submit"))}</button></form></section>"""


def _share(ctx: Ctx, url: str) -> str:
    return f"""<div class="c-share"><span>{e(ctx.ui("share"))}</span>
<a class="c-share__fb" href="https://www.facebook.com/sharer/sharer.php?u={e(url)}" rel="nofollow">Facebook</a>
<a class="c-share__zalo" href="https://zalo.me/share?url={e(url)}" rel="nofollow">Zalo</a>
<a class="c-share__copy" href="#" data-url="{e(url)}">{e(ctx.ui("copy_link"))}</a></div>"""


def article_page(ctx: Ctx, view: ArticleView, *, alternates: Sequence[tuple[str, str]], tags: Sequence[Named],
                 related: Sequence[ArticleView], latest: Sequence[ArticleView]) -> str:
    """A OneCMS long-form article with its furniture around the body."""
    ed = view.edition
    section = view.story.category
    body = "\n".join(_block(ctx, view, block) for block in ed.blocks)
    main = f"""<div class="c-breadcrumb"><a href="{ctx.urls.root}">{e(ctx.ui("home"))}</a> /
<a href="{ctx.urls.section(section)}">{e(ctx.section_name(section))}</a></div>
<article class="sc-longform">
<div class="sc-longform-header">
<h1 class="sc-longform-header-title">{e(ed.title)}</h1>
{_byline(view)}
<p class="sc-longform-header-sapo">{e(ed.sapo)}</p>
</div>
<div class="article__body cms-body">
{body}
</div>
{_tag_links(ctx, tags)}
{_share(ctx, ctx.absolute(view.path))}
</article>
{_side_block("c-featured", ctx.ui("featured"), _teasers(ctx, latest[:1], desc=False))}
{_comment_box(ctx)}
{_side_block("c-same-category", ctx.ui("same_category"), _teasers(ctx, related, desc=False))}
{_side_block("c-latest", ctx.ui("latest"), _teasers(ctx, latest, desc=False))}"""
    title = f"{ed.title} - {ctx.edition.site_name}"
    return page(ctx, title, _article_head(ctx, view, alternates), main, "page-detail")


def listing_page(ctx: Ctx, heading: str, self_path: str, views: Sequence[ArticleView],
                 more: str | None) -> str:
    """A section, tag or topic listing page with OneCMS "load more" pagination."""
    items = _teasers(ctx, views) if views else f'<p class="c-empty">{e(ctx.ui("empty"))}</p>'
    more_link = f'<div class="c-more onecms__loadmore"><a href="{more}" rel="next">{e(ctx.ui("load_more"))}' \
                f"</a></div>" if more else ""
    main = f"""<div class="c-breadcrumb"><a href="{ctx.urls.root}">{e(ctx.ui("home"))}</a> / {e(heading)}</div>
<h1 class="c-cate-title">{e(heading)}</h1>
<div class="c-listing b-grid-list">
{items}
</div>
{more_link}"""
    head = f'<link rel="canonical" href="{ctx.absolute(self_path)}">'
    return page(ctx, f"{heading} - {ctx.edition.site_name}", head, main, "page-listing")


def home_page(ctx: Ctx, latest: Sequence[ArticleView], sections: Sequence[tuple[str, Sequence[ArticleView]]],
              hub: Named | None, tags: Sequence[Named]) -> str:
    """An edition's home page: top stories, one block per section, topic hub and tags."""
    hub_html = ""
    if hub is not None:
        name = e(hub.names.get(ctx.lang, hub.names["vi"]))
        hub_html = f'<section class="c-event"><h2 class="c-block__title">{e(ctx.ui("topic"))}</h2>' \
                   f'<a class="c-event__link" href="{ctx.urls.hub(hub)}">{name}</a></section>'
    blocks = "\n".join(
        _side_block(f"c-section c-section--{slug}",
                    ctx.section_name(slug), _teasers(ctx, views, desc=False))
        for slug, views in sections if views
    )
    main = f"""<section class="c-top-stories"><h2 class="c-block__title">{e(ctx.ui("top_stories"))}</h2>
<div class="b-grid-list">
{_teasers(ctx, latest)}
</div></section>
{hub_html}
{blocks}
{_tag_links(ctx, tags)}"""
    head = f'<link rel="canonical" href="{ctx.absolute(ctx.urls.root)}">\n' \
           f'<meta name="description" content="{e(ctx.ui("description"))}">'
    return page(ctx, ctx.edition.site_name, head, main, "page-home")


def rss_index_page(ctx: Ctx) -> str:
    """The human-readable list of an edition's RSS feeds."""
    rows = "\n".join(
        f'<li><a href="{ctx.urls.feed(c.slug)}">{e(ctx.section_name(c.slug))}</a> '
        f'<span class="c-rss__url">{e(ctx.absolute(ctx.urls.feed(c.slug)))}</span></li>'
        for c in ctx.data.categories
    )
    main = f"""<h1 class="c-cate-title">RSS</h1>
<p class="c-rss__intro">{e(ctx.ui("rss_intro"))}</p>
<ul class="c-rss">
{rows}
</ul>"""
    return page(ctx, f"RSS - {ctx.edition.site_name}", "", main, "page-rss")


def admin_page(ctx: Ctx) -> str:
    main = """<h1 class="c-cate-title">OneCMS</h1>
<form class="c-login" method="post" action="/admin/login">
<input type="text" name="username" placeholder="Username">
<input type="password" name="password" placeholder="Password">
<button type="submit">Login</button></form>"""
    return page(ctx, "OneCMS - Login", '<meta name="robots" content="noindex, nofollow">', main, "page-admin")


def not_found_page(ctx: Ctx) -> str:
    main = f'<h1 class="c-cate-title">404</h1><p>{e(ctx.ui("not_found"))}</p>'
    return page(ctx, f"404 - {ctx.edition.site_name}", '<meta name="robots" content="noindex">', main,
                "page-404")
