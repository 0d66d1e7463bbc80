"""PrivateHostsMiddleware: no request to a private, loopback or link-local address the source did
not declare itself, refused before any connection (robots.txt and redirects included).

The spider only follows links on the source's hosts, but a redirect, or an hreflang "edition" on
10.0.0.1 or 169.254.169.254 (cloud metadata), would still reach into the crawler's own network.
Allowed: the home page's host, and a declared edition's host on the home page's own address
(another port of it, as the local replica serves a separate English host). Hosts are judged by
their IP literal (and "localhost"); names are not resolved here.
"""

from __future__ import annotations

import ipaddress
import logging
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest

from crawler.spiders.source import SourceSpider

logger = logging.getLogger(__name__)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def host_address(host: str) -> Address | None:
    """The address an IP-literal host names (localhost: loopback); None for other names."""
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return ipaddress.IPv4Address("127.0.0.1")
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


def is_internal(address: Address) -> bool:
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    address = mapped or address
    return address.is_private or address.is_loopback or address.is_link_local or address.is_reserved \
        or address.is_multicast or address.is_unspecified


class PrivateHostsMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateHostsMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        parts = urlsplit(request.url)
        address = host_address(parts.hostname or "")
        if address is None or not is_internal(address):
            return
        spider = self.crawler.spider
        if isinstance(spider, SourceSpider) and self._declared(spider, parts.netloc.lower(), address):
            return
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value("newswatch/skipped/private_host")
        logger.warning("refused %s: a private address the source did not declare", request.url)
        raise IgnoreRequest(f"private address not declared by the source: {request.url}")

    @staticmethod
    def _declared(spider: SourceSpider, netloc: str, address: Address) -> bool:
        home = urlsplit(spider.home_url)
        if netloc == home.netloc.lower():
            return True
        return netloc in spider.netlocs and host_address(home.hostname or "") == address
