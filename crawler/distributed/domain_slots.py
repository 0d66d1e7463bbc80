"""DomainSlotsHandler: per-domain delays that hold across every crawl process sharing one Redis.

Scrapy's download slots space requests within one process only; with crawl workers on several
hosts, two crawls may reach one domain at once. Here, just before a request goes on the wire
(after Scrapy's own slot queue, so no local wait can push it past its turn), the domain is claimed
atomically in Redis, on Redis's clock, once the delay since its last request (from any process)
has passed; until then the request waits: consecutive requests to one domain start at least the
delay apart. The delay
is the larger of DOWNLOAD_DELAY and the host's robots.txt Crawl-delay (which the spider reads).

It wraps Scrapy's HTTP/1.1 handler, so it is installed as the http and https download handler
(by crawler.runner, only when a Redis URL is set; without one it is not configured).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

if TYPE_CHECKING:
    import redis.asyncio

logger = logging.getLogger(__name__)

REDIS_URL_SETTING = "NEWSWATCH_REDIS_URL"
REDIS_PREFIX_SETTING = "NEWSWATCH_REDIS_PREFIX"
# Covers the jitter between a request's reserved start and its reaching the server, so that the
# server never sees two requests closer than the delay.
GUARD_S = 0.025

# KEYS[1]: the domain's last request start (ms, Redis clock); ARGV[1]: spacing in ms.
# Claims the domain now (returns 0) when the spacing has passed, else says how many ms to wait.
# A claim is made only when the request is about to leave: a reservation made in advance would be
# spent late by a process whose event loop is busy (extraction runs on it), and collide.
_CLAIM = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local spacing = tonumber(ARGV[1])
local next_ms = tonumber(redis.call('GET', KEYS[1]) or '0') + spacing
if now_ms < next_ms then
  return next_ms - now_ms
end
redis.call('SET', KEYS[1], now_ms, 'PX', spacing + 60000)
return 0
"""


def domain_key(url: str) -> str:
    """The politeness unit: host and port (sites on one address but other ports are other sites)."""
    return urlsplit(url).netloc.lower()


class DomainSlotsHandler(HTTP11DownloadHandler):
    lazy = False

    def __init__(self, crawler: Crawler) -> None:
        url = crawler.settings.get(REDIS_URL_SETTING) or ""
        if not url:
            raise NotConfigured(f"{REDIS_URL_SETTING} is not set")
        import redis.asyncio  # noqa: PLC0415 - only a crawl with a Redis URL loads redis

        super().__init__(crawler)
        self._delay_s = max(0.0, crawler.settings.getfloat("DOWNLOAD_DELAY"))
        self._prefix = crawler.settings.get(REDIS_PREFIX_SETTING) or "newswatch"
        self._redis: redis.asyncio.Redis = redis.asyncio.Redis.from_url(url)
        self._claim: Any = self._redis.register_script(_CLAIM)
        self._stats = crawler.stats

    def delay_for(self, request: Request) -> float:
        host = urlsplit(request.url).hostname or ""
        crawl_delays: dict[str, float] = getattr(self._crawler.spider, "crawl_delays", None) or {}
        return max(self._delay_s, crawl_delays.get(host, 0.0))

    async def download_request(self, request: Request) -> Response:
        delay = self.delay_for(request)
        if delay > 0:
            await self._wait_turn(domain_key(request.url), delay)
        return await super().download_request(request)

    async def _wait_turn(self, domain: str, delay: float) -> None:
        import redis  # noqa: PLC0415 - loaded by __init__

        spacing_ms = int((delay + GUARD_S) * 1000)
        waited = False
        while True:
            try:
                wait_ms = int(await self._claim(keys=[f"{self._prefix}:domain:{domain}"], args=[spacing_ms]))
            except redis.RedisError as exc:
                # Politeness falls back to this process's own slots (which still apply); the crawl goes on.
                logger.warning("domain slots unavailable (%s): going on with local delays only", exc)
                if self._stats is not None:
                    self._stats.inc_value("newswatch/errors/domain_slots")
                return
            if wait_ms <= 0:
                break
            waited = True
            await asyncio.sleep(wait_ms / 1000)
        if waited and self._stats is not None:
            self._stats.inc_value("newswatch/domain_slot_waits")

    async def close(self) -> None:
        await self._redis.aclose()
        await super().close()
