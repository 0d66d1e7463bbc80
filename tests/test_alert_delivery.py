"""Alert delivery against real local receivers: an SMTP server, HTTP webhooks, feed files.

Nothing here mocks Apprise: messages really travel over loopback sockets. The one fake is the
outbox store, a boundary the project owns.
"""

from __future__ import annotations

import email
import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from email import policy as email_policy
from pathlib import Path
from typing import Any

import feedparser
import pytest

from alerts.atom import AtomFileChannel, entry_id, render_alerts_feed
from alerts.channels import AppriseChannel, Channel, ConsoleChannel, build_channel
from alerts.delivery import Delivery, DeliveryReport, RetryPolicy, deliver_due
from alerts.errors import ChannelError
from alerts.message import render, to_json
from alerts.model import AlertMessage
from tests.receivers import HttpReceiver, SmtpReceiver, free_port, serve_http, serve_smtp

# Small apprise socket timeouts: a broken receiver must fail a test quickly, not hang it.
FAST = "cto=2&rto=2"
T0 = datetime(2025, 1, 7, 8, 0, tzinfo=UTC)


def make_message(n: int = 1, **changes: Any) -> AlertMessage:
    message = AlertMessage(
        event_id=n,
        idempotency_key=f"event-{n}:channel-test",
        title=f"Hội nghị tổng kết công tác năm 2024 số {n}",
        source="baonghean.vn",
        link=f"https://baonghean.vn/hoi-nghi-{n}.html",
        event_type="conference",
        event_date=date(2024, 11, 13),
        place="Vinh",
        organizer="Ban Tuyên giáo Tỉnh ủy",
        why="rule title:hội nghị; matched: Hội nghị, tổng kết",
        detected_at=T0 + timedelta(minutes=n),
        editions=(("vi", f"https://baonghean.vn/hoi-nghi-{n}.html"), ("en", f"https://en.baonghean.vn/c-{n}.html")),
    )
    return replace(message, **changes)


# --- receivers (real servers on loopback: tests/receivers.py) ----------------------------------------------


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    yield from serve_http()


@pytest.fixture
def second_receiver() -> Iterator[HttpReceiver]:
    yield from serve_http()


@pytest.fixture
def smtp_receiver() -> Iterator[SmtpReceiver]:
    yield from serve_smtp()


# --- message rendering ---------------------------------------------------------------------------------------


def test_rendering_carries_every_fact_and_the_idempotency_key() -> None:
    message = make_message(3, title="Hội nghị\n  *quan trọng*")
    rendered = render(message)
    assert rendered.title == "Conference: Hội nghị *quan trọng*"
    for body in (rendered.text, rendered.markdown):
        for fact in ("baonghean.vn", "2024-11-13", "Vinh", "Ban Tuyên giáo Tỉnh ủy", "rule title:hội nghị",
                     "https://baonghean.vn/hoi-nghi-3.html", "https://en.baonghean.vn/c-3.html",
                     "Idempotency-Key", "event-3:channel-test"):
            assert fact in body, (fact, body)
    assert "Idempotency-Key: event-3:channel-test" in rendered.text.splitlines()[-1]
    # Scraped asterisks must not become emphasis.
    assert r"\*quan trọng\*" in rendered.markdown


def test_to_json_is_plain_and_stable() -> None:
    data = to_json(make_message(2, detected_at=datetime(2025, 1, 7, 8, 2)))
    assert json.loads(json.dumps(data)) == data
    assert data["event_date"] == "2024-11-13"
    assert data["detected_at"] == "2025-01-07T08:02:00+00:00"  # naive is UTC
    assert data["editions"][1] == {"language": "en", "url": "https://en.baonghean.vn/c-2.html"}
    assert sorted(data) == sorted(["event_id", "idempotency_key", "title", "source", "link", "event_type",
                                   "event_date", "place", "organizer", "why", "detected_at", "editions"])


# --- channels ------------------------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # aiosmtpd's own Session.login_data
def test_mailto_delivers_over_plain_smtp(smtp_receiver: SmtpReceiver) -> None:
    url = (f"mailto://user:s3cret@127.0.0.1:{smtp_receiver.port}"
           f"?to=analyst@example.org&from=newswatch@example.org&{FAST}")
    channel = build_channel(url)
    assert "s3cret" not in channel.name
    channel.send(make_message(1))

    [(mail_from, rcpt_tos, raw)] = smtp_receiver.received
    assert (mail_from, rcpt_tos) == ("newswatch@example.org", ["analyst@example.org"])
    mail = email.message_from_bytes(raw, policy=email_policy.default)
    assert mail["Subject"] == "Conference: Hội nghị tổng kết công tác năm 2024 số 1"
    body = mail.get_body(("plain", "html"))
    assert body is not None
    content = body.get_content()
    for fact in ("https://baonghean.vn/hoi-nghi-1.html", "rule title:hội nghị", "event-1:channel-test"):
        assert fact in content


def test_mailto_with_wrong_password_is_a_channel_error(smtp_receiver: SmtpReceiver) -> None:
    channel = build_channel(f"mailto://user:wrong@127.0.0.1:{smtp_receiver.port}?to=a@example.org&from=nw@example.org&{FAST}")
    with pytest.raises(ChannelError) as caught:
        channel.send(make_message())
    assert caught.value.reason
    assert "wrong" not in str(caught.value)
    assert smtp_receiver.received == []


def test_json_webhook_posts_the_alert(http_receiver: HttpReceiver) -> None:
    channel = build_channel(f"json://hook:t0ken@{http_receiver.url_base}/alerts?{FAST}")
    assert channel.name == f"json://hook:****@{http_receiver.url_base}/alerts"
    channel.send(make_message(5))

    [(path, headers, _)] = http_receiver.requests
    [payload] = http_receiver.payloads()
    assert path == "/alerts"
    assert headers["Authorization"].startswith("Basic ")
    assert payload["title"] == "Conference: Hội nghị tổng kết công tác năm 2024 số 5"
    for fact in ("https://baonghean.vn/hoi-nghi-5.html", "Idempotency-Key: event-5:channel-test", "Vinh"):
        assert fact in payload["message"]
    assert "**" not in payload["message"]  # a pass-through webhook gets plain text by default


def test_webhook_format_override_sends_markdown(http_receiver: HttpReceiver) -> None:
    build_channel(f"json://{http_receiver.url_base}/md?format=markdown&{FAST}").send(make_message(5))
    [payload] = http_receiver.payloads()
    assert "**Why:**" in payload["message"]
    assert "Idempotency-Key: event-5:channel-test" in payload["message"]


def test_webhook_answering_500_raises_channel_error(http_receiver: HttpReceiver) -> None:
    http_receiver.status = 500
    channel = build_channel(f"json://{http_receiver.url_base}/alerts?{FAST}")
    with pytest.raises(ChannelError) as caught:
        channel.send(make_message())
    assert "500" in caught.value.reason
    assert caught.value.channel == channel.name


def test_unreachable_receiver_raises_channel_error_quickly() -> None:
    channel = build_channel(f"json://127.0.0.1:{free_port()}/x?{FAST}")
    with pytest.raises(ChannelError, match="onnection"):
        channel.send(make_message())


@pytest.mark.parametrize("spec", ["nosuchscheme://user:hunter2@host/x", "json://", "slack://onlyonetoken",
                                  "mailto://"])
def test_invalid_url_fails_at_build_time_in_one_line(spec: str) -> None:
    with pytest.raises(ChannelError) as caught:
        build_channel(spec)
    assert "\n" not in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_build_channel_kinds(tmp_path: Path) -> None:
    assert isinstance(build_channel("console"), ConsoleChannel)
    assert isinstance(build_channel(" console:// "), ConsoleChannel)
    atom = build_channel(f"atom://{tmp_path}/feed.xml?max_entries=7")
    assert isinstance(atom, AtomFileChannel)
    assert atom.max_entries == 7
    assert isinstance(build_channel("json://127.0.0.1:9/x"), AppriseChannel)
    for spec in ("atom://relative/feed.xml", "atom:feed.xml", f"atom://{tmp_path}/f.xml?max_entries=0", ""):
        with pytest.raises(ChannelError):
            build_channel(spec)
    assert all(isinstance(c, Channel) for c in (atom, build_channel("console")))


def test_console_channel_writes_to_its_stream(capsys: pytest.CaptureFixture[str]) -> None:
    stream = io.StringIO()
    build_channel("console", stream=stream).send(make_message(4))
    assert "=== Conference: Hội nghị tổng kết công tác năm 2024 số 4" in stream.getvalue()
    assert "Idempotency-Key: event-4:channel-test" in stream.getvalue()

    build_channel("console://").send(make_message(6))
    assert "event-6:channel-test" in capsys.readouterr().out

    closed = io.StringIO()
    closed.close()
    with pytest.raises(ChannelError):
        ConsoleChannel(closed).send(make_message())


# --- Atom ----------------------------------------------------------------------------------------------------


def test_atom_channel_keeps_a_valid_feed_without_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "feeds" / "alerts.xml"
    channel = AtomFileChannel(path, max_entries=3)
    for n in (1, 2):
        channel.send(make_message(n))
    channel.send(make_message(1, place="Nghệ An"))  # the same alert again, corrected

    feed = feedparser.parse(path.read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert [e.id for e in feed.entries] == [entry_id("event-2:channel-test"), entry_id("event-1:channel-test")]
    assert "Nghệ An" in feed.entries[1].content[0].value
    assert feed.entries[0].link == "https://baonghean.vn/hoi-nghi-2.html"
    assert feed.entries[0].title == "Conference: Hội nghị tổng kết công tác năm 2024 số 2"

    for n in (3, 4, 5):
        channel.send(make_message(n))
    feed = feedparser.parse(path.read_bytes())
    assert [e.id for e in feed.entries] == [entry_id(f"event-{n}:channel-test") for n in (5, 4, 3)]
    assert [p.name for p in path.parent.iterdir()] == ["alerts.xml"]  # no temp files left behind


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE feed [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
 <!ENTITY xxe SYSTEM "file:///etc/passwd">
]>
<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:x</id><title>&lol9;</title>
<entry><id>urn:evil</id><title>&xxe;</title><updated>2025-01-01T00:00:00+00:00</updated></entry></feed>
"""


@pytest.mark.parametrize("content", [BILLION_LAUGHS, b"<feed", b"\x00\xff not xml", b"<rss version='2.0'/>"])
def test_hostile_or_corrupt_feed_file_is_replaced_with_a_warning(
        tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "alerts.xml"
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="alerts.atom"):
        AtomFileChannel(path).send(make_message(1))
    assert any("unusable" in r.getMessage() for r in caplog.records)
    data = path.read_bytes()
    assert b"ENTITY" not in data
    assert b"root:" not in data
    feed = feedparser.parse(data)
    assert not feed.bozo
    assert [e.id for e in feed.entries] == [entry_id("event-1:channel-test")]


def test_render_alerts_feed_for_the_dashboard() -> None:
    messages = [make_message(1), make_message(3), make_message(2), make_message(3)]
    data = render_alerts_feed(messages, "urn:newswatch:dashboard", "Alerts", "http://127.0.0.1:8080/alerts")
    feed = feedparser.parse(data)
    assert not feed.bozo
    assert feed.feed.title == "Alerts"
    assert [e.id for e in feed.entries] == [entry_id(f"event-{n}:channel-test") for n in (3, 2, 1)]
    assert not feedparser.parse(render_alerts_feed([], "urn:x", "Empty", "http://x/")).bozo


# --- the delivery loop ---------------------------------------------------------------------------------------


@dataclass
class Row:
    delivery: Delivery
    next_attempt_at: datetime | None
    sent_at: datetime | None = None
    errors: list[str] = field(default_factory=list)


class MemoryOutbox:
    """The OutboxStore contract over a dict, as storage implements it over a table."""

    def __init__(self) -> None:
        self.rows: dict[int, Row] = {}

    def add(self, channel_key: str, message: AlertMessage, due: datetime) -> int:
        delivery_id = len(self.rows) + 1
        self.rows[delivery_id] = Row(Delivery(delivery_id, channel_key, message.idempotency_key, 0, message), due)
        return delivery_id

    def due_deliveries(self, now: datetime, limit: int) -> list[Delivery]:
        due = [r for r in self.rows.values()
               if r.sent_at is None and r.next_attempt_at is not None and r.next_attempt_at <= now]
        due.sort(key=lambda r: (r.next_attempt_at or now, r.delivery.id))
        return [r.delivery for r in due[:limit]]

    def mark_sent(self, delivery_id: int, now: datetime) -> None:
        self.rows[delivery_id].sent_at = now

    def mark_failed(self, delivery_id: int, error: str, next_attempt_at: datetime | None) -> None:
        row = self.rows[delivery_id]
        row.errors.append(error)
        row.next_attempt_at = next_attempt_at
        row.delivery = replace(row.delivery, attempts=row.delivery.attempts + 1)


class ExplodingChannel:
    name = "exploding"

    def send(self, message: AlertMessage) -> None:
        raise RuntimeError("a bug in a channel")


def test_failing_channel_backs_off_and_delivers_after_recovery(
        http_receiver: HttpReceiver, second_receiver: HttpReceiver) -> None:
    good, flaky = http_receiver, second_receiver
    flaky.status = 500
    channels: dict[str, Channel] = {
        "good": build_channel(f"json://{good.url_base}/ok?{FAST}"),
        "flaky": build_channel(f"json://{flaky.url_base}/down?{FAST}"),
        "buggy": ExplodingChannel(),
    }
    policy = RetryPolicy(base_delay=timedelta(seconds=30), factor=2.0, max_delay=timedelta(minutes=10),
                         max_attempts=None)
    outbox = MemoryOutbox()
    messages = [make_message(n) for n in (1, 2, 3)]
    for message in messages:
        for key in ("flaky", "good", "buggy"):
            outbox.add(key, message, T0)
    orphan = outbox.add("removed", make_message(9), T0)

    report = deliver_due(outbox, channels, T0, policy)
    assert (report.channels["good"].sent, report.channels["flaky"].failed, report.channels["buggy"].failed) == (3, 3, 3)
    assert report.unknown_channel == 1
    assert report.sent == 3
    assert report.attempted == 9
    assert sorted(p["message"].split("Idempotency-Key: ")[1].strip() for p in good.payloads()) == \
        sorted(m.idempotency_key for m in messages)
    assert outbox.rows[orphan].next_attempt_at == T0
    assert outbox.rows[orphan].errors == []

    flaky_rows = [r for r in outbox.rows.values() if r.delivery.channel_key == "flaky"]
    assert {r.next_attempt_at for r in flaky_rows} == {T0 + timedelta(seconds=30)}
    assert all("500" in r.errors[0] for r in flaky_rows)
    assert all("RuntimeError: a bug in a channel" in r.errors[0]
               for r in outbox.rows.values() if r.delivery.channel_key == "buggy")

    # Not due yet: nothing is attempted again.
    assert deliver_due(outbox, channels, T0 + timedelta(seconds=10), policy).attempted == 0

    t1 = T0 + timedelta(seconds=30)
    report = deliver_due(outbox, channels, t1, policy)
    assert report.channels["flaky"].failed == 3
    assert "good" not in report.channels
    assert {r.next_attempt_at for r in flaky_rows} == {t1 + timedelta(seconds=60)}  # backoff grew

    flaky.status = 200
    requests_before = len(flaky.requests)
    report = deliver_due(outbox, channels, t1 + timedelta(seconds=60), policy)
    assert report.channels["flaky"].sent == 3
    assert all(r.sent_at == t1 + timedelta(seconds=60) for r in flaky_rows)
    delivered = [json.loads(body)["message"] for _, _, body in flaky.requests[requests_before:]]
    assert sorted(m.split("Idempotency-Key: ")[1].strip() for m in delivered) == \
        sorted(m.idempotency_key for m in messages)
    assert len(good.requests) == 3  # the working channel was never sent anything twice

    # The channel comes back into the config: its pending delivery goes out.
    channels["removed"] = ConsoleChannel(io.StringIO())
    report = deliver_due(outbox, channels, t1 + timedelta(seconds=90), policy)
    assert report.channels["removed"].sent == 1


def test_giving_up_after_max_attempts() -> None:
    outbox = MemoryOutbox()
    delivery_id = outbox.add("buggy", make_message(), T0)
    policy = RetryPolicy(base_delay=timedelta(seconds=1), max_delay=timedelta(seconds=1), max_attempts=2)
    channels: dict[str, Channel] = {"buggy": ExplodingChannel()}
    assert deliver_due(outbox, channels, T0, policy).channels["buggy"].failed == 1
    report = deliver_due(outbox, channels, T0 + timedelta(seconds=1), policy)
    assert report.channels["buggy"].given_up == 1
    assert outbox.rows[delivery_id].next_attempt_at is None
    assert deliver_due(outbox, channels, T0 + timedelta(days=1), policy) == DeliveryReport()


def test_retry_policy_backoff_and_validation() -> None:
    policy = RetryPolicy(base_delay=timedelta(seconds=10), factor=3.0, max_delay=timedelta(minutes=5),
                         max_attempts=4)
    assert [policy.delay_after(n).total_seconds() for n in (1, 2, 3, 4, 10_000)] == [10, 30, 90, 270, 300]
    assert policy.next_attempt_at(3, T0) == T0 + timedelta(seconds=90)
    assert policy.next_attempt_at(4, T0) is None
    assert RetryPolicy(max_attempts=None).next_attempt_at(10**6, T0) is not None
    for bad in ({"base_delay": timedelta(0)}, {"factor": 0.5}, {"factor": float("nan")},
                {"max_delay": timedelta(seconds=1)}, {"max_attempts": 0}):
        with pytest.raises(ValueError):
            RetryPolicy(**bad)
