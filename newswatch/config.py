"""Settings, resolved once: defaults -> TOML file -> NEWSWATCH_* environment -> CLI flags.

The result is a frozen `Settings` passed down explicitly; nothing here runs at import time.
Unknown keys are errors, never silently ignored.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alerts.errors import AlertsError
from alerts.rules import WatchRule
from newswatch.errors import ConfigError

DEFAULT_CONFIG_FILE = "newswatch.toml"
ENV_PREFIX = "NEWSWATCH_"
_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
MIN_INTERVAL_S = 1
MAX_INTERVAL_S = 30 * 86400


def parse_interval(text: str) -> int:
    """'15s', '30m', '2h', '1d' or plain seconds -> seconds; ConfigError otherwise."""
    match = _INTERVAL.match(text)
    if not match:
        raise ConfigError(f"invalid interval {text!r}: use seconds, minutes or hours such as 15s, 30m, 2h")
    seconds = int(float(match[1]) * _UNIT_SECONDS[match[2].lower()])
    if not MIN_INTERVAL_S <= seconds <= MAX_INTERVAL_S:
        raise ConfigError(f"interval {text!r} is out of range (1s to 30d)")
    return seconds


@dataclass(frozen=True)
class CrawlConfig:
    user_agent: str = "newswatch/0.1"
    contact: str = ""
    obey_robots: bool = True
    download_timeout_s: float = 30.0
    max_body_bytes: int = 16 * 1024 * 1024
    concurrent_requests: int = 16
    concurrent_per_domain: int = 4
    download_delay_s: float = 0.0
    autothrottle: bool = True
    retry_times: int = 2
    retry_backoff_s: float = 1.0
    max_listing_pages: int = 20
    recheck_days: float = 2.0
    full_fetch_every: int = 10
    keep_raw: bool = False  # keep each article's raw response, for `newswatch export --format warc`
    extraction_processes: int = 1  # worker processes extracting articles beside the crawl (0: none)
    archive_batch: int = 16  # articles written to the archive together (one transaction on SQLite)
    archive_batch_wait_s: float = 2.0  # the longest an extracted article waits for its batch

    def __post_init__(self) -> None:
        for name in ("download_timeout_s", "max_body_bytes", "concurrent_requests", "concurrent_per_domain",
                     "max_listing_pages", "archive_batch", "archive_batch_wait_s"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"crawl.{name} must be positive, not {getattr(self, name)!r}")
        for name in ("download_delay_s", "retry_times", "retry_backoff_s", "recheck_days", "full_fetch_every",
                     "extraction_processes"):
            if getattr(self, name) < 0:
                raise ConfigError(f"crawl.{name} cannot be negative, not {getattr(self, name)!r}")

    @property
    def full_user_agent(self) -> str:
        return f"{self.user_agent} (+{self.contact})" if self.contact else self.user_agent


def _optional_interval(name: str, text: str) -> int | None:
    if not text:
        return None
    try:
        return parse_interval(text)
    except ConfigError as exc:
        raise ConfigError(f"scheduler.{name}: {exc}") from exc


@dataclass(frozen=True)
class SchedulerConfig:
    """`newswatch run`: adaptive intervals, time limits and parallelism (see docs/scheduler.md)."""

    interval_floor: str = ""        # shortest interval; "" = a quarter of each source's interval
    interval_ceiling: str = ""      # longest interval while healthy; "" = each source's own interval
    error_backoff_max: str = "6h"   # longest interval after repeated failures
    jitter_s: float = 30.0          # random delay added to each run (at most a tenth of the interval)
    misfire_grace: str = "15m"      # how late a run may still start (e.g. after a pause)
    crawl_timeout: str = "1h"       # a crawl running longer is ended and recorded as failed
    stop_grace_s: float = 30.0      # on SIGTERM, how long running crawls get to finish their item
    max_parallel: int = 4           # crawls of different sources at the same time
    lock_poll_s: float = 5.0        # how often a waiting scheduler tries the leader lock
    dispatch: str = "local"         # "local": a child process per crawl; "redis": crawl workers

    def __post_init__(self) -> None:
        if self.dispatch not in ("local", "redis"):
            raise ConfigError(f"scheduler.dispatch must be local or redis, not {self.dispatch!r}")
        for name in ("interval_floor", "interval_ceiling", "error_backoff_max", "misfire_grace", "crawl_timeout"):
            _optional_interval(name, getattr(self, name))
        for name in ("max_parallel", "lock_poll_s"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"scheduler.{name} must be positive, not {getattr(self, name)!r}")
        for name in ("jitter_s", "stop_grace_s"):
            if getattr(self, name) < 0:
                raise ConfigError(f"scheduler.{name} cannot be negative, not {getattr(self, name)!r}")
        floor, ceiling = self.seconds("interval_floor"), self.seconds("interval_ceiling")
        if floor is not None and ceiling is not None and floor > ceiling:
            raise ConfigError(f"scheduler.interval_floor ({self.interval_floor}) is above "
                              f"scheduler.interval_ceiling ({self.interval_ceiling})")

    def seconds(self, name: str) -> int | None:
        """An interval setting in seconds (None when unset)."""
        return _optional_interval(name, str(getattr(self, name)))


def _string_list(value: Any, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(part for part in value.replace(",", " ").split() if part)
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConfigError(f"{key}: expected a list of strings, got {value!r}")


def _channels(value: Any, key: str) -> tuple[tuple[str, str], ...]:
    """`[alerts.channels]` name = "apprise URL" (or, from the environment, "name=URL name=URL")."""
    if isinstance(value, str):
        pairs = [part.partition("=") for part in value.split()]
        value = {name: url for name, sep, url in pairs if sep} if all(sep for _, sep, _ in pairs) else None
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, str) and v.strip()
                                                 for k, v in value.items()):
        raise ConfigError(f"{key}: expected a table of channel name = URL (e.g. email = \"mailto://...\")")
    return tuple((name, url.strip()) for name, url in value.items())


def _watch_rules(value: Any, key: str) -> tuple[WatchRule, ...]:
    """`[[alerts.watch]]` tables: name, types, provinces, organizers, keywords, languages."""
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise ConfigError(f"{key}: expected [[alerts.watch]] tables (it cannot be set from the environment)")
    known = {f.name for f in fields(WatchRule)}
    rules = []
    for number, table in enumerate(value, start=1):
        unknown = sorted(set(table) - known)
        if unknown:
            raise ConfigError(f"{key} #{number}: unknown setting {unknown[0]!r} (known: {', '.join(sorted(known))})")
        values: dict[str, Any] = {k: (str(v) if k == "name" else _string_list(v, f"{key} #{number}.{k}"))
                                  for k, v in table.items()}
        try:
            rules.append(WatchRule(**values))
        except AlertsError as exc:
            raise ConfigError(f"{key} #{number}: {exc}") from exc
    return tuple(rules)


@dataclass(frozen=True)
class AlertsConfig:
    """Conference alerts: watch rules, channels (Apprise URLs, "console", "atom:///path.xml"), retries."""

    enabled: bool = True               # detect and deliver after each crawl
    vocabulary_dir: str = ""           # extra vocabulary files that extend or override the shipped ones
    max_age: str = ""                  # reports published longer before they are found do not alert
    retry_base_s: float = 60.0         # first retry of a failed delivery after this long, then doubling
    retry_max: str = "6h"              # longest wait between two attempts
    max_attempts: int = 0              # 0: keep retrying until the channel recovers
    channels: tuple[tuple[str, str], ...] = ()
    watch: tuple[WatchRule, ...] = ()  # empty: every conference

    def __post_init__(self) -> None:
        for name in ("max_age", "retry_max"):
            if getattr(self, name):
                parse_interval(getattr(self, name))
        if self.retry_base_s <= 0 or self.max_attempts < 0:
            raise ConfigError("alerts.retry_base_s must be positive and alerts.max_attempts not negative")
        names = [name for name, _ in self.channels]
        if len(set(names)) != len(names):
            raise ConfigError(f"alerts.channels: a channel name is used twice in {names}")

    @staticmethod
    def coerce_setting(key: str, value: Any, where: str) -> Any:
        """The structured settings; None for the plain ones."""
        if key == "channels":
            return _channels(value, f"{where}.channels")
        if key == "watch":
            return _watch_rules(value, f"{where}.watch")
        return None


@dataclass(frozen=True)
class WorkersConfig:
    """Crawl workers on other hosts (docs/deployment.md)."""

    redis_url: str = ""            # "" = no workers; e.g. "redis://127.0.0.1:6379/0"
    prefix: str = "newswatch"      # the RQ queue's name; source locks and domain slots under "<prefix>:"
    wait_for_worker: str = "10m"   # a queued cycle that no worker takes within this fails

    def __post_init__(self) -> None:
        if self.redis_url and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigError(f"workers.redis_url must be a redis://, rediss:// or unix:// URL, not {self.redis_url!r}")
        if not self.prefix or any(c.isspace() for c in self.prefix):
            raise ConfigError(f"workers.prefix must be a non-empty word, not {self.prefix!r}")
        try:
            parse_interval(self.wait_for_worker)
        except ConfigError as exc:
            raise ConfigError(f"workers.wait_for_worker: {exc}") from exc


@dataclass(frozen=True)
class Settings:
    db: str = "sqlite:///newswatch.db"
    timezone: str = "Asia/Ho_Chi_Minh"
    default_interval: str = "30m"
    seeds_dir: str = ""
    log_level: str = "WARNING"
    crawl: CrawlConfig = field(default_factory=CrawlConfig)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    workers: WorkersConfig = field(default_factory=WorkersConfig)

    def __post_init__(self) -> None:
        if self.scheduler.dispatch == "redis" and not self.workers.redis_url:
            raise ConfigError('scheduler.dispatch = "redis" needs workers.redis_url')
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"unknown time zone {self.timezone!r}") from exc
        parse_interval(self.default_interval)
        if self.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ConfigError(f"log_level must be DEBUG, INFO, WARNING or ERROR, not {self.log_level!r}")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def default_interval_seconds(self) -> int:
        return parse_interval(self.default_interval)

    @property
    def seeds_path(self) -> Path:
        return Path(self.seeds_dir) if self.seeds_dir else default_seeds_dir()


def default_seeds_dir() -> Path:
    """seeds/ beside the packages (an editable install or a checkout)."""
    return Path(__file__).resolve().parent.parent / "seeds"


def _coerce(value: Any, target: Any, key: str) -> Any:
    target_type = target if isinstance(target, type) else type(target)
    if target_type is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            return value.lower() in ("1", "true", "yes", "on")
    elif target_type in (int, float):
        try:
            return target_type(value)
        except (TypeError, ValueError):
            pass
    elif target_type is str and isinstance(value, str | int | float):
        return str(value)
    raise ConfigError(f"{key}: expected {target_type.__name__}, got {value!r}")


def _merge(base: Any, values: Mapping[str, Any], where: str) -> Any:
    """A copy of dataclass `base` with `values` applied; nested sections are tables."""
    known = {f.name: f for f in fields(base)}
    changes: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"{where}: unknown setting {key!r} (known: {', '.join(sorted(known))})")
        current = getattr(base, key)
        custom = getattr(base, "coerce_setting", None)
        structured = custom(key, value, where) if custom is not None else None
        if structured is not None:
            changes[key] = structured
        elif dataclasses.is_dataclass(current):
            if not isinstance(value, Mapping):
                raise ConfigError(f"{where}: {key} must be a table")
            changes[key] = _merge(current, value, f"{where}.{key}")
        else:
            changes[key] = _coerce(value, current, f"{where}.{key}")
    return dataclasses.replace(base, **changes)


def _env_values(env: Mapping[str, str]) -> dict[str, Any]:
    """NEWSWATCH_DB -> db, NEWSWATCH_CRAWL_OBEY_ROBOTS -> crawl.obey_robots.

    Variables that name no setting (NEWSWATCH_TEST_PG_URL belongs to the tests) are left alone;
    a misspelt key inside a section (NEWSWATCH_CRAWL_OBEY_ROBOT) is an error.
    """
    top = {f.name for f in fields(Settings) if f.default_factory is dataclasses.MISSING}
    sections = {f.name for f in fields(Settings)} - top
    values: dict[str, Any] = {}
    for name, value in env.items():
        key = name.removeprefix(ENV_PREFIX).lower()
        if not name.startswith(ENV_PREFIX):
            continue
        section, _, rest = key.partition("_")
        if key in top:
            values[key] = value
        elif section in sections and rest:
            values.setdefault(section, {})[rest] = value
    return values


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc


def load_settings(
    config_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Resolve settings once. `config_file` None means $NEWSWATCH_CONFIG or ./newswatch.toml if present."""
    env = env or {}
    if config_file is None and env.get(f"{ENV_PREFIX}CONFIG"):
        config_file = Path(env[f"{ENV_PREFIX}CONFIG"])
    elif config_file is None and Path(DEFAULT_CONFIG_FILE).is_file():
        config_file = Path(DEFAULT_CONFIG_FILE)
    settings = Settings()
    if config_file is not None:
        settings = _merge(settings, _read_toml(config_file), str(config_file))
    settings = _merge(settings, _env_values(env), "environment")
    cleaned = {key: value for key, value in (overrides or {}).items() if value is not None}
    result: Settings = _merge(settings, cleaned, "command line")
    return result
