"""ArchivePipeline and FetchStateMiddleware on a temporary archive: articles are written in batches,
and a fetched page the archive could not take is fetched again in full next cycle, never hidden
behind a 304."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler import signals
from crawler.archive_link import ARCHIVE_URL_SETTING
from crawler.extraction import ExtractedPage, PageType
from crawler.middlewares.fetch_state import FetchStateMiddleware
from crawler.pipelines.archive import BATCH_SETTING, BATCH_WAIT_SETTING, ArchivePipeline
from crawler.spiders.source import ArticleItem, SourceSpider
from storage import Archive, ArchiveWriteError, PageRecord, engine

HOME = "https://baonghean.test/"
URL = HOME + "thoi-su/mua-lu-10330721.html"
TEXT = "Sáng 5/9, Ban Thường vụ Tỉnh ủy họp nghe báo cáo tình hình khắc phục hậu quả mưa lũ. " * 4


@pytest.fixture
def source_id(archive: Archive) -> int:
    return archive.add_source("nghean", HOME, 3600).id


def _crawler(archive_url: str, source_id: int, batch: int = 1, wait_s: float = 2.0) -> Crawler:
    crawler = get_crawler(SourceSpider, {ARCHIVE_URL_SETTING: archive_url, BATCH_SETTING: batch,
                                         BATCH_WAIT_SETTING: wait_s})
    crawler.spider = SourceSpider.from_crawler(crawler, source="nghean", source_id=source_id, home_url=HOME,
                                               timezone="Asia/Ho_Chi_Minh")
    return crawler


@pytest.fixture
def cycle(archive_url: str, source_id: int) -> Iterator[tuple[Crawler, FetchStateMiddleware, ArchivePipeline]]:
    crawler = _crawler(archive_url, source_id)
    fetch_state, pipeline = FetchStateMiddleware.from_crawler(crawler), ArchivePipeline.from_crawler(crawler)
    yield crawler, fetch_state, pipeline
    pipeline.close_spider()


def _fetch(fetch_state: FetchStateMiddleware, url: str, etag: str) -> None:
    request = Request(url, meta={"kind": "article"})
    fetch_state.process_response(request, HtmlResponse(url, body=b"<html></html>", headers={"ETag": etag}))


def _item(url: str, source_id: int, text: str = TEXT) -> ArticleItem:
    page = ExtractedPage(url, url, PageType.ARTICLE, "Khắc phục hậu quả mưa lũ", None, None, None, "vi", text)
    return ArticleItem(page, "nghean", source_id, None)


def test_a_new_article_the_archive_refused_is_retried_next_cycle(
    cycle: tuple[Crawler, FetchStateMiddleware, ArchivePipeline], archive: Archive, source_id: int
) -> None:
    crawler, fetch_state, pipeline = cycle
    _fetch(fetch_state, URL, '"v1"')
    # A real failed write: the item names a source that is not in the archive (a foreign key).
    pipeline.process_item(_item(URL, source_id + 1000))
    fetch_state.spider_closed(crawler.spider, "finished")
    assert archive.pending_articles(source_id) == [URL]
    assert crawler.stats is not None
    assert crawler.stats.get_value("newswatch/errors/archive") == 1
    assert archive.count_items() == 0


def _urls(n: int) -> list[str]:
    return [HOME + f"thoi-su/bai-{i}-1033{i:04d}.html" for i in range(n)]


def _text(i: int) -> str:
    return f"Bài số {i}: Hội đồng nhân dân xã {i} họp kỳ thứ {i + 7}, bàn {i * 3} việc riêng của xã. " * 6


def test_a_batch_is_written_when_full_and_what_waits_when_the_spider_closes(archive_url: str, archive: Archive,
                                                                            source_id: int) -> None:
    crawler = _crawler(archive_url, source_id, batch=4)
    pipeline = ArchivePipeline.from_crawler(crawler)
    urls = _urls(6)
    for i, url in enumerate(urls[:3]):
        pipeline.process_item(_item(url, source_id, _text(i)))
    assert archive.count_items() == 0, "three articles wait for the fourth"
    pipeline.process_item(_item(urls[3], source_id, _text(3)))
    assert archive.count_items() == 4
    for i, url in enumerate(urls[4:], start=4):
        pipeline.process_item(_item(url, source_id, _text(i)))
    pipeline.close_spider()
    assert archive.count_items() == 6
    assert crawler.stats is not None
    assert crawler.stats.get_value("newswatch/items_new") == 6


def test_an_article_waits_at_most_the_batch_wait(archive_url: str, archive: Archive, source_id: int) -> None:
    crawler = _crawler(archive_url, source_id, batch=16, wait_s=0.2)
    pipeline = ArchivePipeline.from_crawler(crawler)
    pipeline.process_item(_item(URL, source_id))
    pipeline._write_if_due()  # what the pipeline's timer calls
    assert archive.count_items() == 0
    time.sleep(0.25)
    pipeline._write_if_due()
    assert archive.count_items() == 1
    pipeline.close_spider()


def test_a_page_the_archive_refuses_fails_alone_in_its_batch(archive_url: str, archive: Archive,
                                                              source_id: int) -> None:
    crawler = _crawler(archive_url, source_id, batch=5)
    fetch_state, pipeline = FetchStateMiddleware.from_crawler(crawler), ArchivePipeline.from_crawler(crawler)
    urls = _urls(5)
    for i, url in enumerate(urls):
        _fetch(fetch_state, url, f'"v{i}"')
        # The middle one names a source that is not in the archive: its write fails (a foreign key).
        pipeline.process_item(_item(url, source_id + 1000 if i == 2 else source_id, _text(i)))
    pipeline.close_spider()
    fetch_state.spider_closed(crawler.spider, "finished")
    assert sorted(archive.lookup_articles(urls)) == sorted(urls[:2] + urls[3:])
    assert archive.pending_articles(source_id) == [urls[2]]
    assert crawler.stats is not None
    stats = crawler.stats.get_stats()
    assert (stats["newswatch/items_new"], stats["newswatch/errors/archive"]) == (4, 1)


def test_an_edit_the_archive_refused_is_not_hidden_by_the_validators_of_its_fetch(
    cycle: tuple[Crawler, FetchStateMiddleware, ArchivePipeline], archive: Archive, source_id: int
) -> None:
    first_cycle, fetch_state, pipeline = cycle
    _fetch(fetch_state, URL, '"v1"')
    pipeline.process_item(_item(URL, source_id))
    fetch_state.spider_closed(first_cycle.spider, "finished")
    known = archive.lookup_articles([URL])[URL]
    assert (known.etag, known.last_checked_at is not None) == ('"v1"', True)

    crawler = _crawler(archive.url, source_id)
    fetch_state = FetchStateMiddleware.from_crawler(crawler)
    _fetch(fetch_state, URL, '"v2"')  # the edit, fetched; its write then fails (a deadlock, a full disk)
    crawler.signals.send_catch_log(signals.article_not_archived, url=URL, reason="deadlock detected")
    fetch_state.spider_closed(crawler.spider, "finished")
    known = archive.lookup_articles([URL])[URL]
    assert (known.etag, known.last_modified, known.last_checked_at) == (None, None, None)
    assert isinstance(crawler.spider, SourceSpider)
    assert crawler.spider.wanted.due_again(known), "the next cycle would not fetch it"


def test_a_batch_the_locked_archive_refuses_fails_whole_without_waiting_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """SQLite locked past its busy timeout by another writer: every page of the batch fails with
    it, and is not written page by page (each would wait the timeout out again)."""
    monkeypatch.setattr(engine, "SQLITE_BUSY_TIMEOUT_S", 0.2)
    db = tmp_path / "locked.db"
    with Archive.open(f"sqlite:///{db}") as archive:
        source_id = archive.add_source("nghean", HOME, 3600).id
        other = sqlite3.connect(db, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another crawl's write, holding the lock
        try:
            with caplog.at_level(logging.INFO, logger="storage.archive"):
                results = archive.archive_pages([_record(url, source_id, i) for i, url in enumerate(_urls(3))])
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert [type(result) for result in results] == [ArchiveWriteError] * 3
        assert all("locked" in result.reason for result in results if isinstance(result, ArchiveWriteError))
        assert "one by one" not in caplog.text
        assert archive.count_items() == 0


def test_an_impossible_batch_setting_fails_the_crawl_instead_of_switching_archiving_off(archive_url: str) -> None:
    crawler = _crawler(archive_url, 1, batch=0)
    with pytest.raises(ValueError, match="NEWSWATCH_ARCHIVE_BATCH must be at least 1"):
        ArchivePipeline.from_crawler(crawler)


def _record(url: str, source_id: int, i: int) -> PageRecord:
    return PageRecord(url=url, canonical_url=url, source="nghean", source_id=source_id, text=_text(i),
                      language="vi", title=f"Bài số {i}")
