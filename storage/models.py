"""The archive's tables, as typed SQLAlchemy 2.0 models.

Times are stored as UTC (see `UTCDateTime`) so that SQLite, which has no time zone type,
and PostgreSQL give back the same aware datetimes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as naive UTC; naive input is refused, not guessed."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} cannot be archived: a time zone is required")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {datetime: UTCDateTime(), dict[str, Any]: JSON}  # noqa: RUF012


class Source(Base):
    """A site the user watches, added by its home page alone."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    home_url: Mapped[str] = mapped_column(String(2000))
    interval_seconds: Mapped[int] = mapped_column(Integer, default=1800)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What discovery learned (feeds, editions, article URL patterns), kept between cycles.
    discovered: Mapped[dict[str, Any]] = mapped_column(default=dict)

    runs: Mapped[list[CrawlRun]] = relationship(back_populates="source", cascade="all, delete-orphan")


class Item(Base):
    """One archived page (or seed document) with the fields of the JSONL export contract."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    canonical_url: Mapped[str] = mapped_column(String(2000), index=True)
    source: Mapped[str] = mapped_column(String(200), index=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    language: Mapped[str | None] = mapped_column(String(16))
    title: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    text: Mapped[str] = mapped_column(Text, default="")
    text_hash: Mapped[str] = mapped_column(String(64), index=True)
    images: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Links to the original of a republished story (the portal's "Source"), for dedup.
    source_links: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The item's dedup anchors (one `kind:value` a line), kept so verifying a candidate runs no regexes;
    # NULL on rows archived before they were kept: those are recomputed from the text.
    dedup_anchors: Mapped[str | None] = mapped_column(Text)
    is_seed: Mapped[bool] = mapped_column(Boolean, default=False)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", ondelete="SET NULL"))
    duplicate_kind: Mapped[str | None] = mapped_column(String(16))
    duplicate_score: Mapped[float | None] = mapped_column(Float)
    event: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    alerted: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    duplicate_of: Mapped[Item | None] = relationship(remote_side=[id])


class ItemVersion(Base):
    """An earlier text of an item that was edited after it was archived."""

    __tablename__ = "item_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(64))
    archived_at: Mapped[datetime] = mapped_column(default=utcnow)


class FetchState(Base):
    """What the last fetch of a URL told us: validators for conditional GETs, and when to look again."""

    __tablename__ = "fetch_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # home | feed | sitemap | listing | article | other
    status: Mapped[int | None] = mapped_column(Integer)
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    body_hash: Mapped[str | None] = mapped_column(String(64))
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)


class CrawlRun(Base):
    """One crawl cycle of one source, with its counters; a run left 'running' was killed."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="running")
    counters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)

    source: Mapped[Source] = relationship(back_populates="runs")


Index("uq_item_versions_item_version", ItemVersion.item_id, ItemVersion.version, unique=True)
Index("ix_crawl_runs_source_started", CrawlRun.source_id, CrawlRun.started_at)
Index("ix_items_duplicate_of", Item.duplicate_of_id)
Index("ix_items_source_published", Item.source_id, Item.published_at)


class DedupKey(Base):
    """The dedup index: URL keys and MinHash LSH band keys (day 0), story anchors (publication day).

    One narrow table, clustered on its primary key (WITHOUT ROWID on SQLite), so a duplicate check is
    a few index range scans inside the inserting transaction and nothing is rebuilt at start-up.
    """

    __tablename__ = "dedup_keys"
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    day: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True,
                                         autoincrement=False)


class Event(Base):
    """A reported conference (or other event): one row however many editions report it."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    event_date: Mapped[date | None] = mapped_column(Date, index=True)
    province: Mapped[str | None] = mapped_column(String(100))
    place: Mapped[str | None] = mapped_column(String(500))
    organizer: Mapped[str | None] = mapped_column(Text)
    # The organizer folded to ASCII lower case, so follow-ups in one language attach by it.
    organizer_key: Mapped[str | None] = mapped_column(String(500))
    topic: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    first_item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", ondelete="SET NULL"))
    # Officials, matched words and the detection rule of the first report.
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Why it alerted (the watch rule and the words), or why not; None until rules were applied.
    alert_reason: Mapped[str | None] = mapped_column(Text)
    alerted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EventReport(Base):
    """An archived item that reports an event, and how it was tied to it."""

    __tablename__ = "event_reports"

    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True,
                                         autoincrement=False)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    relation: Mapped[str] = mapped_column(String(16))  # first | duplicate | same_event
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    attached_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertCheck(Base):
    """Which version of an item conference detection has read, so every item is read once."""

    __tablename__ = "alert_checks"

    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True,
                                         autoincrement=False)
    version: Mapped[int] = mapped_column(Integer)
    detected: Mapped[bool] = mapped_column(Boolean, default=False)
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertDelivery(Base):
    """The outbox: one row per event and channel, delivered at least once, retried with backoff."""

    __tablename__ = "alert_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(200))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sent | gave_up
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


Index("uq_alert_outbox_event_channel", AlertDelivery.event_id, AlertDelivery.channel, unique=True)
Index("ix_alert_outbox_due", AlertDelivery.status, AlertDelivery.next_attempt_at)
Index("ix_events_match", Event.event_date, Event.province, Event.type)


class RawPage(Base):
    """The raw response of an article fetch, kept when `crawl.keep_raw` is on (for WARC export)."""

    __tablename__ = "raw_pages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000), index=True)
    # SHA-1 of the body, base32 (WARC-Payload-Digest); with the URL it keeps each body once.
    digest: Mapped[str] = mapped_column(String(40))
    status: Mapped[int] = mapped_column(Integer)
    headers: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    body: Mapped[bytes] = mapped_column(LargeBinary)  # zlib-compressed
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)


Index("uq_raw_pages_url_digest", RawPage.url, RawPage.digest, unique=True)
