"""A server whose validators lie: caught by the periodic full fetch, then no longer trusted."""

from __future__ import annotations

from pathlib import Path

import pytest

from replica import Replica
from replica.faults import FaultPlan
from replica.onecms import OneCmsSite

from .test_e2e import _crawl, _export, newswatch

pytestmark = pytest.mark.e2e


def test_lying_etags_are_caught_by_the_full_fetch_and_distrusted(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'lies.db'}"
    env = {"NEWSWATCH_CRAWL_FULL_FETCH_EVERY": "2"}
    with Replica(day=0, sites=[OneCmsSite("nghean")], faults=FaultPlan.parse("nghean=lying_etag")) as replica:
        newswatch(db, "sources", "add", replica.base_urls["nghean"], "--name", "nghean")
        _crawl(db, env)  # cycle 0

        def archived_share() -> float:
            articles = {entry.url for entry in replica.manifest() if entry.kind == "article"}
            return len(articles & set(_export(db))) / len(articles)

        replica.set_day(1)
        lied_to = _crawl(db, env)["nghean"]  # cycle 1: conditional, the server answers 304 for changes
        assert archived_share() < 1.0, "the lying server was not lying"
        assert "validators/untrusted_hosts" not in lied_to

        caught = _crawl(db, env)["nghean"]  # cycle 2: a full fetch, without validators
        assert caught["validators/untrusted_hosts"] == 1
        assert archived_share() == 1.0

        replica.set_day(2)
        _crawl(db, env)  # cycle 3 would be conditional, but the host is no longer trusted
        assert archived_share() == 1.0
