"""What the crawler needs to fetch only what is new: known articles, validators, failed fetches."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import case, or_, select
from sqlalchemy.orm import Session

from storage.models import CrawlRun, FetchState, Item, utcnow
from storage.records import FetchInfo, KnownArticle
from storage.upsert import upsert_row

# fetch_state.kind of URLs that were fetched as articles and turned out not to be.
NOT_ARTICLE_KIND = "not_article"
# Failed article fetches worth trying again next cycle (not 404/410: the page is gone).
GONE_STATUSES = (404, 410)


def lookup_article(session: Session, url: str) -> KnownArticle | None:
    """The archived item at `url` (or whose canonical URL it is), with its last fetch."""
    stmt = (
        select(Item.url, Item.published_at, FetchState.last_checked_at, FetchState.etag, FetchState.last_modified)
        .outerjoin(FetchState, FetchState.url == Item.url)
        .where(or_(Item.url == url, Item.canonical_url == url))
        .limit(1)
    )
    row = session.execute(stmt).first()
    return KnownArticle(*row) if row is not None else None


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
    """Upsert fetch states. A URL found not to be an article stays so when fetched again as one."""
    count = 0
    for row in rows:
        values = {"last_checked_at": utcnow(), "error": None, "etag": None, "last_modified": None,
                  "body_hash": None, "next_check_at": None, **row}
        keep_kind = {}
        if values.get("kind") == "article":
            keep_kind["kind"] = case(
                (FetchState.kind == NOT_ARTICLE_KIND, NOT_ARTICLE_KIND), else_=values["kind"]
            )
        upsert_row(session, FetchState, values, conflict_columns=("url",), overrides=keep_kind)
        count += 1
    return count


def last_success(session: Session, source_id: int) -> tuple[datetime | None, int]:
    """When the last finished crawl of a source started, and how many finished crawls it has had."""
    runs = list(session.scalars(
        select(CrawlRun.started_at).where(CrawlRun.source_id == source_id, CrawlRun.status == "finished")
        .order_by(CrawlRun.started_at.desc())
    ))
    return (runs[0] if runs else None), len(runs)
