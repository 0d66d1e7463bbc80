"""Publication dates in the formats provincial sites use, resolved in the source's time zone.

A date that cannot be read is None: a made-up date is worse than none.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from email.utils import parsedate_to_datetime

# DNUM_ tokens: letters A–J stand for digits 0–9 and Z for "/" (seen in the seed pages).
_DNUM = re.compile(r"DNUM_([A-JZ]+)")
_DNUM_TABLE = str.maketrans("ABCDEFGHIJZ", "0123456789/")

_TIME = r"(?P<H>\d{1,2})[:hg](?P<M>\d{2})(?::(?P<S>\d{2}))?"
_DMY = r"(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4})"
_ENGLISH_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
            ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
            ("october", "oct"), ("november", "nov"), ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}

# Month-first US style with AM/PM, as OneCMS writes article:published_time ("9/5/2026 10:17:01 PM").
_US_AMPM = re.compile(
    r"\b(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})\s+" + _TIME + r"\s*(?P<ampm>[AaPp][Mm])\b"
)
_DMY_THEN_TIME = re.compile(r"(?<![\d/])" + _DMY + r"(?:\s*[,|-]?\s*(?:lúc\s*)?" + _TIME + r")?(?![\d/])")
_TIME_THEN_DMY = re.compile(r"(?<![\d:])" + _TIME + r"\s*(?:[-,|]\s*)?(?:[^\d\s]+,\s*)?" + _DMY + r"(?![\d/])")
_CJK = re.compile(r"(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日(?:\D{0,4}?" + _TIME + r")?")
_ENGLISH = re.compile(
    r"\b(?P<mon>[A-Za-z]{3,9})\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,\s*(?P<y>\d{4})(?:,?\s*(?:at\s*)?" + _TIME + r")?"
)
_ENGLISH_DAY_FIRST = re.compile(
    r"\b(?P<d>\d{1,2})\s+(?P<mon>[A-Za-z]{3,9})\.?,?\s+(?P<y>\d{4})(?:,?\s*" + _TIME + r")?"
)
_GMT_OFFSET = re.compile(r"GMT\s*([+-])(\d{1,2})(?::?(\d{2}))?\s*$")


def decode_dnum(text: str) -> str:
    """Replace every DNUM_ token by the digits it stands for (DNUM_BDZBBZCACE -> 13/11/2024)."""
    return _DNUM.sub(lambda match: match.group(1).translate(_DNUM_TABLE), text)


def _build(tz: tzinfo, parts: Mapping[str, str | int | None]) -> datetime | None:
    """A datetime from regex groups y, m, d and optional H, M, S; None for impossible dates."""
    try:
        return datetime(
            int(parts["y"] or 0), int(parts["m"] or 0), int(parts["d"] or 0),
            int(parts.get("H") or 0), int(parts.get("M") or 0), int(parts.get("S") or 0), tzinfo=tz,
        )
    except ValueError:
        return None


def _from_match(match: re.Match[str], tz: tzinfo, month: int | None = None) -> datetime | None:
    groups: dict[str, str | int | None] = dict(match.groupdict())
    if month is not None:
        groups["m"] = month
    return _build(tz, groups)


def _parse_us_ampm(text: str, tz: tzinfo) -> datetime | None:
    match = _US_AMPM.search(text)
    if match is None:
        return None
    groups: dict[str, str | int | None] = dict(match.groupdict())
    groups["H"] = int(match["H"]) % 12 + (12 if match["ampm"].lower() == "pm" else 0)
    return _build(tz, groups)


def _parse_english(text: str, tz: tzinfo) -> datetime | None:
    for pattern in (_ENGLISH, _ENGLISH_DAY_FIRST):
        for match in pattern.finditer(text):
            month = _ENGLISH_MONTHS.get(match["mon"].lower())
            if month is not None:
                return _from_match(match, tz, month)
    return None


def _parse_numeric(text: str, tz: tzinfo) -> datetime | None:
    for pattern in (_TIME_THEN_DMY, _DMY_THEN_TIME, _CJK):
        match = pattern.search(text)
        if match is not None:
            return _from_match(match, tz)
    return None


def parse_iso(text: str, tz: tzinfo) -> datetime | None:
    """ISO 8601 as in meta tags, time[datetime] and JSON-LD; a date without offset is local time."""
    value = text.strip()
    if not re.match(r"^\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def parse_feed_date(text: str, tz: tzinfo) -> datetime | None:
    """RFC 822 feed dates, including 'GMT+7' offsets and two-digit years."""
    value = _GMT_OFFSET.sub(lambda m: f"{m[1]}{int(m[2]):02d}{m[3] or '00'}", text.strip())
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):  # Overflow: "10:17000000000" (fuzzing)
        return parse_iso(text, tz) or parse_page_date(text, tz)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


_PARSERS: tuple[Callable[[str, tzinfo], datetime | None], ...] = (
    parse_iso,
    _parse_us_ampm,
    _parse_numeric,
    _parse_english,
)


def parse_page_date(text: str, tz: tzinfo) -> datetime | None:
    """The first full date (with year) in a short text such as a byline or a header date line.

    Day-first numeric dates are the convention of these sites; month-first is read only with
    AM/PM, as OneCMS's meta tags write it. Two-digit years (the header clock) are ignored.
    """
    value = decode_dnum(text)
    for parser in _PARSERS:
        found = parser(value, tz)
        if found is not None:
            return found
    return None


def has_time(text: str) -> bool:
    return re.search(_TIME, decode_dnum(text)) is not None
