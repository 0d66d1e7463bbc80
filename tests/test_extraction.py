"""Extraction on saved pages, through Scrapy's HtmlResponse as the spider sees them (no network)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from scrapy.http import HtmlResponse

from crawler.errors import ExtractionError
from crawler.extraction import PageType, decode_html, extract_page

PAGES = Path(__file__).resolve().parent / "fixtures" / "pages"
ICT = ZoneInfo("Asia/Ho_Chi_Minh")


def _response(name: str, url: str, encoding: str | None = None) -> HtmlResponse:
    return HtmlResponse(url=url, body=(PAGES / name).read_bytes(), encoding=encoding)


def test_onecms_chinese_article() -> None:
    url = "http://127.0.0.1/cn/thoi-su/cong-tac-tuyen-truyen-mieng-10288747.html"
    page = extract_page(_response("onecms_article_cn.html", url).text, url, ICT)
    assert page.page_type is PageType.ARTICLE
    assert page.title == "省委宣传部召开口头宣传工作会议"
    assert page.author == "清强"
    # The US-style meta is month first: 1/7/2025 is 7 January, as the DNUM header says.
    assert page.published_at == datetime(2025, 1, 7, 12, 52, tzinfo=ICT)
    assert page.language == "zh"
    assert page.canonical_url == "https://baonghean.vn/cn/cong-tac-tuyen-truyen-mieng-10288747.html"
    assert page.alternates["en"] == "https://baonghean.vn/en/cong-tac-tuyen-truyen-mieng-10288747.html"
    assert page.images == ("bna_9336.jpg",)
    assert "圆满完成了83项被交付的宣传工作任务" in page.text
    for furniture in ("POWERED BY", "义安省举办职业教育论坛", "首页", "26-4-25"):
        assert furniture not in page.text


def test_topic_hub_is_a_listing_not_an_article() -> None:
    url = "http://127.0.0.1/dai-hoi-dang-bo-cac-cap-event1234.html"
    page = extract_page(_response("onecms_topic_hub.html", url).text, url, ICT)
    assert page.page_type is PageType.LISTING


def test_listing_is_recognised_by_its_teasers_even_at_an_article_like_url() -> None:
    url = "http://127.0.0.1/thoi-su/trang-10000001.html"
    assert extract_page(_response("onecms_topic_hub.html", url).text, url, ICT).page_type is PageType.LISTING


def test_binh_duong_header_clock_is_never_the_date() -> None:
    url = "http://127.0.0.1/en/binh-duong-holds-conference-a341383.html"
    page = extract_page(_response("binhduong_article_en.html", url).text, url, ICT)
    assert page.page_type is PageType.ARTICLE
    assert page.published_at == datetime(2025, 2, 12, 8, 15, 42, tzinfo=ICT)
    assert page.author == "Tri Dung"
    assert page.language == "en"
    assert "Hotline" not in page.text


def test_page_without_any_date_gets_none() -> None:
    html = "<html><body><h1>Lũ lụt ở Tương Dương</h1>" + "<p>Mưa lớn kéo dài gây ngập úng nhiều xã.</p>" * 20
    page = extract_page(html + "</body></html>", "http://127.0.0.1/x-1.html", ICT)
    assert page.published_at is None
    assert page.language == "vi"


def test_windows_1258_page_is_decoded() -> None:
    # How windows-1258 writes "Hội nghị": ô (0xF4) + combining dot below (0xF2), i + dot below.
    body = b'<html><head><meta charset="windows-1258"></head><body><h1>H\xf4\xf2i ngh\x69\xf2</h1></body></html>'
    assert "Hội nghị" in decode_html(body)


@pytest.mark.parametrize("body", ["", "   "])
def test_empty_body_is_an_extraction_error(body: str) -> None:
    with pytest.raises(ExtractionError, match="empty body"):
        extract_page(body, "http://127.0.0.1/empty", ICT)


def test_utf8_body_under_a_latin1_header_is_not_mojibake() -> None:
    body = "<html><body><h1>Tọa đàm chuyển đổi số</h1></body></html>".encode()
    assert "Tọa đàm chuyển đổi số" in decode_html(body, "text/html; charset=iso-8859-1")


def test_real_latin1_body_stays_latin1() -> None:
    body = "<html><body><h1>Conférence à Hanoï</h1></body></html>".encode("latin-1")
    assert "Conférence à Hanoï" in decode_html(body, "text/html; charset=iso-8859-1")


def test_portal_source_link_and_date_line() -> None:
    html = """<html lang="uk"><body><div class="banner">Vietnam.vn - Nền tảng quảng bá Việt Nam</div>
    <article><h1>Постійний комітет обласної партії співпрацює з відділом пропаганди</h1>
    <div class="meta">Việt NamViệt Nam27/02/2024</div>
    <p>Сьогодні, 27 лютого, постійний заступник секретаря провінційного партійного комітету провів
    робочу сесію Постійного провінційного партійного комітету з відділом пропаганди.</p>
    <p>На робочій нараді начальник відділу пропаганди доповів про результати виконання завдань з
    пропаганди у 2023 році та план роботи на 2024 рік, а також про нові моменти порівняно з 2022 роком.</p>
    <div class="source"><span>Джерело</span> <a href="https://baoquangtri.vn/">Báo Quảng Trị</a>
    <a href="https://baoquangtri.vn/chinh-tri/ban-thuong-vu-tinh-uy-lam-viec-183224.htm">link</a></div>
    </article><a href="/uk/other-story">Інша новина</a></body></html>"""
    page = extract_page(html, "http://127.0.0.1/uk/ban-thuong-vu-tinh-uy-lam-viec", ICT)
    assert page.published_at == datetime(2024, 2, 27, tzinfo=ICT)
    assert page.source_links == ("https://baoquangtri.vn/chinh-tri/ban-thuong-vu-tinh-uy-lam-viec-183224.htm",)
    assert page.language == "uk"


def test_recall_pass_runs_only_when_the_precision_text_looks_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    from crawler import extraction  # noqa: PLC0415

    calls: list[str] = []
    real = extraction._recall_text

    def counting(html: str, url: str) -> str:
        calls.append(url)
        return real(html, url)

    monkeypatch.setattr(extraction, "_recall_text", counting)
    # A complete story (every paragraph kept, the page mostly story): one pass.
    story = "".join(f"<p>Đoạn {i}: mưa lớn kéo dài gây ngập úng nhiều xã ở huyện Tương Dương, tỉnh Nghệ An.</p>"
                    for i in range(8))
    html = f"<html><body><article><h1>Lũ lụt ở Tương Dương</h1>{story}</article></body></html>"
    page = extract_page(html, "http://127.0.0.1/lu-lut-1.html", ICT)
    assert "Đoạn 7" in page.text
    assert calls == []
    # A short text that is a small share of a large page: the recall pass runs.
    menu = "".join(f'<li><a href="/muc-{i}.html">Chuyên mục số {i} của báo</a></li>' for i in range(200))
    html = f"<html><body><ul>{menu}</ul><article><h1>Lũ lụt</h1>{story[:400]}</article></body></html>"
    extract_page(html, "http://127.0.0.1/lu-lut-2.html", ICT)
    assert calls == ["http://127.0.0.1/lu-lut-2.html"]


def test_needs_recall_thresholds() -> None:
    from crawler.extraction import RECALL_RETRY_CHARS, needs_recall  # noqa: PLC0415

    assert not needs_recall("x" * RECALL_RETRY_CHARS, ["x" * RECALL_RETRY_CHARS], None, 10 * RECALL_RETRY_CHARS)
    # No body element found for the text: its coverage is 0, so it looks cut.
    assert needs_recall("short text", ["short text"], None, 20)
