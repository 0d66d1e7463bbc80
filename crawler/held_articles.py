"""Article requests held back until a cycle's discovery pages are all parsed.

An article's publication time can come from a feed or a news sitemap (the portals' date lines
give the day only). Fetched as soon as a listing links it, an article would be parsed before or
after its feed depending on which response came first, and two crawls of the same site would
archive different times. Holding the articles until the home pages, feeds, sitemaps and listings
are done (the spider's first idle moment) makes what every article is parsed with the same in
every crawl; it costs little, since discovery is a few pages per source.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class HeldArticles:
    """Holds article requests while discovery runs; releases them when the spider goes idle."""

    def __init__(self, crawler: Crawler, source: str) -> None:
        self.crawler = crawler
        self.source = source
        self.discovering = True
        self.held: list[scrapy.Request] = []
        crawler.signals.connect(self.release, signal=signals.spider_idle)

    def send(self, requests: Iterable[scrapy.Request]) -> Iterator[scrapy.Request]:
        """The requests to yield now: none while discovery runs (they are held), else all."""
        if self.discovering:
            self.held.extend(requests)
            return iter(())
        return iter(list(requests))

    def release(self) -> None:
        """At the first idle moment, discovery is over: the held articles go to the scheduler."""
        if not self.discovering:
            return
        self.discovering = False
        held, self.held = self.held, []
        logger.debug("%s: discovery done, %d article request(s) released", self.source, len(held))
        if not held:
            return
        assert self.crawler.engine is not None
        for request in held:
            self.crawler.engine.crawl(request)
        raise DontCloseSpider
