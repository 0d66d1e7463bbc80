"""End to end: the real CLI in subprocesses against the replica on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from replica import Replica

pytestmark = pytest.mark.e2e


def newswatch(db: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NEWSWATCH_CRAWL_AUTOTHROTTLE": "false"}
    result = subprocess.run(
        [sys.executable, "-m", "newswatch", "--db", db, *args],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=300, check=False,
    )
    if check:
        assert result.returncode == 0, f"newswatch {' '.join(args)} failed:\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def replica() -> Iterator[Replica]:
    with Replica(day=0) as running:
        yield running


def _minute(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value).replace(second=0, microsecond=0) if value else None


def _export(db: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in newswatch(db, "export", "--format", "jsonl").stdout.splitlines()]


def test_crawl_archives_every_article_once_and_nothing_else(replica: Replica, archive_url: str) -> None:
    [base_url] = replica.base_urls.values()
    newswatch(archive_url, "sources", "add", base_url, "--name", "nghean")
    crawl = newswatch(archive_url, "crawl")
    assert "nghean" in crawl.stdout
    assert "finished" in crawl.stdout

    manifest = {entry.url: entry for entry in replica.manifest()}
    articles = {url: entry for url, entry in manifest.items() if entry.kind == "article"}
    rows = _export(archive_url)
    urls = [row["url"] for row in rows]
    assert len(urls) == len(set(urls)), "an article was archived twice"
    not_articles = sorted(url for url in urls if url not in articles)
    assert not_articles == [], f"non-article pages archived: {not_articles}"
    missing = sorted(set(articles) - set(urls))
    assert missing == [], f"articles not archived: {missing}"
    for row in rows:
        truth = articles[row["url"]]
        assert row["title"] == truth.title, row["url"]
        assert _minute(row["published_at"]) == _minute(truth.published_at), row["url"]
        assert row["language"] == truth.language, row["url"]
        assert row["source"] == "nghean"

    # A second cycle over the unchanged site: conditional requests only, answered 304, nothing new.
    again = newswatch(archive_url, "crawl", "--json")
    [run] = [json.loads(line) for line in again.stdout.splitlines()]
    counters = run["counters"]
    assert run["status"] == "finished"
    assert counters.get("items_new", 0) == 0
    assert counters.get("status/200", 0) <= 1, counters  # Scrapy's own robots.txt fetch
    revisited = sum(counters.get(f"{kind}_unchanged", 0) for kind in ("homes", "feeds", "sitemaps", "listings"))
    assert counters["request_count"] <= revisited + 2, counters  # + robots.txt twice
    assert _export(archive_url) == rows


def test_unreachable_source_fails_the_crawl_with_one_line(tmp_path: Any) -> None:
    db = f"sqlite:///{tmp_path / 'down.db'}"
    newswatch(db, "sources", "add", "http://127.0.0.1:9/", "--name", "down", "--no-check")
    result = newswatch(db, "crawl", check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == "Error: crawl failed for down (home page could not be fetched)"
