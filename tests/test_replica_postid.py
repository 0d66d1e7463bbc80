"""The "-post<id>" family replica (sggp.org.vn + its English host): pages agree with the manifest."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import pytest
from lxml import etree, html

from replica import ManifestEntry, Replica
from replica.postid import PostIdSite

from .replica_http import Response, articles, fetch

VN = timezone(timedelta(hours=7))
KEYS = ("sggp", "sggp-en")
LANG = {"sggp": "vi", "sggp-en": "en"}
CONTENT_TYPES = {
    "article": "text/html; charset=utf-8",
    "listing": "text/html; charset=utf-8",
    "tag": "text/html; charset=utf-8",
    "feed": "application/rss+xml; charset=utf-8",
    "sitemap": "application/xml; charset=utf-8",
}
MONTHS = {m: i + 1 for i, m in enumerate(
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"])}
TWO_DIGIT = re.compile(r"\w{3}, (\d{2}) (\w{3}) (\d{2}) (\d{2}):(\d{2}):\d{2} \+0700")
GMT_PLUS7 = re.compile(r"\w{3}, (\d{2}) (\w{3}) (\d{4}) (\d{2}):(\d{2}):\d{2} GMT\+7")
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "n": "http://www.google.com/schemas/sitemap-news/0.9",
      "i": "http://www.google.com/schemas/sitemap-image/1.1"}


def sites() -> list[PostIdSite]:
    return [PostIdSite("sggp"), PostIdSite("sggp-en", english=True)]


@pytest.fixture(scope="module")
def replica() -> Iterator[Replica]:
    with Replica(day=0, sites=sites()) as running:
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
    parts = [tree.cssselect(".article__sapo")[0].text_content()]
    parts += [node.text_content().strip() for node in tree.cssselect(".article__body.cms-body")[0].iter(
        "p", "h2", "figcaption")]
    return "\n".join(part for part in parts if part)


def pub_date(text: str) -> datetime:
    """Parse either feed date style (two-digit year +0700, or four-digit year GMT+7)."""
    match = TWO_DIGIT.fullmatch(text) or GMT_PLUS7.fullmatch(text)
    assert match, text
    day, month, year, hour, minute = match.groups()
    full_year = int(year) + 2000 if len(year) == 2 else int(year)
    return datetime(full_year, MONTHS[month], int(day), int(hour), int(minute), tzinfo=VN)


# -- manifest and serving ----------------------------------------------------------------------


def test_both_hosts_and_manifest_shape(replica: Replica, manifest: list[ManifestEntry]) -> None:
    bases = replica.base_urls
    assert set(bases) == set(KEYS)
    assert bases["sggp"] != bases["sggp-en"]
    assert len({e.url for e in manifest}) == len(manifest)
    for key in KEYS:
        mine = [e for e in manifest if e.site == key]
        assert all(e.url.startswith(bases[key]) and e.language == LANG[key] for e in mine)
        assert {e.kind for e in mine} == {"article", "listing", "tag", "feed", "sitemap", "other"}
        assert len(articles(mine)) == 24
    for entry in manifest:
        if entry.kind != "article":
            assert entry.title is None
            assert entry.text is None


def test_every_manifest_url_is_served_with_its_kind(manifest: list[ManifestEntry],
                                                    pages: dict[str, Response]) -> None:
    for entry in manifest:
        response = pages[entry.url]
        assert response.status == 200, entry.url
        content_type = response.headers["Content-Type"]
        if entry.kind in CONTENT_TYPES:
            assert content_type == CONTENT_TYPES[entry.kind], entry.url
        if content_type.startswith("text/html"):
            assert doc(response).get("lang") == entry.language
        assert response.headers["ETag"]
        assert response.headers["Last-Modified"]
        path = urlsplit(entry.url).path
        if entry.kind == "article":
            assert re.fullmatch(r"/[a-z-]+/[a-z0-9-]+-post\d+\.html", path), path
        elif entry.kind == "tag":
            assert re.fullmatch(r"/tag/[a-z0-9-]+-\d+\.html", path), path
        elif entry.kind == "feed":
            assert re.fullmatch(r"/rss/[a-z-]+(-\d+)?\.rss", path), path
        elif entry.kind == "sitemap":
            assert re.fullmatch(r"/sitemaps/news(-\d{4}-\d{2}-\d{2})?\.xml", path), path
        elif entry.kind == "other":
            assert path in {"/rss.html", "/robots.txt"}


def test_article_pages_carry_title_date_body_author(manifest: list[ManifestEntry],
                                                    pages: dict[str, Response]) -> None:
    for entry in articles(manifest):
        tree = doc(pages[entry.url])
        assert tree.cssselect("h1.article__title")[0].text_content() == entry.title
        times = tree.cssselect(".article__header time[datetime]")
        assert len(times) == 1, entry.url
        assert times[0].get("datetime") == entry.published_at, entry.url
        assert tree.cssselect(".article__author .name")[0].text_content() == entry.author
        assert body_text(tree) == entry.text, entry.url
        assert tree.cssselect("link[rel=canonical]")[0].get("href") == entry.url
        assert tree.cssselect(".article__body.cms-body figure.image img")
        assert tree.cssselect(".box-related article.story h2 a.cms-link")
        assert tree.cssselect(".box-most-read article.story")
        assert tree.cssselect("form.comment__form")
        assert "Tin liên quan" in pages[entry.url].text or entry.language == "en"


def test_hreflang_alternates_cross_hosts(replica: Replica, manifest: list[ManifestEntry],
                                         pages: dict[str, Response]) -> None:
    bases = replica.base_urls
    groups: dict[str, dict[str, ManifestEntry]] = defaultdict(dict)
    for entry in articles(manifest):
        groups[entry.duplicate_group or ""][entry.language] = entry
    assert len(groups) == 24
    for pair in groups.values():
        vi, en = pair["vi"], pair["en"]
        assert vi.url.startswith(bases["sggp"])
        assert en.url.startswith(bases["sggp-en"])
        assert vi.translation_of is None
        assert en.translation_of == vi.url
        assert post_id(vi.url) != post_id(en.url)
        assert urlsplit(vi.url).path.rsplit("/", 1)[1] != urlsplit(en.url).path.rsplit("/", 1)[1]
        expected = {"vi": vi.url, "en": en.url}
        for entry in (vi, en):
            tree = doc(pages[entry.url])
            links = tree.cssselect("link[rel=alternate][hreflang]")
            assert {link.get("hreflang"): link.get("href") for link in links} == expected
            other = "en" if entry.language == "vi" else "vi"
            visible = tree.cssselect(f".article__meta a[hreflang={other}]")
            assert visible
            assert visible[0].get("href") == expected[other]
    vi_home, en_home = doc(pages[bases["sggp"]]), doc(pages[bases["sggp-en"]])
    assert vi_home.cssselect("link[rel=alternate][hreflang=en]")[0].get("href") == bases["sggp-en"]
    assert en_home.cssselect("link[rel=alternate][hreflang=vi]")[0].get("href") == bases["sggp"]
    assert any(a.text_content() == "English" and a.get("href") == bases["sggp-en"]
               for a in vi_home.cssselect("a[hreflang=en]"))
    assert any(a.get("href") == bases["sggp"] for a in en_home.cssselect("a[hreflang=vi]"))


def test_listings_tags_topic_and_pagination(replica: Replica, manifest: list[ManifestEntry],
                                            pages: dict[str, Response]) -> None:
    for key in KEYS:
        base = replica.base_urls[key]
        home = doc(pages[base])
        assert len(home.cssselect("article.story h2 a")) >= 10
        hrefs = {a.get("href") for a in home.cssselect("a.cms-link")}
        assert any(re.search(r"-post\d+\.html$", h) for h in hrefs)
        assert not home.cssselect("link[type='application/rss+xml']")  # no feed autodiscovery
        assert home.cssselect("footer a[href='/rss.html']")
        assert any(re.fullmatch(r"/tag/[a-z0-9-]+-\d+\.html", a.get("href")) for a in home.cssselect("a[href]"))
        assert home.cssselect(".box-event a[href]")
    listings = [e for e in manifest if e.kind == "listing" and "/trang-" in e.url]
    assert listings
    assert all(re.search(r"/trang-\d+\.html$", e.url) for e in listings)
    for entry in (e for e in manifest if e.kind in {"listing", "tag"}):
        tree = doc(pages[entry.url])
        assert len(tree.cssselect(".timeline article.story")) <= 30
        for link in tree.cssselect(".pagination a"):
            assert urljoin(entry.url, link.get("href")) in pages
    topics = [e for e in manifest if re.search(r"/(su-kien|event)/[a-z0-9-]+-\d+\.html$", e.url)]
    assert {e.kind for e in topics} == {"listing"}
    assert len(topics) == 2


def test_internal_and_cross_host_links_resolve(replica: Replica, manifest: list[ManifestEntry],
                                               pages: dict[str, Response]) -> None:
    served = {e.url for e in manifest}
    origins = tuple(replica.base_urls.values())
    for entry in manifest:
        if not pages[entry.url].headers["Content-Type"].startswith("text/html"):
            continue
        for node in doc(pages[entry.url]).cssselect("a[href], link[href]"):
            target = urljoin(entry.url, node.get("href")).split("#")[0]
            if target.startswith(origins):
                assert target in served, f"{entry.url} -> {target}"


# -- feeds, RSS index, sitemaps, robots -------------------------------------------------------------


def feed_items(response: Response) -> list[etree._Element]:
    return list(etree.fromstring(response.body).findall("./channel/item"))


def post_id(url: str) -> str:
    match = re.search(r"-post(\d+)\.html$", url)
    assert match, url
    return match.group(1)


def test_feeds_list_every_article_once_with_site_date_styles(manifest: list[ManifestEntry],
                                                             pages: dict[str, Response]) -> None:
    by_url = {e.url: e for e in articles(manifest)}
    for key, style in (("sggp", TWO_DIGIT), ("sggp-en", GMT_PLUS7)):
        placed: Counter[str] = Counter()
        for feed in (e for e in manifest if e.kind == "feed" and e.site == key):
            for item in feed_items(pages[feed.url]):
                link, stamp = item.findtext("link") or "", item.findtext("pubDate") or ""
                assert style.fullmatch(stamp), stamp
                assert pub_date(stamp).isoformat() == by_url[link].published_at
                assert post_id(link) == item.findtext("guid")
                placed[link] += 1
        assert placed == Counter(e.url for e in articles(manifest, key))
    assert any(TWO_DIGIT.fullmatch(item.findtext("pubDate") or "") and
               (item.findtext("pubDate") or "").startswith("Sat, 05 Sep 26 17:09:")
               for feed in manifest if feed.kind == "feed" for item in feed_items(pages[feed.url]))


def test_home_rss_is_an_empty_feed_and_rss_index_lists_the_feeds(replica: Replica, manifest: list[ManifestEntry],
                                                                 pages: dict[str, Response]) -> None:
    home_feed = replica.base_urls["sggp"] + "rss/home.rss"
    assert next(e for e in manifest if e.url == home_feed).kind == "feed"
    response = pages[home_feed]
    assert response.status == 200
    assert feed_items(response) == []
    assert etree.fromstring(response.body).find("./channel") is not None
    assert fetch(replica.base_urls["sggp-en"] + "rss/home.rss").status == 404
    for key in KEYS:
        index = replica.base_urls[key] + "rss.html"
        assert next(e for e in manifest if e.url == index).kind == "other"
        linked = {urljoin(index, a.get("href")) for a in doc(pages[index]).cssselect("ul.rss-list a")}
        assert linked == {e.url for e in manifest if e.kind == "feed" and e.site == key}
    assert fetch(replica.base_urls["sggp"] + "rss/chinh-tri-2.rss").status == 200


def check_news_sitemaps(replica: Replica, manifest: list[ManifestEntry], key: str) -> None:
    base = replica.base_urls[key]
    robots = fetch(base + "robots.txt")
    assert robots.headers["Content-Type"].startswith("text/plain")
    assert re.findall(r"^Sitemap: (\S+)$", robots.text, re.M) == [base + "sitemaps/news.xml"]
    index = etree.fromstring(fetch(base + "sitemaps/news.xml").body)
    daily = [node.text for node in index.findall("s:sitemap/s:loc", NS)]
    assert sorted(daily) == sorted(e.url for e in manifest if e.kind == "sitemap" and e.site == key
                                   and not e.url.endswith("/news.xml"))
    expected: dict[str, dict[str, ManifestEntry]] = defaultdict(dict)
    for entry in articles(manifest, key):
        expected[(entry.published_at or "")[:10]][entry.url] = entry
    for url in daily:
        found = re.search(r"news-(\d{4}-\d{2}-\d{2})\.xml$", url or "")
        assert found, url
        day = found.group(1)
        tree = etree.fromstring(fetch(url or "").body)
        wanted = expected.pop(day)
        assert {node.findtext("s:loc", namespaces=NS) for node in tree.findall("s:url", NS)} == set(wanted)
        for node in tree.findall("s:url", NS):
            entry = wanted[node.findtext("s:loc", namespaces=NS) or ""]
            published = node.findtext("n:news/n:publication_date", namespaces=NS) or ""
            assert published[:16] == (entry.published_at or "")[:16]
            assert node.findtext("n:news/n:title", namespaces=NS) == entry.title
            assert node.findtext("n:news/n:publication/n:language", namespaces=NS) == LANG[key]
            lastmod = node.findtext("s:lastmod", namespaces=NS) or ""
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00", lastmod)
            assert lastmod >= published
            assert node.find("i:image/i:loc", NS) is not None
    assert not expected


def test_robots_and_news_sitemaps(replica: Replica, manifest: list[ManifestEntry]) -> None:
    for key in KEYS:
        check_news_sitemaps(replica, manifest, key)


def test_conditional_get_and_404(replica: Replica, manifest: list[ManifestEntry]) -> None:
    url = articles(manifest, "sggp-en")[0].url
    first = fetch(url)
    assert fetch(url, {"If-None-Match": first.headers["ETag"]}).status == 304
    assert fetch(url, {"If-Modified-Since": first.headers["Last-Modified"]}).status == 304
    assert fetch(url, {"If-None-Match": '"other"'}).status == 200
    for key, path in (("sggp", "chinh-tri/khong-co-bai-nay-post1.html"), ("sggp", "tin-moi/trang-9.html"),
                      ("sggp-en", "politics/no-such-story-post1.html"), ("sggp", "rss/thoi-su-1.rss")):
        missing = fetch(replica.base_urls[key] + path)
        assert missing.status == 404
        assert missing.headers["Content-Type"].startswith("text/html")


# -- content ------------------------------------------------------------------------------------


def test_content_mix_and_hard_cases(manifest: list[ManifestEntry]) -> None:
    arts = articles(manifest)
    assert sum(not e.is_conference for e in arts) / len(arts) >= 0.4
    for entry in arts:
        assert entry.title
        assert entry.author
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00\+07:00", entry.published_at or "")
        assert 5 <= len((entry.text or "").split("\n")) <= 10, entry.url
        assert entry.is_conference == (entry.event is not None)
        if entry.event:
            assert set(entry.event) == {"type", "date", "place", "organizer"}
    vi = articles(Replica(day=1, sites=sites()).manifest(), "sggp")  # the 2026 review appears on day 1
    by_date: dict[str, set[str]] = defaultdict(set)
    years: dict[str, set[str]] = defaultdict(set)
    for entry in (e for e in vi if e.event):
        assert entry.event is not None
        by_date[entry.event["date"]].add(entry.event["organizer"])
        years[entry.event["organizer"]].add(entry.event["date"][:4])
    assert any(len(organizers) >= 2 for organizers in by_date.values())
    assert any(len(found) >= 2 for found in years.values())
    assert any(not e.is_conference and "hội nghị" in (e.text or "") for e in vi)
    seen: dict[str, str] = {}
    for entry in arts:
        for paragraph in (entry.text or "").split("\n"):
            if len(paragraph) >= 120:
                assert seen.setdefault(paragraph, entry.url) == entry.url, paragraph[:60]


# -- days ---------------------------------------------------------------------------------------


def test_days_add_articles_and_edit_one_story() -> None:
    with Replica(day=0, sites=sites()) as running:
        before = {e.url: e for e in articles(running.manifest())}
        first = {url: fetch(url) for url in before}
        for day, count in ((1, 27), (2, 30), (3, 30)):
            running.set_day(day)
            manifest = running.manifest()
            now = {e.url: e for e in articles(manifest)}
            assert Counter(e.site for e in now.values()) == {"sggp": count, "sggp-en": count}
            new = set(now) - set(before)
            assert set(before) <= set(now)
            date = f"2026-09-{5 + day:02d}"
            assert all((now[u].published_at or "").startswith(date) for u in new)
            edited = [u for u in before if before[u].text != now[u].text]
            assert len({now[u].duplicate_group for u in edited}) == 1, edited
            for url in before:
                response = fetch(url, {"If-None-Match": first[url].headers["ETag"]})
                assert response.status == (200 if url in edited else 304), url
                if url in edited:
                    assert parsedate_to_datetime(response.headers["Last-Modified"]) > \
                        parsedate_to_datetime(first[url].headers["Last-Modified"])
                    first[url] = response
            for url in new:
                first[url] = fetch(url)
                assert first[url].status == 200
            for key in KEYS:
                check_news_sitemaps(running, manifest, key)
                linked = {item.findtext("link") for e in manifest if e.kind == "feed" and e.site == key
                          for item in feed_items(fetch(e.url))}
                assert linked == {u for u in now if now[u].site == key}
            before = now


def test_future_articles_are_not_served_early() -> None:
    with Replica(day=0, sites=sites()) as running:
        now = {e.url for e in articles(running.manifest())}
        running.set_day(1)
        later = {e.url for e in articles(running.manifest())}
        running.set_day(0)
        future = sorted(later - now)
        assert len(future) == 6
        assert all(fetch(url).status == 404 for url in future)
