"""HTTP handling for the replica: answers from a :class:`~replica.faults.FaultView`, acting out
its faults (errors, delays, held and reset connections, truncated and streamed bodies) and
recording them in the shared :class:`State`."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import socket
import struct
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import cast
from urllib.parse import urlsplit

from replica import faults_content
from replica.dates import http_date
from replica.faults import Directive, Fault, FaultRecord, FaultView, SiteFaults
from replica.site import HTML, Page, Site, page_target

log = logging.getLogger("replica.server")

_NGINX_ERRORS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Temporarily Unavailable"}


class State:
    """Fault state shared by a replica's handlers: request counts, the fault log, stopping."""

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.hits: Counter[str] = Counter()
        self.log: list[FaultRecord] = []

    def hit(self, url: str) -> int:
        """How many requests ``url`` had before this one (since the last day or plan change)."""
        with self.lock:
            self.hits[url] += 1
            return self.hits[url] - 1

    def restart_counts(self) -> None:
        with self.lock:
            self.hits.clear()

    def record(self, url: str, fault: Fault, detail: str) -> None:
        with self.lock:
            self.log.append(FaultRecord(url, fault, detail))


class SiteServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], site: Site, state: State,
                 handler: type[BaseHTTPRequestHandler] | None = None) -> None:
        super().__init__(address, handler or Handler)
        self.site = site
        self.state = state
        self.current: Callable[[], FaultView] = self._unset

    def _unset(self) -> FaultView:
        raise RuntimeError("server not started")

    @property
    def base_url(self) -> str:
        host, port = str(self.server_address[0]), self.server_address[1]
        return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def _not_modified(etag: str, last_modified: datetime, headers: dict[str, str]) -> bool:
    tags = headers.get("if-none-match")
    if tags is not None:
        wanted = {t.strip().removeprefix("W/") for t in tags.split(",")}
        return "*" in wanted or etag in wanted
    since = headers.get("if-modified-since")
    if since is None:
        return False
    try:
        when = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    if when.tzinfo is None:
        return False
    return last_modified.replace(microsecond=0) <= when


class _BaseHandler(BaseHTTPRequestHandler):
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
        raise NotImplementedError

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

    def _redirect(self, status: int, location: str, send_body: bool) -> None:
        body = f"<html><head><title>{status} Moved</title></head><body><a href=\"{location}\">{location}</a>" \
               "</body></html>\r\n"
        self._send(status, HTML, body.encode(), {"Location": location}, send_body)


@dataclass(frozen=True)
class _Request:
    view: FaultView
    url: str
    directive: Directive | None
    count: int  # earlier requests for the URL (when it has a directive)
    send_body: bool


class Handler(_BaseHandler):
    def _answer(self, send_body: bool) -> None:
        server = cast(SiteServer, self.server)
        view = server.current()
        parts = urlsplit(self.path)
        url = view.base_url + self.path.lstrip("/")
        redirect = view.redirect(parts.path, parts.query)
        if redirect is not None:
            server.state.record(url, Fault.REDIRECTS, f"{redirect[0]} {redirect[1]}")
            self._redirect(*redirect, send_body)
            return
        page = view.lookup(parts.path, parts.query)
        directive = view.directive(page_target(parts.path, parts.query))
        request = _Request(view, url, directive, server.state.hit(url) if directive else 0, send_body)
        if directive is not None and self._fault(request, directive, page):
            return
        if page is None:
            self._send(404, HTML, server.site.not_found(), {}, send_body)
            return
        self._page(request, page)

    def _page(self, request: _Request, page: Page) -> None:
        etag, modified = request.view.etag(page.target, page), page.last_modified
        if etag != page.etag:
            cast(SiteServer, self.server).state.record(request.url, Fault.LYING_ETAG, etag)
        if request.directive is not None and request.directive.fault is Fault.UNSTABLE_VALIDATORS:
            etag = '"' + hashlib.sha256(f"{page.etag}{request.count}".encode()).hexdigest()[:20] + '"'
            modified += timedelta(seconds=request.count)
        headers = {"ETag": etag, "Last-Modified": http_date(modified), "Cache-Control": "max-age=60"}
        lowered = {k.lower(): v for k, v in self.headers.items()}
        if _not_modified(etag, modified, lowered):
            self._send(304, None, b"", headers, send_body=False)
            return
        self._send(200, page.content_type, page.body, headers, request.send_body)

    def _fault(self, request: _Request, directive: Directive, page: Page | None) -> bool:
        """Act out a directive; True when the request is answered (or deliberately not)."""
        state, faults, fault = cast(SiteServer, self.server).state, request.view.faults, directive.fault
        if fault is Fault.HTTP_5XX and faults.burst and request.count >= faults.burst:
            return False  # the burst is over: serve normally
        state.record(request.url, fault, directive.detail)
        if fault is Fault.HTTP_5XX:
            self._error(int(directive.detail), faults, request.send_body)
        elif fault is Fault.SLOW:
            state.stopping.wait(faults.slow_seconds)
            return False
        elif fault is Fault.TIMEOUT:
            state.stopping.wait(faults.hold_seconds)  # never answer; give up when the server stops
            self.close_connection = True
        elif fault is Fault.RESET:
            self._reset()
        elif fault is Fault.DELETED or page is None:
            return False
        elif fault is Fault.TRUNCATED:
            self._truncated(page, request.send_body)
        elif fault in (Fault.HUGE, Fault.GZIP_BOMB):
            self._stream(fault, faults, request.send_body)
        else:
            return False  # the fault is in the page itself (charset, malformed, trap, ...)
        return True

    def _error(self, status: int, faults: SiteFaults, send_body: bool) -> None:
        title = f"{status} {_NGINX_ERRORS.get(status, 'Error')}"
        body = f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n" \
               "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
        headers = {"Retry-After": str(faults.retry_after)} if status == 503 else {}
        self._send(status, "text/html", body.encode(), headers, send_body)

    def _reset(self) -> None:
        """Drop the connection with a TCP RST instead of an answer."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()

    def _truncated(self, page: Page, send_body: bool) -> None:
        """Promise the whole body, send half of it, close."""
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", page.content_type)
        self.send_header("Content-Length", str(len(page.body)))
        self.end_headers()
        if send_body:
            self.wfile.write(page.body[:len(page.body) // 2])

    def _stream(self, fault: Fault, faults: SiteFaults, send_body: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", HTML)
        if fault is Fault.GZIP_BOMB:
            bomb = faults_content.gzip_bomb(faults.bomb_mb)
            length, chunks = len(bomb), iter([bomb] if send_body else [])
            self.send_header("Content-Encoding", "gzip")
        else:
            length, chunks = faults_content.huge_page(faults.huge_mb << 20)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        stopping = cast(SiteServer, self.server).state.stopping
        try:
            for chunk in chunks if send_body else ():
                if stopping.is_set():
                    break
                self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class AliasHandler(_BaseHandler):
    """The site's old domain: every request is redirected (301) to the same path on the site."""

    def _answer(self, send_body: bool) -> None:
        server = cast(SiteServer, self.server)
        view = server.current()
        if Fault.REDIRECTS not in view.faults:
            self._send(404, HTML, server.site.not_found(), {}, send_body)
            return
        location = view.base_url + self.path.lstrip("/")
        server.state.record(server.base_url + self.path.lstrip("/"), Fault.REDIRECTS, f"301 {location}")
        self._redirect(301, location, send_body)
