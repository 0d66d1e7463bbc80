"""CrawlDelayMiddleware: honours robots.txt Crawl-delay, which Scrapy's robots middleware ignores.

The spider reads the delay from the robots.txt it fetches; before each request to that host the
download slot's delay is raised to it (AutoThrottle may lower a slot's delay, never below this).
"""

from __future__ import annotations

import logging

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.spiders.source import SourceSpider

logger = logging.getLogger(__name__)


class CrawlDelayMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlDelayMiddleware:
        if not crawler.settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured("robots.txt is not obeyed")
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        spider = self.crawler.spider
        engine = self.crawler.engine
        if not isinstance(spider, SourceSpider) or not spider.crawl_delays or engine is None:
            return
        downloader = engine.downloader
        key = downloader.get_slot_key(request)
        delay = spider.crawl_delays.get(key)
        if delay is None:
            return
        slot = downloader.slots.get(key)
        if slot is not None and slot.delay < delay:
            slot.delay = delay
