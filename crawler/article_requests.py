"""ArticleRequests: which article URLs one crawl cycle requests, and the times listings give them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import scrapy

from crawler.extraction import ExtractedPage
from storage import Archive
from storage.records import KnownArticle


class ArticleRequests:
    """A cycle's article bookkeeping: what the archive already holds (looked up a page of links
    at a time), what was requested already, and publication times from feeds and sitemaps.

    `make_request(url, **meta)` builds the spider's article request; `count(key)` counts.
    """

    def __init__(
        self, make_request: Callable[..., scrapy.Request], count: Callable[[str], None], tz: ZoneInfo,
        recheck: timedelta, not_articles: Iterable[str] = (),
    ) -> None:
        self.make_request = make_request
        self.count = count
        self.tz = tz
        self.recheck = recheck
        self.archive: Archive | None = None  # set when the crawl starts
        self.not_articles = set(not_articles)
        self.seen: set[str] = set()
        self.known_skipped: set[str] = set()
        self.listed_at: dict[str, datetime] = {}
        self.known_cache: dict[str, KnownArticle | None] = {}

    def request(self, url: str, *, changed: bool = False, retry: bool = False, **meta: Any) -> scrapy.Request | None:
        """A request for an article unless it is archived and has no reason to be looked at again.

        Reasons: a sitemap lists it with a lastmod newer than anything it listed before, or it
        is recent (the re-check window) and was last fetched a while ago; then it is fetched
        conditionally. Only the site's own dates are compared with each other, never our clock.
        """
        if (listed := meta.pop("listed_at", None)) is not None:
            self._note_listed_time(url, listed)
        if url in self.seen:
            return None
        if url in self.not_articles and not changed:
            self.count("not_articles_known")
            self.seen.add(url)
            return None
        known = self.lookup(url) if not retry else None
        if known is not None:
            if not (changed or self.due_again(known)):
                if url not in self.known_skipped:
                    self.known_skipped.add(url)
                    self.count("articles_known")
                return None
            self.count("articles_rechecked")
            meta.update(etag=known.etag, last_modified=known.last_modified)
        self.seen.add(url)
        return self.make_request(url, **meta)

    def _note_listed_time(self, url: str, listed: datetime) -> None:
        """Where a feed and a sitemap both list an article, keep a time over a bare day, then the
        earliest: the same choice whichever was parsed first."""
        def rank(when: datetime) -> tuple[bool, datetime]:
            return when.astimezone(self.tz).time() == time(0), when

        current = self.listed_at.get(url)
        if current is None or rank(listed) < rank(current):
            self.listed_at[url] = listed

    def look_up_all(self, urls: list[str]) -> None:
        """Fill the known-article cache for a page's links in a few queries instead of one a link."""
        if self.archive is None:
            return
        missing = [url for url in urls if url not in self.known_cache]
        found = self.archive.lookup_articles(missing)
        self.known_cache.update({url: found.get(url) for url in missing})

    def lookup(self, url: str) -> KnownArticle | None:
        if url not in self.known_cache:
            self.known_cache[url] = self.archive.lookup_article(url) if self.archive is not None else None
        return self.known_cache[url]

    def due_again(self, known: KnownArticle) -> bool:
        checked = known.last_checked_at
        if checked is None:
            # Archived, but no fetch of it is on record: the crawl was killed between the item's
            # write and the batched fetch-state flush, or the write of its last fetch failed
            # (signals.article_not_archived). One fetch records it.
            return True
        now = datetime.now(UTC)
        if known.published_at is None or now - known.published_at >= self.recheck:
            return False
        return now - checked > self.recheck / 4

    def complete_date(self, url: str, page: ExtractedPage) -> ExtractedPage:
        """The feed's or news sitemap's publication time of the article at `url`, where its page
        gives a day but no time (the portal's date line) or no date at all; a page's own full date
        always wins."""
        listed = self.listed_at.get(url)
        if listed is None and (known := self.lookup(url)) is not None:
            listed = known.published_at  # an earlier cycle's time, so a re-fetch changes nothing
        if listed is None:
            return page
        local = listed.astimezone(self.tz)
        own = page.published_at
        if own is None:
            self.count("dates_from_listing")
            return replace(page, published_at=local)
        if own.time() == time(0) and own.date() == local.date():
            self.count("times_from_listing")
            return replace(page, published_at=local)
        return page
