"""newswatch's own Scrapy signals (sent with crawler.signals.send_catch_log)."""

from __future__ import annotations

# An article was fetched but could not be written to the archive. Arguments: url, reason.
# FetchStateMiddleware then forgets the fetch's validators, so the next cycle fetches it in full.
article_not_archived = object()
