"""Serving: one threaded stdlib HTTP server per site, on loopback, answering from snapshots,
with the faults of a :class:`~replica.faults.FaultPlan` (none by default)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

from replica.aid import AidSite
from replica.faults import Fault, FaultPlan, FaultRecord, FaultView, SiteFaults
from replica.faults_pages import build_view
from replica.handlers import AliasHandler, SiteServer, State
from replica.manifest import ManifestEntry
from replica.onecms import OneCmsSite
from replica.portal import PortalSite
from replica.postid import PostIdSite
from replica.site import Site, Snapshot

DEFAULT_BASE_URL = "http://127.0.0.1:8000/"


def default_sites() -> list[Site]:
    """The sites a :class:`Replica` serves unless told otherwise: one per CMS family, the
    "-post<id>" family with its separate English host, and the republishing portal."""
    return [
        OneCmsSite("nghean"),
        AidSite("binhduong"),
        PostIdSite("sggp"),
        PostIdSite("sggp-en", english=True),
        PortalSite("portal"),
    ]


def base_urls_from(base_url: str, keys: Sequence[str]) -> dict[str, str]:
    """Base URLs for sites served from consecutive ports starting at ``base_url``'s port."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) base URL: {base_url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return {key: urlunsplit((parts.scheme, f"{host}:{port + i}", "/", "", "")) for i, key in enumerate(keys)}


class Replica:
    """Local replicas of provincial news sites, served on loopback, with a ground-truth manifest.

    ``faults`` (default: none) makes sites misbehave; see :mod:`replica.faults`.
    """

    def __init__(self, day: int = 0, sites: Sequence[Site] | None = None,
                 base_url: str = DEFAULT_BASE_URL, faults: FaultPlan | None = None) -> None:
        if day < 0:
            raise ValueError("day must be >= 0")
        self._sites = list(sites) if sites is not None else default_sites()
        self._day = day
        self._default_base = base_url
        self._plan = self._checked(faults or FaultPlan())
        self._servers: dict[str, SiteServer] = {}
        self._aliases: dict[str, SiteServer] = {}
        self._served: list[tuple[SiteServer, threading.Thread]] = []
        self._snapshots: dict[tuple[str, int, str], Snapshot] = {}
        self._views: dict[tuple[str, int, str, SiteFaults, str | None], FaultView] = {}
        self._lock = threading.RLock()
        self._state = State()
        self._port = 0
        self._host = "127.0.0.1"

    @property
    def day(self) -> int:
        return self._day

    @property
    def faults(self) -> FaultPlan:
        return self._plan

    @property
    def running(self) -> bool:
        return bool(self._servers)

    @property
    def base_urls(self) -> dict[str, str]:
        """Site key -> base URL with a trailing slash (the would-be URLs when not running)."""
        if not self._servers:
            return base_urls_from(self._default_base, [site.key for site in self._sites])
        return {key: server.base_url for key, server in self._servers.items()}

    @property
    def alias_urls(self) -> dict[str, str]:
        """Site key -> base URL of its "old domain", which 301-redirects every request to the
        site, for sites with the ``redirects`` fault (site i's alias on ``port + n_sites + i``)."""
        if self._servers:
            return {key: server.base_url for key, server in self._aliases.items()
                    if Fault.REDIRECTS in self._plan.for_site(key)}
        keys = [site.key for site in self._sites]
        would_be = base_urls_from(self._default_base, keys + [f"{key} alias" for key in keys])
        return {key: would_be[f"{key} alias"] for key in keys if Fault.REDIRECTS in self._plan.for_site(key)}

    def start(self, port: int = 0, host: str = "127.0.0.1") -> Replica:
        """Serve every site (site i on ``port + i``, or on free ports when ``port`` is 0)."""
        if self._servers:
            raise RuntimeError("replica already running")
        self._port, self._host, self._state.stopping = port, host, threading.Event()
        try:
            for index, site in enumerate(self._sites):
                server = SiteServer((host, port + index if port else 0), site, self._state)
                server.current = self._current_for(site, server.base_url)
                self._servers[site.key] = server
            self._add_aliases()
        except OSError:
            for server in [*self._servers.values(), *self._aliases.values()]:
                server.server_close()
            self._servers.clear()
            self._aliases = {}
            raise
        for server in [*self._servers.values(), *self._aliases.values()]:
            self._serve(server)
        self._warm()
        return self

    def set_day(self, day: int) -> None:
        """Serve ``day`` from now on (pages are rendered before the switch)."""
        if day < 0:
            raise ValueError("day must be >= 0")
        self._warm(day)
        self._day = day
        self._state.restart_counts()

    def set_faults(self, plan: FaultPlan | None) -> None:
        """Serve under ``plan`` (None: no faults) from now on, e.g. to clear faults and crawl again."""
        plan = self._checked(plan or FaultPlan())
        old, self._plan = self._plan, plan
        try:
            if self._servers:
                for alias in self._add_aliases():
                    self._serve(alias)
            self._warm()
        except Exception:
            self._plan = old
            raise
        self._state.restart_counts()

    def manifest(self) -> list[ManifestEntry]:
        """Every URL served on the current day, with absolute URLs."""
        urls = self.base_urls
        return [entry for site in self._sites for entry in self._view(site, self._day, urls[site.key]).manifest()]

    def fault_map(self) -> list[FaultRecord]:
        """Ground truth: every URL a fault applies to on the current day, and how."""
        urls = self.base_urls
        return [record for site in self._sites for record in self._view(site, self._day, urls[site.key]).records()]

    def fault_log(self, clear: bool = False) -> list[FaultRecord]:
        """The faults served so far, one record per request, in order."""
        with self._state.lock:
            records = list(self._state.log)
            if clear:
                self._state.log.clear()
        return records

    def stop(self) -> None:
        self._state.stopping.set()  # release held (timeout, slow) requests
        for server, thread in self._served:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
        self._servers.clear()
        self._aliases = {}
        self._served.clear()

    def __enter__(self) -> Replica:
        if not self._servers:
            self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _checked(self, plan: FaultPlan) -> FaultPlan:
        unknown = set(plan.sites) - {site.key for site in self._sites} - {"*"}
        if unknown:
            raise ValueError(f"faults for unknown site(s): {', '.join(sorted(unknown))}")
        return plan

    def _serve(self, server: SiteServer) -> None:
        thread = threading.Thread(target=server.serve_forever, name=f"replica-{server.site.key}", daemon=True)
        thread.start()
        self._served.append((server, thread))

    def _add_aliases(self) -> list[SiteServer]:
        """Create (not serve) the old-domain aliases the plan needs and that do not exist yet."""
        added = []
        for index, site in enumerate(self._sites):
            if site.key in self._aliases or Fault.REDIRECTS not in self._plan.for_site(site.key):
                continue
            port = self._port + len(self._sites) + index if self._port else 0
            alias = SiteServer((self._host, port), site, self._state, AliasHandler)
            alias.current = self._current_for(site, self._servers[site.key].base_url)
            self._aliases = {**self._aliases, site.key: alias}  # replaced, not mutated: handlers read it
            added.append(alias)
        return added

    def _current_for(self, site: Site, base_url: str) -> Callable[[], FaultView]:
        def current() -> FaultView:
            return self._view(site, self._day, base_url)

        return current

    def _warm(self, day: int | None = None) -> None:
        urls = self.base_urls
        for site in self._sites:
            self._view(site, self._day if day is None else day, urls[site.key])

    def _view(self, site: Site, day: int, base_url: str) -> FaultView:
        faults = self._plan.for_site(site.key)
        alias = self.alias_urls.get(site.key) if Fault.REDIRECTS in faults else None
        key = (site.key, day, base_url, faults, alias)
        with self._lock:
            view = self._views.get(key)
            if view is None:
                day0 = self._view(site, 0, base_url) if day and Fault.LYING_ETAG in faults else None
                view = build_view(self._snapshot(site, day, base_url), faults, day0=day0, alias_url=alias)
                self._views[key] = view
            return view

    def _snapshot(self, site: Site, day: int, base_url: str) -> Snapshot:
        key = (site.key, day, base_url)
        with self._lock:
            snapshot = self._snapshots.get(key)
            if snapshot is None:
                site.bind_peers(self.base_urls)
                snapshot = site.build(day, base_url)
                self._snapshots[key] = snapshot
            return snapshot
