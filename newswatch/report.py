"""Printing results for people (rich tables) and for scripts (JSON lines)."""

from __future__ import annotations

import dataclasses
import html
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from scheduler.health import SourceHealth
    from storage.events import DeliveryRow, EventInfo
    from storage.records import RunInfo, SourceInfo
    from storage.search import SearchPage

# Counters shown as columns of the crawl summary; all counters are in --json.
RUN_COLUMNS = (
    ("requests", "request_count"),
    ("new", "items_new"),
    ("updated", "items_updated"),
    ("same", "items_unchanged"),
    ("known", "articles_known"),
    ("listings", "skipped/listing"),
    ("undated", "dates_missing"),
)
# Wide enough for the summary when output goes to a file or a pipe (rich assumes 80 there).
PIPE_WIDTH = 160


def make_console() -> Console:
    console = Console()
    return console if console.is_terminal else Console(width=PIPE_WIDTH)


def format_interval(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _json_line(value: Any) -> str:
    return json.dumps(dataclasses.asdict(value), ensure_ascii=False, default=_json_default)


def error_count(counters: dict[str, Any]) -> int:
    return sum(int(v) for k, v in counters.items() if k.startswith("errors/"))


def print_sources(
    sources: Sequence[SourceInfo], as_json: bool, console: Console | None = None,
    health: Mapping[str, SourceHealth] | None = None,
) -> None:
    console = console or make_console()
    health = health or {}
    if as_json:
        for source in sources:
            row = dataclasses.asdict(source)
            if source.name in health:
                row["health"] = dataclasses.asdict(health[source.name])
            console.out(json.dumps(row, ensure_ascii=False, default=_json_default), highlight=False)
        return
    if not sources:
        console.print("no sources yet: add one with 'newswatch sources add URL'")
        return
    table = Table("name", "home page", "every", "items", "last crawl", *(HEALTH_COLUMNS if health else ()))
    for source in sources:
        last = f"{source.last_run_status} {source.last_run_at:%Y-%m-%d %H:%M}" if source.last_run_at else "never"
        cells = [source.name, source.home_url, format_interval(source.interval_seconds), str(source.items), last]
        if health:
            cells += _health_cells(health.get(source.name))
        table.add_row(*cells)
    console.print(table)
    flagged = [h for h in health.values() if h.flagged]
    for item in flagged:
        console.print(f"[bold red]{item.source}: {item.status}[/] ({_flag_reason(item)})")


# Health columns of the sources table (newswatch sources list); see scheduler/health.py.
HEALTH_COLUMNS = ("health", "last ok", "fails", "quiet days", "undated", "dups")


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _health_cells(item: SourceHealth | None) -> list[str]:
    if item is None:
        return ["-"] * len(HEALTH_COLUMNS)
    status = f"[bold red]{item.status}[/]" if item.flagged else item.status
    last_ok = f"{item.last_success_at:%Y-%m-%d %H:%M}" if item.last_success_at else "never"
    quiet = "-" if item.days_since_new is None else f"{item.days_since_new:.1f}"
    if item.usual_gap_days is not None and item.days_since_new is not None:
        quiet += f" (usual {item.usual_gap_days:.1f})"
    return [status, last_ok, str(item.consecutive_failures), quiet, _share(item.undated_share),
            _share(item.duplicate_share)]


def _flag_reason(item: SourceHealth) -> str:
    if item.status == "failing":
        return f"{item.consecutive_failures} failed crawls in a row"
    if item.days_since_new is None:
        return "no item archived yet"
    usual = f", usually every {item.usual_gap_days:.1f} days" if item.usual_gap_days is not None else ""
    return f"no new item for {item.days_since_new:.1f} days{usual}"


def print_runs(runs: Sequence[RunInfo], as_json: bool, console: Console | None = None) -> None:
    console = console or make_console()
    if as_json:
        for run in runs:
            console.out(_json_line(run), highlight=False)
        return
    table = Table(title="crawl summary")
    table.add_column("source", no_wrap=True)
    for title in ("status", *(title for title, _ in RUN_COLUMNS), "errors"):
        table.add_column(title, justify="left" if title == "status" else "right", no_wrap=True)
    for run in runs:
        counts = [str(run.counters.get(key, 0)) for _, key in RUN_COLUMNS]
        table.add_row(run.source, run.status, *counts, str(error_count(run.counters)))
    console.print(table)
    for run in runs:
        errors = {k: v for k, v in run.counters.items() if k.startswith("errors/")}
        if errors:
            details = ", ".join(f"{k.removeprefix('errors/')}={v}" for k, v in sorted(errors.items()))
            console.print(f"{run.source}: {details}")


def print_alerts_cycle(alerts: Any, as_json: bool, console: Console | None = None) -> None:
    """The alerts line of a crawl summary (`AlertsReport` from the application)."""
    detection, figures = alerts.detection, alerts.figures()
    if as_json:
        print(json.dumps({"alerts": figures}, ensure_ascii=False))
        return
    (console or make_console()).print(
        f"alerts: {detection.read} items read, {detection.detected} reports of events, {detection.events} new "
        f"events, {detection.alerted} alerted; deliveries sent {figures.get('sent', 0)}, "
        f"failed {figures.get('failed', 0)}", highlight=False)


def event_json(event: EventInfo, rows: Sequence[DeliveryRow], tz: tzinfo) -> dict[str, Any]:
    return {
        "id": event.id, "type": event.type, "date": event.event_date.isoformat() if event.event_date else None,
        "place": event.place, "province": event.province, "organizer": event.organizer, "topic": event.topic,
        "title": event.title, "link": event.first_url, "alerted": event.alerted, "why": event.alert_reason,
        "detected_at": event.created_at.astimezone(tz).isoformat(),
        "officials": event.details.get("officials", []), "matched": event.details.get("matched", []),
        "editions": [{"url": r.url, "source": r.source, "language": r.language, "title": r.title,
                      "relation": r.relation, "evidence": r.evidence} for r in event.reports],
        "deliveries": [{"channel": d.channel, "status": d.status, "attempts": d.attempts, "error": d.last_error,
                        "sent_at": d.sent_at.isoformat() if d.sent_at else None} for d in rows],
    }


def print_events(events: Sequence[EventInfo], rows: Sequence[DeliveryRow], as_json: bool, tz: tzinfo,
                 console: Console | None = None) -> None:
    by_event: dict[int, list[DeliveryRow]] = {}
    for row in rows:
        by_event.setdefault(row.event_id, []).append(row)
    if as_json:
        for event in events:
            print(json.dumps(event_json(event, by_event.get(event.id, []), tz), ensure_ascii=False))
        return
    table = Table("date", "type", "place", "organizer", "title", "editions", "delivered", "why")
    for event in events:
        sent = sum(d.status == "sent" for d in by_event.get(event.id, []))
        table.add_row(event.event_date.isoformat() if event.event_date else "?", event.type.replace("_", " "),
                      event.place or event.province or "", event.organizer or "", event.title or "",
                      str(len(event.reports)), f"{sent}/{len(by_event.get(event.id, []))}", event.alert_reason or "")
    (console or make_console()).print(table)


@contextmanager
def progress_bar(label: str, total: int | None, quiet: bool) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr (only on a terminal, never with --quiet); yields `advance(done)`."""
    console = Console(stderr=True)
    if quiet or not console.is_terminal:
        yield lambda done: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: PLC0415

    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda done: bar.update(task, completed=done)


# Search fragments are escaped HTML whose only markup is <mark>: safe to split on it.
_MARK = re.compile(r"<mark>(.*?)</mark>", re.DOTALL)


def marked_text(fragment: str) -> Text:
    """A search fragment (title_html, snippet_html) as rich Text with the matches highlighted."""
    text, cursor = Text(), 0
    for match in _MARK.finditer(fragment):
        text.append(html.unescape(fragment[cursor:match.start()]))
        text.append(html.unescape(match.group(1)), style="bold black on yellow")
        cursor = match.end()
    text.append(html.unescape(fragment[cursor:]))
    return text


def print_search(page: SearchPage, as_json: bool, tz: tzinfo, console: Console | None = None) -> None:
    console = console or make_console()
    if as_json:
        for hit in page.hits:
            row = hit.as_dict()
            row["published_at"] = hit.published_at.astimezone(tz).isoformat() if hit.published_at else None
            console.out(json.dumps(row, ensure_ascii=False), highlight=False)
        return
    first = page.query.offset + 1
    shown = f"{first}-{page.query.offset + len(page.hits)}" if page.hits else "none"
    console.print(f"{page.total} items match {page.query.text!r}; showing {shown}", highlight=False)
    for hit in page.hits:
        when = hit.published_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if hit.published_at else "undated"
        console.print()
        console.print(marked_text(hit.title_html) if hit.title else Text("(no title)", style="dim"))
        meta = f"{hit.source} · {hit.language or '?'} · {when} · score {hit.score:.3g}"
        if hit.duplicate_of:
            meta += f" · {hit.duplicate_kind} duplicate of {hit.duplicate_of}"
        console.print(Text(meta, style="dim"))
        console.print(Text(hit.url, style="cyan"))
        console.print(marked_text(hit.snippet_html))
