"""The archive: the one entry point other packages use to read and write newswatch's data."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from storage import crawl_state, migrate
from storage.engine import make_engine
from storage.errors import ArchiveOpenError, SourceExistsError, SourceNotFoundError
from storage.items import iter_export_rows, upsert_item
from storage.models import CrawlRun, FetchState, Item, Source, utcnow
from storage.records import FetchInfo, KnownArticle, PageRecord, RunInfo, SourceInfo, UpsertResult
from storage.upsert import upsert_row

logger = logging.getLogger(__name__)


class Archive:
    """A migrated archive database. Open it with `Archive.open(url)`."""

    def __init__(self, engine: Engine, url: str) -> None:
        self.engine = engine
        self.url = url
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str) -> Archive:
        """Connect, apply pending migrations, and return the archive; ArchiveOpenError otherwise."""
        engine = make_engine(url)
        try:
            migrate.upgrade(engine)
        except (DBAPIError, SQLAlchemyError) as exc:
            engine.dispose()
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise ArchiveOpenError(url, reason) from exc
        return cls(engine, url)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error."""
        with self._sessions.begin() as session:
            yield session

    # -- sources -------------------------------------------------------------------------------

    def add_source(self, name: str, home_url: str, interval_seconds: int) -> SourceInfo:
        with self.session() as session:
            existing = session.scalars(select(Source).where(Source.name == name)).first()
            if existing is not None:
                raise SourceExistsError(name, existing.home_url)
            source = Source(name=name, home_url=home_url, interval_seconds=interval_seconds, discovered={})
            session.add(source)
            session.flush()
            return _source_info(source)

    def get_source(self, name: str) -> SourceInfo:
        with self.session() as session:
            source = session.scalars(select(Source).where(Source.name == name)).first()
            if source is None:
                raise SourceNotFoundError(name)
            return _source_info(source)

    def list_sources(self) -> list[SourceInfo]:
        with self.session() as session:
            counts = dict(
                session.execute(select(Item.source_id, func.count()).group_by(Item.source_id)).all()
            )
            result = []
            for source in session.scalars(select(Source).order_by(Source.name)):
                last = session.scalars(
                    select(CrawlRun).where(CrawlRun.source_id == source.id).order_by(CrawlRun.id.desc()).limit(1)
                ).first()
                result.append(
                    _source_info(
                        source,
                        items=counts.get(source.id, 0),
                        last_run=last,
                    )
                )
            return result

    def remove_source(self, name: str) -> None:
        with self.session() as session:
            source = session.scalars(select(Source).where(Source.name == name)).first()
            if source is None:
                raise SourceNotFoundError(name)
            session.delete(source)

    def save_discovery(self, source_id: int, discovered: dict[str, Any]) -> None:
        with self.session() as session:
            source = session.get(Source, source_id)
            if source is not None:
                source.discovered = discovered

    # -- items ---------------------------------------------------------------------------------

    def archive_page(self, record: PageRecord) -> UpsertResult:
        with self.session() as session:
            return upsert_item(session, record)

    def iter_export(self, display_tz: tzinfo) -> Iterator[dict[str, Any]]:
        with self.session() as session:
            yield from iter_export_rows(session, display_tz)

    def count_items(self, **filters: Any) -> int:
        with self.session() as session:
            stmt = select(func.count()).select_from(Item).filter_by(**filters)
            return int(session.scalar(stmt) or 0)

    def language_counts(self, source_id: int | None = None) -> dict[str, int]:
        with self.session() as session:
            stmt = select(Item.language, func.count()).group_by(Item.language)
            if source_id is not None:
                stmt = stmt.where(Item.source_id == source_id)
            return {lang or "unknown": n for lang, n in session.execute(stmt)}

    def seeds_matched(self) -> list[tuple[str, str, str]]:
        """(seed title, duplicate URL, kind) for every crawled item linked to a seed."""
        with self.session() as session:
            seed = Item.__table__.alias("seed")
            stmt = (
                select(seed.c.title, Item.url, Item.duplicate_kind)
                .join(seed, Item.duplicate_of_id == seed.c.id)
                .where(seed.c.is_seed.is_(True))
                .order_by(Item.id)
            )
            return [(t or "", u, k or "") for t, u, k in session.execute(stmt)]

    # -- fetch state and runs ------------------------------------------------------------------

    def get_fetch_state(self, url: str) -> FetchInfo | None:
        with self.session() as session:
            state = session.scalars(select(FetchState).where(FetchState.url == url)).first()
            if state is None:
                return None
            return FetchInfo(
                state.url, state.kind, state.status, state.etag, state.last_modified,
                state.body_hash, state.last_checked_at,
            )

    def record_fetch(
        self,
        url: str,
        source_id: int | None,
        kind: str,
        status: int | None,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        body_hash: str | None = None,
        error: str | None = None,
        next_check_at: datetime | None = None,
    ) -> None:
        values = {
            "url": url, "source_id": source_id, "kind": kind, "status": status, "etag": etag,
            "last_modified": last_modified, "body_hash": body_hash, "error": error,
            "last_checked_at": utcnow(), "next_check_at": next_check_at,
        }
        with self.session() as session:
            upsert_row(session, FetchState, values, conflict_columns=("url",))

    def lookup_article(self, url: str) -> KnownArticle | None:
        with self.session() as session:
            return crawl_state.lookup_article(session, url)

    def fetch_states(self, source_id: int, kinds: Iterable[str]) -> dict[str, FetchInfo]:
        with self.session() as session:
            return crawl_state.fetch_states(session, source_id, kinds)

    def pending_articles(self, source_id: int) -> list[str]:
        with self.session() as session:
            return crawl_state.pending_articles(session, source_id)

    def record_fetches(self, rows: Iterable[dict[str, Any]]) -> int:
        """Upsert many fetch-state rows (dicts of FetchState columns) in one transaction."""
        with self.session() as session:
            return crawl_state.record_fetches(session, rows)

    def last_success(self, source_id: int) -> tuple[datetime | None, int]:
        with self.session() as session:
            return crawl_state.last_success(session, source_id)

    def start_run(self, source_id: int) -> int:
        with self.session() as session:
            run = CrawlRun(source_id=source_id, status="running", counters={})
            session.add(run)
            session.flush()
            return run.id

    def finish_run(self, run_id: int, status: str, counters: dict[str, Any], error: str | None = None) -> None:
        with self.session() as session:
            run = session.get(CrawlRun, run_id)
            if run is None:
                return
            run.status, run.counters, run.error, run.finished_at = status, counters, error, utcnow()

    def get_run(self, run_id: int) -> RunInfo:
        with self.session() as session:
            run = session.get(CrawlRun, run_id)
            if run is None:
                raise LookupError(f"no crawl run {run_id}")
            return RunInfo(
                run.id, run.source.name, run.status, run.started_at, run.finished_at, dict(run.counters), run.error
            )


def _source_info(source: Source, items: int = 0, last_run: CrawlRun | None = None) -> SourceInfo:
    return SourceInfo(
        id=source.id,
        name=source.name,
        home_url=source.home_url,
        interval_seconds=source.interval_seconds,
        enabled=source.enabled,
        discovered=dict(source.discovered or {}),
        items=items,
        last_run_status=last_run.status if last_run else None,
        last_run_at=last_run.started_at if last_run else None,
    )
