"""ExtractionPool: the same pages and features as extraction in the crawl process, and worker
processes that never outlive it."""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawler.errors import ExtractionError
from crawler.extraction import PageType
from crawler.extraction_pool import ExtractionPool, PreparedPage, prepare_page
from storage import PageRecord
from storage.dedup import features_of_record

PAGES = Path(__file__).resolve().parent / "fixtures" / "pages"
ROOT = Path(__file__).resolve().parent.parent
ARTICLE = "onecms_article_cn.html"
ARTICLE_URL = "http://127.0.0.1/cn/thoi-su/cong-tac-tuyen-truyen-mieng-10288747.html"
TZ = "Asia/Ho_Chi_Minh"


def _prepare_all(pool: ExtractionPool, pages: list[tuple[bytes, str]]) -> list[PreparedPage | BaseException]:
    async def run() -> list[PreparedPage | BaseException]:
        return list(await asyncio.gather(*(pool.prepare(body, "text/html; charset=utf-8", url, TZ, "vi")
                                           for body, url in pages), return_exceptions=True))
    return asyncio.run(run())


def _fixture_pages() -> list[tuple[bytes, str]]:
    return [((PAGES / name).read_bytes(), f"http://127.0.0.1/{name}") for name in sorted(os.listdir(PAGES))
            if name.endswith(".html")]


def test_workers_give_what_the_crawl_process_gives() -> None:
    pages = _fixture_pages()
    inline = _prepare_all(ExtractionPool(0), pages)
    pool = ExtractionPool(1)
    pool.start()
    try:
        pooled = _prepare_all(pool, pages)
    finally:
        pool.close()
    assert len(pooled) == len(pages) >= 3
    assert pooled == inline
    assert any(getattr(result, "features", None) is not None for result in pooled)


def test_features_from_the_extraction_are_the_archives_own() -> None:
    prepared = prepare_page((PAGES / ARTICLE).read_bytes(), "text/html", ARTICLE_URL, TZ, None)
    page = prepared.page
    assert page.page_type is PageType.ARTICLE
    assert prepared.features is not None
    record = PageRecord(url=page.url, canonical_url=page.canonical_url, source="t", text=page.text,
                        language=page.language, published_at=page.published_at, images=page.images,
                        source_links=page.source_links)
    computed = features_of_record(record)
    given = features_of_record(PageRecord(**{**record.__dict__, "features": prepared.features}))
    assert given == computed
    assert given.day != 0  # filed under the page's own day, not the placeholder


def test_an_extraction_error_crosses_the_process_boundary() -> None:
    error = pickle.loads(pickle.dumps(ExtractionError("http://x/", "empty body")))
    assert (error.url, error.reason, str(error)) == ("http://x/", "empty body", "http://x/: empty body")
    pool = ExtractionPool(1)
    pool.start()
    try:
        [result] = _prepare_all(pool, [(b"   ", "http://127.0.0.1/empty")])
    finally:
        pool.close()
    assert isinstance(result, ExtractionError)
    assert result.reason == "empty body"


def test_a_dead_worker_costs_its_page_and_the_rest_are_extracted_here() -> None:
    pool = ExtractionPool(1)
    pool.start()
    try:
        executor = pool._executor
        assert executor is not None
        for pid in list(executor._processes):
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
        body = (PAGES / ARTICLE).read_bytes()
        first, second = (_prepare_all(pool, [(body, ARTICLE_URL)])[0] for _ in range(2))
    finally:
        pool.close()
    assert isinstance(first, ExtractionError)
    assert "worker" in first.reason
    assert not isinstance(second, BaseException)
    assert second.page.page_type is PageType.ARTICLE


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's")
def test_workers_die_with_a_killed_crawl_process() -> None:
    script = ("from crawler.extraction_pool import ExtractionPool\n"
              "pool = ExtractionPool(1); pool.start()\n"
              "print(*pool._executor._processes, flush=True)\n"
              "import time; time.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    workers = [int(pid) for pid in parent.stdout.readline().split()]
    assert workers
    assert all(_alive(pid) for pid in workers)
    parent.send_signal(signal.SIGKILL)
    parent.wait(10)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited; only its parent's wait is missing
