"""`newswatch serve`: the dashboard under uvicorn, on loopback unless remote serving is asked for."""

from __future__ import annotations

import ipaddress
import logging

from newswatch.app import Newswatch
from newswatch.errors import ConfigError

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]", "::1")


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _allowed_hosts(host: str, port: int) -> list[str] | None:
    """Host headers a loopback server answers (refusing others stops DNS rebinding); any when remote."""
    if not is_loopback(host):
        return None
    names = {*LOOPBACK_NAMES, host}
    return sorted(names | {f"{name}:{port}" for name in names})


def serve(newswatch: Newswatch, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, token: str | None = None,
          allow_remote: bool = False) -> None:
    """Serve the dashboard until interrupted; ConfigError for a non-loopback host without `allow_remote`."""
    if not is_loopback(host) and not allow_remote:
        raise ConfigError(f"refusing to serve on {host}, which is not a loopback address: "
                          "pass --allow-remote to serve beyond this machine")
    if not 0 <= port <= 65535:
        raise ConfigError(f"port {port} is out of range")
    import uvicorn  # noqa: PLC0415 - the server is only needed by this command

    from newswatch.web.app import create_app  # noqa: PLC0415

    newswatch.archive  # noqa: B018 - open (and migrate) the archive before the first request
    app = create_app(newswatch, token, allowed_hosts=_allowed_hosts(host, port))
    mode = "read-write (retries need the token)" if token else "read-only"
    logger.warning("newswatch dashboard on http://%s:%d/ (%s)", host if ":" not in host else f"[{host}]", port, mode)
    config = uvicorn.Config(app, host=host.strip("[]"), port=port, log_level="warning", access_log=False,
                            server_header=False, proxy_headers=False)
    uvicorn.Server(config).run()
