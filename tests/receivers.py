"""Real local receivers for alert delivery tests: an HTTP webhook receiver and an SMTP server."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

SMTP_LOGIN = (b"user", b"s3cret")


@dataclass
class HttpReceiver:
    url_base: str  # "127.0.0.1:PORT"
    status: int = 200
    # The requests it accepted (answered below 400): what a receiver really got.
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    refused: int = 0

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, _, body in self.requests]


def serve_http() -> Iterator[HttpReceiver]:
    """A receiver on a free loopback port answering every POST with `status` (changeable while running)."""
    state = HttpReceiver(url_base="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if state.status < 400:
                state.requests.append((self.path, dict(self.headers.items()), body))
            else:
                state.refused += 1
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url_base = f"127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    # aiosmtpd's Controller probes its own port on start, so it needs a concrete one, not 0.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class SmtpReceiver:
    port: int
    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)

    def url(self, to: str = "analyst@example.test") -> str:
        """The Apprise URL that delivers to this server over plain SMTP."""
        user, password = (part.decode() for part in SMTP_LOGIN)
        return f"mailto://{user}:{password}@127.0.0.1:{self.port}?mode=insecure&to={to}&from=newswatch@example.test"


def serve_smtp() -> Iterator[SmtpReceiver]:
    state = SmtpReceiver(port=free_port())

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd hook
            state.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
            return "250 OK"

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == SMTP_LOGIN
        # handled=False: aiosmtpd then answers 535 itself instead of leaving the client waiting.
        return AuthResult(success=ok, handled=False)

    controller = Controller(Handler(), hostname="127.0.0.1", port=state.port, authenticator=authenticate,
                            auth_require_tls=False)
    controller.start()
    try:
        yield state
    finally:
        controller.stop()
