"""Creating engines for archive URLs, with the per-dialect settings the archive relies on."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.pool import ConnectionPoolEntry

from storage.errors import ArchiveOpenError

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_S = 30
# SQLSTATEs of a transaction PostgreSQL aborted to break a conflict with another one
# (deadlock_detected, serialization_failure): the same transaction run again can succeed.
_RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


def is_retryable(exc: DBAPIError) -> bool:
    """Whether the failed transaction was a casualty of a concurrent one, worth running again.
    (SQLite's writers queue on its lock for SQLITE_BUSY_TIMEOUT_S instead: a write that outwaited
    it is not retried, as another wait would hold the crawl's event loop as long again.)"""
    return getattr(exc.orig, "sqlstate", None) in _RETRYABLE_SQLSTATES


def error_reason(exc: BaseException) -> str:
    """The first line of what the database said, without SQLAlchemy's statement dump."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _set_sqlite_pragmas(dbapi_connection: Any, connection_record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # WAL lets a reader (export, dashboard) work while a crawl writes.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _normalise_postgres_driver(url: str) -> str:
    # psycopg 3 is the driver we ship; a plain postgresql:// URL would ask for psycopg2.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str) -> Engine:
    """An engine for `url`, or ArchiveOpenError naming the URL and what is wrong with it."""
    try:
        parsed = make_url(_normalise_postgres_driver(url))
    except ArgumentError as exc:
        raise ArchiveOpenError(url, "not a database URL (e.g. sqlite:///newswatch.db)") from exc
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ArchiveOpenError(url, f"unsupported database {backend!r}: use sqlite or postgresql")
    if backend == "sqlite" and parsed.database not in (None, "", ":memory:"):
        parent = Path(parsed.database).expanduser().resolve().parent
        if not parent.is_dir():
            raise ArchiveOpenError(url, f"directory {parent} does not exist")
    try:
        if backend == "sqlite":
            engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
            event.listen(engine, "connect", _set_sqlite_pragmas)
        else:
            engine = create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=5)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise ArchiveOpenError(url, f"no driver for this URL ({exc})") from exc
    return engine
