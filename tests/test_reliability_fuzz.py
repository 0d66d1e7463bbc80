"""Fuzzing the parsers that read what sites send: zero unhandled exceptions.

A parser may return nothing, or raise the project's own documented error (ExtractionError for
pages); anything else fails. Examples are derandomized, so CI sees the same cases every run.
NEWSWATCH_FUZZ_EXAMPLES sets the number of examples per parser (default 10,000).
"""

from __future__ import annotations

import gzip
import os
from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.event_date import resolve_event_date
from alerts.vocabulary import Vocabulary, load_vocabulary
from crawler import dates as crawler_dates
from crawler.discovery import parse_feed
from crawler.errors import ExtractionError
from crawler.extraction import decode_html, extract_page
from crawler.sitemaps import parse_sitemap
from storage.dedup import anchors

pytestmark = pytest.mark.reliability

EXAMPLES = int(os.environ.get("NEWSWATCH_FUZZ_EXAMPLES", "10000"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
BASE = "http://127.0.0.1:8000/thoi-su/"

# Date strings in the formats the sites print (docs: provincial-sites.md, "Dates").
DATE_SAMPLES = [
    "13/11/2024 15:24", "15:24 13/11/2024", "23:07 - 26/01/2024", "Thứ Tư, 13/11/2024", "15-01-2024 13:04",
    "January 13, 2024 11:43", "范邦 January 20, 2025 19:41", "星期四, 02/01/2025 20:30 (GMT +7)",
    "9/5/2026 10:17:01 PM", "Fri, 04 Sep 2026 18:48:27 GMT+7", "Sat, 05 Sep 26 17:09:00 +0700",
    "Saturday, 26-4-25 13:20:20", "Update: 02-12-2020 | 16:31:31", "DNUM_BDZBBZCACE 15:24", "DNUM_AHZABZCACF",
    "Việt NamViệt Nam27/02/2024", "2026-09-05T22:17:01+07:00", "2026-09-05", "2026年9月5日 10:17",
    "5 September 2026, 10:17", "Sáng 5/6", "Chiều nay (25/9)", "Hôm nay 7.4", "(25-26/9/2025)", "quý II/2024",
    "On the morning of April 24", "Early May 28", "This afternoon (June 16)", "1月7日上午", "12月25日下午",
    "Вранці 14 липня", "22 серпня вдень", "Утром 25 апреля", "ngày 5 tháng 6", "le 3 janvier",
]
DIGITS = st.from_regex(r"\A[0-9]{1,400}([.,][0-9]{1,40})?\Z", fullmatch=True)
SMALL_TEXT = st.text(max_size=30)


def mix(fragments: list[str], size: int = 40) -> st.SearchStrategy[str]:
    """Texts built from real fragments, random text and long digit runs, in any order."""
    parts = st.one_of(st.sampled_from(fragments), SMALL_TEXT, DIGITS, st.sampled_from(DATE_SAMPLES))
    return st.lists(parts, max_size=size).map("".join)


def as_bytes(texts: st.SearchStrategy[str]) -> st.SearchStrategy[bytes]:
    encoded = st.tuples(texts, st.sampled_from(["utf-8", "utf-16", "latin-1", "cp1258", "gb18030"])).map(
        lambda pair: pair[0].encode(pair[1], errors="replace"))
    return st.one_of(encoded, st.binary(max_size=2000), encoded.map(gzip.compress))


FEED_FRAGMENTS = [
    '<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0" encoding="windows-1258"?>',
    '<rss version="2.0">', "</rss>", "<channel>", "</channel>", "<item>", "</item>", "<title>", "</title>",
    "<link>", "</link>", "http://127.0.0.1:8000/thoi-su/bai-viet-10330102.html", "/thoi-su/a-1.html",
    "javascript:alert(1)", "<pubDate>", "</pubDate>", "<guid>", "</guid>", "<description><![CDATA[", "]]>",
    "</description>", '<feed xmlns="http://www.w3.org/2005/Atom">', "</feed>", "<entry>", "</entry>",
    '<link href="http://127.0.0.1:8000/x-1.html"/>', "<updated>", "</updated>", "<id>", "</id>",
    '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>', "&lol2;", "&amp;", "&#0;",
    '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', "&e;", '<rdf:RDF xmlns:rdf="x">', "<html>",
    "<body>", "<a href='/rss/thoi-su'>RSS</a>", "\x00", "\ufeff", "<", "http://[::1", "http://]x/",
]
SITEMAP_FRAGMENTS = [
    '<?xml version="1.0" encoding="UTF-8"?>', '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
    'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">', "</urlset>",
    '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">', "</sitemapindex>", "<url>", "</url>",
    "<sitemap>", "</sitemap>", "<loc>", "</loc>", "http://127.0.0.1:8000/thoi-su/a-10330102.html",
    "<lastmod>", "</lastmod>", "<news:news>", "</news:news>", "<news:publication_date>",
    "</news:publication_date>", "<news:title>", "</news:title>", "<!-- c -->", "<?pi x?>",
    '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>', "&lol2;",
    '<!DOCTYPE x [<!ENTITY e SYSTEM "http://10.0.0.1/">]>', "&e;", "<![CDATA[", "]]>", "\x00", "<",
    "http://[::1/a-1.html", "http://[x",
]
HTML_FRAGMENTS = [
    "<!DOCTYPE html>", "<html lang='vi'>", "<html>", "</html>", "<head>", "</head>", "<body>", "</body>",
    '<meta charset="windows-1258">', '<meta http-equiv="Content-Type" content="text/html; charset=x-nope">',
    '<meta property="og:type" content="article">', '<meta property="article:published_time" content="',
    '<meta property="og:title" content="', '">', '<link rel="canonical" href="', '<link rel="alternate" hreflang="en" '
    'href="/en/">', '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "',
    '"}</script>', "<script>", "</script>", '<script type="application/ld+json">[{"@graph": [1, {}]}]</script>',
    "<h1 class='sc-longform-header-title'>", "</h1>", "<p class='sc-longform-header-sapo'>", "<p>", "</p>",
    "<span class='sc-longform-header-date'>", "<span class='sc-longform-header-author'>", "</span>",
    "<div class='article__body'>", "</div>", "<a href='", "'>", "</a>", "<img src='/a.jpg'>", "<time datetime='",
    "<link rel='canonical' href='http://[::1'>", "<a class='source' href='http://[::1/x'>a</a>",
    "Nguồn: <a href='http://[x/y-1.html'>b</a>", "<link rel='alternate' hreflang='en' href='http://]x/'>",
    "<table><tr><td>", "<nav>", "</nav>", "<![CDATA[", "<!--", "-->", "&nbsp;", "&#xD800;", "\x00", "<",
    "Hội nghị tổng kết công tác năm 2024 và triển khai nhiệm vụ năm 2025 của Ban Tuyên giáo Tỉnh ủy. " * 3,
]
CONTENT_TYPES = st.sampled_from([None, "text/html", "text/html; charset=utf-8", "text/html; charset=iso-8859-1",
                                 "text/html; charset=windows-1258", "text/html; charset=bogus-enc", ""])
EVENT_TEXT = mix(["Sáng ", "Chiều ", "nay", "hôm nay", "hôm qua", "ngày ", "tháng ", "năm ", "On ", "the morning of ",
                  "This afternoon ", "上午", "月", "日", "今天", "Вранці ", "липня", "Утром ", "апреля", " (", ")", "/",
                  "-", ".", "29/2", "31/4", "0/0", "99/99", "2025", "1899"])
PUBLISHED = st.one_of(st.none(), st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                                              timezones=st.sampled_from([UTC, TZ])))


@cache
def vocabulary() -> Vocabulary:
    return load_vocabulary()


@FUZZ
@given(as_bytes(mix(FEED_FRAGMENTS)))
def test_fuzz_feed_parser(body: bytes) -> None:
    parsed = parse_feed(body, BASE, TZ)
    assert all(entry.url.startswith(("http://", "https://")) or entry.url for entry in parsed.entries)


@FUZZ
@given(as_bytes(mix(SITEMAP_FRAGMENTS)))
def test_fuzz_sitemap_parser(body: bytes) -> None:
    parsed = parse_sitemap(body, TZ, 1 << 20)
    assert parsed.entries or parsed.problem


@FUZZ
@given(as_bytes(mix(HTML_FRAGMENTS, size=60)), CONTENT_TYPES)
def test_fuzz_html_extraction(body: bytes, content_type: str | None) -> None:
    html = decode_html(body, content_type)
    try:
        page = extract_page(html, BASE + "bai-viet-10330102.html", TZ)
    except ExtractionError:
        return
    assert isinstance(page.text, str)


@FUZZ
@given(mix([*DATE_SAMPLES, " ", ", ", " lúc ", "GMT+", "PM", "年", "DNUM_", "Z", "T", ":"], size=12))
def test_fuzz_date_parsers(text: str) -> None:
    for parse in (crawler_dates.parse_page_date, crawler_dates.parse_feed_date, crawler_dates.parse_iso):
        found = parse(text, TZ)
        assert found is None or found.tzinfo is not None
    crawler_dates.has_time(text)
    crawler_dates.decode_dnum(text)


@FUZZ
@given(mix([*DATE_SAMPLES, " triệu", " tỷ", "万", " млн", " million", ".", ",", " ", "NQ/TU", "12/CT-UBND"]),
       st.one_of(st.just(BASE + "hoi-nghi-tong-ket-cong-tac-10330102.html"), SMALL_TEXT),
       st.lists(SMALL_TEXT, max_size=3), st.lists(st.one_of(SMALL_TEXT, st.just("http://x.vn/a-1.html")), max_size=3))
def test_fuzz_anchor_parsers(text: str, url: str, images: list[str], links: list[str]) -> None:
    anchors.numbers(text)
    anchors.dates(text)
    anchors.extract(text, url, images, links)


def test_anchor_extract_with_unparsable_link() -> None:
    found = anchors.extract("", BASE + "a-1.html", [], ["http://[::1", "http://host:99999/x"])
    assert anchors.Anchor("link", "http://[::1") in found


@FUZZ
@given(EVENT_TEXT, st.sampled_from([None, "vi", "en", "zh", "uk", "ru", "fr", "xx"]), PUBLISHED)
def test_fuzz_event_date_resolver(text: str, language: str | None, published_at: datetime | None) -> None:
    resolve_event_date(text, language, published_at, vocabulary())
