"""FetchStateMiddleware: conditional requests from stored validators, and what each fetch told us.

Validators of feeds, sitemaps, listings and home pages are stored only when a cycle finishes
cleanly: a cycle killed half-way leaves the old ones, so the next cycle sees the same changes
again instead of a 304 that would hide them. Article fetches are stored as they happen, so a
failed article is retried next cycle.

Validator trust: every `NEWSWATCH_FULL_FETCH_EVERY`-th cycle of a source is fetched without
validators; a host that sent the same ETag (or Last-Modified) for a different body is not
trusted with conditional requests again.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from crawler import signals as newswatch_signals
from crawler.archive_link import open_archive
from crawler.spiders.source import SourceSpider
from storage import Archive
from storage.records import FetchInfo

logger = logging.getLogger(__name__)

CONDITIONAL_KINDS = ("home", "feed", "sitemap", "listing", "robots")
FULL_FETCH_SETTING = "NEWSWATCH_FULL_FETCH_EVERY"
CYCLE_SETTING = "NEWSWATCH_CYCLE"
ARTICLE_FLUSH_EVERY = 50


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


class FetchStateMiddleware:
    def __init__(self, crawler: Crawler, archive: Archive, full_fetch_every: int) -> None:
        self.crawler = crawler
        self.archive = archive
        self.full_fetch_every = full_fetch_every
        self.states: dict[str, FetchInfo] = {}
        self.full_fetch = False
        self.untrusted: set[str] = set()
        self.pending_articles: list[dict[str, Any]] = []
        self.pending_validators: list[dict[str, Any]] = []
        self.article_urls: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FetchStateMiddleware:
        every = crawler.settings.getint(FULL_FETCH_SETTING, 10)
        if every < 0:
            raise NotConfigured(f"{FULL_FETCH_SETTING} must not be negative")
        middleware = cls(crawler, open_archive(crawler), every)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(middleware.article_not_archived, signal=newswatch_signals.article_not_archived)
        return middleware

    def _count(self, key: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"newswatch/{key}")

    def spider_opened(self, spider: Spider) -> None:
        if not isinstance(spider, SourceSpider):
            return
        self.states = self.archive.fetch_states(spider.source_id, CONDITIONAL_KINDS)
        self.untrusted = set(spider.state.untrusted_hosts)
        cycle = int(getattr(spider, "cycle", 0))
        self.full_fetch = self.full_fetch_every > 0 and cycle > 0 and cycle % self.full_fetch_every == 0
        if self.full_fetch:
            self._count("full_fetch_cycle")

    def process_request(self, request: Request) -> None:
        kind = request.meta.get("kind")
        host = urlsplit(request.url).netloc
        if kind == "article":
            etag, modified = request.meta.get("etag"), request.meta.get("last_modified")
        elif kind in CONDITIONAL_KINDS and not self.full_fetch and request.url in self.states:
            state = self.states[request.url]
            etag, modified = state.etag, state.last_modified
        else:
            return
        if host in self.untrusted or not (etag or modified):
            return
        if etag:
            request.headers.setdefault(b"If-None-Match", etag)
        if modified:
            request.headers.setdefault(b"If-Modified-Since", modified)
        request.meta["handle_httpstatus_list"] = [*request.meta.get("handle_httpstatus_list", []), 304]

    def process_response(self, request: Request, response: Response) -> Response:
        kind = request.meta.get("kind")
        if kind is None:
            return response
        spider = self.crawler.spider
        source_id = spider.source_id if isinstance(spider, SourceSpider) else None
        previous = self.states.get(request.url)
        digest = body_hash(response.body) if response.status == 200 else (previous.body_hash if previous else None)
        kept = previous if previous is not None and response.status == 304 else None
        row = {
            "url": request.url, "source_id": source_id, "kind": kind, "status": response.status,
            "etag": _header(response, b"ETag") or (kept.etag if kept else None),
            "last_modified": _header(response, b"Last-Modified") or (kept.last_modified if kept else None),
            "body_hash": digest,
        }
        if previous is not None and response.status == 200:
            self._check_validators(request, previous, row, spider)
        self._remember(kind, row)
        return response

    def _check_validators(
        self, request: Request, previous: FetchInfo, row: dict[str, Any], spider: Spider | None
    ) -> None:
        same_validator = (previous.etag and previous.etag == row["etag"]) or (
            previous.last_modified and previous.last_modified == row["last_modified"]
        )
        if same_validator and previous.body_hash and previous.body_hash != row["body_hash"]:
            host = urlsplit(request.url).netloc
            if host not in self.untrusted:
                self.untrusted.add(host)
                self._count("validators/untrusted_hosts")
                logger.warning("%s sends the same validators for changed content: not trusted any more", host)
                if isinstance(spider, SourceSpider) and host not in spider.state.untrusted_hosts:
                    spider.state.untrusted_hosts.append(host)
        elif not same_validator and previous.body_hash == row["body_hash"]:
            self._count("validators/changed_for_same_body")

    def process_exception(self, request: Request, exception: BaseException) -> None:
        if request.meta.get("kind") == "article":
            spider = self.crawler.spider
            source_id = spider.source_id if isinstance(spider, SourceSpider) else None
            error = f"{type(exception).__name__}: {exception}"[:500]
            self._remember("article", {"url": request.url, "source_id": source_id, "kind": "article",
                                       "status": None, "error": error})

    def article_not_archived(self, url: str, reason: str) -> None:
        """The fetch happened but its page is not in the archive: stored as a failed fetch, never
        checked and without validators, so the next cycle fetches it in full (a new article as a
        retry, an archived one as due for a check) instead of being told 304 about a lost edit."""
        spider = self.crawler.spider
        source_id = spider.source_id if isinstance(spider, SourceSpider) else None
        self._remember("article", {"url": url, "source_id": source_id, "kind": "article", "status": None,
                                   "error": f"not archived: {reason}"[:500], "last_checked_at": None})

    def _remember(self, kind: str, row: dict[str, Any]) -> None:
        if kind == "article":
            self.article_urls.add(row["url"])
            self.pending_articles.append(row)
            if len(self.pending_articles) >= ARTICLE_FLUSH_EVERY:
                self._flush_articles()
        else:
            self.pending_validators.append(row)

    def _flush_articles(self) -> None:
        rows, self.pending_articles = self.pending_articles, []
        self.archive.record_fetches(rows)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        self._flush_articles()
        if reason == "finished":
            # A redirect keeps the request's kind: a nav link redirected to an article would store
            # the article's URL as a 'listing' over its 'article' state. Articles keep theirs.
            candidates = [row for row in self.pending_validators if row["url"] not in self.article_urls]
            archived = self.archive.lookup_articles([row["url"] for row in candidates])
            self.archive.record_fetches([row for row in candidates if row["url"] not in archived])
        self.pending_validators = []
        self.archive.close()
