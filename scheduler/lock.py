"""One active scheduler per archive: a leader lock held for as long as `newswatch run` runs.

APScheduler 3.x cannot share a job store between processes, so only the holder of this lock
schedules. PostgreSQL: a session advisory lock on a connection kept open (it goes with the
session, so a killed scheduler frees it at once); who holds it is read from pg_stat_activity,
where the holder's application_name says "newswatch run pid=… host=…". SQLite: an flock on a
file beside the database, which holds the holder's description; the kernel frees it when the
process dies, whatever the way.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url

from scheduler.errors import LeaderLockLostError, SchedulerError
from storage.engine import make_engine

logger = logging.getLogger(__name__)

LOCK_NAME = "newswatch.scheduler"


def holder_description() -> str:
    return f"newswatch run pid={os.getpid()} host={socket.gethostname()}"


class LeaderLock(Protocol):
    def try_acquire(self) -> bool: ...

    def holder(self) -> str: ...

    def check(self) -> None: ...

    def release(self) -> None: ...


def leader_lock_for(archive_url: str) -> LeaderLock:
    parsed = make_url(archive_url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise SchedulerError("an in-memory SQLite archive cannot be scheduled: use a file")
        return FileLeaderLock(Path(f"{parsed.database}.scheduler.lock"))
    return AdvisoryLeaderLock(make_engine(archive_url))


class FileLeaderLock:
    """flock on `<database>.scheduler.lock`; the file says who holds it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None

    def try_acquire(self) -> bool:
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        started = datetime.now(UTC).isoformat(timespec="seconds")
        handle.write(json.dumps({"holder": holder_description(), "since": started}) + "\n")
        handle.flush()
        self._handle = handle
        return True

    def holder(self) -> str:
        try:
            info = json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            info = {}
        if not info:
            return "holder unknown"
        return f"{info.get('holder', 'holder unknown')} since {info.get('since', '?')}"

    def check(self) -> None:
        """A file lock cannot be lost while the process lives."""

    def release(self) -> None:
        if self._handle is not None:
            self._handle.seek(0)
            self._handle.truncate()
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


class AdvisoryLeaderLock:
    """pg_try_advisory_lock on a dedicated connection; the key is per database schema."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._connection: Connection | None = None
        self._key: int | None = None

    def _lock_key(self, connection: Connection) -> int:
        if self._key is None:
            schema = connection.execute(text("SELECT current_schema()")).scalar_one()
            digest = hashlib.sha256(f"{LOCK_NAME}:{schema}".encode()).digest()
            self._key = int.from_bytes(digest[:8], "big", signed=True)
        return self._key

    def try_acquire(self) -> bool:
        connection = self.engine.connect()
        try:
            connection.execute(text("SELECT set_config('application_name', :name, false)"),
                               {"name": holder_description()[:63]})
            got = connection.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                     {"key": self._lock_key(connection)}).scalar_one()
            connection.commit()
        except Exception:
            connection.close()
            raise
        if not got:
            connection.close()
            return False
        self._connection = connection
        return True

    def holder(self) -> str:
        with self.engine.connect() as connection:
            key = self._lock_key(connection)
            row = connection.execute(text(
                "SELECT a.application_name, a.client_addr, a.backend_start FROM pg_locks l "
                "JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
                "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                "AND l.classid::bigint = ((:key >> 32) & 4294967295) AND l.objid::bigint = (:key & 4294967295)"
            ), {"key": key}).first()
        if row is None:
            return "holder unknown (the lock was just released)"
        name, address, since = row
        where = f" from {address}" if address else ""
        return f"{name or 'unnamed session'}{where} since {since:%Y-%m-%d %H:%M:%S %Z}".strip()

    def check(self) -> None:
        if self._connection is None:
            return
        try:
            self._connection.execute(text("SELECT 1")).scalar_one()
            self._connection.commit()
        except Exception as exc:
            raise LeaderLockLostError(f"lost the leader lock: the database connection dropped ({exc})") from exc

    def release(self) -> None:
        if self._connection is None:
            return
        try:
            self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
            self._connection.commit()
        except Exception:  # the session is gone, and the lock with it
            logger.warning("could not release the leader lock cleanly", exc_info=True)
        finally:
            self._connection.close()
            self._connection = None
            self.engine.dispose()
