"""Notification channels: where an alert goes, built from one URL-like spec each.

``console`` prints, ``atom:///abs/path.xml`` keeps a feed file, and anything else is an Apprise URL
(mailto://, mailtos://, json://, slack://, tgram://, ntfy://, ...). Plain SMTP without TLS is
``mailto://user:pass@host:port?to=...&from=...``; ``mailtos://`` is STARTTLS (``mode=ssl`` for
implicit TLS). Apprise timeouts are URL arguments: ``cto=`` (connect) and ``rto=`` (read) seconds.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import IO, Any, Protocol, runtime_checkable
from urllib.parse import parse_qs, urlsplit

from alerts.atom import DEFAULT_MAX_ENTRIES, AtomFileChannel
from alerts.errors import ChannelError
from alerts.message import render
from alerts.model import AlertMessage

logger = logging.getLogger(__name__)

_CONSOLE_SPECS = ("console", "console://")
_ATOM_PREFIX = "atom://"
_DEFAULT_TIMEOUT = 30.0
# Apprise quotes an unparseable URL verbatim in its complaint; it may hold a password.
_URL_RE = re.compile(r"([A-Za-z][\w+.-]*)://\S*")


@runtime_checkable
class Channel(Protocol):
    """Delivers one alert; raises ChannelError when it could not."""

    @property
    def name(self) -> str:
        """A display name with passwords and tokens masked: safe for logs and the dashboard."""
        ...

    def send(self, message: AlertMessage) -> None: ...


class ConsoleChannel:
    """Writes the plain-text alert to a stream (stdout unless told otherwise)."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self._stream = stream

    @property
    def name(self) -> str:
        return "console"

    def send(self, message: AlertMessage) -> None:
        # Resolved per send, not at construction, so a redirected stdout is honoured.
        stream = self._stream if self._stream is not None else sys.stdout
        rendered = render(message)
        try:
            stream.write(f"=== {rendered.title}\n{rendered.text}\n")
            stream.flush()
        except (OSError, ValueError) as exc:  # ValueError: write to a closed stream
            raise ChannelError(self.name, f"cannot write to the console: {exc}") from exc


class AppriseChannel:
    """One Apprise service, built from its URL."""

    def __init__(self, url: str, *, timeout: float | None = _DEFAULT_TIMEOUT) -> None:
        import apprise  # noqa: PLC0415 - ~90 ms at import; every CLI command would pay it

        self._apprise = apprise
        self._timeout = timeout
        self._service = _instantiate(apprise, url)
        self._name = _masked_name(self._service)

    @property
    def name(self) -> str:
        return self._name

    def send(self, message: AlertMessage) -> None:
        rendered = render(message)
        body, body_format = (
            (rendered.markdown, self._apprise.NotifyFormat.MARKDOWN)
            if _renders_markup(self._service, self._apprise.NotifyFormat)
            else (rendered.text, self._apprise.NotifyFormat.TEXT)
        )
        notifier = self._apprise.Apprise()
        notifier.add(self._service)
        kwargs: dict[str, Any] = {"title": rendered.title, "body": body, "body_format": body_format}
        try:
            if hasattr(self._apprise, "AppriseResult"):
                ok, reason = self._notify_v2(notifier, kwargs)
            else:
                ok, reason = self._notify_v1(notifier, kwargs)
        except Exception as exc:  # a plugin bug must not escape as anything but a channel failure
            raise ChannelError(self.name, f"{type(exc).__name__}: {exc}") from exc
        if not ok:
            raise ChannelError(self.name, reason or "delivery failed (apprise gave no reason)")

    def _notify_v2(self, notifier: Any, kwargs: dict[str, Any]) -> tuple[bool, str]:
        """Apprise 2.x returns a result carrying this call's own log entries: no global capture."""
        if self._timeout:
            kwargs["timeout"] = self._timeout
        with notifier.notify(**kwargs) as result:
            if result:
                return True, ""
            reasons = [entry.message for entry in result.logs() if entry.level in ("WARNING", "ERROR", "CRITICAL")]
            status = getattr(result.status, "name", "")
            if not reasons and status:
                reasons = [f"status {status.lower()}"]
            return False, "; ".join(dict.fromkeys(reasons))

    def _notify_v1(self, notifier: Any, kwargs: dict[str, Any]) -> tuple[bool, str]:
        """Apprise 1.x returns a bool and reports why only through its logger."""
        with self._apprise.LogCapture(  # type: ignore[no-untyped-call]
                level=logging.WARNING, fmt="%(message)s") as captured:
            ok = bool(notifier.notify(**kwargs))
            text = captured.getvalue()
        return ok, "; ".join(line.strip() for line in text.splitlines() if line.strip())


def _instantiate(apprise: Any, url: str) -> Any:
    """The Apprise service for url, or ChannelError saying why (in one line) it is not one."""
    # Persistent storage would write plugin state under the user's home; alerts need none.
    asset = apprise.AppriseAsset(storage_mode="memory")
    probe = apprise.Apprise(asset=asset)
    with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:
        added = probe.add(url)
        complaints = captured.getvalue()
    if not added or len(probe) != 1:
        reason = "; ".join(_URL_RE.sub(r"\1://…", line.strip()) for line in complaints.splitlines() if line.strip())
        raise ChannelError(_scheme_only(url), f"not a valid notification URL ({reason or 'unsupported'})")
    return probe[0]


def _masked_name(service: Any) -> str:
    masked = str(service.url(privacy=True))
    # The query string lists every default Apprise filled in; the name only needs to say where.
    return masked.split("?", 1)[0]


def _scheme_only(url: str) -> str:
    """Before Apprise parsed the URL nothing can be masked reliably, so show no more than the scheme."""
    scheme = url.split("://", 1)[0] if "://" in url else ""
    return f"{scheme}://…" if scheme else "(not a URL)"


def _renders_markup(service: Any, notify_format: Any) -> bool:
    """Whether the service's own format (or the URL's ?format=) is markdown or HTML, not plain text.

    Pass-through webhooks (json://, form://) default to text, which their consumers parse best.
    """
    resolve = getattr(service, "resolve_format", None)
    # Apprise 2.x resolves a plugin's tuple of formats; 1.x has a single notify_format.
    chosen = resolve(None) if callable(resolve) else getattr(service, "notify_format", None)
    return chosen in (notify_format.MARKDOWN, notify_format.HTML)


def build_channel(spec: str, *, stream: IO[str] | None = None, timeout: float | None = _DEFAULT_TIMEOUT) -> Channel:
    """The channel a config spec names; ChannelError (one line, secrets masked) if it names none.

    ``timeout`` bounds one Apprise notify call in seconds (None: only the URL's cto/rto apply).
    """
    spec = spec.strip()
    if not spec:
        raise ChannelError("(empty)", "no channel URL given")
    if spec.lower() in _CONSOLE_SPECS:
        return ConsoleChannel(stream)
    if spec.lower().startswith(_ATOM_PREFIX):
        return _build_atom(spec)
    return AppriseChannel(spec, timeout=timeout)


def _build_atom(spec: str) -> Channel:
    parts = urlsplit(spec)
    if parts.netloc or not parts.path.startswith("/"):
        raise ChannelError(spec, "an Atom channel needs an absolute path: atom:///abs/path/alerts.xml")
    max_entries = DEFAULT_MAX_ENTRIES
    values = parse_qs(parts.query).get("max_entries")
    if values:
        try:
            max_entries = int(values[-1])
        except ValueError:
            raise ChannelError(spec, f"max_entries must be a whole number, not {values[-1]!r}") from None
    try:
        return AtomFileChannel(parts.path, max_entries=max_entries)
    except ValueError as exc:
        raise ChannelError(spec, str(exc)) from exc
