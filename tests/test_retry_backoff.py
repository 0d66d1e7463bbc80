"""Retries wait: exponentially, or as long as the server's Retry-After says."""

from __future__ import annotations

from scrapy import Request
from scrapy.http import Response
from scrapy.settings import Settings

from crawler.middlewares.retry import BackoffRetryMiddleware


def _middleware(base: float) -> BackoffRetryMiddleware:
    middleware = BackoffRetryMiddleware(Settings())
    middleware.base_delay = base
    return middleware


def test_delays_double_per_attempt_within_jitter() -> None:
    middleware = _middleware(1.0)
    delays = [middleware.delay_for(Request("http://a.test/", meta={"retry_times": n}), None) for n in (1, 2, 3)]
    assert 0.8 <= delays[0] <= 1.2
    assert 1.6 <= delays[1] <= 2.4
    assert 3.2 <= delays[2] <= 4.8


def test_retry_after_is_obeyed_and_capped() -> None:
    middleware = _middleware(1.0)
    retry = Request("http://a.test/", meta={"retry_times": 1})
    assert middleware.delay_for(retry, Response("http://a.test/", status=503, headers={"Retry-After": "7"})) == 7
    assert middleware.delay_for(retry, Response("http://a.test/", status=503, headers={"Retry-After": "9999"})) == 60
