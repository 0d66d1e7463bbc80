"""Checking that a home page answers before a source is added."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import requests
from w3lib.url import safe_url_string

from crawler.errors import FetchError

logger = logging.getLogger(__name__)


def normalize_home_url(url: str) -> str:
    """An absolute http(s) URL with a path; FetchError for anything else."""
    candidate = url.strip()
    if "://" not in candidate:
        candidate = "https://" + candidate
    parts = urlsplit(candidate)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(url, "not an http(s) URL")
    if not parts.path:
        candidate += "/"
    return str(safe_url_string(candidate))


def probe_home_page(url: str, user_agent: str, timeout_s: float) -> str:
    """Fetch `url` once; return the final URL after redirects, or raise FetchError saying why."""
    try:
        response = requests.get(url, headers={"User-Agent": user_agent}, timeout=timeout_s, allow_redirects=True)
    except requests.Timeout as exc:
        raise FetchError(url, f"no answer within {timeout_s:g}s") from exc
    except requests.ConnectionError as exc:
        raise FetchError(url, "connection failed (host unknown, refused or unreachable)") from exc
    except requests.RequestException as exc:
        raise FetchError(url, str(exc)) from exc
    with response:
        if response.status_code >= 400:
            raise FetchError(url, f"HTTP {response.status_code}")
        content_type = response.headers.get("Content-Type", "")
        if "html" not in content_type.lower():
            raise FetchError(url, f"not an HTML page ({content_type or 'no content type'})")
        return str(response.url)
