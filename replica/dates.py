"""Date arithmetic and the date formats the replicated sites print.

All local times are Asia/Ho_Chi_Minh (UTC+7, no daylight saving), so a fixed offset is exact.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import format_datetime

VN_TZ = timezone(timedelta(hours=7))
DAY0 = date(2026, 9, 5)
"""The calendar date served as simulated day 0."""

_DNUM_TABLE = str.maketrans("0123456789/", "ABCDEFGHIJZ")


def day_date(day: int) -> date:
    """The local calendar date of simulated day ``day``."""
    return DAY0 + timedelta(days=day)


def parse_local(value: str) -> datetime:
    """Parse ``YYYY-MM-DD HH:MM[:SS]`` as a local (UTC+7) time."""
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=VN_TZ)
        except ValueError:
            continue
    raise ValueError(f"not a local date-time (YYYY-MM-DD HH:MM): {value!r}")


def iso_minute(moment: datetime) -> str:
    """``2024-11-13T15:24:00+07:00``: the manifest's published_at, to the minute."""
    return moment.astimezone(VN_TZ).strftime("%Y-%m-%dT%H:%M:00+07:00")


def iso_seconds(moment: datetime) -> str:
    """``2026-09-05T23:48:01+07:00``: sitemap ``lastmod``."""
    return moment.astimezone(VN_TZ).isoformat(timespec="seconds")


def rfc822(moment: datetime) -> str:
    """``Sat, 05 Sep 2026 22:17:01 +0700``: RSS ``pubDate``."""
    return format_datetime(moment.astimezone(VN_TZ))


def http_date(moment: datetime) -> str:
    """``Sat, 05 Sep 2026 15:17:01 GMT``: HTTP ``Last-Modified``."""
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def us_meta(moment: datetime) -> str:
    """``9/5/2026 10:17:01 PM``: OneCMS ``article:published_time`` (month first, local time)."""
    local = moment.astimezone(VN_TZ)
    hour12 = local.hour % 12 or 12
    suffix = "AM" if local.hour < 12 else "PM"
    return f"{local.month}/{local.day}/{local.year} {hour12}:{local:%M:%S} {suffix}"


def header_date(moment: datetime) -> str:
    """``05/09/2026 22:17``: the visible date in an article header."""
    return moment.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M")


def dnum_date(moment: datetime) -> str:
    """``DNUM_BDZBBZCACE 15:24``: the header date garbled the way the seed pages show it."""
    local = moment.astimezone(VN_TZ)
    return "DNUM_" + local.strftime("%d/%m/%Y").translate(_DNUM_TABLE) + local.strftime(" %H:%M")


def with_seconds(moment: datetime, salt: int) -> datetime:
    """Give a minute-precision time deterministic, realistic-looking seconds."""
    return moment.replace(second=(salt * 37 + 11) % 60)
