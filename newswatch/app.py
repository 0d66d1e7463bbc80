"""The application: one factory shared by the CLI and library users, wiring the packages together.

Every CLI command is one call on `Newswatch`; the logic lives in the packages.
"""

# Each method imports what it uses: a command loads only its own part of newswatch (Scrapy for a
# crawl, APScheduler for the scheduler, the alerts for an alerts cycle...), not all of it.
# ruff: noqa: PLC0415

from __future__ import annotations

import dataclasses
import logging
import sys
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO
from urllib.parse import urlsplit

from newswatch.config import Settings, parse_interval
from newswatch.errors import ConfigError, NewswatchError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from alerts.channels import Channel
    from alerts.delivery import DeliveryReport
    from alerts.model import AlertMessage
    from alerts.service import AlertService, DetectionReport
    from crawler.runner import CrawlOptions
    from newswatch.seeds import SeedLoadReport
    from scheduler import SourceHealth
    from scheduler.dispatch import RedisDispatch
    from storage import Archive
    from storage.events import DeliveryRow, EventInfo
    from storage.records import RunInfo, SourceInfo
    from storage.search import SearchPage, SearchQuery
    from storage.transfer import ImportReport

logger = logging.getLogger(__name__)

_SOURCE_KEYS = frozenset({"name", "url", "interval", "note"})


@dataclass(frozen=True)
class AlertsReport:
    detection: DetectionReport
    delivery: DeliveryReport | None

    def figures(self) -> dict[str, Any]:
        """The cycle's counts, as the crawl summary and the scheduler's progress report them."""
        figures: dict[str, Any] = dataclasses.asdict(self.detection)
        if self.delivery is not None:
            figures.update(sent=self.delivery.sent, failed=self.delivery.failed, given_up=self.delivery.given_up)
        return figures


@dataclass(frozen=True)
class CrawlReport:
    runs: list[RunInfo]
    alerts: AlertsReport | None = None

    @property
    def failed(self) -> list[RunInfo]:
        return [run for run in self.runs if run.status == "failed"]


def source_name_for(url: str) -> str:
    """A default source name: the host without 'www.' (and the port, if any)."""
    parts = urlsplit(url)
    host = (parts.hostname or "source").removeprefix("www.")
    return f"{host}:{parts.port}" if parts.port else host


class Newswatch:
    """newswatch for one resolved `Settings`; opens the archive on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._archive: Archive | None = None
        self._alerts: AlertService | None = None

    @property
    def archive(self) -> Archive:
        if self._archive is None:
            from storage import Archive
            self._archive = Archive.open(self.settings.db)
        return self._archive

    def close(self) -> None:
        if self._archive is not None:
            self._archive.close()
            self._archive = None
        self._alerts = None

    def __enter__(self) -> Newswatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- sources -------------------------------------------------------------------------------

    def add_source(self, url: str, name: str | None, interval: str | None, check: bool = True) -> SourceInfo:
        """Add a source by its home page; with `check`, the page must answer as HTML first."""
        from crawler.probe import normalize_home_url, probe_home_page
        home = normalize_home_url(url)
        seconds = parse_interval(interval) if interval else self.settings.default_interval_seconds
        if check:
            crawl = self.settings.crawl
            home = probe_home_page(home, crawl.full_user_agent, min(crawl.download_timeout_s, 15.0))
        return self.archive.add_source(name or source_name_for(home), home, seconds)

    def import_sources(self, path: Path) -> tuple[list[SourceInfo], list[str]]:
        """Add every source of a sources TOML file not present yet: (added, names skipped)."""
        from storage import SourceExistsError
        added: list[SourceInfo] = []
        skipped: list[str] = []
        for entry in read_sources_file(path):
            try:
                added.append(self.add_source(entry["url"], entry["name"], entry.get("interval"), check=False))
            except SourceExistsError:
                skipped.append(entry["name"])
        return added, skipped

    def list_sources(self) -> list[SourceInfo]:
        return self.archive.list_sources()

    def remove_source(self, name: str) -> None:
        self.archive.remove_source(name)

    # -- crawling and seeds --------------------------------------------------------------------

    def crawl_options(self) -> CrawlOptions:
        from crawler.runner import CrawlOptions
        crawl = self.settings.crawl
        return CrawlOptions(
            archive_url=self.settings.db,
            timezone=self.settings.timezone,
            user_agent=crawl.full_user_agent,
            obey_robots=crawl.obey_robots,
            download_timeout_s=crawl.download_timeout_s,
            max_body_bytes=crawl.max_body_bytes,
            concurrent_requests=crawl.concurrent_requests,
            concurrent_per_domain=crawl.concurrent_per_domain,
            download_delay_s=crawl.download_delay_s,
            autothrottle=crawl.autothrottle,
            retry_times=crawl.retry_times,
            retry_backoff_s=crawl.retry_backoff_s,
            log_level=self.settings.log_level,
            max_listing_pages=crawl.max_listing_pages,
            recheck_days=crawl.recheck_days,
            full_fetch_every=crawl.full_fetch_every,
            keep_raw=crawl.keep_raw,
            extraction_processes=crawl.extraction_processes,
            archive_batch=crawl.archive_batch,
            archive_batch_wait_s=crawl.archive_batch_wait_s,
            redis_url=self.settings.workers.redis_url,
            redis_prefix=self.settings.workers.prefix,
        )

    def crawl(self, names: Iterable[str] = (), alerts: bool = True) -> CrawlReport:
        """One crawl cycle of the named sources (all enabled ones when none is named), then the alerts
        cycle (detection and delivery) unless `alerts` is off or alerts are disabled."""
        wanted = list(names)
        sources = [self.archive.get_source(name) for name in wanted] or [
            source for source in self.archive.list_sources() if source.enabled
        ]
        if not sources:
            raise ConfigError("no sources to crawl: add one with 'newswatch sources add URL'")
        from crawler.runner import CrawlTarget, run_crawl
        targets = [CrawlTarget.from_archive(self.archive, source) for source in sources]
        run_ids = run_crawl(targets, self.crawl_options())
        runs = [self.archive.get_run(run_id) for run_id in run_ids]
        report = self.process_alerts() if alerts and self.settings.alerts.enabled else None
        return CrawlReport(runs, report)

    def load_seeds(self) -> SeedLoadReport:
        from newswatch import seeds
        return seeds.load_seeds(self.archive, self.settings.seeds_path / "corpus", self.settings.tz)

    # -- scheduling ----------------------------------------------------------------------------

    def run(self, wait: bool = False, as_json: bool = False, interval_floor: str | None = None,
            out: TextIO | None = None) -> None:
        """Schedule crawls of every enabled source until SIGTERM/SIGINT (see docs/scheduler.md)."""
        from newswatch.worker import crawl_child_command
        from scheduler import Progress, SchedulerError, SchedulerOptions, run_scheduler, settings_env
        sched = self.settings.scheduler
        floor = parse_interval(interval_floor) if interval_floor else sched.seconds("interval_floor")
        ceiling = sched.seconds("interval_ceiling")
        if floor is not None and ceiling is not None and floor > ceiling:
            raise ConfigError(f"interval floor {floor}s is above the interval ceiling {ceiling}s")
        options = SchedulerOptions(
            archive_url=self.settings.db,
            crawl_command=crawl_child_command(self.settings.db),
            after_cycle=self._alerts_after_cycle if self.settings.alerts.enabled else None,
            cycle_runner=self._cycle_runner(),
            child_env=settings_env(self.settings), interval_floor_s=floor, interval_ceiling_s=ceiling,
            error_backoff_max_s=sched.seconds("error_backoff_max") or 6 * 3600, jitter_s=sched.jitter_s,
            misfire_grace_s=sched.seconds("misfire_grace") or 15 * 60,
            crawl_timeout_s=float(sched.seconds("crawl_timeout") or 3600), stop_grace_s=sched.stop_grace_s,
            max_parallel=sched.max_parallel, wait_for_lock=wait, lock_poll_s=sched.lock_poll_s,
        )
        try:
            run_scheduler(self.archive, options, Progress(out or sys.stdout, as_json))
        except SchedulerError as exc:
            raise NewswatchError(str(exc)) from exc

    def _cycle_runner(self) -> RedisDispatch | None:
        if self.settings.scheduler.dispatch != "redis":
            return None
        from scheduler.dispatch import RedisDispatch
        workers = self.settings.workers
        return RedisDispatch(workers.redis_url, workers.prefix,
                             wait_for_worker_s=float(parse_interval(workers.wait_for_worker)),
                             stop_grace_s=self.settings.scheduler.stop_grace_s)

    def worker(self, as_json: bool = False, out: TextIO | None = None) -> int:
        """Run crawl cycles from the scheduler's Redis queue until SIGTERM/SIGINT (docs/deployment.md)."""
        workers = self.settings.workers
        if not workers.redis_url:
            raise ConfigError("newswatch worker needs workers.redis_url (or NEWSWATCH_WORKERS_REDIS_URL)")
        from newswatch.worker import serve as serve_worker
        from newswatch.worker import worker_options
        return serve_worker(self.archive, worker_options(self.settings, workers.redis_url, workers.prefix),
                            out or sys.stdout, as_json)

    def source_health(self) -> dict[str, SourceHealth]:
        """Per source: last success, failures in a row, quiet days against its usual rhythm, shares."""
        from scheduler import assess_all
        return assess_all(self.archive.source_health_figures())

    # -- alerts --------------------------------------------------------------------------------

    def channels(self) -> dict[str, Channel]:
        from alerts.channels import build_channel
        from alerts.errors import AlertsError
        try:
            return {name: build_channel(spec) for name, spec in self.settings.alerts.channels}
        except AlertsError as exc:
            raise ConfigError(f"alerts.channels: {exc}") from exc

    @property
    def alerts(self) -> AlertService:
        """The alerts cycle with the configured vocabulary, rules and channels (built on first use)."""
        if self._alerts is None:
            from alerts.delivery import RetryPolicy
            from alerts.detect import ConferenceDetector
            from alerts.errors import AlertsError
            from alerts.rules import DEFAULT_RULES
            from alerts.service import AlertOptions, AlertService
            from alerts.vocabulary import load_vocabulary
            cfg = self.settings.alerts
            try:
                vocabulary = load_vocabulary([Path(cfg.vocabulary_dir)] if cfg.vocabulary_dir else [])
            except AlertsError as exc:
                raise ConfigError(str(exc)) from exc
            retry = RetryPolicy(base_delay=timedelta(seconds=cfg.retry_base_s),
                                max_delay=timedelta(seconds=max(parse_interval(cfg.retry_max), cfg.retry_base_s)),
                                max_attempts=cfg.max_attempts or None)
            options = AlertOptions(rules=cfg.watch or DEFAULT_RULES, retry=retry,
                                   max_age_s=parse_interval(cfg.max_age) if cfg.max_age else None)
            self._alerts = AlertService(self.archive, ConferenceDetector(vocabulary), options, self.channels())
        return self._alerts

    def process_alerts(self) -> AlertsReport:
        """Detect conferences in items not read yet, queue their alerts, deliver what is due."""
        detection, delivery = self.alerts.cycle()
        return AlertsReport(detection, delivery)

    def _alerts_after_cycle(self) -> dict[str, Any]:
        return self.process_alerts().figures()

    def list_alerts(self, limit: int | None = None, include_all: bool = False) -> list[EventInfo]:
        """Alerted events (or every detected event), newest first, with their reports."""
        from storage.events import load_events
        with self.archive.session() as session:
            return load_events(session, alerted_only=not include_all, limit=limit)

    def deliveries(self, event_ids: Iterable[int] | None = None) -> list[DeliveryRow]:
        from storage import events
        with self.archive.session() as session:
            return events.deliveries(session, list(event_ids) if event_ids is not None else None)

    def retry_alerts(self, channel: str | None = None) -> tuple[int, DeliveryReport]:
        if channel is not None and channel not in dict(self.settings.alerts.channels):
            raise ConfigError(f"no channel named {channel!r} in alerts.channels")
        return self.alerts.retry(channel)

    def test_channel(self, name: str) -> str:
        """Send a test alert through a configured channel (by name) or a channel URL; its display name."""
        from alerts.channels import build_channel
        from alerts.errors import AlertsError
        spec = dict(self.settings.alerts.channels).get(name, name)
        try:
            channel = build_channel(spec)
            channel.send(test_message(name))
        except AlertsError as exc:
            raise NewswatchError(str(exc)) from exc
        return channel.name

    # -- reading -------------------------------------------------------------------------------

    def export_jsonl(self, out: TextIO) -> int:
        return self.export(out, "jsonl")

    def export(self, out: TextIO, fmt: str = "jsonl", progress: Callable[[int], None] | None = None) -> int:
        """Every archived item, oldest first, as `jsonl` (the export contract) or `csv`."""
        if fmt not in ("jsonl", "csv"):
            raise ConfigError(f"unknown export format {fmt!r} (jsonl, csv)")
        from newswatch.exporting import write_rows
        return write_rows(self.archive.iter_export(self.settings.tz), out, fmt, progress)

    def export_warc(self, out: BinaryIO, progress: Callable[[int], None] | None = None) -> int:
        """The raw pages kept while `crawl.keep_raw` was on, as a gzipped WARC file."""
        from newswatch.warc import write_warc
        from storage.raw_pages import iter_raw
        with self.archive.session() as session:
            return write_warc(iter_raw(session), out, progress=progress)

    def import_jsonl(self, lines: Iterable[str], progress: Callable[[int], None] | None = None) -> ImportReport:
        """Read a JSONL export back: items, duplicate links, events and alerted flags as exported."""
        return self.archive.import_jsonl(lines, progress)

    def count_items(self) -> int:
        return self.archive.count_items()

    def search(self, query: SearchQuery) -> SearchPage:
        """Ranked archive hits for `query`; SearchError (a StorageError) when the query cannot run."""
        from storage import search as archive_search
        with self.archive.session() as session:
            return archive_search.search(session, query)

    def explain(self, url: str) -> dict[str, Any]:
        """The dedup decision for the archived item at `url` and its evidence (StorageError if absent)."""
        from storage.dedup import explain_item
        with self.archive.session() as session:
            return explain_item(session, url)

    def extract_files(self, paths: Iterable[Path], url: str | None = None) -> Iterator[dict[str, Any]]:
        """What newswatch extracts from saved pages, one dict per file (errors are reported per file)."""
        from crawler.errors import ExtractionError
        from crawler.extraction import decode_html, extract_page
        for path in paths:
            page_url = url or path.resolve().as_uri()
            try:
                html = decode_html(path.read_bytes())
                page = extract_page(html, page_url, self.settings.tz)
            except (OSError, ExtractionError) as exc:
                yield {"file": str(path), "error": str(getattr(exc, "reason", None) or exc)}
                continue
            yield {
                "file": str(path),
                "url": url or (page.canonical_url if page.canonical_url != page_url else None),
                "title": page.title,
                "author": page.author,
                "published_at": page.published_at.isoformat() if page.published_at else None,
                "language": page.language,
                "page_type": page.page_type.value,
                "text": page.text,
            }


def read_sources_file(path: Path) -> list[dict[str, Any]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read sources file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"sources file {path} is not valid TOML: {exc}") from exc
    entries = data.get("source", [])
    for number, entry in enumerate(entries, start=1):
        unknown = set(entry) - _SOURCE_KEYS
        if unknown or "url" not in entry or "name" not in entry:
            raise ConfigError(f"{path}: source #{number} needs name and url (unknown keys: {sorted(unknown)})")
    return list(entries)


def test_message(channel: str) -> AlertMessage:
    from alerts.model import AlertMessage
    now = datetime.now(UTC)
    return AlertMessage(
        event_id=0, idempotency_key=f"test-{now:%Y%m%dT%H%M%S}", title="newswatch test alert", source="newswatch",
        link="https://example.invalid/newswatch-test", event_type="conference", event_date=now.date(),
        place=None, organizer=None, why=f"'newswatch alerts test {channel}'", detected_at=now)


def make_app(settings: Settings) -> Newswatch:
    return Newswatch(settings)
