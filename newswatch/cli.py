"""The `newswatch` command: parse arguments, make one library call, print the result.

Library errors become one line on stderr and exit status 1; usage errors exit 2.
"""

# Commands import what they print with (newswatch.report, rich) and what they need beyond the
# application: `newswatch --help` loads neither the archive nor Scrapy.
# ruff: noqa: PLC0415

from __future__ import annotations

import atexit
import contextlib
import io
import json
import logging
import os
import sys
import threading
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from alerts.errors import AlertsError
from crawler.errors import CrawlerError
from newswatch.app import Newswatch, make_app
from newswatch.config import load_settings
from newswatch.errors import NewswatchError


def _library_errors() -> tuple[type[Exception], ...]:
    """The packages' error bases; StorageError only once storage is loaded (none can be raised before)."""
    errors: list[type[Exception]] = [NewswatchError, CrawlerError, AlertsError]
    storage_errors = sys.modules.get("storage.errors")
    if storage_errors is not None:
        errors.append(storage_errors.StorageError)
    return tuple(errors)


class NewswatchGroup(click.Group):
    """Turns the packages' errors into click's one-line error and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except _library_errors() as exc:
            raise click.ClickException(str(exc)) from exc


def _configure_logging(level: str) -> None:
    # The level sits on the handler: Scrapy resets the root logger's level when it starts.
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def _app(ctx: click.Context) -> Newswatch:
    app: Newswatch = ctx.obj
    return app


@click.group(cls=NewswatchGroup)
@click.option("--db", help="Archive database URL (default sqlite:///newswatch.db; env NEWSWATCH_DB).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
              help="TOML config file (default ./newswatch.toml if present; env NEWSWATCH_CONFIG).")
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
              help="Log level for messages on stderr (default WARNING).")
@click.version_option(package_name="newswatch")
@click.pass_context
def cli(ctx: click.Context, db: str | None, config_file: Path | None, log_level: str | None) -> None:
    """newswatch: watch provincial news sites, keep a deduplicated archive, alert on new conferences."""
    try:
        settings = load_settings(config_file, os.environ, {"db": db, "log_level": log_level and log_level.upper()})
    except NewswatchError as exc:
        raise click.ClickException(str(exc)) from exc
    _configure_logging(settings.log_level)
    ctx.obj = make_app(settings)
    ctx.call_on_close(ctx.obj.close)


@cli.group(cls=NewswatchGroup)
def sources() -> None:
    """Add, list, import and remove the sites newswatch watches."""


@sources.command("add")
@click.argument("url")
@click.option("--name", help="Short name for the source (default: the host name).")
@click.option("--interval", help="How often to crawl it: 15s, 30m, 2h (default 30m).")
@click.option("--no-check", is_flag=True, help="Do not fetch the home page before adding it.")
@click.pass_context
def sources_add(ctx: click.Context, url: str, name: str | None, interval: str | None, no_check: bool) -> None:
    """Add a source by its home page URL alone; feeds and editions are discovered."""
    from newswatch import report
    source = _app(ctx).add_source(url, name, interval, check=not no_check)
    click.echo(f"added {source.name}: {source.home_url} every {report.format_interval(source.interval_seconds)}")


@sources.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per source per line.")
@click.pass_context
def sources_list(ctx: click.Context, as_json: bool) -> None:
    """List the sources with their item counts and last crawl."""
    from newswatch import report
    report.print_sources(_app(ctx).list_sources(), as_json, health=_app(ctx).source_health())


@sources.command("remove")
@click.argument("name")
@click.pass_context
def sources_remove(ctx: click.Context, name: str) -> None:
    """Remove a source (its archived items stay)."""
    _app(ctx).remove_source(name)
    click.echo(f"removed {name}")


@sources.command("import")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def sources_import(ctx: click.Context, file: Path | None) -> None:
    """Add every source of a sources TOML file (default: the shipped seeds/sources.toml)."""
    app = _app(ctx)
    added, skipped = app.import_sources(file or app.settings.seeds_path / "sources.toml")
    click.echo(f"added {len(added)} sources, {len(skipped)} already present")


@cli.command()
@click.option("--source", "names", multiple=True, help="Crawl only this source (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per crawl run per line.")
@click.option("--no-alerts", is_flag=True, help="Do not run conference detection and alert delivery afterwards.")
@click.pass_context
def crawl(ctx: click.Context, names: tuple[str, ...], as_json: bool, no_alerts: bool) -> None:
    """Run one crawl cycle of every source (or the named ones), then the alerts cycle; print a summary."""
    # First, with few modules loaded: Scrapy's TLS modules call inspect.stack(), whose cost grows with them.
    import scrapy.core.downloader.handlers.http11  # noqa: F401

    from newswatch import report
    result = _app(ctx).crawl(names, alerts=not no_alerts)
    report.print_runs(result.runs, as_json)
    if result.alerts is not None:
        report.print_alerts_cycle(result.alerts, as_json)
    if result.failed:
        raise click.ClickException(
            "crawl failed for " + ", ".join(f"{run.source} ({run.error})" for run in result.failed)
        )


@cli.command()
@click.option("--wait/--no-wait", default=False, show_default=True,
              help="When another scheduler holds this archive: wait and take over when it exits, or exit 1.")
@click.option("--json", "as_json", is_flag=True, help="Progress as one JSON object per line (for services).")
@click.option("--interval-floor", help="Shortest interval between crawls of a source: 2s, 5m (default: a quarter "
              "of its interval).")
@click.pass_context
def run(ctx: click.Context, wait: bool, as_json: bool, interval_floor: str | None) -> None:
    """Run the scheduler in the foreground: crawl every enabled source at its interval until SIGTERM/SIGINT."""
    _app(ctx).run(wait=wait, as_json=as_json, interval_floor=interval_floor)


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "warc"]), default="jsonl", show_default=True,
              help="jsonl: one JSON object per item; csv: one row per item, event fields in columns; "
                   "warc: the raw pages kept with crawl.keep_raw.")
@click.option("--output", "-o", type=click.File("wb"), default="-", help="Write to this file instead of stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.pass_context
def export(ctx: click.Context, fmt: str, output: Any, quiet: bool) -> None:
    """Export every archived item (oldest first), or the raw pages as WARC."""
    from newswatch import report
    app = _app(ctx)
    with report.progress_bar("exporting", None if quiet else app.count_items(), quiet) as advance:
        if fmt == "warc":
            app.export_warc(output, advance)
            return
        text = io.TextIOWrapper(output, encoding="utf-8", newline="", write_through=True)
        app.export(text, fmt, advance)
        text.flush()
        text.detach()


@cli.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary.")
@click.option("--json", "as_json", is_flag=True, help="The summary as one JSON object.")
@click.pass_context
def import_(ctx: click.Context, file: Any, quiet: bool, as_json: bool) -> None:
    """Read a JSONL export (FILE, or - for stdin) back into the archive, links and events included."""
    from newswatch import report
    with report.progress_bar("importing", None, quiet or as_json) as advance:
        result = _app(ctx).import_jsonl(file, advance)
    if as_json:
        click.echo(json.dumps({"imported": result.imported, "skipped": result.skipped, "links": result.links,
                               "events": result.events}))
    elif not quiet:
        click.echo(f"imported {result.imported} items ({result.skipped} already archived), "
                   f"{result.links} duplicate links, {result.events} events")


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


@cli.command("search")
@click.argument("query")
@click.option("--source", "sources", multiple=True, help="Only items of this source (repeatable).")
@click.option("--language", "languages", multiple=True,
              help="Only items in this language: vi, en, zh, uk... (repeatable).")
@click.option("--from", "published_from", type=click.DateTime(["%Y-%m-%d"]),
              help="Published on or after this day (YYYY-MM-DD, Vietnam time).")
@click.option("--to", "published_to", type=click.DateTime(["%Y-%m-%d"]),
              help="Published on or before this day (YYYY-MM-DD, Vietnam time).")
@click.option("--type", "event_types", multiple=True, help="Only items reporting this event type (repeatable).")
@click.option("--duplicates", is_flag=True, help="Also show items that duplicate another.")
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True, help="Hits per page.")
@click.option("--offset", type=click.IntRange(0, 10_000), default=0, show_default=True, help="Hits to skip.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per hit per line.")
@click.pass_context
def search(ctx: click.Context, query: str, sources: tuple[str, ...], languages: tuple[str, ...],  # noqa: PLR0917
           published_from: datetime | None, published_to: datetime | None, event_types: tuple[str, ...],
           duplicates: bool, limit: int, offset: int, as_json: bool) -> None:
    """Full-text search of the archive: every word must match, with or without diacritics."""
    from newswatch import report
    from storage.search import SearchQuery
    app = _app(ctx)
    page = app.search(SearchQuery(
        query, sources=sources, languages=languages, published_from=_day(published_from),
        published_to=_day(published_to), event_types=event_types, include_duplicates=duplicates,
        limit=limit, offset=offset,
    ))
    report.print_search(page, as_json, app.settings.tz)


@cli.command()
@click.argument("url")
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of text.")
@click.pass_context
def explain(ctx: click.Context, url: str, as_json: bool) -> None:
    """Show the dedup decision for an archived URL and its evidence."""
    result = _app(ctx).explain(url)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    for key, value in result.items():
        if isinstance(value, dict):
            click.echo(f"{key}:")
            for inner, shown in value.items():
                click.echo(f"  {inner}: {json.dumps(shown, ensure_ascii=False)}")
        else:
            click.echo(f"{key}: {json.dumps(value, ensure_ascii=False)}")


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--jsonl", is_flag=True, help="One JSON object per file per line (the default output).")
@click.option("--url", help="The URL the page was saved from (for relative links and edition paths).")
@click.pass_context
def extract(ctx: click.Context, files: tuple[Path, ...], jsonl: bool, url: str | None) -> None:
    """Show what newswatch extracts from saved HTML pages."""
    failed = 0
    for row in _app(ctx).extract_files(files, url):
        click.echo(json.dumps(row, ensure_ascii=False))
        failed += "error" in row
    if failed:
        raise click.ClickException(f"{failed} of {len(files)} files could not be extracted")


@cli.group(cls=NewswatchGroup)
def alerts() -> None:
    """Alerts on newly reported conferences: list them, retry deliveries, test a channel."""


@alerts.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per alerted event per line.")
@click.option("--all", "include_all", is_flag=True, help="Every detected event, also those that did not alert.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many events (newest first).")
@click.pass_context
def alerts_list(ctx: click.Context, as_json: bool, include_all: bool, limit: int | None) -> None:
    """List alerted events, newest first, with their editions, why they alerted and their deliveries."""
    from newswatch import report
    app = _app(ctx)
    events = app.list_alerts(limit, include_all)
    report.print_events(events, app.deliveries([e.id for e in events]), as_json, app.settings.tz)


@alerts.command("run")
@click.option("--json", "as_json", is_flag=True, help="The summary as one JSON object.")
@click.pass_context
def alerts_run(ctx: click.Context, as_json: bool) -> None:
    """Run the alerts cycle now: detect conferences in items not read yet, queue and deliver alerts."""
    from newswatch import report
    report.print_alerts_cycle(_app(ctx).process_alerts(), as_json)


@alerts.command("retry")
@click.option("--channel", help="Only this channel (a name from alerts.channels).")
@click.pass_context
def alerts_retry(ctx: click.Context, channel: str | None) -> None:
    """Deliver again every alert not delivered yet, also those given up, now."""
    count, delivery = _app(ctx).retry_alerts(channel)
    click.echo(f"{count} deliveries due; sent {delivery.sent}, failed {delivery.failed}")
    if delivery.failed:
        raise click.ClickException(f"{delivery.failed} deliveries failed again (see 'newswatch alerts list')")


@alerts.command("test")
@click.argument("channel")
@click.pass_context
def alerts_test(ctx: click.Context, channel: str) -> None:
    """Send a test alert through CHANNEL: a name from alerts.channels, or a channel URL."""
    shown = _app(ctx).test_channel(channel)
    click.echo(f"test alert sent to {shown}")


@cli.group(cls=NewswatchGroup)
def seeds() -> None:
    """The seed corpus the project grew from."""


@seeds.command("load")
@click.pass_context
def seeds_load(ctx: click.Context) -> None:
    """Archive the seed documents as canonical items (idempotent)."""
    result = _app(ctx).load_seeds()
    click.echo(f"{result.loaded} seeds: " + ", ".join(f"{n} {k}" for k, n in sorted(result.outcomes.items())))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per event per line.")
@click.pass_context
def worker(ctx: click.Context, as_json: bool) -> None:
    """Take crawl cycles from the scheduler's Redis queue (workers.redis_url) until SIGTERM/SIGINT."""
    _app(ctx).worker(as_json=as_json)


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; only loopback addresses unless --allow-remote.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option("--token", envvar="NEWSWATCH_SERVE_TOKEN",
              help="Bearer token that allows POST /api/alerts/retry (env NEWSWATCH_SERVE_TOKEN); read-only without.")
@click.option("--allow-remote", is_flag=True, help="Allow a non-loopback --host (the dashboard has no login).")
@click.pass_context
def serve_command(ctx: click.Context, host: str, port: int, token: str | None, allow_remote: bool) -> None:
    """Serve the dashboard, its JSON API (/openapi.json) and Atom feeds until interrupted."""
    from newswatch.web.server import serve  # the web stack loads only for this command

    serve(_app(ctx), host, port, token, allow_remote=allow_remote)


@cli.command()
@click.option("--day", default=0, show_default=True, help="Which simulated day the replica serves.")
@click.pass_context
def demo(ctx: click.Context, day: int) -> None:
    """Offline demo: start the local replica, crawl it, load the seeds, print a summary."""
    from newswatch.demo import run_demo  # the demo's imports are not needed elsewhere

    run_demo(ctx.obj.settings, day, explicit_db=ctx.find_root().params.get("db") is not None)


def main() -> None:
    try:
        cli(prog_name="newswatch")
    except SystemExit as exc:
        _exit_without_teardown(exc.code)


def _exit_without_teardown(code: str | int | None) -> None:
    """End the process once the command is done, without the interpreter freeing every object
    and module: after a crawl that took a third of a second, on every scheduled cycle.

    The command has closed its archive (the click context's close) and its crawl's processes and
    threads by then; the exit handlers still run and both streams are flushed. With a thread
    still running, the ordinary exit joins it; under a profiler or tracer (cProfile, a debugger),
    which writes its results after the program returns, the ordinary exit lets it."""
    if threading.active_count() > 1 or sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)  # sys.exit("message"), as the interpreter would show it
        status = 1
    atexit._run_exitfuncs()  # logging.shutdown among them
    for stream in (sys.stdout, sys.stderr):
        # A closed pipe (newswatch export | head) or stream: nothing more can be said on it.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(status)
