"""The seed corpus: every seed's fields, the furniture trimmed, loading idempotent."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from crawler.seed_text import parse_page_text
from newswatch.seeds import load_seeds, read_seed_index
from storage import Archive

REPO_ROOT = Path(__file__).resolve().parent.parent

CORPUS = REPO_ROOT / "seeds" / "corpus"
ICT = ZoneInfo("Asia/Ho_Chi_Minh")

# file prefix -> (title start, author, published (None: the page gives none), language)
EXPECTED = {
    "000": ("Nghe An Propaganda Cluster 3 deploys tasks for 2025", "Sy Thanh", datetime(2024, 11, 13, 15, 24), "en"),
    "001": ("Постійний комітет обласної партії співпрацює", None, datetime(2024, 2, 27), "uk"),
    "002": ("口头宣传工作紧密联系实际,着眼基层。", "清强", datetime(2025, 1, 7, 12, 52), "zh"),
    "003": ("Combining both \"building\" and \"fighting\"", None, datetime(2024, 1, 29), "en"),
    "004": ("Provincial Party Committee's Propaganda and Mass Mobilization Commission", "Tri Dung", None, "en"),
}
# Lines of page furniture that must not survive into any seed's text.
FURNITURE = [
    "Latest", "Featured Nghe An Newspaper", "POWERED BY", "Same category", "Same tag", "Same author",
    "Comment (0)", "Коментар (0)", "Джерело", "У тій самій категорії", "No data", "最新的", "特色义安报纸",
    "供电内容管理系统", "Hotline", "Enterprise - Brand", "Company Keangnam", "Reported by", "Translated by",
    "Vietnam.vn - Nền tảng", "26-4-25 13:20:20", "DNUM_", "Party Building\n", "Politics\n",
]


def _seed(prefix: str) -> Path:
    [path] = CORPUS.glob(f"{prefix}_*.txt")
    return path


@pytest.mark.parametrize("prefix", sorted(EXPECTED))
def test_seed_fields(prefix: str) -> None:
    title, author, published, language = EXPECTED[prefix]
    page = parse_page_text(_seed(prefix).read_text(encoding="utf-8"), ICT)
    assert page.title is not None
    assert page.title.startswith(title)
    if author is not None:
        assert page.author == author
    expected = published.replace(tzinfo=ICT) if published else None
    assert page.published_at == expected
    assert page.language == language


@pytest.mark.parametrize("prefix", sorted(EXPECTED))
def test_seed_furniture_is_trimmed(prefix: str) -> None:
    page = parse_page_text(_seed(prefix).read_text(encoding="utf-8"), ICT)
    assert len(page.text) > 1500
    for furniture in FURNITURE:
        assert furniture not in page.text + "\n", f"{furniture!r} left in seed {prefix}"
    assert not page.text.startswith(page.title or "\0")


def test_binh_duong_header_clock_is_not_the_date() -> None:
    page = parse_page_text(_seed("004").read_text(encoding="utf-8"), ICT)
    assert page.published_at is None
    assert page.text.startswith("On February 11, Binh Duong Provincial Party Committee held a conference")


def test_image_file_names_are_kept_apart_from_the_text() -> None:
    page = parse_page_text(_seed("002").read_text(encoding="utf-8"), ICT)
    assert page.images[:2] == ("bna_9336.jpg", "bna_9297.jpg")
    assert "bna_9336.jpg" not in page.text
    assert "会议概况。图片:Thanh Cuong" in page.text


def test_index_lists_every_corpus_file() -> None:
    listed = {seed.path.name for seed in read_seed_index(CORPUS)}
    assert listed == {path.name for path in CORPUS.glob("*.txt")}


def test_loading_twice_changes_nothing(archive: Archive) -> None:
    first = load_seeds(archive, CORPUS, ICT)
    before = list(archive.iter_export(ICT))
    second = load_seeds(archive, CORPUS, ICT)
    assert first.outcomes == {"new": 5}
    assert second.outcomes == {"unchanged": 5}
    assert list(archive.iter_export(ICT)) == before
    assert all(row["is_seed"] and row["duplicate_of"] is None for row in before)
    dates = {row["title"][:20]: row["published_at"] for row in before}
    assert dates["Nghe An Propaganda C"] == "2024-11-13T15:24:00+07:00"
