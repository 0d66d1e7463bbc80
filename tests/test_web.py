"""The dashboard, its JSON API and feeds over a real archive (SQLite and PostgreSQL), with a hostile item."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import feedparser
import pytest
from fastapi.testclient import TestClient

from newswatch.app import Newswatch
from newswatch.config import Settings, load_settings
from newswatch.web.app import CONTENT_SECURITY_POLICY, create_app
from newswatch.web.context import MAX_OFFSET, MAX_PAGE
from newswatch.web.pages import marked
from newswatch.web.server import is_loopback, serve
from storage import PageRecord, search
from storage import events as store

TOKEN = "s3cret-token"
HOSTILE_TITLE = "Hội nghị <script>alert(1)</script> tổng kết"
HOSTILE_TEXT = ("Sáng 13/11, Hội nghị tổng kết <img src=x onerror=alert(1)> công tác năm 2024 "
                "<script>alert(1)</script> đã diễn ra tại Nghệ An. ") * 3
RAW_MARKERS = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<script", "<img src=x")
STORY = ("Ban Thường vụ Tỉnh ủy Nghệ An tổ chức hội nghị đánh giá kết quả thực hiện nhiệm vụ năm 2024 "
         "và triển khai nhiệm vụ trọng tâm năm 2025 với sự tham dự của các đồng chí lãnh đạo tỉnh. ") * 4


SOURCE_IDS: dict[str, int] = {}


@dataclass(frozen=True)
class Site:
    client: TestClient
    newswatch: Newswatch
    hostile_id: int
    story_id: int
    copy_ids: tuple[int, ...]
    event_id: int


def _settings(tmp_path: Path, db: str) -> Settings:
    config = tmp_path / "newswatch.toml"
    config.write_text("", encoding="utf-8")
    return load_settings(config, {}, {"db": db})


def _record(url: str, source: str, title: str, text: str, day: int, **extra: object) -> PageRecord:
    published = datetime(2024, 11, 10 + day, 8, 30, tzinfo=UTC)
    return PageRecord(url=url, canonical_url=url, source=source, title=title, text=text, language="vi",
                      published_at=published, source_id=SOURCE_IDS.get(source), **extra)  # type: ignore[arg-type]


def _fill(nw: Newswatch) -> tuple[int, int, tuple[int, ...], int]:
    archive = nw.archive
    SOURCE_IDS.update({name: archive.add_source(name, f"https://{name}.example/", 1800).id
                       for name in ("baonghean", "portal")})
    hostile = archive.archive_page(_record("https://baonghean.vn/hostile-1.html", "baonghean", HOSTILE_TITLE,
                                           HOSTILE_TEXT, 3, author="<b onmouseover=alert(1)>X</b>"))
    story = archive.archive_page(_record("https://baonghean.vn/story-2.html", "baonghean",
                                         "Hội nghị tổng kết năm 2024", STORY, 2))
    copies = tuple(archive.archive_page(_record(f"https://portal.example/copy-{n}.html", "portal",
                                                f"Hội nghị tổng kết năm 2024 ({n})", STORY, 2)).item_id
                   for n in range(2))
    for n in range(5):
        archive.archive_page(_record(f"https://portal.example/other-{n}.html", "portal", f"Tin khác số {n}",
                                     f"Nội dung riêng của bài {n}, không trùng bài nào khác. " * (5 + n), n % 3))
    with archive.session() as session:
        event_id = store.create_event(session, store.NewEvent(
            type="conference", event_date=date(2024, 11, 13), province="Nghệ An", place="<i>Vinh</i>",
            organizer="<script>alert(1)</script>", organizer_key=None, topic=None, title=HOSTILE_TITLE,
            details={"matched": ["<script>alert(1)</script>"]}), hostile.item_id)
        store.attach_report(session, hostile.item_id, event_id, "first", evidence={}, item_event={"type": "conference"})
        store.set_alert_reason(session, event_id, "watch rule <script>alert(1)</script>", alerted=True)
        store.enqueue(session, event_id, "console", f"key-{event_id}")
    _reindex(nw)
    return hostile.item_id, story.item_id, copies, event_id


def _reindex(nw: Newswatch) -> None:
    with nw.archive.session() as session:
        search.reindex_all(session)


@pytest.fixture
def site(archive_url: str, tmp_path: Path) -> Iterator[Site]:
    settings = _settings(tmp_path, archive_url)
    with Newswatch(settings) as nw:
        hostile, story, copies, event_id = _fill(nw)
        with TestClient(create_app(nw, TOKEN)) as client:
            yield Site(client, nw, hostile, story, copies, event_id)


def _assert_escaped(body: str, where: str) -> None:
    for marker in RAW_MARKERS:
        assert marker not in body, f"{marker!r} unescaped in {where}"


def _html(client: TestClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.text[:500])
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "<script" not in response.text, f"{path} has a script"
    assert " style=" not in response.text, f"{path} has an inline style the CSP would block"
    return response.text


def test_every_page_answers_and_escapes_the_hostile_item(site: Site) -> None:
    client = site.client
    pages = ["/", "/items", "/items?canonical=true", "/items?source=baonghean", f"/items/{site.hostile_id}",
             f"/items/{site.story_id}", "/alerts", "/alerts?all=true", f"/alerts/{site.event_id}", "/sources",
             "/sources?days=90", "/search"]
    for path in pages:
        _assert_escaped(_html(client, path), path)
    home = _html(client, "/")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in home
    item = _html(client, f"/items/{site.hostile_id}")
    assert "&lt;img src=x onerror=alert(1)&gt;" in item
    assert "&lt;b onmouseover=alert(1)&gt;" in item
    event = _html(client, f"/alerts/{site.event_id}")
    assert "&lt;i&gt;Vinh&lt;/i&gt;" in event
    assert "console" in event
    assert "<rect" in home, "the items-per-day chart is missing"


def test_item_page_lists_the_group_with_its_evidence(site: Site) -> None:
    for item_id in (site.story_id, *site.copy_ids):
        page = _html(site.client, f"/items/{item_id}")
        assert "Editions and duplicates (3)" in page
        for member in (site.story_id, *site.copy_ids):
            assert f'href="/items/{member}"' in page
        assert "jaccard" in page
        assert "same text" in page
    detail = site.client.get(f"/api/items/{site.copy_ids[0]}").json()
    assert next(m["item"]["id"] for m in detail["members"]) == site.story_id
    kinds = {m["explanation"]["decision"] for m in detail["members"]}
    assert kinds == {"canonical", "duplicate"}
    assert site.client.get("/items/999999").status_code == 404
    assert site.client.get("/api/items/999999").status_code == 404


def test_json_api_returns_raw_text_and_caps_page_sizes(site: Site) -> None:
    client = site.client
    items = client.get("/api/items", params={"limit": 5}).json()
    assert items["total"] == 9
    assert len(items["items"]) == 5
    hostile = client.get(f"/api/items/{site.hostile_id}").json()
    assert hostile["detail"]["item"]["title"] == HOSTILE_TITLE  # JSON carries the raw text
    assert hostile["events"][0]["id"] == site.event_id
    assert client.get("/api/items", params={"canonical": "true"}).json()["total"] == 7
    for path in ("/api/items", "/api/alerts", "/items", "/alerts", "/search?q=x"):
        assert client.get(path, params={"limit": MAX_PAGE + 1}).status_code == 422, path
        assert client.get(path, params={"offset": MAX_OFFSET + 1}).status_code == 422, path
        assert client.get(path, params={"limit": 0}).status_code == 422, path
    assert client.get("/api/stats/items-per-day", params={"days": 10_000}).status_code == 422
    assert client.get("/search", params={"q": "x" * 301}).status_code == 422
    alerts = client.get("/api/alerts").json()
    assert alerts["total"] == 1
    assert alerts["events"][0]["title"] == HOSTILE_TITLE
    sources = {row["source"]["name"]: row for row in client.get("/api/sources").json()}
    assert set(sources) == {"baonghean", "portal"}
    assert sources["portal"]["health"]["items"] == 7
    per_day = client.get("/api/stats/items-per-day").json()
    assert sum(row["items"] for row in per_day) == 9
    assert client.get(f"/api/events/{site.event_id}").json()["deliveries"][0]["channel"] == "console"


def test_openapi_describes_the_api(site: Site) -> None:
    spec = site.client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    for path in ("/api/items", "/api/items/{item_id}", "/api/sources", "/api/alerts", "/api/search",
                 "/api/alerts/retry", "/feeds/items.atom", "/feeds/alerts.atom", "/feeds/sources/{name}.atom"):
        assert path in paths, path
    assert "post" in paths["/api/alerts/retry"]
    limit = next(p for p in paths["/api/items"]["get"]["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == MAX_PAGE
    assert "/" not in paths
    assert "/items/{item_id}" not in paths
    assert site.client.get("/docs").status_code == 404  # its page would load scripts from a CDN


def test_retry_needs_the_token(site: Site, archive_url: str, tmp_path: Path) -> None:
    assert site.client.post("/api/alerts/retry").status_code == 401
    assert site.client.post("/api/alerts/retry", headers={"Authorization": "Bearer wrong"}).status_code == 403
    answer = site.client.post("/api/alerts/retry", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text
    assert set(answer.json()) == {"queued", "sent", "failed"}
    assert site.client.post("/api/items").status_code == 405
    with TestClient(create_app(site.newswatch, None)) as read_only:
        for headers in ({}, {"Authorization": f"Bearer {TOKEN}"}):
            assert read_only.post("/api/alerts/retry", headers=headers).status_code == 403


def test_feeds_parse_and_escape(site: Site) -> None:
    for path, entries in (("/feeds/items.atom", 7), ("/feeds/alerts.atom", 1), ("/feeds/sources/portal.atom", 7),
                          ("/feeds/sources/baonghean.atom", 2)):
        response = site.client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("application/atom+xml")
        _assert_escaped(response.text, path)
        parsed = feedparser.parse(response.content)
        assert not parsed.bozo, (path, parsed.get("bozo_exception"))
        assert len(parsed.entries) == entries, path
    alerts = feedparser.parse(site.client.get("/feeds/alerts.atom").content)
    assert alerts.entries[0].title.startswith("Conference") or "alert(1)" in alerts.entries[0].title
    items = feedparser.parse(site.client.get("/feeds/sources/baonghean.atom").content)
    hostile = next(e for e in items.entries if e.link.endswith("hostile-1.html"))
    assert hostile.title == HOSTILE_TITLE  # the raw text, escaped in the XML and unescaped by the reader
    assert site.client.get("/feeds/sources/nope.atom").status_code == 404


def test_search_page_escapes_everything_but_its_marks(site: Site) -> None:
    page = _html(site.client, "/search?q=" + "hội nghị")
    _assert_escaped(page, "/search")
    assert "<mark>" in page
    assert 'class="hit-link"' in page
    hostile = _html(site.client, "/search?q=onerror")
    _assert_escaped(hostile, "/search?q=onerror")
    assert f'href="/items/{site.hostile_id}"' in hostile
    query = _html(site.client, "/search?q=%3Cscript%3Ealert(1)%3C/script%3E")
    _assert_escaped(query, "search for a script")
    api = site.client.get("/api/search", params={"q": "hội nghị", "limit": 2}).json()
    assert api["total"] >= 2
    assert len(api["hits"]) == 2
    titles = {hit["title"] for hit in site.client.get("/api/search", params={"q": "onerror"}).json()["hits"]}
    assert HOSTILE_TITLE in titles
    assert site.client.get("/search", params={"q": "x", "published_from": "2025-01-02",
                                              "published_to": "2025-01-01"}).status_code == 400


def test_marked_keeps_only_marks() -> None:
    assert str(marked("a <mark>b</mark> &lt;c&gt;")) == "a <mark>b</mark> &lt;c&gt;"
    assert str(marked("<mark>x</mark><script>alert(1)</script>")).startswith("&lt;mark&gt;")


def test_host_header_and_loopback_guard(site: Site, tmp_path: Path) -> None:
    guarded = TestClient(create_app(site.newswatch, None, allowed_hosts=["127.0.0.1", "localhost"]),
                         base_url="http://127.0.0.1")
    assert guarded.get("/").status_code == 200
    assert guarded.get("/", headers={"Host": "evil.example"}).status_code == 400
    assert is_loopback("127.0.0.1")
    assert is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("0.0.0.0")
    assert not is_loopback("192.0.2.1")
    with pytest.raises(Exception, match="not a loopback address"):
        serve(site.newswatch, "0.0.0.0", 0)


def test_empty_archive_pages(tmp_path: Path) -> None:
    settings = _settings(tmp_path, f"sqlite:///{tmp_path / 'empty.db'}")
    with Newswatch(settings) as nw, TestClient(create_app(nw, None)) as client:
        for path in ("/", "/items", "/alerts", "/sources", "/search", "/feeds/items.atom", "/feeds/alerts.atom"):
            assert client.get(path).status_code == 200, path
        assert "No dated items yet" in client.get("/").text


def test_missing_things_are_html_404s(site: Site) -> None:
    response = site.client.get("/alerts/424242")
    assert response.status_code == 404
    assert "no event 424242" in response.text
    assert re.search(r"<h1>404</h1>", response.text)
    assert site.client.get("/api/events/424242").json() == {"detail": "no event 424242"}
