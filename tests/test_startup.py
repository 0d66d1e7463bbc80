"""Start-up: a crawl loads what it crawls with, not the scheduler, the queue, the dashboard or the
alerts; an archive at the newest revision opens without Alembic."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text

from storage import Archive, migrate
from tests.conftest import REPO_ROOT

# Runs `python -m newswatch ARGS` and writes the modules loaded (in the order they were imported) to
# a JSON file: at the crawl's first connection, or at exit if it made none.
_PROBE = """
import atexit, json, os, runpy, sys
out = sys.argv.pop(1)
def dump(stage):
    with open(out, "w", encoding="utf-8") as file:
        json.dump({"stage": stage, "modules": list(sys.modules)}, file)
def hook(event, args):
    if event == "socket.connect" and isinstance(args[1], tuple):
        dump("first request")
        os._exit(0)
sys.addaudithook(hook)
atexit.register(dump, "exit")
sys.argv[0] = "newswatch"
runpy.run_module("newswatch", run_name="__main__", alter_sys=True)
"""

# newswatch.config reads the alerts.watch rules into alerts.rules.WatchRule: these few load always.
ALERTS_FOR_SETTINGS = {"alerts", "alerts.errors", "alerts.model", "alerts.rules"}
NOT_FOR_A_CRAWL = ("apscheduler", "rq", "redis", "newswatch.web", "alembic", "scheduler.service", "newswatch.worker")
HTTP11 = "scrapy.core.downloader.handlers.http11"


def _loaded(tmp_path: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / "modules.json"
    subprocess.run([sys.executable, "-c", _PROBE, str(out), *args], cwd=REPO_ROOT, capture_output=True,
                   text=True, timeout=120, check=False)
    assert out.exists(), "the probe wrote no module list"
    loaded: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return loaded


def _heavy(modules: list[str]) -> list[str]:
    """The loaded modules that a crawl without alerts does not need."""
    return sorted(
        name for name in modules
        if any(name == prefix or name.startswith(f"{prefix}.") for prefix in NOT_FOR_A_CRAWL)
        or (name.startswith("alerts.") and name not in ALERTS_FOR_SETTINGS)
    )


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def current_archive(tmp_path: Path) -> str:
    """A migrated SQLite archive with one source whose home page is a closed loopback port."""
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    with Archive.open(url) as archive:
        archive.add_source("closed", f"http://127.0.0.1:{_closed_port()}/", 1800)
    return url


def test_a_failing_crawl_loads_neither_scheduler_nor_queue_nor_alerts(tmp_path: Path, current_archive: str) -> None:
    loaded = _loaded(tmp_path, "--db", current_archive, "crawl", "--no-alerts", "--source", "nonexistent")
    assert loaded["stage"] == "exit"
    assert _heavy(loaded["modules"]) == []


def test_a_crawl_up_to_its_first_request_loads_only_the_crawl(tmp_path: Path, current_archive: str) -> None:
    loaded = _loaded(tmp_path, "--db", current_archive, "crawl", "--no-alerts", "--json", "--source", "closed")
    assert loaded["stage"] == "first request"
    modules: list[str] = loaded["modules"]
    assert _heavy(modules) == []
    # Pre-imported before the archive, Scrapy and the rest: its inspect.stack() calls are cheapest then.
    assert modules.index(HTTP11) < modules.index("storage")


def test_help_loads_neither_the_archive_nor_scrapy(tmp_path: Path) -> None:
    modules = _loaded(tmp_path, "--help")["modules"]
    assert [name for name in modules if name.split(".")[0] in ("storage", "sqlalchemy", "scrapy", "rich")] == []


def test_head_revision_is_alembics_head() -> None:
    head = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    assert head == migrate.HEAD_REVISION, "update storage.migrate.HEAD_REVISION to the newest migration"
    assert migrate._head_is_newest()


# (file name, down_revision) of a migration added after HEAD_REVISION: each slips past one guard at most.
UNANNOUNCED = [("0009_next.py", '"0008"'), ("abc123_next.py", "'0008'"), ("0007a_branch.py", '"0008"'),
               ("0009_merge.py", '("0007", "0008")')]


@pytest.mark.parametrize(("name", "down_revision"), UNANNOUNCED)
def test_a_migration_added_without_updating_head_turns_the_quick_check_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, down_revision: str
) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    for path in (migrate.MIGRATIONS_DIR / "versions").glob("*.py"):
        (versions / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (versions / name).write_text(f'revision = "x"\ndown_revision = {down_revision}\n', encoding="utf-8")
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", tmp_path)
    migrate._head_is_newest.cache_clear()
    try:
        assert not migrate._head_is_newest()
    finally:
        migrate._head_is_newest.cache_clear()


def _revisions(archive: Archive) -> list[str]:
    with archive.engine.connect() as connection:
        return list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


def test_an_archive_at_an_older_revision_is_still_migrated(archive_url: str) -> None:
    with Archive.open(archive_url) as archive:
        assert migrate._known_current(archive.engine)
        config = migrate.alembic_config()
        with archive.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0007")
        assert _revisions(archive) == ["0007"]
        assert not migrate._known_current(archive.engine)
        assert not migrate.is_current(archive.engine)
    with Archive.open(archive_url) as again:
        assert _revisions(again) == [migrate.HEAD_REVISION]
        assert migrate.is_current(again.engine)


def test_a_new_archive_is_not_taken_for_a_current_one(archive_url: str) -> None:
    with Archive.open(archive_url) as archive:
        with archive.engine.begin() as connection:
            connection.execute(text("DELETE FROM alembic_version"))
        assert not migrate._known_current(archive.engine)
        with archive.engine.begin() as connection:
            connection.execute(text("DROP TABLE alembic_version"))
        assert not migrate._known_current(archive.engine)
        assert not migrate.is_current(archive.engine)


def test_a_current_archive_opens_without_alembic(archive_url: str) -> None:
    Archive.open(archive_url).close()
    code = "import sys; from storage import Archive; Archive.open(sys.argv[1]).close(); print('alembic' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code, archive_url], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=60, check=True)
    assert result.stdout.strip() == "False"
