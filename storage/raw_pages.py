"""Raw article responses kept for WARC export: idempotent writes, streamed reads."""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import RawPage, utcnow
from storage.upsert import insert_ignoring_conflict


@dataclass(frozen=True)
class RawResponse:
    url: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    digest: str
    fetched_at: datetime


def payload_digest(body: bytes) -> str:
    """`sha1:<base32>`, as WARC-Payload-Digest spells it."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body, usedforsecurity=False).digest()).decode("ascii")


def keep(session: Session, rows: Iterable[dict[str, Any]]) -> int:
    """Keep responses (url, status, headers, body); the same body of one URL is kept once."""
    kept = 0
    for row in rows:
        body = bytes(row["body"])
        kept += insert_ignoring_conflict(session, RawPage, {
            "url": row["url"], "digest": payload_digest(body)[5:], "status": int(row["status"]),
            "headers": [list(pair) for pair in row.get("headers", ())], "body": zlib.compress(body),
            "fetched_at": utcnow()}, conflict_columns=("url", "digest"))
    return kept


def iter_raw(session: Session, batch: int = 200) -> Iterator[RawResponse]:
    stmt = select(RawPage).order_by(RawPage.id).execution_options(yield_per=batch)
    for page in session.scalars(stmt):
        yield RawResponse(page.url, page.status, tuple((k, v) for k, v in page.headers), zlib.decompress(page.body),
                          "sha1:" + page.digest, page.fetched_at)
