"""Serving: one threaded stdlib HTTP server per site, on loopback, answering from snapshots."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import cast
from urllib.parse import urlsplit, urlunsplit

from replica.dates import http_date
from replica.manifest import ManifestEntry
from replica.onecms import OneCmsSite
from replica.site import HTML, Page, Site, Snapshot

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "http://127.0.0.1:8000/"


def default_sites() -> list[Site]:
    """The sites a :class:`Replica` serves unless told otherwise."""
    return [OneCmsSite("nghean")]


def base_urls_from(base_url: str, keys: Sequence[str]) -> dict[str, str]:
    """Base URLs for sites served from consecutive ports starting at ``base_url``'s port."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) base URL: {base_url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return {key: urlunsplit((parts.scheme, f"{host}:{port + i}", "/", "", "")) for i, key in enumerate(keys)}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], site: Site) -> None:
        super().__init__(address, _Handler)
        self.site = site
        self.current: Callable[[], Snapshot] = self._unset

    def _unset(self) -> Snapshot:
        raise RuntimeError("server not started")

    @property
    def base_url(self) -> str:
        host, port = str(self.server_address[0]), self.server_address[1]
        return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def _not_modified(page: Page, headers: dict[str, str]) -> bool:
    tags = headers.get("if-none-match")
    if tags is not None:
        wanted = {t.strip().removeprefix("W/") for t in tags.split(",")}
        return "*" in wanted or page.etag in wanted
    since = headers.get("if-modified-since")
    if since is None:
        return False
    try:
        when = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    if when.tzinfo is None:
        return False
    return page.last_modified.replace(microsecond=0) <= when


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def _answer(self, send_body: bool) -> None:
        server = cast(_Server, self.server)
        parts = urlsplit(self.path)
        page = server.current().lookup(parts.path, parts.query)
        if page is None:
            self._send(404, HTML, server.site.not_found(), {}, send_body)
            return
        headers = {"ETag": page.etag, "Last-Modified": http_date(page.last_modified), "Cache-Control": "max-age=60"}
        lowered = {k.lower(): v for k, v in self.headers.items()}
        if _not_modified(page, lowered):
            self._send(304, None, b"", headers, send_body=False)
            return
        self._send(200, page.content_type, page.body, headers, send_body)

    def _send(self, status: int, content_type: str | None, body: bytes, headers: dict[str, str],
              send_body: bool) -> None:
        self.send_response(status)
        if content_type is not None:
            self.send_header("Content-Type", content_type)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body and status != 304:
            self.wfile.write(body)


class Replica:
    """Local replicas of provincial news sites, served on loopback, with a ground-truth manifest."""

    def __init__(self, day: int = 0, sites: Sequence[Site] | None = None,
                 base_url: str = DEFAULT_BASE_URL) -> None:
        if day < 0:
            raise ValueError("day must be >= 0")
        self._sites = list(sites) if sites is not None else default_sites()
        self._day = day
        self._default_base = base_url
        self._servers: dict[str, _Server] = {}
        self._threads: list[threading.Thread] = []
        self._snapshots: dict[tuple[str, int, str], Snapshot] = {}
        self._lock = threading.Lock()

    @property
    def day(self) -> int:
        return self._day

    @property
    def running(self) -> bool:
        return bool(self._servers)

    @property
    def base_urls(self) -> dict[str, str]:
        """Site key -> base URL with a trailing slash (the would-be URLs when not running)."""
        if not self._servers:
            return base_urls_from(self._default_base, [site.key for site in self._sites])
        return {key: server.base_url for key, server in self._servers.items()}

    def start(self, port: int = 0, host: str = "127.0.0.1") -> Replica:
        """Serve every site (site i on ``port + i``, or on free ports when ``port`` is 0)."""
        if self._servers:
            raise RuntimeError("replica already running")
        try:
            for index, site in enumerate(self._sites):
                wanted = port + index if port else 0
                server = _Server((host, wanted), site)
                server.current = self._current_for(site, server.base_url)
                self._servers[site.key] = server
        except OSError:
            self.stop()
            raise
        for server in self._servers.values():
            thread = threading.Thread(target=server.serve_forever, name=f"replica-{server.site.key}", daemon=True)
            thread.start()
            self._threads.append(thread)
        self._warm()
        return self

    def set_day(self, day: int) -> None:
        """Serve ``day`` from now on (pages are rendered before the switch)."""
        if day < 0:
            raise ValueError("day must be >= 0")
        self._warm(day)
        self._day = day

    def manifest(self) -> list[ManifestEntry]:
        """Every URL served on the current day, with absolute URLs."""
        urls = self.base_urls
        entries: list[ManifestEntry] = []
        for site in self._sites:
            entries.extend(self._snapshot(site, self._day, urls[site.key]).manifest())
        return entries

    def stop(self) -> None:
        for server in self._servers.values():
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers.clear()
        self._threads.clear()

    def __enter__(self) -> Replica:
        if not self._servers:
            self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _current_for(self, site: Site, base_url: str) -> Callable[[], Snapshot]:
        def current() -> Snapshot:
            return self._snapshot(site, self._day, base_url)

        return current

    def _warm(self, day: int | None = None) -> None:
        urls = self.base_urls
        for site in self._sites:
            self._snapshot(site, self._day if day is None else day, urls[site.key])

    def _snapshot(self, site: Site, day: int, base_url: str) -> Snapshot:
        key = (site.key, day, base_url)
        with self._lock:
            snapshot = self._snapshots.get(key)
            if snapshot is None:
                site.bind_peers(self.base_urls)
                snapshot = site.build(day, base_url)
                self._snapshots[key] = snapshot
            return snapshot
