"""The crawler's one link to the archive: components open it from the crawler's settings."""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from storage import Archive

ARCHIVE_URL_SETTING = "NEWSWATCH_ARCHIVE_URL"
TIMEZONE_SETTING = "NEWSWATCH_TIMEZONE"


def archive_url(crawler: Crawler) -> str:
    url = crawler.settings.get(ARCHIVE_URL_SETTING)
    if not url:
        raise NotConfigured(f"{ARCHIVE_URL_SETTING} is not set")
    return str(url)


def open_archive(crawler: Crawler) -> Archive:
    return Archive.open(archive_url(crawler))
