"""Atom feeds: new items (canonical stories), the items of one source, and the alerts."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from feedgen.feed import FeedGenerator

from alerts.atom import render_alerts_feed
from alerts.outbox import alert_message
from storage.browse import ItemSummary
from storage.events import EventInfo

logger = logging.getLogger(__name__)

FEED_MEDIA_TYPE = "application/atom+xml; charset=utf-8"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _http_url(url: str) -> bool:
    return urlsplit(url).scheme in ("http", "https")


def items_feed(items: Iterable[ItemSummary], feed_id: str, title: str, base_url: str) -> bytes:
    """An Atom document of archived items, newest first; every field is text, escaped by the generator."""
    ordered = list(items)
    feed = FeedGenerator()
    feed.id(feed_id)
    feed.title(title)
    feed.updated(max((item.first_seen_at for item in ordered), default=_EPOCH))
    feed.link(href=base_url, rel="alternate")
    for item in ordered:
        entry = feed.add_entry(order="append")
        entry.id(f"urn:newswatch:item:{quote(item.url, safe=':/?=&%#.-_~')}")
        entry.title(item.title or item.url)
        entry.updated(item.first_seen_at)
        if item.published_at is not None:
            entry.published(item.published_at)
        # The original page; the dashboard's item page when the URL is not one a reader should open.
        entry.link(href=item.url if _http_url(item.url) else f"{base_url}items/{item.id}", rel="alternate")
        if item.author:
            entry.author(name=item.author)
        entry.content(item.summary, type="text")
        entry.category(term=item.source)
        if item.language:
            entry.category(term=f"lang:{item.language}")
    data: bytes = feed.atom_str(pretty=True)
    return data


def alerts_feed(events: Iterable[EventInfo], base_url: str) -> bytes:
    """The alerted events as the alerts channel's Atom entries (one per event)."""
    messages = [alert_message(event, f"web-{event.id}") for event in events]
    return render_alerts_feed(messages, feed_id="urn:newswatch:alerts:web", title="newswatch alerts",
                              link=f"{base_url}alerts")
