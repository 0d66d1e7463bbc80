"""Raw keeping and WARC export: every article fetched is kept once and reads back with warcio."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from replica import Replica
from storage.raw_pages import payload_digest
from tests.test_e2e import newswatch

pytestmark = pytest.mark.e2e


def _records(path: Path) -> list[tuple[str, int, bytes, str]]:
    found = []
    with path.open("rb") as stream:
        for record in ArchiveIterator(stream):
            if record.rec_type == "response":
                body = record.content_stream().read()
                found.append((record.rec_headers.get_header("WARC-Target-URI"),
                              int(record.http_headers.get_statuscode()), body,
                              record.rec_headers.get_header("WARC-Payload-Digest")))
    return found


def test_kept_raw_pages_export_as_warc(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'raw.db'}"
    env = {"NEWSWATCH_CRAWL_KEEP_RAW": "true"}
    with Replica(day=0) as replica:
        newswatch(db, "sources", "add", replica.base_urls["nghean"], "--name", "nghean")
        newswatch(db, "crawl", "--no-alerts", env=env)
        newswatch(db, "crawl", "--no-alerts", env=env)  # all 304: nothing kept twice
    rows = [json.loads(line) for line in newswatch(db, "export").stdout.splitlines()]
    warc = tmp_path / "raw.warc.gz"
    newswatch(db, "export", "--format", "warc", "-o", str(warc))
    records = _records(warc)
    urls = [url for url, _, _, _ in records]
    assert len(urls) == len(set(urls)), "a page was kept twice"
    archived = {row["url"] for row in rows}
    assert archived <= set(urls)
    # Pages fetched as articles that turned out to be topic hubs are kept too: raw is what was fetched.
    assert all(re.search(r"-event\d+\.html$", url) for url in set(urls) - archived), set(urls) - archived
    for url, status, body, digest in records:
        assert status == 200
        assert digest == payload_digest(body)
        assert b"<html" in body.lower(), url


def test_nothing_is_kept_by_default(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'plain.db'}"
    with Replica(day=0) as replica:
        newswatch(db, "sources", "add", replica.base_urls["nghean"], "--name", "nghean")
        newswatch(db, "crawl", "--no-alerts")
    warc = tmp_path / "empty.warc.gz"
    newswatch(db, "export", "--format", "warc", "-o", str(warc))
    assert _records(warc) == []
