"""The archive: the one entry point other packages use to read and write newswatch's data."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from storage import crawl_state, migrate, raw_pages
from storage.engine import error_reason, is_retryable, make_engine
from storage.errors import ArchiveOpenError, ArchiveWriteError, SourceExistsError, SourceNotFoundError
from storage.items import iter_export_rows, upsert_item
from storage.models import CrawlRun, FetchState, Item, Source, utcnow
from storage.records import FetchInfo, KnownArticle, PageRecord, RunInfo, SourceInfo, UpsertResult
from storage.transfer import ImportReport, import_rows

logger = logging.getLogger(__name__)

# Attempts at an article write that a concurrent writer's transaction made fail (see is_retryable).
WRITE_ATTEMPTS = 5


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
            raise ArchiveOpenError(url, error_reason(exc)) from exc
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
        """Archive one page (see upsert_item). A write that PostgreSQL aborted to break a deadlock
        with another crawl's is run again; ArchiveWriteError(url) when it cannot be written."""
        attempt = 1
        while True:
            try:
                with self.session() as session:
                    return upsert_item(session, record)
            except DBAPIError as exc:
                if attempt == WRITE_ATTEMPTS or not is_retryable(exc):
                    raise ArchiveWriteError(record.url, error_reason(exc)) from exc
                logger.info("archiving %s: %s; trying again (%d/%d)", record.url, error_reason(exc),
                            attempt + 1, WRITE_ATTEMPTS)
            # Apart, so the two writers do not meet again at the same moment.
            time.sleep(random.uniform(0.01, 0.05) * attempt)  # noqa: S311 - jitter, not secrets
            attempt += 1

    def archive_pages(self, records: Sequence[PageRecord]) -> list[UpsertResult | ArchiveWriteError]:
        """Archive pages in order; what one of them could not be written as comes back as its
        ArchiveWriteError, in its place.

        On SQLite, whose writers queue on one lock anyway, the pages are one transaction, instead
        of each page paying its own commit and search-index segment and reading its group's root
        again (BENCHMARKS.md, 2026-12-07). PostgreSQL, where several crawls write at once, gets a
        transaction per page (`archive_page`), so that none holds the locks of many pages. A batch
        that fails is written again page by page, so that a page that cannot be written fails alone.
        """
        if len(records) > 1 and self.engine.dialect.name == "sqlite":
            try:
                with self.session() as session:
                    return [upsert_item(session, record) for record in records]
            except OperationalError as exc:
                # The archive refused, not a page (locked past its busy timeout, disk full, read
                # only): page by page, each would wait and fail again while the crawl's loop waits.
                return [ArchiveWriteError(record.url, error_reason(exc)) for record in records]
            except DBAPIError as exc:
                logger.info("a batch of %d pages was not written (%s): writing them one by one",
                            len(records), error_reason(exc))
        results: list[UpsertResult | ArchiveWriteError] = []
        for record in records:
            try:
                results.append(self.archive_page(record))
            except ArchiveWriteError as exc:
                results.append(exc)
        return results

    def iter_export(self, display_tz: tzinfo) -> Iterator[dict[str, Any]]:
        with self.session() as session:
            yield from iter_export_rows(session, display_tz)

    def keep_raw_pages(self, rows: Iterable[dict[str, Any]]) -> int:
        """Keep raw article responses (url, status, headers, body); a body already kept is skipped."""
        with self.session() as session:
            return raw_pages.keep(session, rows)

    def import_jsonl(self, lines: Iterable[str], progress: Callable[[int], None] | None = None) -> ImportReport:
        """Read a JSONL export back (see storage/transfer.py); rows whose URL is archived are skipped."""
        return import_rows(self.session, lines, progress)

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
        self.record_fetches([{
            "url": url, "source_id": source_id, "kind": kind, "status": status, "etag": etag,
            "last_modified": last_modified, "body_hash": body_hash, "error": error, "next_check_at": next_check_at,
        }])

    def lookup_article(self, url: str) -> KnownArticle | None:
        with self.session() as session:
            return crawl_state.lookup_article(session, url)

    def lookup_articles(self, urls: Sequence[str]) -> dict[str, KnownArticle]:
        with self.session() as session:
            return crawl_state.lookup_articles(session, urls)

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


    # -- reads for the scheduler: runs and per-source health figures ---------------------------

    def list_runs(
        self, source_id: int | None = None, *, after_id: int = 0, status: str | None = None
    ) -> list[RunInfo]:
        """Crawl runs in id order: of one source (or all), with an id above `after_id`, in one status."""
        with self.session() as session:
            stmt = select(CrawlRun).where(CrawlRun.id > after_id).order_by(CrawlRun.id)
            if source_id is not None:
                stmt = stmt.where(CrawlRun.source_id == source_id)
            if status is not None:
                stmt = stmt.where(CrawlRun.status == status)
            return [_run_info(run) for run in session.scalars(stmt)]

    def last_run_id(self) -> int:
        with self.session() as session:
            return int(session.scalar(select(func.max(CrawlRun.id))) or 0)

    def source_health_figures(self, rate_window_days: float = 60.0) -> dict[str, dict[str, Any]]:
        """Per source name: last success, consecutive failures, item counts and publication cadence.

        Keys: last_success_at, consecutive_failures, runs (recent, at most 50), items, undated,
        duplicates, last_new_at (when the newest non-seed item was first archived), and over dated
        items published within `rate_window_days`: dated_recent, first_published_recent,
        last_published_recent.
        """
        since = utcnow() - timedelta(days=rate_window_days)
        with self.session() as session:
            rows = session.execute(select(Source.id, Source.name)).all()
            names: dict[int | None, str] = {row.id: row.name for row in rows}
            figures = {name: _empty_health() for name in names.values()}
            for source_id, name in names.items():
                statuses = list(session.scalars(
                    select(CrawlRun.status).where(CrawlRun.source_id == source_id)
                    .order_by(CrawlRun.id.desc()).limit(_RECENT_RUNS)
                ))
                figures[name].update(runs=len(statuses), consecutive_failures=_leading_failures(statuses))
            successes = select(CrawlRun.source_id, func.max(CrawlRun.finished_at)).where(
                CrawlRun.status == "finished").group_by(CrawlRun.source_id)
            for source_id, when in session.execute(successes):
                figures[names[source_id]]["last_success_at"] = _aware(when)
            own = (Item.source_id.is_not(None), Item.is_seed.is_(False))
            counts = select(
                Item.source_id, func.count(), func.count(Item.published_at), func.count(Item.duplicate_of_id),
                func.max(Item.first_seen_at),
            ).where(*own).group_by(Item.source_id)
            for source_id, total, dated, duplicates, last_new in session.execute(counts):
                figures[names[source_id]].update(items=total, undated=total - dated, duplicates=duplicates,
                                                 last_new_at=_aware(last_new))
            recent = select(
                Item.source_id, func.count(), func.min(Item.published_at), func.max(Item.published_at),
            ).where(*own, Item.published_at >= since).group_by(Item.source_id)
            for source_id, dated, first, last in session.execute(recent):
                figures[names[source_id]].update(dated_recent=dated, first_published_recent=_aware(first),
                                                 last_published_recent=_aware(last))
            return figures


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


_RECENT_RUNS = 50


def _run_info(run: CrawlRun) -> RunInfo:
    return RunInfo(run.id, run.source.name, run.status, run.started_at, run.finished_at, dict(run.counters), run.error)


def _empty_health() -> dict[str, Any]:
    return {"last_success_at": None, "consecutive_failures": 0, "runs": 0, "items": 0, "undated": 0,
            "duplicates": 0, "last_new_at": None, "dated_recent": 0, "first_published_recent": None,
            "last_published_recent": None}


def _leading_failures(statuses: list[str]) -> int:
    """Failed runs since the last finished one (newest first; running and interrupted runs skipped)."""
    failures = 0
    for status in statuses:
        if status == "finished":
            break
        failures += status == "failed"
    return failures


def _aware(value: Any) -> datetime | None:
    """Aggregates (max, min) skip UTCDateTime's result processing: naive UTC or text on SQLite."""
    if value is None:
        return None
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(when, datetime):
        raise TypeError(f"not a time: {value!r}")
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
