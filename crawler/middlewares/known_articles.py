"""KnownArticleMiddleware: article URLs already in the archive are not fetched again."""

from __future__ import annotations

import logging

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest

from crawler.archive_link import open_archive

logger = logging.getLogger(__name__)


class KnownArticleMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.known: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> KnownArticleMiddleware:
        middleware = cls(crawler)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        return middleware

    def spider_opened(self, spider: Spider) -> None:
        source_id = getattr(spider, "source_id", None)
        with open_archive(self.crawler) as archive:
            self.known = archive.known_urls(source_id)
        logger.debug("%d known URLs for source %s", len(self.known), source_id)

    def process_request(self, request: Request) -> None:
        if request.meta.get("kind") == "article" and request.url in self.known:
            if self.crawler.stats is not None:
                self.crawler.stats.inc_value("newswatch/articles_known")
            raise IgnoreRequest(f"already archived: {request.url}")
