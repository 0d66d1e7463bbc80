"""Export and import: JSONL round trips byte for byte, CSV flattens, bad files fail by line."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newswatch.app import Newswatch
from newswatch.config import Settings
from newswatch.exporting import CSV_COLUMNS
from storage import Archive, PageRecord
from storage.transfer import ImportRowError
from tests.test_alerts_service import en_translation, football, make_service, vi_conference

LATER = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)


def _fill(archive: Archive) -> None:
    for record in (vi_conference(), en_translation(), football()):
        archive.archive_page(record)
    copy = PageRecord(**{**football().__dict__, "url": football().url + "?utm_source=x&page=2"})
    archive.archive_page(copy)
    # A seed archived last adopts the earlier copy of itself: its link points to a later line.
    archive.archive_page(PageRecord(**{**football().__dict__, "url": "seed:football.txt",
                                       "canonical_url": "seed:football", "is_seed": True}))
    make_service(archive, {}).cycle(LATER)


def _export(url: str) -> str:
    out = io.StringIO()
    with Newswatch(Settings(db=url)) as app:
        app.export(out, "jsonl")
    return out.getvalue()


def test_jsonl_round_trip_is_byte_identical(archive_url: str, tmp_path: Path) -> None:
    with Archive.open(archive_url) as archive:
        _fill(archive)
    first = _export(archive_url)
    rows = [json.loads(line) for line in first.splitlines()]
    assert any(row["duplicate_of"] for row in rows)
    assert any(row["event"] for row in rows)
    assert any(row["alerted"] for row in rows)
    copy = f"sqlite:///{tmp_path / 'copy.db'}"
    with Newswatch(Settings(db=copy)) as app:
        report = app.import_jsonl(io.StringIO(first))
        assert (report.imported, report.skipped) == (len(rows), 0)
        again = app.import_jsonl(io.StringIO(first))
        assert (again.imported, again.skipped, again.events) == (0, len(rows), 0)
        # Imported stories are known: detection reads nothing, and nothing alerts.
        detection, _ = make_service(app.archive, {}).cycle(LATER + timedelta(days=1))
        assert (detection.read, detection.alerted) == (0, 0)
    assert _export(copy) == first


def test_csv_export_flattens_events_and_lists(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    with Archive.open(url) as archive:
        _fill(archive)
    out = io.StringIO()
    with Newswatch(Settings(db=url)) as app:
        app.export(out, "csv")
    table = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert tuple(table[0]) == CSV_COLUMNS
    conference = next(row for row in table if row["url"] == vi_conference().url)
    assert (conference["event_type"], conference["event_date"], conference["alerted"]) == (
        "conference", "2026-12-05", "true")
    assert conference["images"] == "bna_tuyengiao_2026.jpg"
    assert "\n" in conference["text"], "multi-line text survives CSV quoting"


@pytest.mark.parametrize(("content", "message"), [
    ("not json\n", "line 1: not JSON"),
    ('{"url": "https://a.test/1", "source": "a", "text": "x"}\n[1, 2]\n', "line 2: not an exported item"),
    ('{"url": "https://a.test/1", "source": "a", "text": "x", "published_at": "yesterday"}\n', "line 1: published_at"),
    ('{"url": "https://a.test/1", "source": "a", "text": "x", "duplicate_of": "https://b.test/"}\n',
     "line 1: duplicate_of https://b.test/ is not in the file"),
    ('{"url": "https://a.test/1", "source": "a", "text": "x", "version": "two"}\n', "line 1: version 'two'"),
    ('{"url": "https://a.test/1", "source": "a", "text": "x", "event": "conference"}\n', "line 1: event must be"),
    ('{"url": "https://a.test/1", "source": "a", "text": "x", "event": {"date": "5/9"}}\n', "line 1: event date"),
    ('{"url": "https://a.test/1", "source": "a", "text": "x"}\n'
     '{"url": "https://a.test/2", "source": "a", "text": "y", "duplicate_of": "https://a.test/1", '
     '"duplicate_score": "high"}\n', "line 2: duplicate_score 'high'"),
])
def test_bad_import_lines_fail_with_their_line_number(tmp_path: Path, content: str, message: str) -> None:
    with Newswatch(Settings(db=f"sqlite:///{tmp_path / 'x.db'}")) as app, pytest.raises(ImportRowError, match=message):
        app.import_jsonl(io.StringIO(content))
