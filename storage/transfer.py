"""Reading an export back: JSONL rows of the export contract into an archive, nothing lost.

The rows keep their decisions: duplicate links, scores, events and alerted flags are restored as
exported, not decided again, so export -> import -> export gives the same bytes. Imported items
are filed in the dedup index (later crawls find their copies) and marked as read by detection
(an import never alerts again for old stories).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage import dedup, search
from storage import events as event_store
from storage.errors import StorageError
from storage.models import EventReport, Item, utcnow
from storage.records import PageRecord, text_fingerprint

logger = logging.getLogger(__name__)

REQUIRED = ("url", "source", "text")
_LIST_FIELDS = ("images", "source_links")


class ImportRowError(StorageError):
    """A line of an import file that is not an exported item."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


@dataclass
class ImportReport:
    imported: int = 0
    skipped: int = 0  # URLs already in the archive
    links: int = 0
    events: int = 0
    errors: list[str] = field(default_factory=list)


def parse_rows(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, row) of a JSONL export; ImportRowError for a line that is not one."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise ImportRowError(number, f"not JSON ({exc})") from exc
        if not isinstance(row, dict) or any(not isinstance(row.get(key), str) for key in REQUIRED):
            raise ImportRowError(number, f"not an exported item (needs {', '.join(REQUIRED)})")
        yield number, row


def _when(value: Any, number: int) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise ImportRowError(number, f"published_at {value!r} is not ISO 8601") from exc
    if moment.tzinfo is None:
        raise ImportRowError(number, f"published_at {value!r} has no offset")
    return moment


def _typed(row: dict[str, Any], name: str, kind: type[int] | type[float], number: int) -> Any:
    """A numeric field of the row, or ImportRowError naming the line (never a bare ValueError)."""
    value = row.get(name)
    if value is None:
        return None
    try:
        return kind(value)
    except (TypeError, ValueError) as exc:
        raise ImportRowError(number, f"{name} {value!r} is not a number") from exc


def _event(row: dict[str, Any], number: int) -> dict[str, Any] | None:
    event = row.get("event")
    if event is not None and not isinstance(event, dict):
        raise ImportRowError(number, "event must be an object or null")
    when = (event or {}).get("date")
    if when is not None:
        try:
            datetime.fromisoformat(str(when))
        except ValueError as exc:
            raise ImportRowError(number, f"event date {when!r} is not ISO 8601") from exc
    return event


def insert_row(session: Session, number: int, row: dict[str, Any]) -> bool:
    """Insert one exported item (without its duplicate link); False when its URL is archived already."""
    if session.scalars(select(Item.id).where(Item.url == row["url"])).first() is not None:
        return False
    for name in _LIST_FIELDS:
        if not isinstance(row.get(name) or [], list):
            raise ImportRowError(number, f"{name} must be a list")
    record = PageRecord(
        url=row["url"], canonical_url=row.get("canonical_url") or row["url"], source=row["source"], text=row["text"],
        language=row.get("language"), title=row.get("title"), author=row.get("author"),
        description=row.get("description"), published_at=_when(row.get("published_at"), number),
        images=tuple(row.get("images") or ()), source_links=tuple(row.get("source_links") or ()),
        is_seed=bool(row.get("is_seed")),
    )
    now = utcnow()
    item = Item(url=record.url, canonical_url=record.canonical_url, source=record.source, text=record.text,
                text_hash=text_fingerprint(record.text), language=record.language, title=record.title,
                author=record.author, description=record.description, published_at=record.published_at,
                images=list(record.images), source_links=list(record.source_links), is_seed=record.is_seed,
                event=_event(row, number), alerted=bool(row.get("alerted")),
                version=_typed(row, "version", int, number) or 1,
                first_seen_at=now, updated_at=now)
    features = dedup.features_of_record(record, now)
    item.dedup_anchors = dedup.dump_anchors(features.anchors)
    session.add(item)
    session.flush()
    dedup.write_keys(session, item.id, features)
    search.index_item(session, item.id)
    event_store.record_check(session, item.id, item.version, row.get("event") is not None)
    return True


def link_row(session: Session, number: int, row: dict[str, Any]) -> bool:
    """Restore an item's duplicate link, kind and score; True when it has one."""
    target_url = row.get("duplicate_of")
    if not target_url:
        return False
    target = session.scalars(select(Item.id).where(Item.url == target_url)).first()
    if target is None:
        raise ImportRowError(number, f"duplicate_of {target_url} is not in the file or the archive")
    session.execute(update(Item).where(Item.url == row["url"]).values(
        duplicate_of_id=target, duplicate_kind=row.get("duplicate_kind"),
        duplicate_score=_typed(row, "duplicate_score", float, number)))
    return True


def restore_events(session: Session, rows: list[dict[str, Any]]) -> int:
    """One event per dedup group whose items carry an event, so later editions join it, not alert."""
    reported = select(EventReport.item_id)
    found = session.execute(select(Item.url, Item.id).where(Item.id.not_in(reported)))
    ids: dict[str, int] = {row.url: row.id for row in found}
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if isinstance(row.get("event"), dict) and row["url"] in ids:
            groups.setdefault(row.get("duplicate_of") or row["url"], []).append(row)
    for root_url, members in groups.items():
        first = next((r for r in members if r["url"] == root_url), members[0])
        fields = first["event"]
        when = fields.get("date")
        new = event_store.NewEvent(
            type=str(fields.get("type") or "conference"),
            event_date=datetime.fromisoformat(when).date() if isinstance(when, str) else None,
            province=None, place=fields.get("place"), organizer=fields.get("organizer"),
            organizer_key=None, topic=None, title=first.get("title"), details={"imported": True})
        event_id = event_store.create_event(session, new, ids[first["url"]])
        alerted = any(bool(r.get("alerted")) for r in members)
        event_store.set_alert_reason(session, event_id, "imported" + (" (alerted before)" if alerted else ""),
                                     alerted)
        for member in members:
            event_store.attach_report(session, ids[member["url"]], event_id,
                                      "first" if member is first else "duplicate", evidence={"imported": True},
                                      item_event=member["event"])
            # The flag as exported, not as the event now says: the round trip keeps every byte.
            session.execute(update(Item).where(Item.id == ids[member["url"]])
                            .values(alerted=bool(member.get("alerted"))))
    return len(groups)


_KEPT = ("url", "title", "duplicate_of", "duplicate_kind", "duplicate_score", "event", "alerted")
BATCH = 500


def import_rows(sessions: Callable[[], AbstractContextManager[Session]], lines: Iterable[str],
                progress: Callable[[int], None] | None = None) -> ImportReport:
    """Import a JSONL export in batches; the links and events once every item is in (a link may point
    to a later line: seeds adopt earlier copies). Lines already archived are skipped, so it can be rerun."""
    report = ImportReport()
    links: list[tuple[int, dict[str, Any]]] = []
    rows = parse_rows(lines)
    while True:
        batch = list(islice(rows, BATCH))
        if not batch:
            break
        with sessions() as session:
            for number, row in batch:
                if insert_row(session, number, row):
                    report.imported += 1
                else:
                    report.skipped += 1
                # Skipped rows too: an import stopped before its links were restored is simply run again.
                links.append((number, {key: row.get(key) for key in _KEPT}))
        if progress is not None:
            progress(report.imported + report.skipped)
    with sessions() as session:
        report.links = sum(link_row(session, number, row) for number, row in links)
        report.events = restore_events(session, [row for _, row in links])
    return report
