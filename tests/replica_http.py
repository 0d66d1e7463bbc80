"""Shared by the replica tests: a plain HTTP client (any status comes back as a Response, none
raises) and manifest helpers."""

from __future__ import annotations

import urllib.error
import urllib.request

from replica import ManifestEntry


class Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def fetch(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> Response:
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return Response(reply.status, dict(reply.headers.items()), reply.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, dict(error.headers.items()), error.read())


def articles(entries: list[ManifestEntry], site: str | None = None) -> list[ManifestEntry]:
    """The article entries of a manifest (of one site, if given)."""
    return [e for e in entries if e.kind == "article" and site in (None, e.site)]
