"""Shared fixtures: archives on SQLite and (when NEWSWATCH_TEST_PG_URL is set) PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

from storage import Archive

PG_URL_VARIABLE = "NEWSWATCH_TEST_PG_URL"
REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _pg_base_url() -> str | None:
    url = os.environ.get(PG_URL_VARIABLE, "").strip()
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url or None


def _pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    base = _pg_base_url()
    if base is None:
        pytest.skip(f"PostgreSQL tests need {PG_URL_VARIABLE} (e.g. postgresql://127.0.0.1:5432/test)")
    schema = f"nw_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def archive_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty archive URL, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'archive.db'}"
    else:
        yield from _pg_schema_url()


@pytest.fixture
def archive(archive_url: str) -> Iterator[Archive]:
    with Archive.open(archive_url) as opened:
        yield opened


@pytest.fixture
def redis_url() -> str:
    """A Redis URL for the worker tests (NEWSWATCH_TEST_REDIS_URL, default db 15), or skip saying why."""
    from tests.workers_harness import redis_url_or_reason  # noqa: PLC0415 - only the worker tests need redis

    url, reason = redis_url_or_reason()
    if url is None:
        pytest.skip(reason)
    return url
