"""Language of a page or text, as an ISO 639-1 code."""

from __future__ import annotations

import re

# Editions name their language in URLs and attributes in site-specific ways (cn for zh, vn for vi).
_ALIASES = {"cn": "zh", "vn": "vi", "ua": "uk", "jp": "ja", "kr": "ko", "cz": "cs", "gr": "el"}
_EDITION_SEGMENT = re.compile(r"^/([a-z]{2})(?:/|$)")
_KNOWN_EDITIONS = frozenset({"en", "cn", "zh", "ru", "fr", "uk", "es", "de", "ja", "ko", "vi", "lo", "km", "cs", "pt"})
_CJK = re.compile(r"[\u3400-\u9fff]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_UKRAINIAN_ONLY = re.compile(r"[іїєґІЇЄҐ]")
_VIETNAMESE = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.IGNORECASE)


def normalize_language(code: str | None) -> str | None:
    """'vi-VN' -> 'vi', 'zh_CN' -> 'zh', 'cn' -> 'zh'; None for empty or malformed codes."""
    if not code:
        return None
    primary = re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0]
    if not re.fullmatch(r"[a-z]{2,3}", primary):
        return None
    return _ALIASES.get(primary, primary)


def language_from_path(path: str) -> str | None:
    """The edition a URL path names (/en/…, /cn/…), if any."""
    match = _EDITION_SEGMENT.match(path)
    if match and match.group(1) in _KNOWN_EDITIONS:
        return normalize_language(match.group(1))
    return None


def _classify(text: str) -> str:
    # Loading the model takes a moment: import on first use, never at module import.
    import py3langid  # noqa: PLC0415

    language, _score = py3langid.classify(text)
    return str(language)


def detect_language(text: str) -> str | None:
    """Script first (cheap and reliable for zh, uk/ru, vi), then py3langid for other scripts."""
    sample = text[:4000]
    if not sample.strip():
        return None
    letters = sum(ch.isalpha() for ch in sample) or 1
    if len(_CJK.findall(sample)) / letters > 0.2:
        return "zh"
    if len(_CYRILLIC.findall(sample)) / letters > 0.3:
        return "uk" if _UKRAINIAN_ONLY.search(sample) else "ru"
    if len(_VIETNAMESE.findall(sample)) / letters > 0.03:
        return "vi"
    return normalize_language(_classify(sample))
