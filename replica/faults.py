"""Fault injection: what a :class:`FaultPlan` turns on, per site, and how a day's snapshot is
served under it (:class:`FaultView`). Everything is off by default and deterministic: which URL
gets which fault depends only on the site's URLs and the simulated day, never on chance.

Articles are taken in publication order (ties by path; new days only append) and listing/tag
pages (not edition home pages) in path order; the URL at position ``i`` gets the fault of slot
``i % 20`` below, if that fault is on. Slots 10-19 are free; with ``5xx`` on, the free URL at
free position ``j`` fails when ``(j + day) % every == 0`` (so the failing set moves each day).

====  ==========================  ==========================
slot  article                     listing / tag
====  ==========================  ==========================
0     deleted (404)               -
1     slow                        slow
2     timeout                     timeout
3     reset                       reset
4     truncated                   truncated
5     charset: windows-1258 meta  -
6     charset: wrong header       -
7     charset: none               -
8     malformed HTML              -
9     unstable validators         unstable validators
====  ==========================  ==========================
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, Protocol

from replica.manifest import ManifestEntry
from replica.site import Page, Snapshot, page_target


class Fault(enum.Enum):
    """A fault mode; its value is its name in a ``--faults`` spec."""

    HTTP_5XX = "5xx"
    SLOW = "slow"
    TIMEOUT = "timeout"
    RESET = "reset"
    TRUNCATED = "truncated"
    REDIRECTS = "redirects"
    DELETED = "deleted"
    ROBOTS = "robots"
    CHARSET = "charset"
    HUGE = "huge"
    GZIP_BOMB = "gzip_bomb"
    XML_BOMB = "xml_bomb"
    MALFORMED = "malformed"
    TRAP = "trap"
    PDF = "pdf"
    LYING_ETAG = "lying_etag"
    UNSTABLE_VALIDATORS = "unstable_validators"


# ``<fault>:<value>`` sets the fault's main parameter; ``<name>:<value>`` sets a plain one.
_MAIN_PARAM = {Fault.HTTP_5XX: "every", Fault.SLOW: "slow_seconds", Fault.TIMEOUT: "hold_seconds",
               Fault.ROBOTS: "crawl_delay", Fault.HUGE: "huge_mb", Fault.GZIP_BOMB: "bomb_mb"}
_PLAIN_PARAMS = ("burst", "retry_after")


@dataclass(frozen=True)
class SiteFaults:
    """The faults of one site and their parameters.

    ``every``: 5xx on every n-th free article/listing; ``burst``: a failing URL fails only its
    first n requests (0: every request); ``retry_after``: seconds, on 503; ``slow_seconds``:
    delay before answering; ``hold_seconds``: how long a timeout holds the socket (ends when the
    server stops); ``crawl_delay``: robots.txt; ``huge_mb``: size of the huge page;
    ``bomb_mb``: inflated size of the gzip bomb (MiB).
    """

    faults: frozenset[Fault] = frozenset()
    every: int = 5
    burst: int = 0
    retry_after: int = 1
    slow_seconds: float = 2.0
    hold_seconds: float = 120.0
    crawl_delay: int = 1
    huge_mb: int = 30
    bomb_mb: int = 1024

    def __post_init__(self) -> None:
        object.__setattr__(self, "faults", frozenset(self.faults))
        if self.every < 1 or self.huge_mb < 1 or self.bomb_mb < 1:
            raise ValueError("every, huge and gzip_bomb must be >= 1")
        if min(self.burst, self.retry_after, self.slow_seconds, self.hold_seconds, self.crawl_delay) < 0:
            raise ValueError("fault parameters must be >= 0")

    @classmethod
    def of(cls, *faults: Fault, **params: Any) -> SiteFaults:
        return cls(frozenset(faults), **params)

    def __contains__(self, fault: object) -> bool:
        return fault in self.faults

    def __bool__(self) -> bool:
        return bool(self.faults)

    @classmethod
    def parse(cls, items: str) -> SiteFaults:
        """``5xx,slow:0.5,burst:2`` (``all`` turns every fault on; ``none`` none)."""
        faults: set[Fault] = set()
        params: dict[str, Any] = {}
        for item in filter(None, (part.strip() for part in items.split(","))):
            name, colon, value = item.partition(":")
            name = name.strip().lower()
            if name in ("all", "none") and not colon:
                faults.update(Fault if name == "all" else ())
                continue
            fault = next((f for f in Fault if f.value == name), None)
            if fault is not None:
                faults.add(fault)
            param = _MAIN_PARAM.get(fault) if fault is not None else (name if name in _PLAIN_PARAMS else None)
            if fault is None and param is None:
                raise ValueError(f"unknown fault {name!r} (known: {', '.join(f.value for f in Fault)}, all)")
            if colon and param is None:
                raise ValueError(f"fault {name!r} takes no value")
            if colon and param is not None:
                params[param] = _number(param, value)
            elif fault is None:
                raise ValueError(f"{name!r} needs a value ({name}:<n>)")
        return cls(frozenset(faults), **params)

    def spec(self) -> str:
        """The ``--faults`` items for this site (inverse of :meth:`parse`)."""
        items = [f.value for f in Fault if f in self.faults]
        defaults = SiteFaults()
        for param in (f.name for f in fields(self) if f.name != "faults"):
            if getattr(self, param) != getattr(defaults, param):
                items.append(f"{_item_name(param)}:{getattr(self, param)}")
        return ",".join(items) or "none"


def _item_name(param: str) -> str:
    return next((fault.value for fault, name in _MAIN_PARAM.items() if name == param), param)


def _number(param: str, value: str) -> int | float:
    try:
        return float(value) if param.endswith("_seconds") else int(value)
    except ValueError:
        raise ValueError(f"not a number for {_item_name(param)}: {value!r}") from None


@dataclass(frozen=True)
class FaultPlan:
    """Faults per site key (``"*"``: every site without its own entry). Empty: no faults."""

    sites: Mapping[str, SiteFaults] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sites", MappingProxyType(dict(self.sites)))

    @classmethod
    def parse(cls, spec: str) -> FaultPlan:
        """``"nghean=5xx,slow:0.5;portal=all"``; ``"*=deleted"`` applies to every site."""
        sites: dict[str, SiteFaults] = {}
        for part in filter(None, (p.strip() for p in spec.split(";"))):
            key, equals, items = part.partition("=")
            if not equals or not key.strip():
                raise ValueError(f"expected <site>=<fault>,... in {part!r}")
            if key.strip() in sites:
                raise ValueError(f"site {key.strip()!r} given twice")
            sites[key.strip()] = SiteFaults.parse(items)
        return cls(sites)

    def for_site(self, key: str) -> SiteFaults:
        return self.sites[key] if key in self.sites else self.sites.get("*", SiteFaults())

    def __bool__(self) -> bool:
        return any(self.sites.values())

    def __str__(self) -> str:
        return ";".join(f"{key}={faults.spec()}" for key, faults in self.sites.items())


@dataclass(frozen=True)
class FaultRecord:
    """A URL and the fault it gets (ground truth), or got (the log of a running replica)."""

    url: str
    fault: Fault
    detail: str = ""


@dataclass(frozen=True)
class Directive:
    """What the server does at one target besides (or instead of) answering from the page."""

    fault: Fault
    detail: str = ""


Redirect = tuple[int, str]  # status, absolute Location


class DynamicPages(Protocol):
    """Pages generated on request (the endless crawler traps)."""

    def page(self, path: str, query: str) -> Page | None:
        """The page at ``path``/``query``, or None."""

    def matches(self, target: str) -> str:
        """What kind of generated page ``target`` is ("" if none)."""


@dataclass(frozen=True)
class FaultView:
    """One site on one day under one :class:`SiteFaults`: what the server answers and the
    manifest and ground truth that go with it."""

    snapshot: Snapshot
    faults: SiteFaults
    pages: Mapping[str, Page]
    directives: Mapping[str, Directive] = field(default_factory=dict)
    redirects: Mapping[str, Redirect] = field(default_factory=dict)
    etags: Mapping[str, str] = field(default_factory=dict)  # lying ETags: the day-0 ETag of changed pages
    extra_entries: tuple[ManifestEntry, ...] = ()
    extra_records: tuple[FaultRecord, ...] = ()
    dynamic: DynamicPages | None = None

    @property
    def base_url(self) -> str:
        return self.snapshot.base_url

    def lookup(self, path: str, query: str = "") -> Page | None:
        page = self.pages.get(page_target(path, query))
        if page is None and self.dynamic is not None:
            return self.dynamic.page(path, query)
        return page

    def directive(self, target: str) -> Directive | None:
        found = self.directives.get(target)
        if found is None and self.dynamic is not None:
            kind = self.dynamic.matches(target)
            return Directive(Fault.TRAP, kind) if kind else None
        return found

    def redirect(self, path: str, query: str = "") -> Redirect | None:
        if Fault.REDIRECTS not in self.faults:
            return None
        if path.startswith("/old/"):
            rest = path.removeprefix("/old/") + (f"?{query}" if query else "")
            return 301, self.base_url + rest
        return self.redirects.get(path)

    def etag(self, target: str, page: Page) -> str:
        return self.etags.get(target, page.etag)

    def url(self, target: str) -> str:
        return self.base_url + target.lstrip("/")

    def manifest(self) -> list[ManifestEntry]:
        """The snapshot's entries (faults change bodies, not what a page is; deleted articles
        stay articles), then the pages and endpoints the faults add."""
        added = [page.entry for target, page in self.pages.items() if target not in self.snapshot.pages]
        return self.snapshot.manifest() + added + list(self.extra_entries)

    def records(self) -> list[FaultRecord]:
        """Ground truth: every URL a fault applies to today (a URL may have several)."""
        found = [FaultRecord(self.url(t), d.fault, d.detail) for t, d in self.directives.items()]
        found.extend(FaultRecord(self.url(t), Fault.LYING_ETAG, etag) for t, etag in self.etags.items())
        return found + list(self.extra_records)


def plain_view(snapshot: Snapshot) -> FaultView:
    """A snapshot served without faults."""
    return FaultView(snapshot, SiteFaults(), snapshot.pages)
