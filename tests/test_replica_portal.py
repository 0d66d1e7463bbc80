"""The republishing, machine-translating portal of the replica (vietnam.vn style)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from lxml import etree, html

from replica import ManifestEntry, Replica
from replica.onecms import OneCmsSite
from replica.portal import PortalSite, load_portal_data

from .replica_http import Response, articles, fetch

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds" / "corpus"
LANGS = ("vi", "en", "uk", "ru", "zh", "fr", "es")
CONTENT_TYPES = {
    "article": "text/html; charset=utf-8",
    "listing": "text/html; charset=utf-8",
    "feed": "application/rss+xml; charset=utf-8",
    "sitemap": "application/xml; charset=utf-8",
    "other": "text/plain; charset=utf-8",
}
SOURCE_LABELS = {"vi": "Nguồn", "en": "Source", "uk": "Джерело", "ru": "Источник", "zh": "来源", "fr": "Source",
                 "es": "Fuente"}
COMMENT_LABELS = {"en": "Comment (0)", "uk": "Коментар (0)", "ru": "Комментарий (0)"}
BANNER = "Vietnam.vn - Nền tảng quảng bá Việt Nam"
DOUBLED = re.compile(r"^(.+?)\1(\d{2})/(\d{2})/(\d{4})$")
IMAGE_LINE = re.compile(r"[\w.-]+\.(jpg|jpeg|png)")


def sites() -> list[OneCmsSite | PortalSite]:
    return [OneCmsSite("nghean"), PortalSite("portal")]


@pytest.fixture(scope="module")
def replica() -> Iterator[Replica]:
    with Replica(day=0, sites=sites()) as running:
        yield running


@pytest.fixture(scope="module")
def manifest(replica: Replica) -> list[ManifestEntry]:
    return replica.manifest()


@pytest.fixture(scope="module")
def portal(manifest: list[ManifestEntry]) -> list[ManifestEntry]:
    return [e for e in manifest if e.site == "portal"]


@pytest.fixture(scope="module")
def pages(portal: list[ManifestEntry]) -> dict[str, Response]:
    return {entry.url: fetch(entry.url) for entry in portal}



def tree_of(response: Response) -> html.HtmlElement:
    return html.fromstring(response.body)


def body_text(tree: html.HtmlElement) -> str:
    body = tree.cssselect("div.article__body")[0]
    parts = [node.text_content().strip() for node in body.iter("p", "h2", "figcaption")
             if "article__author" not in (node.get("class") or "")]
    return "\n".join(part for part in parts if part)


def image_names(tree: html.HtmlElement) -> list[str]:
    return [img.get("src", "").rsplit("/", 1)[-1] for img in tree.cssselect("figure img")]


def province_of() -> dict[str, str]:
    return {story.slug: story.province for story in load_portal_data().stories}


def seed_parts(name: str) -> tuple[str, str, str]:
    """The seed's title, its doubled name-and-date line and its body text (as the manifest has it)."""
    lines = [line.strip() for line in (SEEDS / name).read_text("utf-8").splitlines() if line.strip()]
    start = next(i for i, line in enumerate(lines) if DOUBLED.match(line))
    end = next(i for i, line in enumerate(lines) if line in ("Джерело", "Source"))
    body = [line for line in lines[start + 1:end] if not IMAGE_LINE.fullmatch(line)]
    if body[-1] == "Рушник Mist":  # the author line of the Ukrainian seed
        body = body[:-1]
    return lines[start - 1], lines[start], "\n".join(body)


# -- URLs and kinds -------------------------------------------------------------------------------


def test_every_url_is_served_with_its_kind(portal: list[ManifestEntry], pages: dict[str, Response],
                                           replica: Replica) -> None:
    base = replica.base_urls["portal"]
    assert len({e.url for e in portal}) == len(portal)
    assert {e.kind for e in portal} == {"article", "listing", "feed", "sitemap", "other"}
    for entry in portal:
        response = pages[entry.url]
        assert response.status == 200, entry.url
        assert response.headers["Content-Type"] == CONTENT_TYPES[entry.kind], entry.url
        assert entry.url.startswith(base)
        if entry.kind != "article":
            assert entry.title is None
            assert entry.text is None
    paths = {urlsplit(e.url).path: e for e in portal}
    for lang in LANGS:
        prefix = "/" if lang == "vi" else f"/{lang}/"
        assert paths[prefix].kind == "listing"
        assert paths[prefix + "rss"].kind == "feed"
        assert paths[f"/sitemap-{lang}.xml"].kind == "sitemap"
        for province in ("nghean", "quangtri", "binhthuan"):
            assert paths[f"{prefix}{province}/"].kind == "listing"
    assert paths["/robots.txt"].kind == "other"


def test_one_slug_for_every_language_and_no_id(portal: list[ManifestEntry]) -> None:
    by_group: dict[str, dict[str, str]] = defaultdict(dict)
    for entry in articles(portal):
        path = urlsplit(entry.url).path
        match = re.fullmatch(r"/(?:(en|uk|ru|zh|fr|es)/)?([a-z0-9-]+)", path)
        assert match, path
        assert (match.group(1) or "vi") == entry.language
        assert not re.search(r"-\d{5,}$", match.group(2)), path
        by_group[entry.duplicate_group or ""][entry.language] = match.group(2)
    for group, slugs in by_group.items():
        assert len(set(slugs.values())) == 1, group
        assert {"vi", "en", "uk"} <= set(slugs), group
    assert "ban-thuong-vu-tinh-uy-lam-viec-voi-ban-tuyen-giao-tinh-uy" in \
        {next(iter(s.values())) for s in by_group.values()}


# -- article pages --------------------------------------------------------------------------------


def test_article_page_conventions(portal: list[ManifestEntry], pages: dict[str, Response]) -> None:
    groups: dict[str, set[str]] = defaultdict(set)
    for entry in articles(portal):
        groups[entry.duplicate_group or ""].add(entry.url)
    for entry in articles(portal):
        page = pages[entry.url]
        assert b"<time" not in page.body, entry.url
        assert b"published_time" not in page.body, entry.url
        tree = tree_of(page)
        assert tree.cssselect(".header__logo")[0].text_content() == BANNER
        assert tree.cssselect("h1")[0].text_content() == entry.title
        line = tree.cssselect("div.article__meta")[0].text_content()
        match = DOUBLED.match(line)
        assert match, line
        day, month, year = match.group(2, 3, 4)
        assert f"{year}-{month}-{day}" == (entry.published_at or "")[:10], entry.url
        assert len(re.findall(r"\d{2}/\d{2}/\d{4}", page.body.decode())) == 1, entry.url
        assert tree.cssselect(".article__source-label")[0].text_content() == SOURCE_LABELS[entry.language]
        assert len(tree.cssselect("a.source-link")) == 1
        if entry.language in COMMENT_LABELS:
            assert tree.cssselect(".comment__title")[0].text_content() == COMMENT_LABELS[entry.language]
        assert len(tree.cssselect("section.related")) == 3
        assert [link.get("href") for link in tree.cssselect('link[rel="canonical"]')] == [entry.url]
        alternates = {link.get("href") for link in tree.cssselect('link[rel="alternate"][hreflang]')}
        assert alternates == groups[entry.duplicate_group or ""], entry.url


def test_body_text_and_author_match_the_manifest(portal: list[ManifestEntry], pages: dict[str, Response]) -> None:
    for entry in articles(portal):
        tree = tree_of(pages[entry.url])
        assert body_text(tree) == entry.text, entry.url
        assert len((entry.text or "").split("\n")) >= 5, entry.url
        authors = [node.text_content() for node in tree.cssselect("p.article__author")]
        assert authors == ([entry.author] if entry.author else []), entry.url
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00\+07:00", entry.published_at or "")
        assert entry.is_conference == (entry.event is not None)


# -- republications -------------------------------------------------------------------------------


def test_source_links_resolve_to_the_nghean_original(manifest: list[ManifestEntry], pages: dict[str, Response],
                                                     replica: Replica) -> None:
    nghean = {e.url: e for e in articles(manifest) if e.site == "nghean"}
    republished = [e for e in articles(manifest) if e.site == "portal" and (e.duplicate_group or "").startswith(
        "nghean-")]
    assert republished
    for entry in republished:
        href = tree_of(pages[entry.url]).cssselect("a.source-link")[0].get("href")
        assert href == entry.translation_of
        assert href.startswith(replica.base_urls["nghean"])
        original = nghean[href]
        assert original.language == "vi"
        assert original.duplicate_group == entry.duplicate_group
        assert original.is_conference == entry.is_conference
        assert original.event == entry.event
        lag = date.fromisoformat((entry.published_at or "")[:10]) - date.fromisoformat(
            (original.published_at or "")[:10])
        assert lag.days in (0, 1), entry.url
        assert (entry.published_at or "") >= (original.published_at or "")
    for href in {e.translation_of for e in republished}:
        assert fetch(href or "").status == 200


def test_same_images_in_every_edition_and_on_the_original(manifest: list[ManifestEntry],
                                                          pages: dict[str, Response]) -> None:
    images: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    for entry in articles(manifest):
        if entry.site == "portal":
            images[entry.duplicate_group or ""].add(tuple(image_names(tree_of(pages[entry.url]))))
    nghean = {e.duplicate_group: e.url for e in articles(manifest) if e.site == "nghean" and e.language == "vi"}
    assert "z5117419897509_7c81f22bee513853e67ff622d1fc86e3.jpg" in {n for s in images.values() for t in s for n in t}
    for group, found in images.items():
        assert len(found) == 1, group
        names = next(iter(found))
        assert names, group
        if group in nghean:
            assert tuple(image_names(tree_of(fetch(nghean[group])))) == names, group


def test_translations_are_the_portals_own(manifest: list[ManifestEntry]) -> None:
    nghean = {(e.duplicate_group, e.language): e for e in articles(manifest) if e.site == "nghean"}
    compared = 0
    for entry in articles(manifest):
        if entry.site != "portal" or (entry.duplicate_group, entry.language) not in nghean:
            continue
        theirs = nghean[(entry.duplicate_group, entry.language)]
        if entry.language == "vi":  # the Vietnamese text is copied verbatim
            assert (entry.title, entry.text, entry.author) == (theirs.title, theirs.text, theirs.author)
        else:
            assert entry.title != theirs.title, entry.url
            assert entry.text != theirs.text, entry.url
            digits = set(re.findall(r"\d+", theirs.title or "")) - set(re.findall(r"\d+", entry.title or ""))
            assert not digits, entry.url
            compared += 1
        assert entry.translation_of == theirs.translation_of or entry.translation_of == theirs.url
    assert compared >= 20


# -- the portal's own stories and seeds -----------------------------------------------------------


def test_seed_pages_reproduce_the_seeds(portal: list[ManifestEntry], pages: dict[str, Response]) -> None:
    seeded = {e.seed_file: e for e in articles(portal) if e.seed_file}
    assert set(seeded) == {"001_f81a0f7c559524c2.txt", "003_cd2ea86a401c89c6.txt"}
    assert (seeded["001_f81a0f7c559524c2.txt"].language, seeded["003_cd2ea86a401c89c6.txt"].language) == ("uk", "en")
    for name, entry in seeded.items():
        title, line, text = seed_parts(name)
        tree = tree_of(pages[entry.url])
        assert entry.title == title
        assert entry.text == text
        assert tree.cssselect("div.article__meta")[0].text_content() == line
        assert entry.is_conference
        assert entry.translation_of
        assert entry.translation_of.endswith(urlsplit(entry.url).path.split("/")[-1])
    assert seeded["001_f81a0f7c559524c2.txt"].author == "Рушник Mist"
    assert urlsplit(seeded["001_f81a0f7c559524c2.txt"].url).path == \
        "/uk/ban-thuong-vu-tinh-uy-lam-viec-voi-ban-tuyen-giao-tinh-uy"


def test_counts_languages_and_hard_cases() -> None:
    entries = articles([e for e in Replica(day=2, sites=sites()).manifest() if e.site == "portal"])
    assert len(entries) >= 110
    assert {e.language for e in entries} == set(LANGS)
    assert sum(not e.is_conference for e in entries) / len(entries) >= 0.4
    langs: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        langs[entry.duplicate_group or ""].add(entry.language)
    republished = {g: found for g, found in langs.items() if g.startswith("nghean-")}
    assert len(republished) >= 18
    assert all({"vi", "en", "uk", "ru", "zh"} <= found for found in republished.values())
    assert sum({"fr", "es"} <= found for found in republished.values()) * 2 >= len(republished)
    provinces = province_of()
    own = [e for e in entries if not (e.duplicate_group or "").startswith("nghean-") and not e.seed_file
           and e.language == "vi"]
    mine = [e for e in own if e.url.endswith(tuple(s for s, p in provinces.items() if p != "nghean"))]
    assert len(mine) >= 4
    assert {e.is_conference for e in mine} == {True, False}
    events = [e.event for e in own if e.event]
    by_day: dict[tuple[str, str], set[str]] = defaultdict(set)
    for event in events:
        by_day[(event["date"], event["place"])].add(event["organizer"])
    assert any(len(organizers) >= 2 for organizers in by_day.values())
    years: dict[str, set[str]] = defaultdict(set)
    for event in events:
        years[event["organizer"]].add(event["date"][:4])
    assert any(len(found) >= 2 for found in years.values())


# -- listings, feeds, sitemaps --------------------------------------------------------------------


def test_sections_list_their_province(portal: list[ManifestEntry], pages: dict[str, Response]) -> None:
    provinces = province_of()
    expected: dict[tuple[str, str], set[str]] = defaultdict(set)
    for entry in articles(portal):
        expected[(entry.language, provinces[entry.url.rsplit("/", 1)[-1]])].add(urlsplit(entry.url).path)
    listed: dict[tuple[str, str], set[str]] = defaultdict(set)
    for entry in portal:
        match = re.fullmatch(r"/(?:(\w\w)/)?(nghean|quangtri|binhthuan)/", urlsplit(entry.url).path)
        if entry.kind == "listing" and match:
            key = (match.group(1) or "vi", match.group(2))
            listed[key] |= {a.get("href") for a in tree_of(pages[entry.url]).cssselect("h3.story__title a")}
    assert listed.keys() >= expected.keys()
    for key, paths in expected.items():
        assert listed[key] == paths, key


def test_feeds_and_sitemaps_per_language(portal: list[ManifestEntry], pages: dict[str, Response]) -> None:
    robots = next(p for u, p in pages.items() if u.endswith("/robots.txt")).body.decode()
    listed = re.findall(r"^Sitemap: (\S+)$", robots, re.M)
    assert sorted(listed) == sorted(e.url for e in portal if e.kind == "sitemap")
    assert len(listed) == len(LANGS)
    by_lang: dict[str, set[str]] = defaultdict(set)
    for entry in articles(portal):
        by_lang[entry.language].add(entry.url)
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    for url in listed:
        lang = re.search(r"sitemap-(\w+)\.xml$", url)
        assert lang is not None
        tree = etree.fromstring(pages[url].body)
        assert {n.text for n in tree.findall("s:url/s:loc", ns)} == by_lang[lang.group(1)]
    for entry in portal:
        if entry.kind != "feed":
            continue
        channel = etree.fromstring(pages[entry.url].body).find("channel")
        assert channel is not None
        links = [item.findtext("link") for item in channel.findall("item")]
        assert set(links) == by_lang[entry.language], entry.url
        for item in channel.findall("item"):
            parsedate_to_datetime(item.findtext("pubDate") or "")


# -- days -----------------------------------------------------------------------------------------


def portal_articles(running: Replica) -> dict[str, ManifestEntry]:
    return {e.url: e for e in articles(running.manifest()) if e.site == "portal"}


def test_days_add_articles_and_edit_one() -> None:
    with Replica(day=0, sites=sites()) as running:
        day0 = portal_articles(running)
        etags = {url: fetch(url).headers["ETag"] for url in day0}
        for day, stamp in ((1, "2026-09-06"), (2, "2026-09-07")):
            before = portal_articles(running)
            running.set_day(day)
            after = portal_articles(running)
            new = set(after) - set(before)
            assert set(before) <= set(after)
            assert len({after[u].duplicate_group for u in new}) >= 3
            assert all((after[u].published_at or "").startswith(stamp) for u in new)
            edited = [u for u in before if before[u].text != after[u].text]
            assert len(edited) == 1, edited
            for url in new:
                assert fetch(url).status == 200
            if day == 1:
                assert after[edited[0]].language == "vi"
                assert fetch(edited[0], {"If-None-Match": etags[edited[0]]}).status == 200
                for url in day0:
                    if url not in edited:
                        assert fetch(url, {"If-None-Match": etags[url]}).status == 304, url


def test_future_articles_are_not_served_early(replica: Replica, portal: list[ManifestEntry]) -> None:
    base = replica.base_urls["portal"]
    later = {e.url for e in articles(Replica(day=1, sites=sites(), base_url="http://127.0.0.1:8000/").manifest())
             if e.site == "portal"}
    now = {e.url.replace(base, "http://127.0.0.1:8001/") for e in articles(portal)}
    future = sorted(later - now)
    assert future
    assert fetch(future[0].replace("http://127.0.0.1:8001/", base)).status == 404
