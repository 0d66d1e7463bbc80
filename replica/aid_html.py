"""The "-a<id>" family's per-day article view, URL scheme and HTML templates (baobinhduong.vn).

The article template is the older one of the family: a top bar with the hotline and a live
header clock (the time the page was rendered, *not* the publication date), ``h4.sapo``, an
``Update: dd-mm-yyyy | HH:MM:SS`` line as the only visible publication date and no
``article:published_time`` meta; the byline closes the body ("Reported by X - Translated by Y"),
followed by related articles and a block of company advertisements.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

from replica.content import Block, Edition, EditionConfig, SiteData, Story

HOTLINE = "0274 383 347"
COMPANIES = ("Social Media Net", "VIETNAMNAY", "HANEL MIROLIN", "Keangnam - vina", "HP Travel", "Keloph")
HOME_FEED = "home"
LATEST = "latest"
"""Pseudo-section: every article of the edition, newest first (folder and name from the ui strings)."""
STATIC = "https://static.baobinhduong.vn"


def e(text: str) -> str:
    return escape(text, quote=True)


@dataclass(frozen=True)
class View:
    """One language edition of a story as served on a given day."""

    story: Story
    edition: Edition
    modified: datetime
    path: str
    translator: str = ""

    @property
    def lang(self) -> str:
        return self.edition.lang

    @property
    def published(self) -> datetime:
        return self.edition.published


@dataclass(frozen=True)
class Ctx:
    """What every template needs: site, edition, base URL and the per-edition section paths."""

    data: SiteData
    edition: EditionConfig
    base_url: str
    paths: Mapping[str, Mapping[str, str]]

    @property
    def lang(self) -> str:
        return self.edition.lang

    @property
    def root(self) -> str:
        return f"/{self.edition.prefix}/" if self.edition.prefix else "/"

    def ui(self, key: str) -> str:
        return self.edition.ui.get(key, key)

    def absolute(self, path: str) -> str:
        return self.base_url + path.lstrip("/")

    def section_path(self, slug: str) -> str:
        """The section's folder in this edition (``chinh-tri`` in Vietnamese, ``politic`` in English)."""
        if slug == LATEST:
            return self.ui("latest_path")
        return self.paths.get(slug, {}).get(self.lang, slug)

    def section(self, slug: str, page: int = 1) -> str:
        return f"{self.root}{self.section_path(slug)}/" + (f"?p={page}" if page > 1 else "")

    def feed(self, slug: str) -> str:
        name = HOME_FEED if slug == HOME_FEED else self.section_path(slug)
        return f"{self.root}rss/{name}.rss"

    def rss_index(self) -> str:
        return f"{self.root}rss.html"

    def section_name(self, slug: str) -> str:
        for category in self.data.categories:
            if category.slug == slug:
                return category.names.get(self.lang, category.names["vi"])
        return {HOME_FEED: self.ui("home"), LATEST: self.ui("latest")}.get(slug, slug)

    def image(self, story: Story, name: str) -> str:
        folder = story.editions["vi"].published.strftime("%Y/%m/%d")
        return f"{self.data.image_host}/{folder}/{name}"

    def lead_image(self, view: View) -> str:
        images = view.edition.images() or view.story.editions["vi"].images()
        return self.image(view.story, images[0]) if images else f"{self.data.image_host}/no-image.jpg"


def clock(ctx: Ctx, moment: datetime) -> str:
    """The header clock, ``Saturday, 26-4-25 13:20:20``: when the page was rendered."""
    names = ctx.ui("weekdays").split(",")
    day = names[moment.weekday()].strip() if len(names) == 7 else moment.strftime("%A")
    return f"{day}, {moment.day}-{moment.month}-{moment:%y %H:%M:%S}"


def update_line(ctx: Ctx, moment: datetime) -> str:
    """``Update: 02-12-2020 | 16:31:31``: the older template's only publication date."""
    return f"{ctx.ui('update')}: {moment:%d-%m-%Y | %H:%M:%S}"


def byline(ctx: Ctx, view: View) -> str:
    template = ctx.ui("byline_translated") if view.translator else ctx.ui("byline")
    return template.format(author=view.edition.author, translator=view.translator)


def _feed_links(ctx: Ctx) -> str:
    slugs = [HOME_FEED, *(c.slug for c in ctx.data.categories)]
    return "\n".join(
        f'<link rel="alternate" type="application/rss+xml" title="{e(ctx.edition.site_name)} - '
        f'{e(ctx.section_name(s))}" href="{ctx.feed(s)}">' for s in slugs
    )


def _menu(ctx: Ctx) -> str:
    items = "".join(f'<li><a href="{ctx.section(s)}">{e(ctx.section_name(s))}</a></li>'
                    for s in [*(c.slug for c in ctx.data.categories), LATEST])
    return f'<ul class="main-menu"><li class="home"><a href="{ctx.root}">{e(ctx.ui("home"))}</a></li>{items}</ul>'


def _languages(ctx: Ctx) -> str:
    return "".join(
        f'<a class="lang{" active" if ed.lang == ctx.lang else ""}" href="/{ed.prefix + "/" if ed.prefix else ""}">'
        f"{e(ed.label)}</a>" for ed in ctx.data.editions.values()
    )


def page(ctx: Ctx, title: str, head: str, main: str, *, now: datetime, body_class: str) -> str:
    """A complete document: head, top bar with hotline and clock, menu, ``main``, footer."""
    footer = "".join(f"<p>{e(line)}</p>" for line in ctx.edition.footer)
    return f"""<!DOCTYPE html>
<html lang="{ctx.lang}">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title>
{head}
{_feed_links(ctx)}
<link rel="stylesheet" href="{STATIC}/Content/css/style.css?v=2.3.1">
<script src="{STATIC}/Scripts/jquery-1.11.3.min.js"></script>
</head>
<body class="{body_class}">
<div class="top-bar"><div class="container"><span class="hotline">Hotline: {HOTLINE}</span>
<span class="current-time" id="clock">{clock(ctx, now)}</span><div class="languages">{_languages(ctx)}</div>
<form class="search" action="{ctx.root}tim-kiem/" method="get"><input type="text" name="q" \
placeholder="{e(ctx.ui("search"))}"></form></div></div>
<div class="header"><a class="logo" href="{ctx.root}"><img src="{STATIC}/Content/images/logo-{ctx.lang}.png" \
alt="{e(ctx.edition.site_name)}"></a></div>
<div class="menu">{_menu(ctx)}</div>
<div class="container main">
{main}
</div>
<div class="footer"><div class="container">{_menu(ctx)}{footer}
<p class="rss"><a href="{ctx.rss_index()}">RSS</a></p></div></div>
<script>(function(){{var c=document.getElementById("clock");
setInterval(function(){{c.dataset.t=Date.now();}},1000);}})();</script>
</body>
</html>
"""


def _block(ctx: Ctx, story: Story, title: str, block: Block) -> str:
    if block.kind == "h":
        return f'<p style="text-align: justify;"><strong>{e(block.text)}</strong></p>'
    if block.kind == "p":
        return f'<p style="text-align: justify;">{e(block.text)}</p>'
    caption = f'<tr><td class="image_desc">{e(block.text)}</td></tr>' if block.text else ""
    return f'<table class="image center"><tbody><tr><td><img src="{ctx.image(story, block.image)}" ' \
           f'alt="{e(title)}"></td></tr>{caption}</tbody></table>'


def item(ctx: Ctx, view: View, sapo: bool = True) -> str:
    """A teaser: ``div.article-item`` with a thumbnail link and an ``h3 a`` headline."""
    title = e(view.edition.title)
    lead = f'<p class="sapo">{e(view.edition.sapo)}</p>' if sapo else ""
    return f"""<div class="article-item"><a class="thumb" href="{view.path}" title="{title}">\
<img src="{ctx.lead_image(view)}" alt="{title}"></a>
<h3><a href="{view.path}">{title}</a></h3><span class="time">{view.published:%d-%m-%Y}</span>{lead}</div>"""


def _enterprises(ctx: Ctx) -> str:
    links = "".join(f'<li><a href="#" rel="nofollow">{e(ctx.ui("company"))} {e(name)}</a></li>'
                    for name in COMPANIES)
    return f'<div class="enterprise"><h3 class="title-box">{e(ctx.ui("enterprise"))}</h3><ul>{links}</ul></div>'


def article_page(ctx: Ctx, view: View, related: Sequence[View], now: datetime) -> str:
    """An article in the older template; ``related`` shows each teaser with its sapo."""
    ed = view.edition
    url = ctx.absolute(view.path)
    body = "\n".join(_block(ctx, view.story, ed.title, block) for block in ed.blocks)
    others = "\n".join(item(ctx, other) for other in related)
    main = f"""<div class="breadcrumb"><a href="{ctx.section(view.story.category)}">\
{e(ctx.section_name(view.story.category))}</a></div>
<div class="hotline-box">Hotline: {HOTLINE}</div>
<div class="article-detail">
<h1 class="title">{e(ed.title)}</h1>
<div class="date-time">{update_line(ctx, ed.published)}</div>
<h4 class="sapo">{e(ed.sapo)}</h4>
<div class="content" id="content-detail">
{body}
<p class="author" style="text-align: right;"><strong>{e(byline(ctx, view))}</strong></p>
</div>
<div class="share"><a href="https://www.facebook.com/sharer.php?u={e(url)}" rel="nofollow">Facebook</a>
<a href="#" class="print" onclick="window.print();return false;">{e(ctx.ui("print"))}</a></div>
</div>
<div class="related-news"><h3 class="title-box">{e(ctx.ui("related"))}</h3>
{others}
</div>
{_enterprises(ctx)}"""
    head = f"""<meta name="description" content="{e(ed.sapo)}">
<meta property="og:title" content="{e(ed.title)}">
<meta property="og:type" content="article">
<meta property="og:url" content="{e(url)}">
<meta property="og:image" content="{ctx.lead_image(view)}">
<link rel="canonical" href="{e(url)}">"""
    return page(ctx, f"{ed.title} - {ctx.edition.site_name}", head, main, now=now, body_class="detail")


def listing_page(ctx: Ctx, heading: str, self_path: str, views: Sequence[View], *, next_path: str | None,
                 now: datetime) -> str:
    """A server-rendered listing: 12 ``div.article-item`` teasers and a "next" link."""
    items = "\n".join(item(ctx, view) for view in views) or f'<p class="empty">{e(ctx.ui("empty"))}</p>'
    pager = f'<div class="paging"><a class="next" rel="next" href="{next_path}">{e(ctx.ui("next"))}</a></div>' \
        if next_path else ""
    main = f"""<h1 class="cate-title">{e(heading)}</h1>
<div class="list-news">
{items}
</div>
{pager}"""
    head = f'<link rel="canonical" href="{e(ctx.absolute(self_path))}">'
    return page(ctx, f"{heading} - {ctx.edition.site_name}", head, main, now=now, body_class="category")


def script_listing_page(ctx: Ctx, heading: str, self_path: str, api_cat: str, now: datetime) -> str:
    """A listing rendered by JavaScript only: an empty container and the script that would fill it."""
    params = json.dumps({"cat": api_cat, "lang": ctx.lang, "size": 12})
    main = f"""<h1 class="cate-title">{e(heading)}</h1>
<div class="list-news" id="list-news"><div class="loading">{e(ctx.ui("loading"))}</div></div>
<div class="paging" id="paging"></div>
<noscript><p>{e(ctx.ui("noscript"))}</p></noscript>
<script>
(function () {{
  var q = {params};
  q.p = parseInt(new URLSearchParams(location.search).get("p") || "1", 10);
  $.getJSON("/api/list?cat=" + q.cat + "&lang=" + q.lang + "&size=" + q.size + "&p=" + q.p, function (data) {{
    var box = $("#list-news").empty();
    $.each(data.items, function (i, it) {{
      box.append('<div class="article-item"><a class="thumb" href="' + it.url + '"><img src="' + it.image +
        '"></a><h3><a href="' + it.url + '">' + it.title + '</a></h3><p class="sapo">' + it.sapo + '</p></div>');
    }});
    if (data.next) {{ $("#paging").html('<a class="next" rel="next" href="?p=' + (q.p + 1) + '">Next</a>'); }}
  }});
}})();
</script>"""
    head = f'<link rel="canonical" href="{e(ctx.absolute(self_path))}">'
    return page(ctx, f"{heading} - {ctx.edition.site_name}", head, main, now=now, body_class="category")


def rss_index_page(ctx: Ctx, now: datetime) -> str:
    slugs = [HOME_FEED, *(c.slug for c in ctx.data.categories)]
    rows = "\n".join(f'<li><a href="{ctx.feed(s)}">{e(ctx.section_name(s))}</a></li>' for s in slugs)
    main = f'<h1 class="cate-title">RSS</h1>\n<p>{e(ctx.ui("rss_intro"))}</p>\n<ul class="rss-list">\n{rows}\n</ul>'
    return page(ctx, f"RSS - {ctx.edition.site_name}", "", main, now=now, body_class="rss")


def not_found_page(ctx: Ctx, now: datetime) -> str:
    main = f'<h1 class="cate-title">404</h1><p>{e(ctx.ui("not_found"))}</p>'
    return page(ctx, f"404 - {ctx.edition.site_name}", '<meta name="robots" content="noindex">', main, now=now,
                body_class="error")
