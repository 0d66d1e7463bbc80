"""CrawlRunRecorder: one crawl_runs row per spider run, with the run's counters."""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler

from crawler.archive_link import open_archive
from crawler.spiders.source import SourceSpider
from storage import Archive

logger = logging.getLogger(__name__)

# Scrapy stats kept in the run record besides newswatch's own counters.
STALE_RUN_ERROR = "left running by a crawl that was killed"
_SCRAPY_STATS = ("downloader/request_count", "downloader/response_bytes", "item_scraped_count")


def run_counters(stats: dict[str, Any]) -> dict[str, Any]:
    counters: dict[str, Any] = {}
    for key, value in stats.items():
        if key.startswith("newswatch/"):
            counters[key.removeprefix("newswatch/")] = value
        elif key in _SCRAPY_STATS:
            counters[key.split("/")[-1]] = value
        elif key.startswith("downloader/response_status_count/"):
            counters[f"status/{key.rsplit('/', 1)[-1]}"] = value
        elif key.startswith("downloader/exception_type_count/"):
            counters[f"errors/{key.rsplit('.', 1)[-1]}"] = value
    return counters


class CrawlRunRecorder:
    def __init__(self, crawler: Crawler, archive: Archive) -> None:
        self.crawler = crawler
        self.archive = archive

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRunRecorder:
        recorder = cls(crawler, open_archive(crawler))
        crawler.signals.connect(recorder.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        return recorder

    def spider_opened(self, spider: Spider) -> None:
        if isinstance(spider, SourceSpider):
            spider.run_id = self.archive.start_run(spider.source_id)
            self._sweep_stale_runs(spider.source_id, spider.run_id)

    def _sweep_stale_runs(self, source_id: int, run_id: int) -> None:
        """Earlier runs of this source still 'running' were killed (SIGKILL, power loss): record them
        as interrupted, as the scheduler does at start, so `newswatch crawl` alone leaves none behind.
        A run that is in fact alive elsewhere records its own status when it ends (finish_run)."""
        for run in self.archive.list_runs(source_id, status="running"):
            if run.id < run_id:
                self.archive.finish_run(run.id, "interrupted", run.counters, STALE_RUN_ERROR)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if not isinstance(spider, SourceSpider) or spider.run_id is None:
            return
        stats = self.crawler.stats.get_stats() if self.crawler.stats is not None else {}
        counters = run_counters(stats)
        failed = counters.get("errors/home", 0) > 0 and counters.get("homes", 0) == 0
        status = "failed" if failed else ("finished" if reason == "finished" else "interrupted")
        error = "home page could not be fetched" if failed else None
        self.archive.finish_run(spider.run_id, status, counters, error)
        if status == "finished":
            # Only a cycle that ran to the end may move sitemap marks and replace what was learned.
            self.archive.save_discovery(spider.source_id, spider.state.to_dict())
        self.archive.close()
