"""ArchivePipeline: writes extracted articles to the archive, idempotently, in small batches.

An article waits until `NEWSWATCH_ARCHIVE_BATCH` articles are extracted, or at most
`NEWSWATCH_ARCHIVE_BATCH_WAIT_S` seconds, and the batch is written in one call
(`Archive.archive_pages`). A crawl killed with a batch waiting loses nothing: those articles have
no archived item and no stored validators, so the next cycle fetches them in full.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from scrapy.crawler import Crawler
from scrapy.utils.asyncio import create_looping_call

from crawler import signals
from crawler.archive_link import open_archive
from crawler.spiders.source import ArticleItem, NotArticleItem
from storage import Archive, ArchiveWriteError, PageRecord, StorageError
from storage.crawl_state import NOT_ARTICLE_KIND

logger = logging.getLogger(__name__)

BATCH_SETTING = "NEWSWATCH_ARCHIVE_BATCH"
BATCH_WAIT_SETTING = "NEWSWATCH_ARCHIVE_BATCH_WAIT_S"


class ArchivePipeline:
    def __init__(self, crawler: Crawler, archive: Archive, batch: int = 1, wait_s: float = 2.0) -> None:
        self.crawler = crawler
        self.archive = archive
        self.batch = batch
        self.wait_s = wait_s
        self.waiting: list[PageRecord] = []
        self.oldest = 0.0  # when the first waiting article arrived (time.monotonic)
        self._timer: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        batch = crawler.settings.getint(BATCH_SETTING, 1)
        wait_s = crawler.settings.getfloat(BATCH_WAIT_SETTING, 2.0)
        if batch < 1 or wait_s <= 0:
            # An error, not NotConfigured: a crawl without its archive pipeline would keep nothing.
            raise ValueError(f"{BATCH_SETTING} must be at least 1 and {BATCH_WAIT_SETTING} positive, "
                             f"not {batch!r} and {wait_s!r}")
        return cls(crawler, open_archive(crawler), batch, wait_s)

    def open_spider(self) -> None:
        if self.batch > 1:
            self._timer = create_looping_call(self._write_if_due)
            self._timer.start(self.wait_s / 2, now=False)

    def close_spider(self) -> None:
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        self.write_waiting()
        self.archive.close()

    def _count(self, key: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"newswatch/{key}")

    def process_item(self, item: Any) -> Any:
        if isinstance(item, NotArticleItem):
            self.archive.record_fetches(
                [{"url": item.url, "source_id": item.source_id, "kind": NOT_ARTICLE_KIND, "status": 200,
                  "error": item.reason}]
            )
            return item
        if not isinstance(item, ArticleItem):
            return item
        if not self.waiting:
            self.oldest = time.monotonic()
        self.waiting.append(_record(item))
        if len(self.waiting) >= self.batch:
            self.write_waiting()
        return item

    def _write_if_due(self) -> None:
        if self.waiting and time.monotonic() - self.oldest >= self.wait_s:
            self.write_waiting()

    def write_waiting(self) -> None:
        """Write the waiting articles; one that cannot be written is counted, logged and reported
        (`article_not_archived`), so that its fetch is stored as failed and made again next cycle."""
        records, self.waiting = self.waiting, []
        if not records:
            return
        try:
            results = self.archive.archive_pages(records)
        except StorageError as exc:  # not a page's own failure (the archive is gone): none was written
            results = [ArchiveWriteError(record.url, str(exc)) for record in records]
        for record, result in zip(records, results, strict=True):
            if isinstance(result, ArchiveWriteError):
                self._count("errors/archive")
                logger.warning("%s", result)
                self.crawler.signals.send_catch_log(signals.article_not_archived, url=record.url,
                                                    reason=str(result))
                continue
            self._count(f"items_{result.outcome.value}")
            if result.duplicate_kind:
                self._count(f"duplicates/{result.duplicate_kind}")


def _record(item: ArticleItem) -> PageRecord:
    page = item.page
    return PageRecord(
        url=page.url,
        canonical_url=page.canonical_url,
        source=item.source,
        source_id=item.source_id,
        text=page.text,
        language=page.language or item.edition_language,
        title=page.title,
        author=page.author,
        description=page.description,
        published_at=page.published_at,
        images=page.images,
        source_links=page.source_links,
        features=item.features,
    )
