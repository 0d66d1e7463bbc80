"""End to end: the real CLI in subprocesses against the whole replica on loopback.

Every site of the replica (one per CMS family, a separate English host, the republishing
portal) is added by its home page alone; the archive is checked against the manifest.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from replica import ManifestEntry, Replica
from replica.faults import FaultPlan

pytestmark = pytest.mark.e2e

TEXT_F1_TARGET = 0.97


def newswatch(
    db: str, *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NEWSWATCH_CRAWL_AUTOTHROTTLE": "false", **(env or {})}
    result = subprocess.run(
        [sys.executable, "-m", "newswatch", "--db", db, *args],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=300, check=False,
    )
    if check:
        assert result.returncode == 0, f"newswatch {' '.join(args)} failed:\n{result.stderr}"
    return result


@pytest.fixture
def replica() -> Iterator[Replica]:
    with Replica(day=0) as running:
        yield running


def token_f1(predicted: str, reference: str) -> float:
    """The WCXB text metric: lower-cased \\w+ tokens as multisets."""
    pred, ref = Counter(re.findall(r"\w+", predicted.lower())), Counter(re.findall(r"\w+", reference.lower()))
    overlap = sum((pred & ref).values())
    if not pred or not ref or not overlap:
        return float(pred == ref)
    precision, recall = overlap / sum(pred.values()), overlap / sum(ref.values())
    return 2 * precision * recall / (precision + recall)


def _when(value: str | None, day_only: bool) -> Any:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed.date() if day_only else parsed.replace(second=0, microsecond=0)


def _export(db: str) -> dict[str, dict[str, Any]]:
    lines = newswatch(db, "export", "--format", "jsonl").stdout.splitlines()
    rows = [json.loads(line) for line in lines]
    urls = [row["url"] for row in rows]
    assert len(urls) == len(set(urls)), "an item was archived twice"
    return {row["url"]: row for row in rows}


def _crawl(db: str, env: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    result = newswatch(db, "crawl", "--json", env=env)
    runs = [row for row in map(json.loads, result.stdout.splitlines()) if "source" in row]
    assert all(run["status"] == "finished" for run in runs), runs
    return {run["source"]: run["counters"] for run in runs}


def _articles(replica: Replica) -> dict[str, ManifestEntry]:
    return {entry.url: entry for entry in replica.manifest() if entry.kind == "article"}


def _check_archive(db: str, articles: dict[str, ManifestEntry]) -> None:
    rows = _export(db)
    assert sorted(set(rows) - set(articles)) == [], "pages that are not articles were archived"
    assert sorted(set(articles) - set(rows)) == [], "articles were not archived"
    scores = []
    for url, truth in articles.items():
        row = rows[url]
        assert row["title"] == truth.title, url
        assert row["language"] == truth.language, url
        # The portal's pages show the day only; feeds give most of their times, not all.
        day_only = truth.site == "portal" and row["published_at"] and row["published_at"][11:19] == "00:00:00"
        assert _when(row["published_at"], day_only) == _when(truth.published_at, day_only), url
        scores.append(token_f1(row["text"], truth.text or ""))
    assert sum(scores) / len(scores) >= TEXT_F1_TARGET


def _add_sources(db: str, replica: Replica) -> None:
    for key, base_url in replica.base_urls.items():
        if not key.endswith("-en"):  # a separate English host is an edition, found from its home page
            newswatch(db, "sources", "add", base_url, "--name", key)


def test_day_by_day_crawl_of_every_site(replica: Replica, archive_url: str) -> None:
    _add_sources(archive_url, replica)
    first = _crawl(archive_url)
    day0 = _articles(replica)
    _check_archive(archive_url, day0)
    assert sum(counters.get("items_new", 0) for counters in first.values()) == len(day0)

    # Nothing changed: conditional requests only, answered 304; nothing fetched as new.
    again = _crawl(archive_url)
    for source, counters in again.items():
        hosts = 1 + sum(1 for key in replica.base_urls if key == f"{source}-en")
        assert counters.get("items_new", 0) == 0, source
        assert counters.get("status/200", 0) <= hosts, (source, counters)  # Scrapy's own robots.txt per host

    # Day 1: exactly the new and the edited articles are fetched.
    replica.set_day(1)
    day1 = _articles(replica)
    new = set(day1) - set(day0)
    edited = {url for url in day0 if url in day1 and day1[url].text != day0[url].text}
    third = _crawl(archive_url)
    assert sum(c.get("items_new", 0) for c in third.values()) == len(new)
    assert sum(c.get("items_updated", 0) for c in third.values()) == len(edited)
    assert sum(c.get("items_unchanged", 0) for c in third.values()) == 0, "a known article was fetched again"
    # Requests for articles: at most the new and the edited ones (the rest are feeds, sitemaps,
    # robots.txt, home pages and first listing pages).
    article_fetches = sum(
        value for counters in third.values() for key, value in counters.items()
        if key in ("items_new", "items_updated", "items_unchanged", "articles_unchanged")
        or key.startswith(("skipped/", "errors/article"))
    )
    assert article_fetches <= len(new) + len(edited)
    _check_archive(archive_url, day1)


def test_unreachable_source_fails_the_crawl_with_one_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'down.db'}"
    newswatch(db, "sources", "add", "http://127.0.0.1:9/", "--name", "down", "--no-check")
    result = newswatch(db, "crawl", check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == "Error: crawl failed for down (home page could not be fetched)"


def test_every_fault_at_once_then_recovery(tmp_path: Path) -> None:
    """With every fault mode of the replica on, each crawl finishes and reports its faults; the
    next fault-free cycle completes the archive, with nothing archived twice or wrongly."""
    db = f"sqlite:///{tmp_path / 'faults.db'}"
    with Replica(day=0, faults=FaultPlan.parse("*=all")) as replica:
        _add_sources(db, replica)
        # Short timeouts keep the held connections brief; robots.txt's Crawl-delay still rules.
        env = {"NEWSWATCH_CRAWL_DOWNLOAD_TIMEOUT_S": "2", "NEWSWATCH_CRAWL_RETRY_TIMES": "1",
               "NEWSWATCH_CRAWL_MAX_BODY_BYTES": str(8 * 1024 * 1024)}
        faulty = _crawl(db, env)
        for source, counters in faulty.items():
            errors = sum(value for key, value in counters.items() if key.startswith("errors/"))
            assert errors > 0, f"{source} reported no faults"
        articles = _articles(replica)
        rows = _export(db)
        assert set(rows) <= set(articles), "a page that is not an article was archived"
        assert all(rows[url]["title"] == articles[url].title for url in rows)
        replica.set_faults(FaultPlan())
        _crawl(db, env)
        _check_archive(db, articles)



def test_a_crawl_starts_no_remote_control_server(tmp_path: Path, replica: Replica) -> None:
    """Scrapy 2.19 starts a local server that runs Python sent to it (and files a job file for it
    in the user's state directory); a crawl must not."""
    db = f"sqlite:///{tmp_path / 'nw.db'}"
    home = tmp_path / "home"
    env = {"HOME": str(home), "XDG_STATE_HOME": str(home / "state"), "NEWSWATCH_LOG_LEVEL": "INFO"}
    newswatch(db, "sources", "add", replica.base_urls["binhduong"], "--name", "binhduong")
    crawl = newswatch(db, "crawl", "--no-alerts", env=env)
    assert "Spider opened" in crawl.stderr  # Scrapy's INFO lines are shown
    assert "Remote control" not in crawl.stderr
    assert not home.exists() or not any(path.is_file() for path in home.rglob("*"))
