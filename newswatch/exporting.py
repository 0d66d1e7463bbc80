"""Export formats of the archive: JSONL (the contract in DESIGN.md) and CSV (one row per item)."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from typing import Any, TextIO

CSV_COLUMNS = (
    "url", "canonical_url", "source", "language", "title", "author", "published_at", "is_seed",
    "duplicate_of", "duplicate_kind", "duplicate_score", "event_type", "event_date", "event_place",
    "event_organizer", "alerted", "version", "images", "source_links", "description", "text",
)
_EVENT_COLUMNS = {"event_type": "type", "event_date": "date", "event_place": "place", "event_organizer": "organizer"}


def jsonl_line(row: dict[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False) + "\n"


def csv_row(row: dict[str, Any]) -> list[str]:
    """An export row flattened: event fields in columns, lists space-separated, empty for null."""
    event = row.get("event") or {}
    cells = []
    for column in CSV_COLUMNS:
        value = event.get(_EVENT_COLUMNS[column]) if column in _EVENT_COLUMNS else row.get(column)
        if isinstance(value, list):
            value = " ".join(str(v) for v in value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        cells.append("" if value is None else str(value))
    return cells


def write_rows(rows: Iterable[dict[str, Any]], out: TextIO, fmt: str,
               progress: Callable[[int], None] | None = None) -> int:
    """Write export rows as `jsonl` or `csv`; the number written."""
    writer = csv.writer(out, lineterminator="\n") if fmt == "csv" else None
    if writer is not None:
        writer.writerow(CSV_COLUMNS)
    count = 0
    for row in rows:
        if writer is not None:
            writer.writerow(csv_row(row))
        else:
            out.write(jsonl_line(row))
        count += 1
        if progress is not None and count % 200 == 0:
            progress(count)
    return count
