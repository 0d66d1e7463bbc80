"""Publication dates in the formats of the provincial sites (see docs/ and the reference)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from crawler.dates import decode_dnum, parse_feed_date, parse_page_date

ICT = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sy Thanh, Propaganda Department DNUM_BDZBBZCACE 15:24", datetime(2024, 11, 13, 15, 24)),
        ("清强 DNUM_AHZABZCACF 12:52", datetime(2025, 1, 7, 12, 52)),
        ("9/5/2026 10:17:01 PM", datetime(2026, 9, 5, 22, 17, 1)),
        ("9/5/2026 12:05:00 AM", datetime(2026, 9, 5, 0, 5)),
        ("13/11/2024 15:24", datetime(2024, 11, 13, 15, 24)),
        ("15:24 13/11/2024", datetime(2024, 11, 13, 15, 24)),
        ("23:07 - 26/01/2024", datetime(2024, 1, 26, 23, 7)),
        ("Thứ Tư, 13/11/2024", datetime(2024, 11, 13)),
        ("January 13, 2024 11:43", datetime(2024, 1, 13, 11, 43)),
        ("范邦 January 20, 2025 19:41", datetime(2025, 1, 20, 19, 41)),
        ("星期四, 02/01/2025 20:30 (GMT +7)", datetime(2025, 1, 2, 20, 30)),
        ("2025年1月7日 12:52", datetime(2025, 1, 7, 12, 52)),
        ("Update: 02-12-2020 | 16:31:31", datetime(2020, 12, 2, 16, 31, 31)),
        ("15-01-2024 13:04", datetime(2024, 1, 15, 13, 4)),
        ("Việt NamViệt Nam27/02/2024", datetime(2024, 2, 27)),
    ],
)
def test_page_dates(text: str, expected: datetime) -> None:
    assert parse_page_date(text, ICT) == expected.replace(tzinfo=ICT)


@pytest.mark.parametrize(
    "text", ["Saturday, 26-4-25 13:20:20", "31/02/2024", "no date here", "", "Hotline: 0274 383 347"]
)
def test_no_date_is_made_up(text: str) -> None:
    assert parse_page_date(text, ICT) is None


def test_iso_with_and_without_offset() -> None:
    assert parse_page_date("2026-09-05T23:48:01+07:00", ICT) == datetime(2026, 9, 5, 23, 48, 1, tzinfo=ICT)
    assert parse_page_date("2026-09-05T16:48:01Z", ICT) == datetime(2026, 9, 5, 23, 48, 1, tzinfo=ICT)


@pytest.mark.parametrize(
    "text", ["Sat, 05 Sep 2026 22:17:01 +0700", "Sat, 05 Sep 2026 22:17:01 GMT+7", "Sat, 05 Sep 26 22:17:01 +0700"]
)
def test_feed_dates(text: str) -> None:
    assert parse_feed_date(text, ICT) == datetime(2026, 9, 5, 22, 17, 1, tzinfo=ICT)


def test_dnum_decoding() -> None:
    assert decode_dnum("DNUM_BDZBBZCACE 15:24 and DNUM_AHZABZCACF") == "13/11/2024 15:24 and 07/01/2025"
