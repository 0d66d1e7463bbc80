"""Layer 1: URL canonicalization, so one page reached by several addresses is one item."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from courlan import normalize_url
from w3lib.url import canonicalize_url as w3lib_canonicalize

logger = logging.getLogger(__name__)

# Query parameters that track a visit and never select content.
TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "hsa_", "_hs")
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid", "mkt_tok", "ref", "ref_src",
    "cmpid", "ncid", "zarsrc", "zalo_source", "gidzl", "_ga", "spm", "share", "amp",
})
# Host prefixes of mobile and accelerated editions that serve the same page.
MOBILE_PREFIXES = ("www.", "m.", "mobile.", "amp.", "wap.")


def _host(host: str, aliases: Mapping[str, str]) -> str:
    host = host.lower().rstrip(".")
    changed = True
    while changed:
        changed = False
        for prefix in MOBILE_PREFIXES:
            if host.startswith(prefix) and host.count(".") > 1:
                host, changed = host[len(prefix):], True
    return aliases.get(host, host)


def _query(query: str) -> str:
    kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True)
            if k.lower() not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES)]
    return urlencode(sorted(kept))


def canonicalize_url(url: str, aliases: Mapping[str, str] | None = None) -> str:
    """One spelling per page: https, host without www./m. (and aliases applied), no tracking
    parameters, sorted query, no fragment, no default port, no trailing slash, no /amp suffix.

    Non-HTTP identifiers (``seed:…``) come back unchanged.
    """
    if not url.lower().startswith(("http://", "https://")):
        return url
    try:
        url = normalize_url(w3lib_canonicalize(url.strip()), strict=False)
    except ValueError:
        logger.debug("cannot normalize %r", url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # an unparsable host or port ("http://[::1"): the spelling is all there is
        return url.strip()
    host = _host(parts.hostname or "", aliases or {})
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    path = parts.path or "/"
    for suffix in ("/amp", "/amp/"):
        if path.endswith(suffix) and len(path) > len(suffix):
            path = path[: -len(suffix)]
    path = path.rstrip("/") or "/"
    return urlunsplit(("https", host, path, _query(parts.query), ""))


def url_keys(url: str, canonical_url: str | None, aliases: Mapping[str, str] | None = None) -> list[str]:
    """The canonical spellings of a page's own URL and of its canonical link."""
    keys = {canonicalize_url(url, aliases)}
    if canonical_url:
        keys.add(canonicalize_url(canonical_url, aliases))
    return sorted(keys)
