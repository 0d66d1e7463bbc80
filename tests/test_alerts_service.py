"""The alerts cycle over a real archive: one event per conference however many editions report it,
one alert per event and channel, a failing channel catching up when it recovers."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from alerts.channels import Channel, ConsoleChannel, build_channel
from alerts.delivery import RetryPolicy
from alerts.detect import ConferenceDetector
from alerts.model import EventRecord, ReportText
from alerts.rules import WatchRule
from alerts.service import AlertOptions, AlertService
from alerts.vocabulary import load_vocabulary
from storage import Archive, PageRecord
from storage import events as store
from tests.receivers import HttpReceiver, serve_http

PUBLISHED = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)  # 10:00 in Vietnam
LATER = PUBLISHED + timedelta(hours=1)


def vi_conference() -> PageRecord:
    return PageRecord(
        url="https://baonghean.vn/chinh-tri/hoi-nghi-tong-ket-cong-tac-tuyen-giao-nam-2026-10400001.html",
        canonical_url="https://baonghean.vn/chinh-tri/hoi-nghi-tong-ket-cong-tac-tuyen-giao-nam-2026-10400001.html",
        source="nghean", language="vi", published_at=PUBLISHED, images=("bna_tuyengiao_2026.jpg",),
        title="Hội nghị tổng kết công tác tuyên giáo năm 2026, triển khai nhiệm vụ năm 2027",
        description="Sáng 5/12, Ban Tuyên giáo và Dân vận Tỉnh ủy Nghệ An tổ chức Hội nghị tổng kết công tác "
                    "tuyên giáo năm 2026, triển khai nhiệm vụ năm 2027.",
        text="Sáng 5/12, Ban Tuyên giáo và Dân vận Tỉnh ủy Nghệ An tổ chức Hội nghị tổng kết công tác tuyên giáo "
             "năm 2026, triển khai nhiệm vụ năm 2027. Đồng chí Nguyễn Văn Thông - Phó Bí thư Thường trực Tỉnh ủy "
             "dự và chỉ đạo hội nghị.\nNăm 2026, toàn tỉnh tổ chức 1.245 buổi sinh hoạt chuyên đề, thu hút "
             "hơn 86.000 lượt đảng viên tham gia; 372 tin bài phản bác quan điểm sai trái được đăng tải.\n"
             "Quang cảnh hội nghị. Ảnh: Thành Duy\nHội nghị đã khen thưởng 24 tập thể và 31 cá nhân.",
    )


def en_translation() -> PageRecord:
    return PageRecord(
        url="https://baonghean.vn/en/hoi-nghi-tong-ket-cong-tac-tuyen-giao-nam-2026-10400001.html",
        canonical_url="https://baonghean.vn/en/hoi-nghi-tong-ket-cong-tac-tuyen-giao-nam-2026-10400001.html",
        source="nghean", language="en", published_at=PUBLISHED + timedelta(hours=3),
        images=("bna_tuyengiao_2026.jpg",),
        title="Nghe An holds conference to review propaganda work in 2026 and deploy tasks for 2027",
        description="On the morning of December 5, the Propaganda and Mass Mobilization Commission of the Nghe An "
                    "Provincial Party Committee held a conference to review its work in 2026 and deploy tasks "
                    "for 2027.",
        text="On the morning of December 5, the Propaganda and Mass Mobilization Commission of the Nghe An "
             "Provincial Party Committee held a conference to review its work in 2026 and deploy tasks for 2027.\n"
             "In 2026 the province held 1,245 thematic sessions attended by more than 86,000 party members; "
             "372 articles refuting wrong views were published.\nConference scene. Photo: Thanh Duy\n"
             "The conference rewarded 24 collectives and 31 individuals.",
    )


def other_conference_same_day() -> PageRecord:
    return PageRecord(
        url="https://baonghean.vn/kinh-te/ubnd-tinh-hop-phien-thuong-ky-thang-11-10400002.html",
        canonical_url="https://baonghean.vn/kinh-te/ubnd-tinh-hop-phien-thuong-ky-thang-11-10400002.html",
        source="nghean", language="vi", published_at=PUBLISHED + timedelta(hours=2), images=("bna_ubnd_1125.jpg",),
        title="UBND tỉnh Nghệ An họp phiên thường kỳ tháng 11/2026",
        description="Chiều 5/12, UBND tỉnh Nghệ An họp phiên thường kỳ tháng 11 để đánh giá tình hình kinh tế - "
                    "xã hội. Đồng chí Hồ Văn Tâm - Chủ tịch UBND tỉnh chủ trì phiên họp.",
        text="Chiều 5/12, UBND tỉnh Nghệ An họp phiên thường kỳ tháng 11 để đánh giá tình hình kinh tế - xã hội "
             "11 tháng. Đồng chí Hồ Văn Tâm - Chủ tịch UBND tỉnh chủ trì phiên họp.\nThu ngân sách 11 tháng đạt "
             "19.870 tỷ đồng, bằng 96% dự toán; giải ngân vốn đầu tư công đạt 78,4% kế hoạch.",
    )


def football() -> PageRecord:
    return PageRecord(
        url="https://baonghean.vn/the-thao/song-lam-nghe-an-thang-ha-noi-10400003.html",
        canonical_url="https://baonghean.vn/the-thao/song-lam-nghe-an-thang-ha-noi-10400003.html",
        source="nghean", language="vi", published_at=PUBLISHED, title="Sông Lam Nghệ An thắng Hà Nội 2-0",
        text="Tối 4/12, Sông Lam Nghệ An thắng Hà Nội 2-0 trên sân Vinh trước 15.000 khán giả. Đình Bắc ghi bàn "
             "ở phút 34 và phút 80, giúp đội bóng xứ Nghệ vươn lên thứ 4 trên bảng xếp hạng.",
    )


@pytest.fixture
def hook() -> Iterator[HttpReceiver]:
    yield from serve_http()


def make_service(archive: Archive, channels: dict[str, Channel], rules: tuple[WatchRule, ...] = (),
                 detector: ConferenceDetector | None = None) -> AlertService:
    options = AlertOptions(rules=rules or (WatchRule(),),
                           retry=RetryPolicy(base_delay=timedelta(minutes=1), max_delay=timedelta(hours=1)))
    return AlertService(archive, detector or ConferenceDetector(load_vocabulary()), options, channels)


def test_one_event_and_one_alert_per_channel_across_editions(archive: Archive, hook: HttpReceiver) -> None:
    console = io.StringIO()
    channels = {"hook": build_channel(f"json://{hook.url_base}/alerts"), "console": ConsoleChannel(console)}
    service = make_service(archive, channels)
    for record in (vi_conference(), en_translation(), other_conference_same_day(), football()):
        archive.archive_page(record)
    detection, delivery = service.cycle(LATER)
    assert detection.read == 4
    assert detection.detected == 3
    assert detection.events == 2, "the translation joins the Vietnamese report's event"
    assert delivery.sent == 4
    with archive.session() as session:
        events = store.load_events(session)
    assert len(events) == 2
    first = next(e for e in events if e.first_url == vi_conference().url)
    assert [r.language for r in first.reports] == ["vi", "en"]
    assert first.alerted
    assert "rule 'every conference'" in (first.alert_reason or "")
    assert str(first.event_date) == "2026-12-05"
    payloads = hook.payloads()
    assert len(payloads) == 2
    assert any(vi_conference().url in p["message"] and en_translation().url in p["message"] for p in payloads)
    assert console.getvalue().count("Idempotency-Key") == 2
    # Running the cycle again reads nothing new and sends nothing twice.
    again, delivered = service.cycle(LATER + timedelta(hours=1))
    assert (again.read, delivered.sent) == (0, 0)
    assert len(hook.payloads()) == 2


def test_export_carries_event_and_alerted(archive: Archive) -> None:
    service = make_service(archive, {})
    archive.archive_page(vi_conference())
    archive.archive_page(football())
    service.cycle(LATER)
    rows = {row["url"]: row for row in archive.iter_export(UTC)}
    conference = rows[vi_conference().url]
    assert conference["event"]["type"] == "conference"
    assert conference["event"]["date"] == "2026-12-05"
    assert conference["alerted"] is True
    assert rows[football().url]["event"] is None
    assert rows[football().url]["alerted"] is False


def test_failing_channel_gets_its_alerts_when_it_recovers(archive: Archive, hook: HttpReceiver) -> None:
    hook.status = 500
    working = io.StringIO()
    service = make_service(archive, {"hook": build_channel(f"json://{hook.url_base}/a?cto=2&rto=2"),
                                     "console": ConsoleChannel(working)})
    archive.archive_page(vi_conference())
    _, delivery = service.cycle(LATER)
    assert (delivery.sent, delivery.failed) == (1, 1), "the console is not held up by the failing hook"
    _, early = service.cycle(LATER + timedelta(seconds=30))
    assert (early.failed, early.sent) == (0, 0), "nothing is retried before its backoff is over"
    hook.status = 200
    _, recovered = service.cycle(LATER + timedelta(minutes=2))
    assert recovered.sent == 1
    assert len(hook.payloads()) == 1
    assert working.getvalue().count("Idempotency-Key") == 1
    with archive.session() as session:
        rows = store.deliveries(session)
    assert sorted((r.channel, r.status, r.attempts) for r in rows) == [("console", "sent", 1), ("hook", "sent", 2)]


def test_watch_rules_filter_and_explain(archive: Archive) -> None:
    rules = (WatchRule(name="council only", types=("meeting", "council_session"), provinces=("nghe an",)),)
    service = make_service(archive, {"console": ConsoleChannel(io.StringIO())}, rules)
    archive.archive_page(vi_conference())
    archive.archive_page(other_conference_same_day())
    service.cycle(LATER)
    with archive.session() as session:
        events = {e.first_url: e for e in store.load_events(session, alerted_only=False)}
    assert not events[vi_conference().url].alerted
    assert events[vi_conference().url].alert_reason == "no watch rule matched"
    meeting = events[other_conference_same_day().url]
    assert meeting.alerted, meeting.alert_reason
    assert "council only" in (meeting.alert_reason or "")
    assert "province nghe an" in (meeting.alert_reason or "")


def test_seed_events_do_not_alert(archive: Archive) -> None:
    seed = PageRecord(**{**vi_conference().__dict__, "url": "seed:tuyen-giao.txt", "canonical_url": "seed:tuyen-giao",
                         "is_seed": True, "images": ()})
    service = make_service(archive, {"console": ConsoleChannel(io.StringIO())})
    archive.archive_page(seed)
    archive.archive_page(vi_conference())  # an exact copy of the seed on the site
    detection, delivery = service.cycle(LATER)
    assert (detection.events, detection.alerted, delivery.sent) == (1, 0, 0)
    with archive.session() as session:
        (event,) = store.load_events(session)
    assert (event.alert_reason or "").startswith("seed corpus")
    assert len(event.reports) == 2


class LinkingWhileReading(ConferenceDetector):
    """A detector during whose first reading a crawl's write links the report being read into another
    story's group: the window between the batch's read of the report and its own transaction."""

    def __init__(self, archive: Archive, edit: PageRecord) -> None:
        super().__init__(load_vocabulary())
        self.archive, self.edit, self.written = archive, edit, False

    def detect(self, report: ReportText) -> EventRecord | None:
        if report.url == self.edit.url and not self.written:
            self.written = True
            self.archive.archive_page(self.edit)
        return super().detect(report)


def test_a_report_linked_into_an_evented_group_meanwhile_joins_that_event(archive: Archive) -> None:
    paper_id = archive.archive_page(vi_conference()).item_id
    make_service(archive, {}).cycle(LATER)
    portal_url = "https://portal.example/tin/hoi-nghi-tong-ket-10400001.html"
    first = replace(other_conference_same_day(), url=portal_url, canonical_url=portal_url, source="portal")
    portal_id = archive.archive_page(first).item_id
    # While detection reads the portal's first version, the portal's edit makes it a copy of the paper's report.
    republished = replace(vi_conference(), url=portal_url, canonical_url=portal_url, source="portal")
    service = make_service(archive, {}, detector=LinkingWhileReading(archive, republished))
    service.cycle(LATER)
    service.cycle(LATER)
    with archive.session() as session:
        events = store.load_events(session, alerted_only=False)
        assert store.group_root_now(session, portal_id) == paper_id, "the edit links the portal's copy to the paper"
    assert [sorted(r.url for r in e.reports) for e in events] == [sorted([vi_conference().url, portal_url])]


def test_an_event_read_first_from_a_lower_ranked_report_is_told_by_the_original(archive: Archive) -> None:
    """The translation names no province; its original, read in a later cycle, does: the event
    takes every field of the original's telling, as it would had the original arrived first."""
    english = en_translation()
    vague = replace(english, title="Conference reviews propaganda work in 2026 and deploys tasks for 2027",
                    description=None, text=english.text.replace("of the Nghe An Provincial", "of the Provincial"))
    archive.archive_page(vague)
    make_service(archive, {}).cycle(LATER)
    with archive.session() as session:
        (founded,) = store.load_events(session)
    assert founded.province is None, "the translation alone should not tell the province"
    archive.archive_page(vi_conference())
    make_service(archive, {}).cycle(LATER)
    with archive.session() as session:
        (event,) = store.load_events(session)
    assert event.first_url == vi_conference().url
    assert (event.province, event.title, str(event.event_date)) == ("Nghệ An", vi_conference().title, "2026-12-05")
