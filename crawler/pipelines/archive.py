"""ArchivePipeline: writes extracted articles to the archive, idempotently."""

from __future__ import annotations

import logging
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler import signals
from crawler.archive_link import open_archive
from crawler.spiders.source import ArticleItem, NotArticleItem
from storage import Archive, PageRecord, StorageError
from storage.crawl_state import NOT_ARTICLE_KIND

logger = logging.getLogger(__name__)


class ArchivePipeline:
    def __init__(self, crawler: Crawler, archive: Archive) -> None:
        self.crawler = crawler
        self.archive = archive

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        return cls(crawler, open_archive(crawler))

    def close_spider(self) -> None:
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
        page = item.page
        record = PageRecord(
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
        try:
            result = self.archive.archive_page(record)
        except StorageError as exc:
            self._count("errors/archive")
            self.crawler.signals.send_catch_log(signals.article_not_archived, url=page.url, reason=str(exc))
            raise DropItem(str(exc)) from exc
        self._count(f"items_{result.outcome.value}")
        if result.duplicate_kind:
            self._count(f"duplicates/{result.duplicate_kind}")
        return item
