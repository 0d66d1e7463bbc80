"""End to end: a multi-day replay of the replica through the real CLI, with real receivers.

Every new conference must reach each channel exactly once, however many editions, translations
and republications report it; a channel that fails for a day gets that day's alerts when it recovers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from replica import ManifestEntry, Replica
from tests.receivers import HttpReceiver, serve_http
from tests.test_e2e import newswatch

pytestmark = pytest.mark.e2e

DAYS = (0, 1, 2)
FAILING_DAY = 1
_URL = re.compile(r"https?://[^\s)>\]]+")


@pytest.fixture
def steady() -> Iterator[HttpReceiver]:
    yield from serve_http()


@pytest.fixture
def flaky() -> Iterator[HttpReceiver]:
    yield from serve_http()


def _config(path: Path, steady: HttpReceiver, flaky: HttpReceiver, feed: Path) -> Path:
    path.write_text(f"""
[alerts]
retry_base_s = 0.2
retry_max = "1s"

[alerts.channels]
steady = "json://{steady.url_base}/alerts?cto=2&rto=5"
flaky = "json://{flaky.url_base}/alerts?cto=2&rto=5"
feed = "atom://{feed}"
""", encoding="utf-8")
    return path


def _groups_alerted(receiver: HttpReceiver, group_of: dict[str, str]) -> list[frozenset[str]]:
    """For each alert received, the replica story groups its editions belong to."""
    result = []
    for payload in receiver.payloads():
        urls = {u.rstrip(".,;") for u in _URL.findall(payload["message"])}
        result.append(frozenset(group_of[u] for u in urls if u in group_of))
    return result


def _expected(entries: dict[str, ManifestEntry]) -> tuple[set[str], set[str]]:
    """New conference groups (the seed corpus's stories are known, not new) and the seeds' groups."""
    known = {e.duplicate_group for e in entries.values() if e.seed_file}
    conferences = {e.duplicate_group for e in entries.values() if e.is_conference} - known
    return conferences, known


def test_multi_day_replay_alerts_once_per_event_and_channel(archive_url: str, tmp_path: Path, steady: HttpReceiver,
                                                             flaky: HttpReceiver) -> None:
    db = archive_url
    feed = tmp_path / "alerts.xml"
    config = str(_config(tmp_path / "newswatch.toml", steady, flaky, feed))
    seen: dict[str, ManifestEntry] = {}
    newswatch(db, "--config", config, "seeds", "load")
    with Replica(day=0) as replica:
        for key, base_url in replica.base_urls.items():
            if not key.endswith("-en"):  # a separate English host is an edition, found from its home page
                newswatch(db, "--config", config, "sources", "add", base_url, "--name", key)
        for day in DAYS:
            replica.set_day(day)
            seen.update({e.url: e for e in replica.manifest() if e.kind == "article"})
            flaky.status = 500 if day == FAILING_DAY else 200
            result = newswatch(db, "--config", config, "crawl", "--json")
            summary = [json.loads(line) for line in result.stdout.splitlines() if line.startswith('{"alerts"')]
            assert summary, result.stdout
    group_of = {url: entry.duplicate_group for url, entry in seen.items()}
    conferences, known = _expected(seen)

    alerts = _groups_alerted(steady, group_of)
    assert all(len(groups) == 1 for groups in alerts), f"an alert mixed stories: {alerts}"
    alerted = [next(iter(groups)) for groups in alerts]
    assert len(alerted) == len(set(alerted)), "an event was alerted twice on one channel"
    assert sorted(conferences - set(alerted)) == [], "new conferences that did not alert"
    assert sorted(set(alerted) - conferences) == [], "alerts that are no new conference"
    assert not known & set(alerted), "a story of the seed corpus is not new"

    # The channel that failed on day 1 got the same alerts, each once, after it recovered.
    assert sorted(_groups_alerted(flaky, group_of), key=sorted) == sorted(alerts, key=sorted)
    keys = [line for p in steady.payloads() for line in p["message"].splitlines() if "Idempotency-Key" in line]
    assert len(keys) == len(set(keys)) == len(alerts)

    listed = newswatch(db, "--config", config, "alerts", "list", "--json").stdout.splitlines()
    events = [json.loads(line) for line in listed]
    assert len(events) == len(alerts)
    assert all(d["status"] == "sent" for e in events for d in e["deliveries"])
    assert {d["channel"] for e in events for d in e["deliveries"]} == {"steady", "flaky", "feed"}
    assert feed.read_text(encoding="utf-8").count("<entry>") == len(alerts)

    # The archive survives a JSONL round trip byte for byte, links, events and alerted flags included;
    # importing it never alerts again.
    exported = newswatch(db, "export", "--format", "jsonl").stdout
    copy = f"sqlite:///{tmp_path / 'copy.db'}"
    dump = tmp_path / "archive.jsonl"
    dump.write_text(exported, encoding="utf-8")
    summary = json.loads(newswatch(copy, "import", str(dump), "--json").stdout)
    assert summary["imported"] == len(exported.splitlines())
    assert newswatch(copy, "export", "--format", "jsonl").stdout == exported
    cycle = json.loads(newswatch(copy, "--config", config, "alerts", "run", "--json").stdout)["alerts"]
    assert (cycle["read"], cycle["alerted"], cycle["sent"]) == (0, 0, 0), "an imported archive alerted again"
    assert len(steady.payloads()) == len(alerts)
