"""The "-a<id>" family replica (baobinhduong.vn): served pages agree with the manifest."""

from __future__ import annotations

import gzip
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from lxml import etree, html

from replica import ManifestEntry, Replica
from replica.aid import AidSite, slugify

from .replica_http import Response, articles, fetch

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seeds" / "corpus" / "004_e0ba603f9359f841.txt"
SEED_PATH = ("/en/provincial-party-committees-propaganda-and-mass-mobilization-commission-sets-forth-key-tasks-"
             "in-2025-a341383.html")
HTML_TYPE = "text/html; charset=utf-8"
CONTENT_TYPES = {"article": HTML_TYPE, "listing": HTML_TYPE, "feed": "application/rss+xml; charset=utf-8"}
SM = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
ARTICLE_LINK = re.compile(r"-a\d+\.html")
CLOCK = re.compile(r"^[^,]+, \d{1,2}-\d{1,2}-\d{2} \d{2}:\d{2}:\d{2}$")
UPDATE = re.compile(r"^(Update|Cập nhật|更新): (\d{2})-(\d{2})-(\d{4}) \| (\d{2}):(\d{2}):(\d{2})$")


def site_replica(day: int = 0) -> Replica:
    return Replica(day=day, sites=[AidSite("binhduong")])


@pytest.fixture(scope="module")
def replica() -> Iterator[Replica]:
    with site_replica() as running:
        yield running


@pytest.fixture(scope="module")
def manifest(replica: Replica) -> list[ManifestEntry]:
    return replica.manifest()


@pytest.fixture(scope="module")
def pages(manifest: list[ManifestEntry]) -> dict[str, Response]:
    return {entry.url: fetch(entry.url) for entry in manifest}



def doc(response: Response) -> html.HtmlElement:
    return html.fromstring(response.body)


def body_text(tree: html.HtmlElement) -> str:
    """Sapo, then the body's paragraphs, bold sub-headings and captions; not the byline."""
    parts = [tree.cssselect("h4.sapo")[0].text_content()]
    for node in tree.cssselect("#content-detail")[0].iter("p", "td"):
        if (node.tag == "p" and node.get("class") != "author") or node.get("class") == "image_desc":
            parts.append(node.text_content().strip())
    return "\n".join(part for part in parts if part)


def seed_body() -> str:
    lines = [line.strip() for line in SEED.read_text("utf-8").splitlines() if line.strip()]
    start = next(i for i, line in enumerate(lines) if line.startswith("On February 11"))
    end = next(i for i, line in enumerate(lines) if line.startswith("Reported by"))
    return "\n".join(lines[start:end])


def sitemap_locs(body: bytes) -> dict[str, str]:
    tree = etree.fromstring(gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body)
    return {node.findtext("s:loc", namespaces=SM) or "": node.findtext("s:lastmod", namespaces=SM) or ""
            for node in tree.findall("s:url", SM)}


def feed_links(entries: list[ManifestEntry], got: dict[str, Response]) -> dict[str, set[str]]:
    links: dict[str, set[str]] = {}
    for feed in (e for e in entries if e.kind == "feed"):
        links[feed.url] = {item.findtext("link") or ""
                           for item in etree.fromstring(got[feed.url].body).findall("./channel/item")}
    return links


# -- manifest and serving -------------------------------------------------------------------------


def test_manifest_shape(replica: Replica, manifest: list[ManifestEntry]) -> None:
    base = replica.base_urls["binhduong"]
    urls = [e.url for e in manifest]
    assert len(urls) == len(set(urls))
    assert all(url.startswith(base) for url in urls)
    assert {e.kind for e in manifest} == {"article", "listing", "feed", "sitemap", "other"}
    assert all(e.title is None and e.text is None for e in manifest if e.kind != "article")


def test_every_manifest_url_is_served_with_its_kind(manifest: list[ManifestEntry],
                                                    pages: dict[str, Response]) -> None:
    for entry in manifest:
        response = pages[entry.url]
        assert response.status == 200, entry.url
        content_type = response.headers["Content-Type"]
        if entry.kind in CONTENT_TYPES:
            assert content_type == CONTENT_TYPES[entry.kind], entry.url
        if entry.kind == "sitemap":
            gz = entry.url.endswith(".gz")
            assert content_type == ("application/x-gzip" if gz else "application/xml; charset=utf-8")
            assert (response.body[:2] == b"\x1f\x8b") == gz
        if content_type == HTML_TYPE:
            tree = doc(response)
            assert tree.get("lang") == entry.language, entry.url
            if entry.kind in CONTENT_TYPES:
                assert tree.cssselect("link[rel=canonical]")[0].get("href") == entry.url
            assert "Hotline: 0274 383 347" in response.text
            assert CLOCK.match(tree.cssselect("#clock")[0].text_content())
        assert response.headers["ETag"]
        assert response.headers["Last-Modified"]


def test_article_urls_share_the_id_across_editions(manifest: list[ManifestEntry]) -> None:
    groups: dict[str, dict[str, str]] = defaultdict(dict)
    for entry in articles(manifest):
        groups[entry.duplicate_group or ""][entry.language] = urlsplit(entry.url).path
    for group, paths in groups.items():
        story_id = group.rsplit("-", 1)[1]
        assert re.fullmatch(rf"/[a-z0-9-]+-a{story_id}\.html", paths["vi"])
        assert re.fullmatch(rf"/en/[a-z0-9-]+-a{story_id}\.html", paths["en"])
        assert paths["en"][4:] != paths["vi"][1:]  # the English slug is the English headline's
        if "zh" in paths:
            assert paths["zh"] == "/cn" + paths["vi"]
    english = {e.url: e for e in articles(manifest) if e.language == "en"}
    for url, entry in english.items():
        assert urlsplit(url).path.startswith(f"/en/{slugify(entry.title or '')}-a")


def test_article_pages_show_the_update_line_and_no_published_meta(manifest: list[ManifestEntry],
                                                                  pages: dict[str, Response]) -> None:
    for entry in articles(manifest):
        response = pages[entry.url]
        tree = doc(response)
        assert tree.cssselect("h1.title")[0].text_content() == entry.title
        assert tree.cssselect("link[rel=canonical]")[0].get("href") == entry.url
        assert "published_time" not in response.text
        assert not tree.cssselect("time, meta[itemprop=datePublished], script[type='application/ld+json']")
        match = UPDATE.match(tree.cssselect("div.date-time")[0].text_content())
        assert match, entry.url
        day, month, year, hour, minute = (match.group(i) for i in range(2, 7))
        assert f"{year}-{month}-{day}T{hour}:{minute}:00+07:00" == entry.published_at
        clock = tree.cssselect("#clock")[0].text_content()
        assert f"{int(day)}-{int(month)}-{year[2:]}" not in clock or entry.published_at >= "2026-09-05"
        assert body_text(tree) == entry.text, entry.url
        byline = tree.cssselect("#content-detail p.author")[0].text_content()
        if entry.language == "en":
            assert re.fullmatch(rf"Reported by {re.escape(entry.author or '')} - Translated by [A-Z][\w ]+", byline)
            assert "Enterprise - Brand" in response.text
        elif entry.language == "vi":
            assert byline == entry.author
        for link in tree.cssselect(".related-news .article-item h3 a"):
            assert link.get("href").startswith("/en/" if entry.language == "en" else "/")


def test_seed_document_is_published(manifest: list[ManifestEntry], pages: dict[str, Response]) -> None:
    seeds = [e for e in articles(manifest) if e.seed_file]
    assert [e.seed_file for e in seeds] == ["004_e0ba603f9359f841.txt"]
    seed = seeds[0]
    assert urlsplit(seed.url).path == SEED_PATH
    assert seed.language == "en"
    assert seed.title == ("Provincial Party Committee's Propaganda and Mass Mobilization Commission sets forth key "
                          "tasks in 2025")
    assert seed.author == "Tri Dung"
    assert seed.published_at == "2025-02-11T18:05:00+07:00"
    assert seed.text == seed_body()
    assert seed.is_conference
    assert seed.translation_of in pages
    assert "Reported by Tri Dung - Translated by Ngoc Huynh" in pages[seed.url].text
    assert "Update: 11-02-2025 | 18:05:" in pages[seed.url].text
    # Too old for the feeds: only the gzip-compressed monthly sitemap lists it.
    assert all(seed.url not in links for links in feed_links(manifest, pages).values())
    assert seed.url in sitemap_locs(pages[seed.url.split("/en/")[0] + "/sitemap-2025-2.xml.gz"].body)


# -- discovery: listings, feeds, sitemaps ---------------------------------------------------------------


def test_english_listings_are_rendered_by_javascript_only(manifest: list[ManifestEntry],
                                                          pages: dict[str, Response]) -> None:
    listings = [e for e in manifest if e.kind == "listing" and e.language == "en"]
    assert len(listings) >= 7
    for entry in listings:
        response = pages[entry.url]
        assert not ARTICLE_LINK.search(response.text), entry.url
        assert not doc(response).cssselect(".article-item a, h3 a")
        assert '$.getJSON("/api/list?cat=' in response.text
    reachable = set().union(*feed_links(manifest, pages).values())
    for sitemap in (e for e in manifest if e.kind == "sitemap" and "-20" in e.url):
        reachable |= set(sitemap_locs(pages[sitemap.url].body))
    assert all(e.url in reachable for e in articles(manifest) if e.language == "en")


def test_only_english_pages_link_to_english_articles(manifest: list[ManifestEntry],
                                                     pages: dict[str, Response]) -> None:
    for entry in manifest:
        if entry.language != "en" and pages[entry.url].headers["Content-Type"] == HTML_TYPE:
            assert not re.search(r'href="[^"]*/en/[^"]*-a\d+\.html"', pages[entry.url].text), entry.url


def test_server_rendered_listings_paginate_with_p(manifest: list[ManifestEntry],
                                                  pages: dict[str, Response]) -> None:
    paginated = 0
    for entry in manifest:
        if entry.kind != "listing" or entry.language == "en":
            continue
        tree = doc(pages[entry.url])
        items = tree.cssselect("div.list-news div.article-item")
        assert len(items) <= 12
        assert len(tree.cssselect("div.list-news .article-item a")) == 2 * len(items)
        assert len(tree.cssselect("div.list-news h3 a")) == len(items)
        for link in tree.cssselect("div.list-news h3 a"):
            assert urljoin(entry.url, link.get("href")) in pages
        following = tree.cssselect("div.paging a.next")
        if following:
            paginated += 1
            assert len(items) == 12
            assert re.search(r"\?p=\d+$", following[0].get("href"))
            assert urljoin(entry.url, following[0].get("href")) in pages
    assert paginated >= 1


def test_feeds_list_the_latest_articles_of_their_edition(manifest: list[ManifestEntry],
                                                         pages: dict[str, Response]) -> None:
    by_url = {e.url: e for e in articles(manifest)}
    feeds = [e for e in manifest if e.kind == "feed"]
    assert {urlsplit(e.url).path for e in feeds} >= {"/rss/chinh-tri.rss", "/en/rss/politic.rss", "/en/rss/home.rss"}
    for feed in feeds:
        items = etree.fromstring(pages[feed.url].body).findall("./channel/item")
        assert len(items) <= 10
        if feed.url.endswith("/home.rss"):  # the edition's newest articles of the last 30 days
            recent = sorted((e for e in by_url.values() if e.language == feed.language
                             and (e.published_at or "") >= "2026-08-06"), key=lambda e: e.published_at or "")
            assert {item.findtext("link") for item in items} == {e.url for e in recent[-10:]}
        dates = []
        for item in items:
            link = item.findtext("link") or ""
            assert item.findtext("guid") == link
            assert by_url[link].language == feed.language
            stamp = item.findtext("pubDate") or ""
            assert re.fullmatch(r"\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT\+7", stamp)
            dates.append(datetime.strptime(stamp.removesuffix(" GMT+7"), "%a, %d %b %Y %H:%M:%S"))
        assert dates == sorted(dates, reverse=True)


def test_sitemap_index_lists_monthly_sitemaps_with_exactly_the_articles(replica: Replica,
                                                                        manifest: list[ManifestEntry],
                                                                        pages: dict[str, Response]) -> None:
    base = replica.base_urls["binhduong"]
    robots = pages[base + "robots.txt"].text
    assert re.findall(r"^Sitemap: (\S+)$", robots, re.M) == [base + "sitemap.xml"]
    assert "Disallow: /api/" in robots
    index = etree.fromstring(pages[base + "sitemap.xml"].body)
    monthly = [node.text or "" for node in index.findall("s:sitemap/s:loc", SM)]
    assert sorted(monthly) == sorted(e.url for e in manifest if e.kind == "sitemap" and e.url != base + "sitemap.xml")
    assert any(url.endswith(".xml.gz") for url in monthly)
    expected = {e.url: e for e in articles(manifest)}
    listed: dict[str, str] = {}
    for url in monthly:
        match = re.fullmatch(re.escape(base) + r"sitemap-(\d{4})-(\d{1,2})\.xml(\.gz)?", url)
        assert match, url
        year, month = int(match.group(1)), int(match.group(2))
        assert bool(match.group(3)) == (year < 2026)
        for loc, lastmod in sitemap_locs(pages[url].body).items():
            published = datetime.fromisoformat(expected[loc].published_at or "")
            assert (published.year, published.month) == (year, month), loc
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00", lastmod)
            listed[loc] = lastmod
    assert set(listed) == set(expected)
    old = [e for e in expected.values() if (e.published_at or "") < "2026"]
    assert len({e.duplicate_group for e in old}) >= 3


# -- HTTP behaviour and days ------------------------------------------------------------------------


def test_conditional_get_pagination_and_404(replica: Replica, manifest: list[ManifestEntry]) -> None:
    base = replica.base_urls["binhduong"]
    url = articles(manifest)[0].url
    first = fetch(url)
    again = fetch(url, {"If-None-Match": first.headers["ETag"]})
    assert again.status == 304
    assert again.body == b""
    assert fetch(url, {"If-Modified-Since": first.headers["Last-Modified"]}).status == 304
    assert fetch(url, {"If-None-Match": '"other"'}).status == 200
    listing = fetch(base + "tin-moi/")
    assert fetch(base + "tin-moi/?p=1").headers["ETag"] == listing.headers["ETag"]
    second = fetch(base + "tin-moi/?p=2")
    assert second.status == 200
    assert second.headers["ETag"] != listing.headers["ETag"]
    assert fetch(base + "tin-moi/?page=2").headers.get("ETag") != second.headers["ETag"]  # this family uses ?p=
    for path in ("tin-moi/?p=9", "khong-co-bai-nay-a999999.html", "api/list?cat=politic", "en/rss/thoi-su.rss",
                 "sitemap-2026-9.xml.gz"):
        missing = fetch(base + path)
        assert missing.status == 404, path
        assert missing.headers["Content-Type"] == HTML_TYPE


def day_state(running: Replica) -> tuple[dict[str, ManifestEntry], dict[str, str]]:
    entries = running.manifest()
    base = running.base_urls["binhduong"]
    lastmods: dict[str, str] = {}
    for sitemap in (e for e in entries if e.kind == "sitemap" and e.url != base + "sitemap.xml"):
        lastmods.update(sitemap_locs(fetch(sitemap.url).body))
    return {e.url: e for e in articles(entries)}, lastmods


def test_days_add_three_stories_and_edit_one_page() -> None:
    with site_replica() as running:
        before, _ = day_state(running)
        tags = {url: fetch(url).headers for url in before}
        for day, edited_language in ((1, "vi"), (2, "en")):
            running.set_day(day)
            after, lastmods = day_state(running)
            assert set(before) <= set(after)
            new = set(after) - set(before)
            assert len({after[u].duplicate_group for u in new}) == 3
            assert all((after[u].published_at or "").startswith(f"2026-09-0{5 + day}") for u in new)
            edited = [u for u in before if before[u].text != after[u].text]
            assert len(edited) == 1
            assert after[edited[0]].language == edited_language
            response = fetch(edited[0])
            assert response.headers["ETag"] != tags[edited[0]]["ETag"]
            modified = parsedate_to_datetime(response.headers["Last-Modified"])
            assert modified > parsedate_to_datetime(tags[edited[0]]["Last-Modified"])
            assert datetime.fromisoformat(lastmods[edited[0]]) == modified
            for url in before:
                if url not in edited:
                    assert fetch(url, {"If-None-Match": tags[url]["ETag"]}).status == 304, url
            tags = {url: fetch(url).headers for url in after}
            before = after


def test_future_articles_are_not_served_early() -> None:
    later = {urlsplit(e.url).path for e in articles(site_replica(2).manifest())}
    with site_replica() as running:
        base = running.base_urls["binhduong"]
        now = {urlsplit(e.url).path for e in articles(running.manifest())}
        future = sorted(later - now)
        assert len(future) >= 14
        assert fetch(base + future[0].lstrip("/")).status == 404


# -- content ----------------------------------------------------------------------------------------


def test_counts_and_story_mix() -> None:
    day0 = articles(site_replica(0).manifest())
    day2 = articles(site_replica(2).manifest())
    assert 22 <= len({e.duplicate_group for e in day0}) <= 26
    assert len(day2) >= 60
    stories: dict[str, set[str]] = defaultdict(set)
    for entry in day2:
        stories[entry.duplicate_group or ""].add(entry.language)
    assert len(stories) >= 30
    assert all({"vi", "en"} <= langs for langs in stories.values())
    assert len(stories) / 4 <= sum("zh" in langs for langs in stories.values()) <= len(stories) / 2
    assert sum(not e.is_conference for e in day2) / len(day2) >= 0.4
    firsts = {e.duplicate_group: e for e in day2}.values()
    assert sum(not e.is_conference for e in firsts) / len(firsts) >= 0.4
    by_url = {e.url: e for e in day2}
    for entry in day2:
        assert entry.author
        assert entry.title
        assert entry.is_conference == (entry.event is not None)
        assert len((entry.text or "").split("\n")) >= 5, entry.url
        if entry.language != "vi":
            assert by_url[entry.translation_of or ""].duplicate_group == entry.duplicate_group


def test_no_repeated_filler() -> None:
    seen: dict[str, str] = {}
    for entry in articles(site_replica(2).manifest()):
        for paragraph in (entry.text or "").split("\n"):
            if len(paragraph) >= 120:
                assert seen.setdefault(paragraph, entry.duplicate_group or "") == entry.duplicate_group, paragraph[:60]


def test_hard_cases_are_present() -> None:
    entries = [e for e in articles(site_replica(2).manifest()) if e.language == "vi"]
    by_date: dict[str, set[str]] = defaultdict(set)
    propaganda_years = set()
    for entry in entries:
        if entry.event is None:
            continue
        by_date[entry.event["date"]].add(entry.event["organizer"])
        if entry.event["organizer"].startswith("Ban Tuyên giáo") and "tổng kết" in (entry.text or ""):
            propaganda_years.add(entry.event["date"][:4])
    assert len(propaganda_years) >= 2
    assert any(len(organizers) >= 2 for organizers in by_date.values())
    assert any(e.event and e.event["date"] != (e.published_at or "")[:10] for e in entries)
    assert any(not e.is_conference and "hội nghị" in (e.text or "") for e in entries)


def test_internal_links_resolve(manifest: list[ManifestEntry], pages: dict[str, Response]) -> None:
    served = {e.url for e in manifest}
    origin = "/".join(manifest[0].url.split("/", 3)[:3]) + "/"
    for entry in manifest:
        if pages[entry.url].headers["Content-Type"] != HTML_TYPE:
            continue
        for node in doc(pages[entry.url]).cssselect("a[href], link[href]"):
            target = urljoin(entry.url, node.get("href")).split("#")[0]
            if target.startswith(origin):
                assert target in served, f"{entry.url} -> {target}"
