"""Alerts as an Atom feed: a channel that keeps a feed file, and a renderer for the dashboard.

A feed reader is the one channel that needs no account and no server, so it is also the one an
analyst is most likely to point at a file on a shared disk. The file is therefore read as hostile
(no DTD, no entities, no network, bounded size) and written atomically, so a reader never sees
half a feed and a crash never leaves one.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from feedgen.feed import FeedGenerator
from lxml import etree

from alerts.errors import ChannelError
from alerts.message import event_label, one_line, render
from alerts.model import AlertMessage

logger = logging.getLogger(__name__)

DEFAULT_MAX_ENTRIES = 200
_ATOM_NS = "http://www.w3.org/2005/Atom"
_NS = {"a": _ATOM_NS}
# 200 entries of a few KB each; anything far larger was not written by us.
_MAX_FILE_BYTES = 16 * 1024 * 1024
_FEED_TITLE = "newswatch alerts"


@dataclass(frozen=True)
class _Entry:
    id: str
    title: str
    link: str
    updated: datetime
    content: str
    summary: str = ""
    category: str = ""


def entry_id(idempotency_key: str) -> str:
    """The Atom id of an alert: the same key always gives the same id, so a resend replaces."""
    return "urn:newswatch:alert:" + quote(idempotency_key, safe="-._~:")


def _entry_from_message(message: AlertMessage) -> _Entry:
    rendered = render(message)
    facts = [event_label(message.event_type)]
    facts += [part for part in (
        message.event_date.isoformat() if message.event_date else "",
        one_line(message.place or ""),
        one_line(message.organizer or ""),
    ) if part]
    return _Entry(
        id=entry_id(message.idempotency_key),
        title=rendered.title,
        link=message.link,
        updated=_aware(message.detected_at),
        content=rendered.text,
        summary=" · ".join(facts),
        category=message.event_type,
    )


def _render(entries: Iterable[_Entry], feed_id: str, title: str, link: str | None) -> bytes:
    ordered = list(entries)
    feed = FeedGenerator()
    feed.id(feed_id)
    feed.title(title)
    # An empty feed still needs an <updated>; the epoch says "nothing yet" without inventing a time.
    feed.updated(max((e.updated for e in ordered), default=datetime(1970, 1, 1, tzinfo=UTC)))
    if link:
        feed.link(href=link, rel="alternate")
    for entry in ordered:
        item = feed.add_entry(order="append")
        item.id(entry.id)
        item.title(entry.title or entry.id)
        item.updated(entry.updated)
        if entry.link:
            item.link(href=entry.link, rel="alternate")
        item.content(entry.content, type="text")
        if entry.summary:
            item.summary(entry.summary)
        if entry.category:
            item.category(term=entry.category)
    data: bytes = feed.atom_str(pretty=True)
    return data


def render_alerts_feed(messages: Iterable[AlertMessage], feed_id: str, title: str, link: str) -> bytes:
    """An Atom document of the given alerts, newest first, one entry per idempotency key."""
    by_id: dict[str, _Entry] = {}
    for message in messages:
        entry = _entry_from_message(message)
        by_id[entry.id] = entry
    return _render(_newest_first(by_id.values()), feed_id, title, link)


def _newest_first(entries: Iterable[_Entry]) -> list[_Entry]:
    return sorted(entries, key=lambda e: e.updated, reverse=True)


class AtomFileChannel:
    """Keeps the last ``max_entries`` alerts in an Atom file, newest first."""

    def __init__(self, path: str | os.PathLike[str], max_entries: int = DEFAULT_MAX_ENTRIES,
                 *, title: str = _FEED_TITLE, link: str | None = None) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, not {max_entries}")
        self.path = Path(path)
        if not self.path.is_absolute():
            raise ValueError(f"the Atom feed path must be absolute, not {self.path}")
        self.max_entries = max_entries
        self._title = title
        self._link = link
        self._feed_id = "urn:newswatch:alerts:" + quote(str(self.path), safe="/-._~")
        # One process delivers (the scheduler holds the leader lock); this covers its threads.
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return f"atom://{self.path}"

    def send(self, message: AlertMessage) -> None:
        new = _entry_from_message(message)
        with self._lock:
            kept = [e for e in self._read_entries() if e.id != new.id]
            entries = _newest_first([new, *kept])[: self.max_entries]
            document = _render(entries, self._feed_id, self._title, self._link)
            try:
                _write_atomically(self.path, document)
            except OSError as exc:
                raise ChannelError(self.name, f"cannot write the feed: {exc}") from exc

    def _read_entries(self) -> list[_Entry]:
        """The entries of the current file; none, with a warning, if it is not a feed we can trust."""
        try:
            if self.path.stat().st_size > _MAX_FILE_BYTES:
                raise _CorruptFeedError(f"larger than {_MAX_FILE_BYTES} bytes")
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except _CorruptFeedError as exc:
            logger.warning("Atom feed %s is unusable (%s); starting a new one", self.path, exc)
            return []
        except OSError as exc:
            raise ChannelError(self.name, f"cannot read the feed: {exc}") from exc
        try:
            return _parse_entries(data)
        except _CorruptFeedError as exc:
            logger.warning("Atom feed %s is unusable (%s); starting a new one", self.path, exc)
            return []


class _CorruptFeedError(Exception):
    """The feed file is not an Atom document this channel wrote."""


def _parse_entries(data: bytes) -> list[_Entry]:
    # No entity expansion, no DTD loading, no network: a billion-laughs or XXE file stays inert.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise _CorruptFeedError(f"not well-formed XML: {exc}") from exc
    if root is None:
        raise _CorruptFeedError("empty document")
    if root.getroottree().docinfo.internalDTD is not None:
        # Our feeds never declare a DTD; one that does was written by someone else.
        raise _CorruptFeedError("it declares a DTD")
    if root.tag != f"{{{_ATOM_NS}}}feed":
        raise _CorruptFeedError(f"root element is {root.tag!r}, not an Atom feed")
    entries = []
    for node in root.iterfind("a:entry", _NS):
        entry = _parse_entry(node)
        if entry is not None:
            entries.append(entry)
    return entries


def _parse_entry(node: Any) -> _Entry | None:
    def text(path: str) -> str:
        found = node.find(path, _NS)
        return "" if found is None else "".join(found.itertext())

    entry_id_, updated_text = text("a:id").strip(), text("a:updated").strip()
    try:
        updated = _aware(datetime.fromisoformat(updated_text))
    except ValueError:
        updated = None
    if not entry_id_ or updated is None:
        logger.warning("skipping an Atom entry without a usable id or updated (%r)", entry_id_)
        return None
    link = node.find("a:link", _NS)
    category = node.find("a:category", _NS)
    return _Entry(
        id=entry_id_,
        title=one_line(text("a:title")),
        link=(link.get("href") or "") if link is not None else "",
        updated=updated,
        content=text("a:content"),
        summary=one_line(text("a:summary")),
        category=(category.get("term") or "") if category is not None else "",
    )


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a temp file beside path and rename over it, so readers see the old or the new feed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600; a feed is meant to be read by a reader
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
