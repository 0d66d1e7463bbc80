"""The CLI: every command has help and is documented; bad input is one line and a non-zero exit."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from newswatch.cli import cli

DOCS = Path(__file__).resolve().parent.parent / "docs" / "cli.md"


def _commands(group: click.Group, prefix: str = "newswatch") -> Iterator[tuple[str, click.Command]]:
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            yield from _commands(command, path)
        else:
            yield path, command


COMMANDS = dict(_commands(cli))


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_every_command_has_help_and_is_documented(path: str) -> None:
    command = COMMANDS[path]
    assert command.help, f"{path} has no help"
    assert len(command.help.strip()) > 20, f"{path} has too short a help"
    assert f"## {path}\n" in DOCS.read_text(encoding="utf-8"), f"{path} is missing from docs/cli.md"
    result = CliRunner().invoke(cli, [*path.split()[1:], "--help"])
    assert result.exit_code == 0


Invoke = Callable[..., Result]


@pytest.fixture
def run(tmp_path: Path) -> Invoke:
    """Runs the CLI in-process against a fresh SQLite archive."""
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'cli.db'}"

    def invoke(*args: str) -> Result:
        return runner.invoke(cli, ["--db", db, *args], catch_exceptions=False)

    return invoke


def _one_line_error(result: Result, fragment: str) -> None:
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ")
    assert fragment in lines[0]


def test_unknown_source_name(run: Invoke) -> None:
    _one_line_error(run("crawl", "--source", "nowhere"), "no source named 'nowhere'")


def test_unreachable_url(run: Invoke) -> None:
    _one_line_error(run("sources", "add", "http://127.0.0.1:9/"), "connection failed")


def test_database_that_cannot_be_opened() -> None:
    result = CliRunner().invoke(cli, ["--db", "sqlite:////no/such/dir/x.db", "sources", "list"])
    _one_line_error(result, "cannot open archive")


def test_bad_interval_and_bad_url(run: Invoke) -> None:
    _one_line_error(run("sources", "add", "http://127.0.0.1:9/", "--interval", "often"), "invalid interval")
    _one_line_error(run("sources", "add", "ftp://example.org/"), "not an http(s) URL")


def test_usage_errors_exit_2(run: Invoke) -> None:
    assert CliRunner().invoke(cli, ["export", "--format", "xml"]).exit_code == 2
    assert CliRunner().invoke(cli, ["extract"]).exit_code == 2


def test_crawl_with_no_sources(run: Invoke) -> None:
    _one_line_error(run("crawl"), "no sources to crawl")


def test_bad_config_file(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[crawl]\nobey_robot = true\n")
    _one_line_error(CliRunner().invoke(cli, ["--config", str(config), "sources", "list"]), "unknown setting")


def test_sources_add_list_remove_without_network(run: Invoke) -> None:
    added = run("sources", "add", "https://baonghean.vn", "--no-check", "--interval", "15s")
    assert added.exit_code == 0, added.output
    assert "added baonghean.vn: https://baonghean.vn/ every 15s" in added.output
    listed = run("sources", "list", "--json")
    [row] = [json.loads(line) for line in listed.output.splitlines()]
    assert (row["name"], row["interval_seconds"]) == ("baonghean.vn", 15)
    assert run("sources", "remove", "baonghean.vn").exit_code == 0
    _one_line_error(run("sources", "remove", "baonghean.vn"), "no source named")


def test_import_the_shipped_source_list(run: Invoke) -> None:
    first = run("sources", "import")
    second = run("sources", "import")
    assert "added 64 sources, 0 already present" in first.output
    assert "added 0 sources, 64 already present" in second.output


def test_extract_saved_pages(tmp_path: Path) -> None:
    pages = sorted((Path(__file__).parent / "fixtures" / "pages").glob("*.html"))
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{tmp_path / 'x.db'}", "extract", *map(str, pages), "--jsonl"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [row["page_type"] for row in rows] == ["article", "article", "listing"]
    assert set(rows[0]) >= {"file", "url", "title", "author", "published_at", "language", "page_type", "text"}


def test_extract_reports_a_missing_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["extract", str(tmp_path / "absent.html")])
    assert result.exit_code == 1
    assert json.loads(result.output.splitlines()[0])["error"]
