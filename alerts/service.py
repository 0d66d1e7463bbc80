"""The alerts cycle: read new items, detect conferences, attach reports to events, queue one alert per
event and channel, deliver what is due. Run after every crawl; safe to run at any moment again."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from alerts import events as event_mod
from alerts.channels import Channel
from alerts.delivery import DeliveryReport, RetryPolicy, deliver_due
from alerts.detect import ConferenceDetector
from alerts.model import EventRecord, ReportText
from alerts.outbox import ArchiveOutbox
from alerts.rules import DEFAULT_RULES, WatchRule, first_match
from storage import Archive
from storage import events as store
from storage.models import utcnow

logger = logging.getLogger(__name__)

# Reasons that end an event's chance to alert; "no rule" may still change when another report comes.
NO_RULE = "no watch rule matched"
SEED_REASON = "seed corpus: known before newswatch watched, not a new report"


@dataclass(frozen=True)
class AlertOptions:
    rules: tuple[WatchRule, ...] = DEFAULT_RULES
    max_age_s: int | None = None  # reports published longer before they were found do not alert
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    batch: int = 200


@dataclass
class DetectionReport:
    read: int = 0
    detected: int = 0
    events: int = 0
    attached: int = 0
    alerted: int = 0
    queued: int = 0


def idempotency_key(first_url: str, channel: str) -> str:
    """Stable for an event and a channel across processes and re-runs."""
    return hashlib.sha256(f"{first_url}\n{channel}".encode()).hexdigest()[:40]


def report_text(pending: store.PendingReport) -> ReportText:
    return ReportText(url=pending.url, language=pending.language, title=pending.title, lead=pending.lead,
                      text=pending.text, published_at=pending.published_at)


class AlertService:
    """Detection, events and delivery over one archive, with the user's rules and channels."""

    def __init__(self, archive: Archive, detector: ConferenceDetector, options: AlertOptions,
                 channels: Mapping[str, Channel]) -> None:
        self.archive = archive
        self.detector = detector
        self.options = options
        self.channels = dict(channels)
        self.outbox = ArchiveOutbox(archive, list(self.channels))

    def detect_pending(self, now: datetime | None = None) -> DetectionReport:
        """Read every item detection has not read (in its current version)."""
        report = DetectionReport()
        after = 0
        while True:
            with self.archive.session() as session:
                batch = store.pending_reports(session, self.options.batch, after_id=after)
            if not batch:
                return report
            for pending in batch:
                self._process(pending, now or utcnow(), report)
            after = max(pending.item_id for pending in batch)

    def _process(self, pending: store.PendingReport, now: datetime, report: DetectionReport) -> None:
        text = report_text(pending)
        record = self.detector.detect(text)
        report.read += 1
        with self.archive.session() as session:
            store.lock_events(session)
            if record is not None:
                report.detected += 1
                self._attach(session, pending, record, text, now=now, report=report)
            store.record_check(session, pending.item_id, pending.version, record is not None)

    def _attach(self, session: Session, pending: store.PendingReport, record: EventRecord, text: ReportText, *,
                now: datetime, report: DetectionReport) -> None:
        if store.refresh_report(session, pending.item_id, event_mod.item_event_fields(record)):
            return  # an edited report stays with its event
        assignment = event_mod.assign(session, pending, record)
        report.events += assignment.created
        report.attached += not assignment.created
        alerted, reason = store.event_state(session, assignment.event_id)
        if alerted or (reason is not None and reason != NO_RULE):
            return
        reason = self._why(pending, record, text, now, assignment.created)
        fires = reason is not None and not reason.startswith(("seed corpus", "not new"))
        store.set_alert_reason(session, assignment.event_id, reason or NO_RULE, fires)
        if fires:
            report.alerted += 1
            first_url = store.first_report_url(session, assignment.event_id) or pending.url
            for name in self.channels:
                report.queued += store.enqueue(session, assignment.event_id, name, idempotency_key(first_url, name),
                                               now)
            logger.info("alert for event %s (%s): %s", assignment.event_id, pending.url, reason)

    def _why(self, pending: store.PendingReport, record: EventRecord, text: ReportText, now: datetime,
             created: bool) -> str | None:
        if pending.is_seed and created:
            return SEED_REASON
        if self.options.max_age_s is not None and pending.published_at is not None:
            age = now - pending.published_at
            if age > timedelta(seconds=self.options.max_age_s):
                return f"not new: published {age.days} days before it was found"
        return first_match(self.options.rules, record, text)

    def deliver(self, now: datetime | None = None) -> DeliveryReport:
        return deliver_due(self.outbox, self.channels, now or utcnow(), self.options.retry)

    def cycle(self, now: datetime | None = None) -> tuple[DetectionReport, DeliveryReport]:
        """Detect, then deliver: what runs after every crawl."""
        detected = self.detect_pending(now)
        return detected, self.deliver(now)

    def retry(self, channel: str | None = None, now: datetime | None = None) -> tuple[int, DeliveryReport]:
        """Make undelivered alerts (also those given up) due now and deliver them."""
        moment = now or utcnow()
        with self.archive.session() as session:
            count = store.retry_deliveries(session, moment, channel)
        return count, self.deliver(moment)
