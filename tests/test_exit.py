"""The real CLI in a subprocess ends without the interpreter's teardown (newswatch.cli.main), and
loses nothing by it: statuses, every line of output, exit handlers, an archive complete on disk."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

# Runs `python -m newswatch ARGS` with an exit handler registered first: it must still run.
_WITH_EXIT_HANDLER = """
import atexit, runpy, sys
marker = sys.argv.pop(1)
atexit.register(lambda: open(marker, "w", encoding="utf-8").write("ran"))
sys.argv[0] = "newswatch"
runpy.run_module("newswatch", run_name="__main__", alter_sys=True)
"""


# Output buffered as it is by default on a pipe, so that what the exit must flush is there to lose.
_BUFFERED = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}


def _newswatch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "newswatch", *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=120, check=False, env=_BUFFERED)


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    db = tmp_path / "archive.db"
    loaded = _newswatch("--db", f"sqlite:///{db}", "seeds", "load")
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "5 seeds: 5 new"
    return db


def test_the_archive_file_alone_holds_every_write(seeded: Path, tmp_path: Path) -> None:
    # The archive was closed before the exit: SQLite moved its write-ahead log into the file.
    assert not Path(f"{seeded}-wal").exists() or Path(f"{seeded}-wal").stat().st_size == 0
    copy = tmp_path / "copy.db"
    shutil.copyfile(seeded, copy)  # the main file only, as a backup by `cp` would take it
    with sqlite3.connect(copy) as connection:
        assert connection.execute("SELECT COUNT(*) FROM items WHERE is_seed").fetchone() == (5,)


def test_every_line_reaches_a_pipe(seeded: Path) -> None:
    exported = _newswatch("--db", f"sqlite:///{seeded}", "export", "--format", "jsonl")
    assert exported.returncode == 0, exported.stderr
    rows = [json.loads(line) for line in exported.stdout.splitlines()]
    assert len(rows) == 5
    assert all(row["is_seed"] for row in rows)


def test_exit_statuses_and_error_lines(seeded: Path) -> None:
    failed = _newswatch("--db", f"sqlite:///{seeded}", "crawl", "--source", "nonexistent")
    assert failed.returncode == 1
    assert failed.stderr.strip().splitlines() == ["Error: no source named 'nonexistent' (see 'newswatch sources list')"]
    misused = _newswatch("--no-such-option")
    assert misused.returncode == 2
    assert "No such option" in misused.stderr
    helped = _newswatch("--help")
    assert helped.returncode == 0
    assert "crawl" in helped.stdout


def test_exit_handlers_still_run(seeded: Path, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    done = subprocess.run([sys.executable, "-c", _WITH_EXIT_HANDLER, str(marker), "--db", f"sqlite:///{seeded}",
                           "sources", "list"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert marker.read_text(encoding="utf-8") == "ran"
