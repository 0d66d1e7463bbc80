"""The crawler package's exceptions: one base, each carrying the URL it is about."""

from __future__ import annotations


class CrawlerError(Exception):
    """Base of every error the crawler raises to its callers."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason

    def __reduce__(self) -> tuple[type[CrawlerError], tuple[str, str]]:
        # Raised in extraction worker processes and pickled back: rebuilt from its subject.
        return type(self), (self.url, self.reason)


class FetchError(CrawlerError):
    """A page that could not be fetched (unreachable host, HTTP error, timeout)."""


class ExtractionError(CrawlerError):
    """A body that is not an HTML page newswatch can read."""
