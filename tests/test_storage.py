"""The archive on a real database: migrations, idempotent upserts, duplicate links, export."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from scheduler import JOB_TABLE
from storage import Archive, ArchiveOpenError, PageRecord, SourceExistsError, SourceNotFoundError, UpsertOutcome, search
from storage.migrate import is_current
from storage.models import Base, ItemVersion

ICT = timezone(timedelta(hours=7))


def _record(url: str, text: str = "Hội nghị tổng kết công tác tuyên giáo năm 2024", **fields: object) -> PageRecord:
    return PageRecord(url=url, canonical_url=fields.pop("canonical_url", url), source="test", text=text, **fields)  # type: ignore[arg-type]


def test_open_applies_migrations(archive: Archive) -> None:
    assert is_current(archive.engine)
    tables = set(inspect(archive.engine).get_table_names())
    assert {"sources", "items", "fetch_state", "crawl_runs", "alembic_version"} <= tables


def test_reopening_a_migrated_archive_changes_nothing(archive_url: str) -> None:
    Archive.open(archive_url).close()
    with Archive.open(archive_url) as again:
        assert is_current(again.engine)


def test_upsert_is_idempotent_and_versions_edits(archive: Archive) -> None:
    published = datetime(2026, 9, 5, 22, 17, tzinfo=ICT)
    first = archive.archive_page(_record("http://a.test/1.html", published_at=published, title="T"))
    again = archive.archive_page(_record("http://a.test/1.html", published_at=published, title="T"))
    edited = archive.archive_page(_record("http://a.test/1.html", text="Nội dung đã sửa", published_at=published))
    assert (first.outcome, again.outcome, edited.outcome) == (
        UpsertOutcome.NEW, UpsertOutcome.UNCHANGED, UpsertOutcome.UPDATED,
    )
    assert first.item_id == again.item_id == edited.item_id
    [row] = list(archive.iter_export(ICT))
    assert row["version"] == 2
    assert row["text"] == "Nội dung đã sửa"
    assert row["published_at"] == "2026-09-05T22:17:00+07:00"


def test_naive_datetimes_are_refused(archive: Archive) -> None:
    with pytest.raises(Exception, match="time zone"):
        archive.archive_page(_record("http://a.test/naive", published_at=datetime(2026, 1, 1)))


def test_duplicates_by_url_and_exact_text_link_to_the_canonical_item(archive: Archive) -> None:
    seed = archive.archive_page(_record("seed:one", text="Hội nghị  TỔNG KẾT công tác", is_seed=True))
    same_text = archive.archive_page(_record("http://a.test/2.html", text="hội nghị tổng kết CÔNG TÁC"))
    same_canonical = archive.archive_page(
        _record("http://m.a.test/2.html?utm=x", text="other words entirely", canonical_url="http://a.test/2.html")
    )
    assert seed.duplicate_of is None
    assert (same_text.duplicate_of, same_text.duplicate_kind) == ("seed:one", "exact")
    # The page repeats a duplicate's URL: it is linked to that group's canonical item, the seed.
    assert (same_canonical.duplicate_of, same_canonical.duplicate_kind) == ("seed:one", "url")
    rows = {row["url"]: row for row in archive.iter_export(UTC)}
    assert rows["http://a.test/2.html"]["duplicate_score"] == 1.0
    assert [(url, kind) for _, url, kind in archive.seeds_matched()] == [
        ("http://a.test/2.html", "exact"), ("http://m.a.test/2.html?utm=x", "url"),
    ]


def test_sources_round_trip_and_errors(archive: Archive) -> None:
    added = archive.add_source("nghean", "http://a.test/", 900)
    assert archive.get_source("nghean") == added
    with pytest.raises(SourceExistsError):
        archive.add_source("nghean", "http://b.test/", 900)
    archive.remove_source("nghean")
    with pytest.raises(SourceNotFoundError, match="nghean"):
        archive.get_source("nghean")


def test_fetch_state_and_runs(archive: Archive) -> None:
    source = archive.add_source("s", "http://a.test/", 60)
    archive.record_fetch("http://a.test/rss", source.id, "feed", 200, etag='"x"', last_modified="Sat")
    archive.record_fetch("http://a.test/rss", source.id, "feed", 304, etag='"y"')
    state = archive.get_fetch_state("http://a.test/rss")
    assert state is not None
    assert (state.status, state.etag, state.last_modified) == (304, '"y"', None)
    run_id = archive.start_run(source.id)
    archive.finish_run(run_id, "finished", {"items_new": 3})
    run = archive.get_run(run_id)
    assert (run.source, run.status, run.counters) == ("s", "finished", {"items_new": 3})
    assert archive.list_sources()[0].last_run_status == "finished"


def test_articles_are_looked_up_by_url_or_canonical_url_in_one_call(archive: Archive) -> None:
    archive.archive_page(_record("http://a.test/1.html?utm=x", canonical_url="http://a.test/1.html"))
    archive.archive_page(_record("http://a.test/2.html", text="Một bài khác hẳn về hội nghị"))
    archive.record_fetch("http://a.test/2.html", None, "article", 200, etag='"e2"')
    wanted = ["http://a.test/1.html", "http://a.test/1.html?utm=x", "http://a.test/2.html", "http://a.test/3.html"]
    found = archive.lookup_articles(wanted)
    assert found == {url: known for url in wanted if (known := archive.lookup_article(url)) is not None}
    assert set(found) == set(wanted[:3])
    assert found["http://a.test/1.html"].url == "http://a.test/1.html?utm=x"
    assert found["http://a.test/2.html"].etag == '"e2"'
    assert archive.lookup_articles([]) == {}
    many = [f"http://a.test/other-{n}.html" for n in range(1200)] + wanted  # more than one query's worth
    assert archive.lookup_articles(many) == found


def test_recorded_fetches_keep_a_not_article_and_the_last_row_of_a_url(archive: Archive) -> None:
    source = archive.add_source("s", "http://a.test/", 60)
    hub = "http://a.test/topic-event1.html"
    archive.record_fetches([{"url": hub, "source_id": source.id, "kind": "not_article", "status": 200,
                             "error": "listing"}])
    written = archive.record_fetches([
        {"url": hub, "source_id": source.id, "kind": "article", "status": 200, "etag": '"1"'},
        {"url": "http://a.test/a.html", "source_id": source.id, "kind": "article", "status": 500},
        {"url": "http://a.test/a.html", "source_id": source.id, "kind": "article", "status": 200, "body_hash": "h"},
    ])
    assert written == 3
    hub_state, article = archive.get_fetch_state(hub), archive.get_fetch_state("http://a.test/a.html")
    assert hub_state is not None
    assert article is not None
    assert (hub_state.kind, hub_state.etag) == ("not_article", '"1"')
    assert (article.kind, article.status, article.body_hash) == ("article", 200, "h")
    assert archive.record_fetches([]) == 0
    with pytest.raises(ValueError, match="colour"):
        archive.record_fetches([{"url": hub, "kind": "feed", "colour": "red"}])


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("nonsense", "not a database URL"),
        ("mysql://localhost/x", "unsupported database"),
        ("sqlite:////nonexistent-dir/sub/x.db", "does not exist"),
        ("postgresql://127.0.0.1:1/none", "cannot open archive"),
    ],
)
def test_bad_database_urls_fail_with_a_clear_error(url: str, message: str) -> None:
    with pytest.raises(ArchiveOpenError, match=message):
        Archive.open(url)


def test_sqlite_archive_uses_wal(tmp_path: Path) -> None:
    with Archive.open(f"sqlite:///{tmp_path / 'w.db'}") as archive, archive.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def _not_the_scheduler_job_table(name: str | None, type_: str, parent_names: object) -> bool:
    # APScheduler's job store (scheduler/) creates and owns its table; the search index (FTS5 virtual
    # tables on SQLite) is made by its migration and has no model.
    return not (type_ == "table" and (name == JOB_TABLE or search.is_index_table(name)))


def test_migrations_match_the_models(archive: Archive) -> None:
    with archive.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": _not_the_scheduler_job_table})
        assert compare_metadata(context, Base.metadata) == []


def test_an_edit_keeps_the_earlier_text(archive: Archive) -> None:
    archive.archive_page(_record("http://a.test/e.html", text="Bản đầu tiên", title="Tin"))
    archive.archive_page(_record("http://a.test/e.html", text="Bản đã sửa", title="Tin"))
    archive.archive_page(_record("http://a.test/e.html", text="Bản đã sửa", title="Tin"))
    with archive.session() as session:
        versions = [(v.version, v.text) for v in session.scalars(select(ItemVersion))]
    assert versions == [(1, "Bản đầu tiên")]
