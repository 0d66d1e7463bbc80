"""Conference detection against the labelled set, the event-date resolver, and the vocabulary loader."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from alerts.detect import ConferenceDetector
from alerts.errors import VocabularyError
from alerts.event_date import resolve_event_date
from alerts.model import ReportText
from alerts.vocabulary import Vocabulary, load_vocabulary, word_regex

LABELS = Path(__file__).parent / "fixtures" / "alert_labels.jsonl"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MIN_ITEMS_PER_LANGUAGE = 5


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return load_vocabulary()


@pytest.fixture(scope="module")
def detector(vocabulary: Vocabulary) -> ConferenceDetector:
    return ConferenceDetector(vocabulary)


@pytest.fixture(scope="module")
def items() -> list[dict[str, Any]]:
    return [json.loads(line) for line in LABELS.read_text("utf-8").splitlines() if line.strip()]


def _report(item: dict[str, Any]) -> ReportText:
    published = datetime.fromisoformat(item["published_at"]) if item["published_at"] else None
    return ReportText(item["url"], item["language"], item["title"], item["lead"], item["text"], published)


def _f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


@pytest.fixture(scope="module")
def outcomes(items: list[dict[str, Any]], detector: ConferenceDetector) -> list[tuple[dict[str, Any], Any]]:
    return [(item, detector.detect(_report(item))) for item in items]


def test_labelled_set_is_large_and_multilingual(items: list[dict[str, Any]]) -> None:
    languages = {item["language"] for item in items}
    assert len(items) >= 300
    assert len(languages) >= 5
    assert sum(item["source"] == "hand" for item in items) >= 30
    assert len({item["url"] for item in items}) == len(items)


def test_detection_f1_overall_and_per_language(outcomes: list[tuple[dict[str, Any], Any]]) -> None:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # tp fp fn items
    for item, record in outcomes:
        for key in (item["language"], "all"):
            c = counts[key]
            c[3] += 1
            if record is not None and item["is_conference"]:
                c[0] += 1
            elif record is not None:
                c[1] += 1
            elif item["is_conference"]:
                c[2] += 1
    scores = {lang: _f1(*c[:3]) for lang, c in counts.items() if c[3] >= MIN_ITEMS_PER_LANGUAGE and c[0] + c[2]}
    assert scores["all"] >= 0.95, scores
    failing = {lang: round(f, 3) for lang, f in scores.items() if f < 0.90}
    assert not failing, scores


def test_event_date_accuracy(outcomes: list[tuple[dict[str, Any], Any]]) -> None:
    dated = [(item, record) for item, record in outcomes
             if item["is_conference"] and item["event"] and item["event"].get("date")]
    correct = sum(record is not None and record.date == date.fromisoformat(item["event"]["date"])
                  for item, record in dated)
    assert dated
    assert correct / len(dated) >= 0.95, (correct, len(dated))


def test_every_seed_is_detected_with_its_event_date(outcomes: list[tuple[dict[str, Any], Any]]) -> None:
    seeds = [(item, record) for item, record in outcomes if item["source"] == "seed"]
    assert len(seeds) == 5
    for item, record in seeds:
        assert record is not None, item["url"]
        assert record.date == date.fromisoformat(item["event"]["date"]), item["url"]
        assert record.matched
        assert record.rule


HELD_OUT = Path(__file__).parent / "fixtures" / "alert_heldout.jsonl"


def test_held_out_reports_written_after_the_tuning(detector: ConferenceDetector) -> None:
    """28 reports and non-reports in 7 languages, written apart from the vocabulary's tuning, from other
    provinces and in other phrasings: the labelled set above is in-sample, this one is not."""
    rows = [json.loads(line) for line in HELD_OUT.read_text("utf-8").splitlines() if line.strip()]
    tp = fp = fn = dated = 0
    for row in rows:
        report = ReportText(row["url"], row["language"], row["title"], "", row["text"],
                            datetime.fromisoformat(row["published_at"]))
        record = detector.detect(report)
        tp += record is not None and row["is_conference"]
        fp += record is not None and not row["is_conference"]
        fn += record is None and row["is_conference"]
        dated += record is not None and row["is_conference"] and record.date == date.fromisoformat(row["date"])
    assert len({row["language"] for row in rows}) >= 5
    assert _f1(tp, fp, fn) >= 0.90, (tp, fp, fn)
    assert dated >= 0.90 * (tp + fn), (dated, tp + fn)


def _resolve(vocabulary: Vocabulary, text: str, language: str | None, published: datetime | None) -> date | None:
    return resolve_event_date(text, language, published, vocabulary)


@pytest.mark.parametrize(("text", "language", "published", "expected"), [
    ("On November 13, in Do Luong district, a conference", "en", datetime(2024, 11, 13, 15), date(2024, 11, 13)),
    ("On the morning of April 24, the Party Committee held", "en", datetime(2025, 4, 25, 8), date(2025, 4, 24)),
    ("Sáng 5/6, UBND tỉnh tổ chức hội nghị", "vi", datetime(2025, 6, 5, 12), date(2025, 6, 5)),
    ("Chiều nay (25/9), tại Hội trường", "vi", datetime(2025, 9, 25, 19), date(2025, 9, 25)),
    ("Hôm nay 7.4, Ban Thường vụ làm việc với", "vi", datetime(2025, 4, 7, 11), date(2025, 4, 7)),
    ("1月7日上午,省委宣传部召开会议", "zh", datetime(2025, 1, 7, 12), date(2025, 1, 7)),
    ("Вранці 14 липня відбулася конференція", "uk", datetime(2025, 7, 14, 13), date(2025, 7, 14)),
    ("Утром 25 апреля состоялось совещание", "ru", datetime(2025, 4, 26, 9), date(2025, 4, 25)),
    ("Hội nghị diễn ra trong hai ngày (25-26/9/2025) tại Hà Nội", "vi", datetime(2025, 9, 27, 9), date(2025, 9, 25)),
    ("This morning, the committee met", "en", datetime(2025, 3, 3, 11), date(2025, 3, 3)),
    ("The council opened its session today", "en", datetime(2025, 3, 3, 20), date(2025, 3, 3)),
    ("This afternoon (June 16), the department held", "en", datetime(2025, 6, 16, 18), date(2025, 6, 16)),
    ("22 серпня вдень відбулося засідання", "uk", datetime(2025, 8, 23, 8), date(2025, 8, 22)),
    ("12月25日下午,会议在河内举行", "zh", datetime(2026, 1, 2, 9), date(2025, 12, 25)),
    ("Le matin du 8 janvier, le Département a organisé", "fr", datetime(2026, 1, 8, 15), date(2026, 1, 8)),
    ("En la mañana del 8 de enero, el Departamento celebró", "es", datetime(2026, 1, 8, 15), date(2026, 1, 8)),
])
def test_resolver_formats(vocabulary: Vocabulary, text: str, language: str, published: datetime,
                          expected: date) -> None:
    assert _resolve(vocabulary, text, language, published.replace(tzinfo=TZ)) == expected


def test_resolver_year_rollover(vocabulary: Vocabulary) -> None:
    january = datetime(2026, 1, 3, 9, tzinfo=TZ)
    # A December date in a January article is last year's.
    assert _resolve(vocabulary, "Chiều 28/12, Ban Tuyên giáo tổng kết", "vi", january) == date(2025, 12, 28)
    assert _resolve(vocabulary, "On December 30, the province held", "en", january) == date(2025, 12, 30)
    # A date a few days after a late-December publication announces next January's meeting ...
    assert _resolve(vocabulary, "Sáng 2/1, hội nghị", "vi", datetime(2025, 12, 30, 9, tzinfo=TZ)) == date(2026, 1, 2)
    # ... and a date a few days after publication in mid-year is this year's, not last year's.
    assert _resolve(vocabulary, "Sáng 15/6, hội nghị", "vi", datetime(2025, 6, 10, 9, tzinfo=TZ)) == date(2025, 6, 15)
    # Reports mostly follow events: half a year ahead loses to half a year behind.
    assert _resolve(vocabulary, "Sáng 1/1, hội nghị", "vi", datetime(2025, 7, 1, 9, tzinfo=TZ)) == date(2025, 1, 1)
    # An explicit year wins.
    assert _resolve(vocabulary, "Ngày 12/1/2024, hội nghị", "vi", january) == date(2024, 1, 12)


def test_resolver_uses_the_local_day(vocabulary: Vocabulary) -> None:
    # 20:00 UTC on 2 March is 03:00 on 3 March in Vietnam.
    published = datetime(2025, 3, 2, 20, tzinfo=ZoneInfo("UTC"))
    assert _resolve(vocabulary, "Sáng nay, hội nghị khai mạc", "vi", published) == date(2025, 3, 3)


def test_resolver_without_publication_date_or_date(vocabulary: Vocabulary) -> None:
    text = "On February 11, the committee held a conference to review 2024 and deploy tasks for 2025."
    assert _resolve(vocabulary, text, "en", None) == date(2025, 2, 11)
    assert _resolve(vocabulary, "Hôm nay, hội nghị", "vi", None) is None
    assert _resolve(vocabulary, "GRDP tăng 7.4% so với cùng kỳ", "vi", datetime(2025, 3, 3, tzinfo=TZ)) is None
    assert _resolve(vocabulary, "Sáng 5/6, hội nghị", None, datetime(2025, 6, 6, tzinfo=TZ)) == date(2025, 6, 5)


def _zh(title: str, text: str) -> ReportText:
    return ReportText("t:zh", None, title, "", text, datetime(2026, 9, 5, 12, tzinfo=TZ))


def test_cjk_boundaries(detector: ConferenceDetector) -> None:
    # 会议室 (meeting room) and 会议中心 are furniture and venues, not events.
    assert detector.detect(_zh("新会议室投入使用", "省会议中心的会议室已完成改造,配备新桌椅。")) is None
    # A latin word glued to CJK characters still matches: \b sees no boundary between "行" and "c".
    assert re.search(r"\bconference\b", "省委举行conference,总结") is None
    assert word_regex(["conference"], "latin").search("省委举行conference,总结") is not None
    assert word_regex(["conference"], "latin").search("teleconferences") is None
    glued = ReportText("t:en", "en", "Province holds conference", "",
                       "On September 5,省委held a conference to review the year.\n会议概况Conference scene.",
                       datetime(2026, 9, 5, 12, tzinfo=TZ))
    record = detector.detect(glued)
    assert record is not None
    assert "Conference scene" in record.matched
    record = detector.detect(_zh("义安省召开会议", "9月5日上午,义安省人民委员会召开会议,总结工作。会议概况。"))
    assert record is not None
    assert record.province == "Nghệ An"
    assert record.date == date(2026, 9, 5)


def test_unknown_language_is_guessed(detector: ConferenceDetector) -> None:
    report = ReportText("t:none", None, "Hội nghị tổng kết công tác tuyên giáo năm 2025",
                        "", "Sáng 8/1, Ban Tuyên giáo Tỉnh ủy Nghệ An tổ chức hội nghị tổng kết công tác năm 2025.",
                        datetime(2026, 1, 8, 11, tzinfo=TZ))
    record = detector.detect(report)
    assert record is not None
    assert record.date == date(2026, 1, 8)
    assert record.organizer == "Ban Tuyên giáo Tỉnh ủy Nghệ An"
    assert record.type == "conference"


def test_retrospective_mentions_are_not_reports(detector: ConferenceDetector) -> None:
    published = datetime(2026, 9, 5, 12, tzinfo=TZ)
    feature = ReportText("t:f", "vi", "Người báo cáo viên ở bản Mông", "",
                         "Tại hội nghị tổng kết hồi tháng 1/2025, cách làm của anh được biểu dương.", published)
    assert detector.detect(feature) is None
    stale = ReportText("t:s", "vi", "Hội nghị tổng kết năm 2023", "",
                       "Ngày 12/1/2024, Ban Tuyên giáo Tỉnh ủy tổ chức hội nghị tổng kết công tác năm 2023.", published)
    assert detector.detect(stale) is None


def test_extra_vocabulary_extends_a_language(tmp_path: Path) -> None:
    (tmp_path / "vi.toml").write_text('language = "vi"\n[events]\nconference = ["hội nghị bàn tròn"]\n', "utf-8")
    vocabulary = load_vocabulary([tmp_path])
    vi = vocabulary.language("vi")
    assert vi is not None
    words = {w for w, _ in vi.events}
    assert "hội nghị bàn tròn" in words
    assert "hội nghị" in words


@pytest.mark.parametrize("content", [
    'language = "vi"\n[events]\nparty = ["tiệc"]\n',
    'language = "vi"\n[dates]\nmonths = [["tháng 1"]]\n',
    'language = "vi"\n[cues]\ntitle_patterns = ["(unclosed"]\n',
    'language = "vi"\n[events\n',
])
def test_bad_vocabulary_file_raises(tmp_path: Path, content: str) -> None:
    (tmp_path / "bad.toml").write_text(content, "utf-8")
    with pytest.raises(VocabularyError) as error:
        load_vocabulary([tmp_path])
    assert "bad.toml" in error.value.path
