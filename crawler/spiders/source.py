"""SourceSpider: one crawl cycle of one source, starting from its home page alone.

home page ─► language editions ─► feeds, sitemaps (robots.txt), section listings ─► articles.
What it learns (feeds, sitemaps, editions, sections, URL shapes) is kept on the source, so a
cycle whose home page answers 304 still knows where to look.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import scrapy
from protego import Protego
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from crawler import discovery, listings, sitemaps, url_patterns
from crawler.archive_link import open_archive
from crawler.article_requests import ArticleRequests
from crawler.discovered import Discovered
from crawler.errors import ExtractionError
from crawler.extraction import ExtractedPage, PageType
from crawler.extraction_pool import ExtractionPool
from crawler.held_articles import HeldArticles
from storage import Archive
from storage.dedup import Features

logger = logging.getLogger(__name__)

MAX_CRAWL_DELAY_S = 60.0


@dataclass
class ArticleItem:
    """An extracted article on its way to the archive pipeline."""

    page: ExtractedPage
    source: str
    source_id: int
    edition_language: str | None
    features: Features | None = None  # the dedup features of the page's text, from the extraction


@dataclass
class NotArticleItem:
    """A page reached as an article that is not one (a hub, a listing, a PDF): remembered,
    so later cycles do not fetch it again."""

    url: str
    source_id: int
    reason: str


class SourceSpider(scrapy.Spider):
    name = "source"
    custom_settings: dict[str, Any] = {}  # noqa: RUF012 - Scrapy's own attribute

    def __init__(  # noqa: PLR0917 - Scrapy passes spider arguments by keyword; the order is not an API
        self, source: str, source_id: int, home_url: str, timezone: str,
        discovered: dict[str, Any] | None = None, pending: list[str] | None = None,
        max_listing_pages: int = 20, recheck_days: float = 2.0, not_articles: list[str] | None = None,
        extraction: ExtractionPool | None = None, **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.source_id = int(source_id)
        self.home_url = home_url
        self.tz = ZoneInfo(timezone)
        self.state = Discovered.from_dict(discovered)
        # The source's hosts: its home page's, and those of editions it declared (hreflang).
        self.netlocs = frozenset(
            {urlsplit(home_url).netloc.lower()} | {urlsplit(url).netloc.lower() for url in self.state.editions.values()}
        )
        self.pending = list(pending or [])
        self.max_listing_pages = max_listing_pages
        self.run_id: int | None = None
        self.wanted = ArticleRequests(self._article, self.count, self.tz, timedelta(days=recheck_days),
                                      not_articles or ())
        self.archive: Archive | None = None
        self.crawl_delays: dict[str, float] = {}
        self.probed_hosts: set[str] = set()
        # Shared by the process's spiders and owned by the runner; without it, extraction in this process.
        self.extraction = extraction or ExtractionPool(0)

    # -- bookkeeping ---------------------------------------------------------------------------

    def count(self, key: str, n: int = 1) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"newswatch/{key}", n)

    def _request(self, url: str, callback: Any, kind: str, **meta: Any) -> scrapy.Request:
        return scrapy.Request(url, callback=callback, errback=self.fetch_failed, meta={"kind": kind, **meta})

    def _article(self, url: str, **meta: Any) -> scrapy.Request:
        return self._request(url, self.parse_article, "article", **meta)

    def fetch_failed(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        kind = request.meta.get("kind", "page") if request is not None else "page"
        if request is not None and request.meta.get("probe"):
            self.count("feed_probes_missed")
            return
        self.count(f"errors/{kind}")
        if (limit := _size_limit(failure)) is not None:
            self.count(f"skipped/{limit}")
        url = request.url if request is not None else "?"
        level = logging.ERROR if kind == "home" and url == self.home_url else logging.WARNING
        logger.log(level, "%s: %s %s failed: %s", self.source, kind, url, failure.getErrorMessage())

    # -- start ---------------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        self.archive = self.wanted.archive = open_archive(self.crawler)
        self.articles = HeldArticles(self.crawler, self.source)
        yield scrapy.Request(self.home_url, callback=self.parse_home, errback=self.fetch_failed,
                             meta={"kind": "home", "edition": None}, dont_filter=True)
        yield self._request(urljoin(self.home_url, "/robots.txt"), self.parse_robots, "robots")
        for url in self.pending:
            self.count("articles_retried")
            if (request := self.wanted.request(url, retry=True)) is not None:
                for held in self.articles.send([request]):
                    yield held

    def parse_robots(self, response: Response) -> Iterator[scrapy.Request]:
        if response.status == 304 or not isinstance(response, TextResponse):
            found = self.state.sitemaps
            delay = self.state.crawl_delay
        else:
            found = [url for url in sitemaps.sitemaps_from_robots(response.text)
                     if discovery.same_site(url, self.netlocs)]
            delay = Protego.parse(response.text).crawl_delay(self.crawler.settings.get("USER_AGENT", "*"))
            self.state.crawl_delay = float(delay) if delay else None
        if delay:
            host = urlsplit(response.url).hostname or ""
            self.crawl_delays[host] = min(float(delay), MAX_CRAWL_DELAY_S)
            self.count("robots_crawl_delay")
        for url in found:
            self.state.add(self.state.sitemaps, url)
            yield self._request(url, self.parse_sitemap, "sitemap")

    # -- home pages and editions ---------------------------------------------------------------

    def parse_home(self, response: Response) -> Iterator[scrapy.Request]:
        edition = response.meta.get("edition")
        if response.status == 304:
            self.count("homes_unchanged")
            yield from self._follow_known(response.url)
            return
        if not isinstance(response, TextResponse):
            self.count("errors/home_not_html")
            logger.error("%s: home page %s is not HTML", self.source, response.url)
            return
        self.count("homes")
        selector = response.selector
        editions = discovery.edition_links(selector, response.url, self.netlocs) if edition is None else {}
        for language, url in editions.items():
            if url.rstrip("/") == self.home_url.rstrip("/"):
                continue
            self.state.editions[language] = url
            self.netlocs = self.netlocs | {urlsplit(url).netloc.lower()}
            yield scrapy.Request(url, callback=self.parse_home, errback=self.fetch_failed,
                                 meta={"kind": "home", "edition": language})
            # An edition on a host of its own has its own robots.txt, with its own sitemaps.
            yield self._request(urljoin(url, "/robots.txt"), self.parse_robots, "robots")
        feeds = [url for url in discovery.feed_links(selector, response.url) if discovery.same_site(url, self.netlocs)]
        # Without autodiscovery, links that look like feeds or an RSS index page (footer "RSS").
        feeds = feeds or discovery.anchor_feed_links(selector, response.url, self.netlocs)
        yield from self._follow_feeds(feeds)
        host = urlsplit(response.url).netloc.lower()
        known_here = any(urlsplit(url).netloc.lower() == host for url in self.state.feeds)
        if not feeds and not known_here and host not in self.probed_hosts:
            # No autodiscovery: try the usual feed paths once per host.
            self.probed_hosts.add(host)
            probes = [urljoin(response.url, path) for path in discovery.USUAL_FEED_PATHS]
            yield from self._follow_feeds(probes, probe=True)
        for url in listings.section_links(selector, response.url, self.netlocs):
            self.state.add(self.state.sections, url)
            yield self._request(url, self.parse_listing, "listing")
        yield from self.articles.send(self._articles_from(selector, response.url, "home"))

    def _follow_known(self, home: str) -> Iterator[scrapy.Request]:
        """After a 304 home page: what earlier cycles discovered under that home page."""
        prefix = home.rstrip("/") + "/"
        is_main = home.rstrip("/") == self.home_url.rstrip("/")
        other_homes = [url.rstrip("/") + "/" for url in self.state.editions.values()]

        def belongs(url: str) -> bool:
            if not is_main:
                return url.startswith(prefix)
            return not any(url.startswith(other) for other in other_homes)

        if is_main:
            for language, url in self.state.editions.items():
                yield scrapy.Request(url, callback=self.parse_home, errback=self.fetch_failed,
                                     meta={"kind": "home", "edition": language})
                yield self._request(urljoin(url, "/robots.txt"), self.parse_robots, "robots")
        yield from self._follow_feeds([url for url in self.state.feeds if belongs(url)])
        for url in self.state.sections:
            if belongs(url):
                yield self._request(url, self.parse_listing, "listing")

    # -- feeds ---------------------------------------------------------------------------------

    def _follow_feeds(self, urls: list[str], probe: bool = False) -> Iterator[scrapy.Request]:
        for url in urls:
            yield self._request(url, self.parse_feed, "feed", probe=probe)

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        if response.status == 304:
            self.count("feeds_unchanged")
            return
        parsed = discovery.parse_feed(response.body, response.url, self.tz)
        if not parsed.is_feed:
            yield from self._feed_index(response, parsed.problem)
            return
        self.state.add(self.state.feeds, response.url)
        self.count("feeds")
        if parsed.problem and parsed.entries:
            self.count("errors/feed_malformed")
            logger.warning("%s: feed %s: %s", self.source, response.url, parsed.problem)
        if not parsed.entries:
            self.count("feeds_empty")
            self.state.problems[response.url] = "feed has no items"
            logger.info("%s: feed %s has no items", self.source, response.url)
        urls = [entry.url for entry in parsed.entries]
        self._learn(urls)
        self.wanted.look_up_all(urls)
        for entry in parsed.entries:
            if not discovery.same_site(entry.url, self.netlocs):
                self.count("links_offsite")
            elif (request := self.wanted.request(entry.url, listed_at=entry.published_at)) is not None:
                yield from self.articles.send([request])

    def _feed_index(self, response: Response, problem: str | None) -> Iterator[scrapy.Request]:
        """An HTML page where a feed was expected: an RSS index page lists feeds, else it is reported."""
        links = []
        if isinstance(response, TextResponse):
            links = discovery.anchor_feed_links(response.selector, response.url, self.netlocs)
        if links:
            self.count("feed_index_pages")
            yield from self._follow_feeds([url for url in links if url != response.url])
        elif not response.meta.get("probe"):
            self.count("feeds_not_feed")
            self.state.problems[response.url] = problem or "not a feed"
            logger.warning("%s: %s is not a feed: %s", self.source, response.url, problem)

    # -- sitemaps ------------------------------------------------------------------------------

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        if response.status == 304:
            self.count("sitemaps_unchanged")
            return
        max_bytes = int(self.crawler.settings.getint("DOWNLOAD_MAXSIZE"))
        parsed = sitemaps.parse_sitemap(response.body, self.tz, max_bytes)
        if parsed.problem:
            self.count("sitemaps_bad" if not parsed.entries else "sitemaps_empty")
            self.state.problems[response.url] = parsed.problem
            logger.warning("%s: sitemap %s: %s", self.source, response.url, parsed.problem)
        self.count("sitemaps")
        if parsed.declares_entities:
            self.count("errors/sitemap_entities")
            logger.warning("%s: sitemap %s declares XML entities (not expanded)", self.source, response.url)
        mark = self.state.mark(response.url)
        fresh = [entry for entry in parsed.entries if _is_fresh(entry, mark)]
        self.count("sitemap_entries_old", len(parsed.entries) - len(fresh))
        for entry in fresh:
            if (newest := _newest(entry)) is not None:
                self.state.raise_mark(response.url, newest)
        if parsed.is_index:
            for entry in fresh:
                if discovery.same_site(entry.url, self.netlocs):
                    yield self._request(entry.url, self.parse_sitemap, "sitemap")
            return
        self._learn([entry.url for entry in parsed.entries])
        self.wanted.look_up_all([entry.url for entry in fresh])
        for entry in fresh:
            if not discovery.same_site(entry.url, self.netlocs):
                continue
            # Newer than anything this sitemap listed before: new, or changed since we saw it.
            request = self.wanted.request(entry.url, changed=mark is not None, listed_at=entry.published)
            if request is not None:
                yield from self.articles.send([request])

    # -- listings ------------------------------------------------------------------------------

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        if response.status == 304:
            self.count("listings_unchanged")
            return
        if not isinstance(response, TextResponse):
            return
        self.count("listings")
        new = self._articles_from(response.selector, response.url, "listing")
        yield from self.articles.send(new)
        depth = int(response.meta.get("listing_page", 1))
        following = listings.next_page(response.selector, response.url, self.netlocs)
        if following and new and depth < self.max_listing_pages:
            yield self._request(following, self.parse_listing, "listing", listing_page=depth + 1)
        elif following and new:
            self.count("listings_page_limit")

    def _articles_from(self, selector: Any, base_url: str, where: str) -> list[scrapy.Request]:
        """Requests for the article links of a page that are neither archived nor requested already."""
        found = []
        links = listings.article_links(selector, base_url, self.netlocs, self.state.patterns)
        self.wanted.look_up_all(links)
        for url in links:
            if (request := self.wanted.request(url, found_on=where)) is not None:
                found.append(request)
        return found

    def _learn(self, article_urls: list[str]) -> None:
        for name in url_patterns.learn_patterns(article_urls):
            self.state.add(self.state.patterns, name)

    # -- articles ------------------------------------------------------------------------------

    async def parse_article(self, response: Response) -> AsyncIterator[ArticleItem | NotArticleItem]:
        if response.status == 304:
            self.count("articles_unchanged")
            return
        if not isinstance(response, TextResponse):
            self.count("skipped/not_html")
            logger.info("%s: skipped non-HTML body at %s", self.source, response.url)
            yield NotArticleItem(response.url, self.source_id, "not_html")
            return
        try:
            content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
            edition = response.meta.get("edition")
            prepared = await self.extraction.prepare(response.body, content_type, response.url, self.tz.key, edition)
        except ExtractionError as exc:
            self.count("skipped/unparseable")
            logger.warning("%s: %s", self.source, exc)
            return
        page = prepared.page
        if page.page_type is not PageType.ARTICLE:
            self.count(f"skipped/{page.page_type.value}")
            logger.info("%s: %s is a %s page, not archived", self.source, response.url, page.page_type.value)
            yield NotArticleItem(response.url, self.source_id, page.page_type.value)
            return
        page = self.wanted.complete_date(response.url, page)
        if page.published_at is None:
            self.count("dates_missing")
        yield ArticleItem(page, self.source, self.source_id, edition, prepared.features)

    def closed(self, reason: str) -> None:
        if self.archive is not None:
            self.archive.close()


def _size_limit(failure: Failure) -> str | None:
    """Which body size limit a failed fetch hit: DOWNLOAD_MAXSIZE on the wire ("too_large"), or
    while inflating a compressed body ("decompression_limit", a gzip bomb); None for other failures."""
    if isinstance(failure.value, DownloadCancelledError):
        return "too_large"
    if isinstance(failure.value, IgnoreRequest) and "during decompression" in failure.getErrorMessage():
        return "decompression_limit"
    return None


def _is_fresh(entry: sitemaps.SitemapEntry, mark: datetime | None) -> bool:
    newest = _newest(entry)
    return mark is None or newest is None or newest > mark


def _newest(entry: sitemaps.SitemapEntry) -> datetime | None:
    dates = [date for date in (entry.lastmod, entry.published) if date is not None]
    return max(dates) if dates else None
