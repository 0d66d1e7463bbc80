"""BackoffRetryMiddleware: Scrapy's retries, spaced out exponentially and by Retry-After.

Scrapy retries a failed request at once; against a struggling provincial server that only
adds load. Here a retry waits `base * 2**(attempt - 1)` seconds (with jitter, capped), or the
server's Retry-After when it sends one, before it is handed back to the scheduler.
"""

from __future__ import annotations

import asyncio
import logging
import random

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Response

logger = logging.getLogger(__name__)

BACKOFF_SETTING = "NEWSWATCH_RETRY_BACKOFF_S"
MAX_BACKOFF_S = 60.0


class BackoffRetryMiddleware(RetryMiddleware):
    base_delay: float = 1.0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        middleware = super().from_crawler(crawler)
        middleware.base_delay = max(0.0, crawler.settings.getfloat(BACKOFF_SETTING, 1.0))
        return middleware

    def delay_for(self, retry: Request, response: Response | None) -> float:
        if response is not None:
            header = response.headers.get(b"Retry-After")
            if header and header.strip().isdigit():
                return min(float(header), MAX_BACKOFF_S)
        attempt = int(retry.meta.get("retry_times", 1))
        delay = self.base_delay * 2 ** (attempt - 1)
        return float(min(delay * random.uniform(0.8, 1.2), MAX_BACKOFF_S))  # noqa: S311 - jitter, not crypto

    async def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        result = super().process_response(request, response)
        if isinstance(result, Request):
            await asyncio.sleep(self.delay_for(result, response))
        return result

    async def process_exception(  # type: ignore[override]
        self, request: Request, exception: Exception
    ) -> Request | Response | None:
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            await asyncio.sleep(self.delay_for(result, None))
        return result
