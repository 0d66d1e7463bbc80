"""What the crawler needs to fetch only what is new: known articles, validators, failed fetches."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, or_, select
from sqlalchemy.orm import Session

from storage.models import CrawlRun, FetchState, Item, utcnow
from storage.records import FetchInfo, KnownArticle
from storage.upsert import dialect_insert

# fetch_state.kind of URLs that were fetched as articles and turned out not to be.
NOT_ARTICLE_KIND = "not_article"
# Failed article fetches worth trying again next cycle (not 404/410: the page is gone).
GONE_STATUSES = (404, 410)
# URLs per look-up query: well under SQLite's bound parameters (each URL is bound twice).
_LOOKUP_BATCH = 500
_FETCH_COLUMNS = ("url", "source_id", "kind", "status", "etag", "last_modified", "body_hash", "error",
                  "last_checked_at", "next_check_at")


def lookup_article(session: Session, url: str) -> KnownArticle | None:
    """The archived item at `url` (or whose canonical URL it is), with its last fetch."""
    return lookup_articles(session, [url]).get(url)


def lookup_articles(session: Session, urls: Sequence[str]) -> dict[str, KnownArticle]:
    """`lookup_article` of many URLs, a query per `_LOOKUP_BATCH` of them; URLs with no archived
    item are left out."""
    unique = list(dict.fromkeys(urls))
    found: dict[str, KnownArticle] = {}
    for start in range(0, len(unique), _LOOKUP_BATCH):
        wanted = set(unique[start:start + _LOOKUP_BATCH])
        stmt = (
            select(Item.url, Item.canonical_url, Item.published_at, FetchState.last_checked_at, FetchState.etag,
                   FetchState.last_modified)
            .outerjoin(FetchState, FetchState.url == Item.url)
            .where(or_(Item.url.in_(wanted), Item.canonical_url.in_(wanted)))
        )
        for row in session.execute(stmt):
            for key in {row.url, row.canonical_url} & wanted:
                found.setdefault(key, KnownArticle(row.url, row.published_at, row.last_checked_at, row.etag,
                                                   row.last_modified))
    return found


def fetch_states(session: Session, source_id: int, kinds: Iterable[str]) -> dict[str, FetchInfo]:
    stmt = select(FetchState).where(FetchState.source_id == source_id, FetchState.kind.in_(list(kinds)))
    return {
        state.url: FetchInfo(state.url, state.kind, state.status, state.etag, state.last_modified,
                             state.body_hash, state.last_checked_at)
        for state in session.scalars(stmt)
    }


def pending_articles(session: Session, source_id: int) -> list[str]:
    """Article URLs whose last fetch failed and that are not archived yet."""
    archived = select(Item.url)
    stmt = (
        select(FetchState.url)
        .where(FetchState.source_id == source_id, FetchState.kind == "article")
        .where(FetchState.url.not_in(archived))
        .where((FetchState.status.is_(None)) | (FetchState.status >= 300))
        .where(FetchState.status.is_(None) | FetchState.status.not_in(GONE_STATUSES))
        .order_by(FetchState.id)
    )
    return list(session.scalars(stmt))


def record_fetches(session: Session, rows: Iterable[Mapping[str, Any]]) -> int:
    """Upsert fetch states, in one statement executed for every row (a later row of the same URL
    wins). A URL found not to be an article stays so when fetched again as one."""
    now = utcnow()
    values: list[dict[str, Any]] = []
    for row in rows:
        if unknown := set(row) - set(_FETCH_COLUMNS):
            raise ValueError(f"not fetch-state columns: {sorted(unknown)}")
        values.append({**{name: row.get(name) for name in _FETCH_COLUMNS},
                       "last_checked_at": row.get("last_checked_at", now)})
    if not values:
        return 0
    stmt = dialect_insert(session, FetchState)
    excluded = stmt.excluded
    updates: dict[str, Any] = {name: excluded[name] for name in _FETCH_COLUMNS if name != "url"}
    updates["kind"] = case(
        (and_(excluded.kind == "article", FetchState.kind == NOT_ARTICLE_KIND), NOT_ARTICLE_KIND),
        else_=excluded.kind,
    )
    session.connection().execute(stmt.on_conflict_do_update(index_elements=["url"], set_=updates), values)
    return len(values)


def last_success(session: Session, source_id: int) -> tuple[datetime | None, int]:
    """When the last finished crawl of a source started, and how many finished crawls it has had."""
    runs = list(session.scalars(
        select(CrawlRun.started_at).where(CrawlRun.source_id == source_id, CrawlRun.status == "finished")
        .order_by(CrawlRun.started_at.desc())
    ))
    return (runs[0] if runs else None), len(runs)
