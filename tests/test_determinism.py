"""Two crawls of the same pages build the same archive, whatever order the pages arrive in.

The replica is crawled twice, into two archives, with different concurrency (16 requests per
domain against 1), so pages are parsed and archived in different orders. Every exported field of
every item must agree (which member of a duplicate group is canonical, the feed's publication
time), and so must every event, in every field that is not one run's history.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from replica import Replica
from tests.workers_harness import REPO_ROOT, add_sources, event_rows, export_rows, newswatch

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def replica() -> Iterator[Replica]:
    with Replica(day=0) as running:
        yield running


def crawl(db: str, replica: Replica, per_domain: int) -> None:
    add_sources(db, replica)
    env = {**os.environ, "NEWSWATCH_CRAWL_AUTOTHROTTLE": "false", "PYTHONPATH": str(REPO_ROOT),
           "NEWSWATCH_CRAWL_CONCURRENT_PER_DOMAIN": str(per_domain)}
    newswatch(db, "crawl", "--json", "--no-alerts", env=env)
    newswatch(db, "alerts", "run", env=env)


def test_arrival_order_changes_nothing_in_the_archive(replica: Replica, tmp_path: Path) -> None:
    wide, narrow = f"sqlite:///{tmp_path / 'wide.db'}", f"sqlite:///{tmp_path / 'narrow.db'}"
    crawl(wide, replica, per_domain=16)
    crawl(narrow, replica, per_domain=1)
    first, second = export_rows(wide), export_rows(narrow)
    assert sorted(set(first) ^ set(second)) == []
    differing = {url: [name for name in row if row[name] != second[url][name]] for url, row in first.items()}
    assert {url: names for url, names in differing.items() if names} == {}
    assert sum(1 for row in first.values() if row["duplicate_of"]) > 100
    assert event_rows(wide) == event_rows(narrow)


def test_the_original_article_is_canonical_not_its_republications(replica: Replica, tmp_path: Path) -> None:
    """A portal's copy names the newspaper's article as its source: the newspaper's is canonical,
    even where the portal's copy has an earlier (day-only) date."""
    db = f"sqlite:///{tmp_path / 'one.db'}"
    crawl(db, replica, per_domain=4)
    rows = export_rows(db)
    portal = replica.base_urls["portal"]
    roots = {row["duplicate_of"] for row in rows.values() if row["duplicate_of"]}
    assert roots, "the replica should hold duplicates"
    from_portal = [url for url in roots if url.startswith(portal)]
    copied = [row for row in rows.values() if row["duplicate_of"] and not row["url"].startswith(portal)
              and row["duplicate_of"].startswith(portal)]
    assert copied == [], f"{len(copied)} newspaper articles under a portal copy ({len(from_portal)} portal roots)"
