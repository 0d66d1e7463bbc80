"""Every replica fault mode at once, over two simulated days, then the faults clear.

Complements tests/test_e2e.py::test_every_fault_at_once_then_recovery (one faulty cycle, checked
through the export): here the faults stay on while the replica moves to day 1 (lying ETags and
unstable validators only show across days), and the tables themselves are checked afterwards.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from replica import Replica
from replica.faults import FaultPlan
from tests.test_reliability_common import (
    add_sources,
    archived_urls,
    article_urls,
    check_archive_is_manifest,
    check_fetch_state,
    check_no_duplicates,
    crawl_json,
    run_cli,
)

pytestmark = pytest.mark.reliability

ENV = {"NEWSWATCH_CRAWL_MAX_BODY_BYTES": str(8 * 1024 * 1024)}
# Every mode on every site; held sockets and slow answers shortened, and no Crawl-delay (robots:0
# still disallows a section): a 1 s delay per request made each faulty cycle take minutes, and
# tests/test_e2e.py already crawls under it.
PLAN = "*=all,timeout:2,slow:0.3,robots:0"


def faulty_cycle(db: str) -> dict[str, dict[str, int]]:
    """A cycle under faults: it ends (exit 0 or 1 with one line), with every run recorded."""
    finished = run_cli(db, "crawl", "--json", "--no-alerts", env=ENV)
    assert finished.returncode in (0, 1), finished.stderr[-3000:]
    runs = [json.loads(line) for line in finished.stdout.splitlines() if line.startswith("{")]
    return {run["source"]: run["counters"] for run in runs if "source" in run}


@pytest.mark.timeout(600)
def test_every_fault_for_two_days_then_clean_cycles_complete_the_archive(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'faults.db'}"
    with Replica(day=0, faults=FaultPlan.parse(PLAN)) as replica:
        add_sources(db, replica)
        first = faulty_cycle(db)
        assert all(any(k.startswith("errors/") for k in c) for c in first.values()), first
        replica.set_day(1)
        faulty_cycle(db)
        assert archived_urls(db) <= article_urls(replica), "a page that is not an article was archived"
        check_no_duplicates(db)
        replica.set_faults(FaultPlan())
        crawl_json(db, ENV)
        check_archive_is_manifest(db, replica)
        again = crawl_json(db, ENV)
    assert sum(c.get("items_new", 0) for c in again.values()) == 0, "the first clean cycle left articles behind"
    check_no_duplicates(db)
    check_fetch_state(db)
