"""Full-text search of the archive: SQLite FTS5 (bm25) or a PostgreSQL tsvector table (ts_rank).

The index is one row per item, keyed by items.id: on SQLite the FTS5 table `item_search(title, text,
title_folded, text_folded)` with rowid = items.id, on PostgreSQL `item_search(item_id, document)`
with a GIN index. Documents and queries are tokenized in Python (storage.search_text), so
Vietnamese with or without diacritics, one-character Chinese words and Cyrillic in any case behave
the same on both. Searches join the index to `items`, so a row left for a deleted item never shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Text,
    bindparam,
    cast,
    column,
    delete,
    func,
    insert,
    literal_column,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR
from sqlalchemy.orm import Session, aliased

from storage import search_text
from storage.errors import SearchError
from storage.models import Item

# Asia/Ho_Chi_Minh has been UTC+7 without daylight saving since 1975, so a fixed offset is exact.
LOCAL_TZ = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")
MAX_LIMIT = 100
MAX_OFFSET = 10_000
INDEX_TABLE = "item_search"
# bm25 weights of title, text, title_folded, text_folded: an exact-diacritics hit outweighs a folded one.
SQLITE_WEIGHTS = (10.0, 4.0, 5.0, 2.0)
SQLITE_TOKENIZER = "unicode61 remove_diacritics 0 categories 'L* N* Co M*'"
_BATCH = 500

_FTS = table(INDEX_TABLE, column("rowid", Integer), column("title", Text), column("text", Text),
             column("title_folded", Text), column("text_folded", Text))
_TSV = table(INDEX_TABLE, column("item_id", Integer), column("document", TSVECTOR))


@dataclass(frozen=True)
class SearchQuery:
    text: str
    sources: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    published_from: date | None = None  # local days (Asia/Ho_Chi_Minh), inclusive
    published_to: date | None = None
    event_types: tuple[str, ...] = ()
    include_duplicates: bool = False
    limit: int = 20
    offset: int = 0

    def __post_init__(self) -> None:
        for name in ("sources", "languages", "event_types"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not 1 <= self.limit <= MAX_LIMIT:
            raise SearchError(self.text, f"limit must be 1 to {MAX_LIMIT}, not {self.limit}")
        if not 0 <= self.offset <= MAX_OFFSET:
            raise SearchError(self.text, f"offset must be 0 to {MAX_OFFSET}, not {self.offset}")
        if self.published_from and self.published_to and self.published_from > self.published_to:
            raise SearchError(self.text, f"the date range {self.published_from} to {self.published_to} is empty")


@dataclass(frozen=True)
class SearchHit:
    item_id: int
    url: str
    title: str | None
    title_html: str  # HTML-escaped title with matches wrapped in <mark>…</mark>
    snippet_html: str  # HTML-escaped excerpt (about 300 characters) with matches in <mark>…</mark>
    source: str
    language: str | None
    published_at: datetime | None
    score: float
    duplicate_of: str | None
    duplicate_kind: str | None
    event_type: str | None

    def as_dict(self) -> dict[str, Any]:
        row = {f.name: getattr(self, f.name) for f in fields(self)}
        row["published_at"] = self.published_at.isoformat() if self.published_at else None
        return row


@dataclass(frozen=True)
class SearchPage:
    query: SearchQuery
    total: int
    hits: tuple[SearchHit, ...]


def is_index_table(name: str | None) -> bool:
    """The search index's tables (FTS5 adds item_search_data, _idx, _docsize, _config, _content)."""
    return name is not None and (name == INDEX_TABLE or name.startswith(INDEX_TABLE + "_"))


# -- keeping the index in step -----------------------------------------------------------------


def index_item(session: Session, item_id: int) -> None:
    """(Re)index one item from its current title and text; an item that is gone is unindexed."""
    connection = session.connection()
    row = connection.execute(select(Item.id, Item.title, Item.text).where(Item.id == item_id)).first()
    _delete(connection, item_id)
    if row is not None:
        _write(connection, [(row.id, row.title, row.text)])


def index_text(session: Session, item_id: int, title: str | None, text: str, *, new: bool) -> None:
    """Index an item being written, from the title and text in hand; `new`: it was never indexed."""
    connection = session.connection()
    if not new:
        _delete(connection, item_id)
    _write(connection, [(item_id, title, text)])


def unindex_item(session: Session, item_id: int) -> None:
    _delete(session.connection(), item_id)


def reindex_all(session: Session) -> int:
    """Rebuild the whole index from the items; returns how many items were indexed."""
    connection = session.connection()
    connection.execute(delete(_FTS if _is_sqlite(connection) else _TSV))
    return backfill(connection)


def backfill(connection: Connection) -> int:
    """Index every item, in id-ordered batches (the migration calls this on its own connection)."""
    count, last = 0, 0
    while True:
        stmt = select(Item.id, Item.title, Item.text).where(Item.id > last).order_by(Item.id).limit(_BATCH)
        rows = [(r.id, r.title, r.text) for r in connection.execute(stmt)]
        if not rows:
            return count
        _write(connection, rows)
        count, last = count + len(rows), rows[-1][0]


def _is_sqlite(connection: Connection) -> bool:
    return connection.dialect.name == "sqlite"


def _delete(connection: Connection, item_id: int) -> None:
    if _is_sqlite(connection):
        connection.execute(delete(_FTS).where(_FTS.c.rowid == item_id))
    else:
        connection.execute(delete(_TSV).where(_TSV.c.item_id == item_id))


def _write(connection: Connection, rows: Sequence[tuple[int, str | None, str | None]]) -> None:
    if _is_sqlite(connection):
        params = []
        for item_id, title, text in rows:
            (title_exact, title_folded), (text_exact, text_folded) = (
                search_text.index_fields(title), search_text.index_fields(text))
            params.append({"rowid": item_id, "title": title_exact, "text": text_exact,
                           "title_folded": title_folded, "text_folded": text_folded})
        connection.execute(insert(_FTS), params)
    else:
        connection.execute(insert(_TSV), [
            {"item_id": item_id, "document": search_text.tsvector_literal(title, text)}
            for item_id, title, text in rows
        ])


# -- searching ---------------------------------------------------------------------------------


def search(session: Session, query: SearchQuery) -> SearchPage:
    """One page of ranked hits for `query`, and how many items match in all."""
    try:
        terms = search_text.parse_query(query.text)
    except search_text.QueryError as exc:
        raise SearchError(query.text, str(exc)) from exc
    clauses = _sqlite_clauses if _is_sqlite(session.connection()) else _postgres_clauses
    index, key, matched, rank = clauses(terms)
    filters = [matched, *_filters(query)]
    total = session.scalar(select(func.count()).select_from(index).join(Item, Item.id == key).where(*filters))
    canonical, score = aliased(Item), rank.label("score")
    stmt = (
        select(Item, canonical.url, score)
        .select_from(index).join(Item, Item.id == key)
        .outerjoin(canonical, Item.duplicate_of_id == canonical.id)
        .where(*filters)
        .order_by(score.desc(), Item.id.desc())
        .limit(query.limit).offset(query.offset)
    )
    hits = tuple(_hit(item, duplicate_url, float(value), terms) for item, duplicate_url, value in session.execute(stmt))
    return SearchPage(query, int(total or 0), hits)


def _sqlite_clauses(terms: list[search_text.Term]) -> tuple[Any, ColumnElement[int], ColumnElement[bool],
                                                             ColumnElement[float]]:
    """The FTS5 table, its key, the MATCH and the score (bm25 is lower for better: negated)."""
    ref: ColumnElement[Any] = literal_column(INDEX_TABLE)
    return _FTS, _FTS.c.rowid, ref.match(search_text.fts5_expression(terms)), -func.bm25(ref, *SQLITE_WEIGHTS)


def _postgres_clauses(terms: list[search_text.Term]) -> tuple[Any, ColumnElement[int], ColumnElement[bool],
                                                               ColumnElement[float]]:
    """The tsvector table, its key, the @@ of all terms, and the sum of each term's ts_rank."""
    literals = search_text.tsquery_terms(terms)
    every = cast(bindparam(None, " & ".join(literals), Text), TSQUERY)
    ranks = [func.ts_rank(_TSV.c.document, cast(bindparam(None, part, Text), TSQUERY)) for part in literals]
    rank: ColumnElement[float] = ranks[0]
    for more in ranks[1:]:
        rank = rank + more
    return _TSV, _TSV.c.item_id, _TSV.c.document.bool_op("@@")(every), rank


def _filters(query: SearchQuery) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = []
    if query.sources:
        filters.append(Item.source.in_(query.sources))
    if query.languages:
        filters.append(Item.language.in_(query.languages))
    if query.published_from:
        filters.append(Item.published_at >= _local_midnight(query.published_from))
    if query.published_to:
        filters.append(Item.published_at < _local_midnight(query.published_to + timedelta(days=1)))
    if query.event_types:
        filters.append(Item.event["type"].as_string().in_(query.event_types))
    if not query.include_duplicates:
        filters.append(Item.duplicate_of_id.is_(None))
    return filters


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=LOCAL_TZ)


def _hit(item: Item, duplicate_url: str | None, score: float, terms: list[search_text.Term]) -> SearchHit:
    title = search_text.display_text(item.title)
    spans = search_text.match_spans(search_text.tokenize(title), terms)
    event_type = item.event.get("type") if isinstance(item.event, dict) else None
    return SearchHit(
        item_id=item.id, url=item.url, title=item.title, title_html=search_text.highlight(title, spans),
        snippet_html=search_text.snippet(item.text, terms), source=item.source, language=item.language,
        published_at=item.published_at, score=score, duplicate_of=duplicate_url,
        duplicate_kind=item.duplicate_kind, event_type=str(event_type) if event_type is not None else None,
    )
