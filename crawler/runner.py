"""Running one crawl cycle of several sources in this process, and what it reports."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from scrapy.crawler import AsyncCrawlerProcess
from scrapy.settings import Settings

from crawler.archive_link import ARCHIVE_URL_SETTING, TIMEZONE_SETTING
from crawler.distributed.domain_slots import REDIS_PREFIX_SETTING, REDIS_URL_SETTING
from crawler.extraction_pool import ExtractionPool
from crawler.middlewares.fetch_state import FULL_FETCH_SETTING
from crawler.middlewares.raw_pages import KEEP_RAW_SETTING
from crawler.middlewares.retry import BACKOFF_SETTING
from crawler.pipelines.archive import BATCH_SETTING, BATCH_WAIT_SETTING
from crawler.spiders.source import SourceSpider
from storage import Archive
from storage.crawl_state import NOT_ARTICLE_KIND
from storage.records import SourceInfo

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CrawlOptions:
    """How to crawl: politeness, limits and where to archive. Built once by the caller."""

    archive_url: str
    timezone: str = "Asia/Ho_Chi_Minh"
    user_agent: str = "newswatch/0.1 (+https://github.com/newswatch)"
    obey_robots: bool = True
    download_timeout_s: float = 30.0
    max_body_bytes: int = 16 * 1024 * 1024
    concurrent_requests: int = 16
    concurrent_per_domain: int = 4
    download_delay_s: float = 0.0
    autothrottle: bool = True
    retry_times: int = 2
    retry_backoff_s: float = 1.0
    log_level: str = "WARNING"
    max_listing_pages: int = 20
    recheck_days: float = 2.0
    full_fetch_every: int = 10
    keep_raw: bool = False
    # Worker processes that extract articles beside the crawl's event loop (0: in the crawl's process).
    extraction_processes: int = 1
    # Articles written to the archive together (one transaction on SQLite), and the longest one waits.
    archive_batch: int = 16
    archive_batch_wait_s: float = 2.0
    # Crawl workers on several hosts: per-domain delays shared through this Redis ("" = this process only).
    redis_url: str = ""
    redis_prefix: str = "newswatch"


@dataclass(frozen=True)
class CrawlTarget:
    """One source to crawl, with what earlier cycles left for this one."""

    source_id: int
    name: str
    home_url: str
    discovered: dict[str, Any] = field(default_factory=dict)
    pending: tuple[str, ...] = ()
    cycle: int = 0
    not_articles: tuple[str, ...] = ()

    @classmethod
    def from_archive(cls, archive: Archive, source: SourceInfo) -> CrawlTarget:
        _last, finished = archive.last_success(source.id)
        not_articles = tuple(archive.fetch_states(source.id, [NOT_ARTICLE_KIND]))
        return cls(source.id, source.name, source.home_url, dict(source.discovered),
                   tuple(archive.pending_articles(source.id)), finished, not_articles)


def scrapy_settings(options: CrawlOptions) -> Settings:
    settings = Settings()
    settings.setdict(
        {
            "BOT_NAME": "newswatch",
            "USER_AGENT": options.user_agent,
            "ROBOTSTXT_OBEY": options.obey_robots,
            "DOWNLOAD_TIMEOUT": options.download_timeout_s,
            "DOWNLOAD_MAXSIZE": options.max_body_bytes,
            "DOWNLOAD_WARNSIZE": options.max_body_bytes // 2,
            "CONCURRENT_REQUESTS": options.concurrent_requests,
            "CONCURRENT_REQUESTS_PER_DOMAIN": options.concurrent_per_domain,
            # The archive pipeline is synchronous: Scrapy's default of 100 concurrent items only
            # started an asyncio task per output of every response, nothing ran in parallel.
            "CONCURRENT_ITEMS": 1,
            "DOWNLOAD_DELAY": options.download_delay_s,
            "AUTOTHROTTLE_ENABLED": options.autothrottle,
            "RETRY_TIMES": options.retry_times,
            "RETRY_GIVE_UP_LOG_LEVEL": "WARNING",  # counted per source; a crawl goes on
            "LOG_LEVEL": options.log_level,
            # The caller (the CLI) owns logging handlers; Scrapy must not add its own.
            "LOG_INSTALL_ROOT_HANDLER": False,
            "TELNETCONSOLE_ENABLED": False,
            # Scrapy 2.19's remote-control server runs Python sent to it on a local port, and a killed
            # crawl leaves its job file behind: a scheduled crawler has no use for either.
            "REMOTE_CONTROL_ENABLED": False,
            # Scrapy reads the source of every callback (inspect + ast) to warn about generators that
            # return a value; its cache holds bound methods weakly, and they die with their requests.
            "WARN_ON_GENERATOR_RETURN_VALUE": False,
            "COOKIES_ENABLED": False,
            ARCHIVE_URL_SETTING: options.archive_url,
            TIMEZONE_SETTING: options.timezone,
            FULL_FETCH_SETTING: options.full_fetch_every,
            KEEP_RAW_SETTING: options.keep_raw,
            BATCH_SETTING: options.archive_batch,
            BATCH_WAIT_SETTING: options.archive_batch_wait_s,
            "ITEM_PIPELINES": {"crawler.pipelines.archive.ArchivePipeline": 300},
            "DOWNLOADER_MIDDLEWARES": {
                # First of all, before robots.txt (100): nothing may connect to an undeclared private host.
                "crawler.middlewares.private_hosts.PrivateHostsMiddleware": 10,
                "crawler.middlewares.fetch_state.FetchStateMiddleware": 50,
                # After decompression (590) on the way in: bodies are kept as the spider reads them.
                "crawler.middlewares.raw_pages.RawPagesMiddleware": 55,
                "crawler.middlewares.crawl_delay.CrawlDelayMiddleware": 60,
                "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
                "crawler.middlewares.retry.BackoffRetryMiddleware": 550,
            },
            BACKOFF_SETTING: options.retry_backoff_s,
            "EXTENSIONS": {"crawler.extensions.crawl_run.CrawlRunRecorder": 500},
        },
        priority="project",
    )
    if options.redis_url:
        handler = "crawler.distributed.domain_slots.DomainSlotsHandler"
        settings.setdict({REDIS_URL_SETTING: options.redis_url, REDIS_PREFIX_SETTING: options.redis_prefix,
                          "DOWNLOAD_HANDLERS": {"http": handler, "https": handler}}, priority="project")
    return settings


def run_crawl(targets: list[CrawlTarget], options: CrawlOptions) -> list[int]:
    """Crawl every target once, concurrently, and return their crawl-run ids (blocks until done).

    A Twisted reactor cannot be restarted in one process, so this is for one-shot commands;
    the scheduler runs it in a child process per cycle.
    """
    extraction = ExtractionPool(options.extraction_processes)
    extraction.start()  # forked before the reactor's threads exist
    try:
        crawlers = _start_crawlers(targets, options, extraction)
    finally:
        extraction.close()
    run_ids: list[int] = []
    for crawler in crawlers:
        run_id = getattr(crawler.spider, "run_id", None)
        if run_id is not None:
            run_ids.append(int(run_id))
    return run_ids


def _start_crawlers(targets: list[CrawlTarget], options: CrawlOptions, extraction: ExtractionPool) -> list[Any]:
    process = AsyncCrawlerProcess(scrapy_settings(options))
    crawlers: list[Any] = []
    for target in targets:
        crawler = process.create_crawler(SourceSpider)
        crawlers.append(crawler)
        process.crawl(
            crawler,
            source=target.name,
            source_id=target.source_id,
            home_url=target.home_url,
            timezone=options.timezone,
            discovered=target.discovered,
            pending=list(target.pending),
            cycle=target.cycle,
            max_listing_pages=options.max_listing_pages,
            recheck_days=options.recheck_days,
            not_articles=list(target.not_articles),
            extraction=extraction,
        )
    process.start()
    return crawlers
