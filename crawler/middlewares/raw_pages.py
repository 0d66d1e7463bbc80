"""RawPagesMiddleware: keeps the raw response of every article fetched, for WARC export.

Off unless `NEWSWATCH_KEEP_RAW` is set (config `crawl.keep_raw`). Bodies are kept as Scrapy hands
them on (decompressed), with the response headers; a body fetched again unchanged is kept once.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from crawler.archive_link import open_archive
from storage import Archive

logger = logging.getLogger(__name__)

KEEP_RAW_SETTING = "NEWSWATCH_KEEP_RAW"
FLUSH_EVERY = 50


class RawPagesMiddleware:
    def __init__(self, crawler: Crawler, archive: Archive) -> None:
        self.crawler = crawler
        self.archive = archive
        self.pending: list[dict[str, Any]] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RawPagesMiddleware:
        if not crawler.settings.getbool(KEEP_RAW_SETTING):
            raise NotConfigured(f"{KEEP_RAW_SETTING} is off")
        middleware = cls(crawler, open_archive(crawler))
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def process_response(self, request: Request, response: Response) -> Response:
        if request.meta.get("kind") == "article" and response.status == 200:
            headers = [(k.decode("latin-1"), v.decode("latin-1"))
                       for k, values in response.headers.items() for v in values]
            self.pending.append({"url": response.url, "status": response.status, "headers": headers,
                                 "body": bytes(response.body)})
            if len(self.pending) >= FLUSH_EVERY:
                self.flush()
        return response

    def flush(self) -> None:
        if self.pending:
            kept = self.archive.keep_raw_pages(self.pending)
            if self.crawler.stats is not None:
                self.crawler.stats.inc_value("newswatch/raw_pages_kept", kept)
            self.pending = []

    def spider_closed(self, spider: Spider) -> None:
        self.flush()
        self.archive.close()
