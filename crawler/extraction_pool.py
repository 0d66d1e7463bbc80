"""ExtractionPool: article extraction on worker processes, beside the crawl's event loop.

Extraction (trafilatura, the metadata, the page classifier) and the dedup features of an
article's text (shingles, MinHash, anchors) are pure CPU work on one body. In the crawl's process
they take the core that the event loop, Scrapy and the archive writes need too, and a thread
would not help (the GIL; measured in BENCHMARKS.md). The archive writes stay in the crawl
process: one writer, in arrival order, as without workers.

The workers are forked once the crawl process has imported everything, before the reactor starts
its threads, so they cost no start-up. They never touch the archive (a forked child must not use
the SQLite connections it inherits). They ignore Ctrl-C (the crawl process decides how a crawl
stops) and die with the crawl process (Linux's parent-death signal), so a crawl killed at any
moment leaves none behind. `processes=0` extracts in the crawl's own process.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from crawler.errors import ExtractionError
from crawler.extraction import ExtractedPage, PageType, decode_html, extract_page
from storage.dedup import Features, text_features

logger = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


@dataclass(frozen=True)
class PreparedPage:
    """An extracted page, and for an article the dedup features of its text."""

    page: ExtractedPage
    features: Features | None


def prepare_page(body: bytes, content_type: str, url: str, timezone: str, edition_language: str | None) -> PreparedPage:
    """Decoding and extraction of one response body, and the features of an article's text."""
    page = extract_page(decode_html(body, content_type), url, ZoneInfo(timezone))
    if page.page_type is not PageType.ARTICLE:
        return PreparedPage(page, None)
    features = text_features(page.url, page.canonical_url, page.text, page.language or edition_language,
                             page.images, page.source_links)
    return PreparedPage(page, features)


def _start_worker(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the crawl process died before the signal was asked for
        os._exit(1)


class ExtractionPool:
    """Prepares response bodies on `processes` forked workers (0: in this process).

    A worker that dies (killed, out of memory) breaks the pool: the pages it held become
    `ExtractionError`s of this cycle (fetched again next cycle), and the rest are extracted in
    this process, with one warning.
    """

    def __init__(self, processes: int) -> None:
        if processes < 0:
            raise ValueError(f"extraction processes cannot be negative, not {processes}")
        self.processes = processes
        self._executor: ProcessPoolExecutor | None = None
        self._broken = False

    def start(self) -> None:
        """Fork the workers now: before the reactor runs, as forking a process whose other threads
        hold locks can leave the child waiting on them."""
        if self.processes and self._executor is None:
            self._executor = ProcessPoolExecutor(
                self.processes, mp_context=multiprocessing.get_context("fork"),
                initializer=_start_worker, initargs=(os.getpid(),),
            )
            self._executor.submit(int).result()  # the fork context starts every worker on the first submit

    async def prepare(self, body: bytes, content_type: str, url: str, timezone: str,
                      edition_language: str | None = None) -> PreparedPage:
        args = (body, content_type, url, timezone, edition_language)
        if self._executor is None or self._broken:
            return prepare_page(*args)
        try:
            return await asyncio.wrap_future(self._executor.submit(prepare_page, *args))
        except BrokenProcessPool as exc:
            if not self._broken:
                self._broken = True
                logger.warning("an extraction worker process died: extracting in the crawl process from now on")
            raise ExtractionError(url, "the extraction worker process died") from exc

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
