"""SourceSpider: one crawl cycle of one source, starting from its home page alone."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from crawler import discovery
from crawler.errors import ExtractionError
from crawler.extraction import ExtractedPage, PageType, extract_page

logger = logging.getLogger(__name__)


@dataclass
class ArticleItem:
    """An extracted article on its way to the archive pipeline."""

    page: ExtractedPage
    source: str
    source_id: int
    edition_language: str | None


class SourceSpider(scrapy.Spider):
    """Home page -> editions -> feeds -> articles; URL-level dedup against the archive.

    Links are followed only within the hosts of the source (its home page and its editions).
    """

    name = "source"

    def __init__(self, source: str, source_id: int, home_url: str, timezone: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.source_id = int(source_id)
        self.home_url = home_url
        self.tz = ZoneInfo(timezone)
        self.netlocs = frozenset({urlsplit(home_url).netloc.lower()})
        self.editions: dict[str, str] = {}
        self.feeds: list[str] = []
        self.run_id: int | None = None

    def _count(self, key: str, n: int = 1) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"newswatch/{key}", n)

    async def start(self) -> AsyncIterator[Any]:
        yield scrapy.Request(
            self.home_url, callback=self.parse_home, errback=self.home_failed,
            meta={"kind": "home", "edition": None}, dont_filter=True,
        )

    def home_failed(self, failure: Failure) -> None:
        self._count("errors/home")
        logger.error("%s: home page %s failed: %s", self.source, self.home_url, failure.getErrorMessage())

    def fetch_failed(self, failure: Failure) -> None:
        kind = failure.request.meta.get("kind", "page") if hasattr(failure, "request") else "page"
        self._count(f"errors/{kind}")
        logger.warning("%s: %s fetch failed: %s", self.source, kind, failure.getErrorMessage())

    def parse_home(self, response: Response) -> Iterator[scrapy.Request]:
        if not isinstance(response, TextResponse):
            self._count("errors/home_not_html")
            logger.error("%s: home page %s is not HTML", self.source, response.url)
            return
        self._count("homes")
        yield from self._follow_editions(response)
        feeds = discovery.feed_links(response.selector, response.url)
        feeds = [url for url in feeds if discovery.same_site(url, self.netlocs)]
        if feeds:
            yield from self._follow_feeds(feeds, probing=False)
            return
        base = response.url
        probes = [urljoin(base, path.lstrip("/")) for path in discovery.USUAL_FEED_PATHS]
        yield from self._follow_feeds(probes, probing=True)

    def _follow_editions(self, response: TextResponse) -> Iterator[scrapy.Request]:
        for language, url in discovery.edition_links(response.selector, response.url, self.netlocs).items():
            if language in self.editions or url.rstrip("/") == self.home_url.rstrip("/"):
                continue
            self.editions[language] = url
            yield scrapy.Request(
                url, callback=self.parse_home, errback=self.fetch_failed,
                meta={"kind": "home", "edition": language},
            )

    def _follow_feeds(self, urls: list[str], probing: bool) -> Iterator[scrapy.Request]:
        for url in urls:
            if url in self.feeds:
                continue
            self.feeds.append(url)
            yield scrapy.Request(
                url, callback=self.parse_feed, errback=self.probe_failed if probing else self.fetch_failed,
                meta={"kind": "feed", "probe": probing},
            )

    def probe_failed(self, failure: Failure) -> None:
        self._count("feed_probes_missed")

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        parsed = discovery.parse_feed(response.body, response.url, self.tz)
        if not parsed.is_feed:
            if isinstance(response, TextResponse):
                # An RSS index page: an HTML page that lists the category feeds.
                links = discovery.anchor_feed_links(response.selector, response.url, self.netlocs)
                if links:
                    self._count("feed_index_pages")
                    yield from self._follow_feeds(links, probing=False)
                    return
            if not response.meta.get("probe"):
                self._count("feeds_not_feed")
                logger.warning("%s: %s is not a feed: %s", self.source, response.url, parsed.problem)
            return
        self._count("feeds")
        if not parsed.entries:
            self._count("feeds_empty")
            logger.warning("%s: feed %s has no items", self.source, response.url)
        for entry in parsed.entries:
            if not discovery.same_site(entry.url, self.netlocs):
                self._count("links_offsite")
                continue
            yield scrapy.Request(
                entry.url, callback=self.parse_article, errback=self.fetch_failed,
                meta={"kind": "article", "feed_published": entry.published_at},
            )

    def parse_article(self, response: Response) -> Iterator[ArticleItem]:
        if not isinstance(response, TextResponse):
            self._count("skipped/not_html")
            logger.info("%s: skipped non-HTML body at %s", self.source, response.url)
            return
        try:
            page = extract_page(response.text, response.url, self.tz)
        except ExtractionError as exc:
            self._count("skipped/unparseable")
            logger.warning("%s: %s", self.source, exc)
            return
        if page.page_type is not PageType.ARTICLE:
            self._count(f"skipped/{page.page_type.value}")
            logger.info("%s: %s is a %s page, not archived", self.source, response.url, page.page_type.value)
            return
        if page.published_at is None:
            self._count("dates_missing")
        yield ArticleItem(page, self.source, self.source_id, response.meta.get("edition"))
