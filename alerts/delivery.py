"""The delivery loop: send what the outbox says is due, record the outcome, back off on failure.

Delivery is at least once: a message is sent first and marked sent after, so a crash between the
two sends it again, and receivers drop the repeat by its idempotency key. The outbox itself is
storage's; this module sees it only through ``OutboxStore``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from alerts.channels import Channel
from alerts.errors import ChannelError
from alerts.model import AlertMessage

logger = logging.getLogger(__name__)

# Error texts land in a database column and on the dashboard; a traceback-sized one helps neither.
_MAX_ERROR_CHARS = 1000


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: base_delay, then times factor each failure, never above max_delay.

    ``max_attempts`` counts every attempt, the first included; None retries forever.
    """

    base_delay: timedelta = timedelta(minutes=1)
    factor: float = 2.0
    max_delay: timedelta = timedelta(hours=6)
    max_attempts: int | None = 20

    def __post_init__(self) -> None:
        if self.base_delay <= timedelta(0):
            raise ValueError(f"retry base_delay must be positive, not {self.base_delay}")
        if not (math.isfinite(self.factor) and self.factor >= 1.0):
            raise ValueError(f"retry factor must be a finite number of at least 1, not {self.factor}")
        if self.max_delay < self.base_delay:
            raise ValueError(f"retry max_delay ({self.max_delay}) is below base_delay ({self.base_delay})")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError(f"retry max_attempts must be at least 1 or none, not {self.max_attempts}")

    def delay_after(self, failures: int) -> timedelta:
        """How long to wait after the given number of consecutive failed attempts (1 or more)."""
        if failures < 1:
            raise ValueError(f"failures must be at least 1, not {failures}")
        cap = self.max_delay.total_seconds()
        try:
            seconds = self.base_delay.total_seconds() * self.factor ** (failures - 1)
        except OverflowError:
            seconds = cap
        return timedelta(seconds=min(seconds, cap))

    def next_attempt_at(self, failures: int, now: datetime) -> datetime | None:
        """When to try again after ``failures`` failed attempts; None when the policy gives up."""
        if self.max_attempts is not None and failures >= self.max_attempts:
            return None
        return now + self.delay_after(failures)


@dataclass(frozen=True)
class Delivery:
    """One message owed to one channel, as the outbox holds it."""

    id: int
    channel_key: str  # the config's name for the channel, a key of the channels mapping
    idempotency_key: str
    attempts: int  # attempts already made and failed; 0 for a delivery never tried
    message: AlertMessage


class OutboxStore(Protocol):
    """What the delivery loop needs of the outbox; storage implements it over its table."""

    def due_deliveries(self, now: datetime, limit: int) -> list[Delivery]:
        """Pending deliveries whose next attempt is at or before now, oldest due first."""
        ...

    def mark_sent(self, delivery_id: int, now: datetime) -> None: ...

    def mark_failed(self, delivery_id: int, error: str, next_attempt_at: datetime | None) -> None:
        """Record one more failed attempt; next_attempt_at None means give up for good."""
        ...


@dataclass(frozen=True)
class ChannelCounts:
    sent: int = 0
    failed: int = 0  # failed this time, will be retried
    given_up: int = 0  # failed this time and the policy allows no more attempts
    unknown_channel: int = 0  # the channel is not configured (any more); left pending


@dataclass(frozen=True)
class DeliveryReport:
    """What one pass over the outbox did, per channel key."""

    channels: Mapping[str, ChannelCounts] = field(default_factory=dict)

    @property
    def sent(self) -> int:
        return sum(c.sent for c in self.channels.values())

    @property
    def failed(self) -> int:
        return sum(c.failed for c in self.channels.values())

    @property
    def given_up(self) -> int:
        return sum(c.given_up for c in self.channels.values())

    @property
    def unknown_channel(self) -> int:
        return sum(c.unknown_channel for c in self.channels.values())

    @property
    def attempted(self) -> int:
        return self.sent + self.failed + self.given_up


def deliver_due(store: OutboxStore, channels: Mapping[str, Channel], now: datetime, policy: RetryPolicy,
                limit: int = 500) -> DeliveryReport:
    """Send every due delivery once, in the order the store gives them.

    A failing channel costs only its own deliveries: its errors (ChannelError or anything else it
    raises) are recorded with backoff and the loop goes on. Store errors do propagate: without the
    outbox there is nothing sound to do.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    tallies: dict[str, dict[str, int]] = {}
    for delivery in store.due_deliveries(now, limit):
        tally = tallies.setdefault(delivery.channel_key, dict.fromkeys(_OUTCOMES, 0))
        tally[_deliver_one(store, channels, delivery, now, policy)] += 1
    report = DeliveryReport({key: ChannelCounts(**tally) for key, tally in tallies.items()})
    for key, counts in report.channels.items():
        if counts.unknown_channel:
            logger.warning("%d alert deliveries wait for channel %r, which is not configured",
                           counts.unknown_channel, key)
    if report.channels:
        logger.info("alert delivery: %d sent, %d failed, %d given up, %d for unknown channels",
                    report.sent, report.failed, report.given_up, report.unknown_channel)
    return report


_OUTCOMES = ("sent", "failed", "given_up", "unknown_channel")


def _deliver_one(store: OutboxStore, channels: Mapping[str, Channel], delivery: Delivery, now: datetime,
                 policy: RetryPolicy) -> str:
    """Attempt one delivery and record it; returns which ChannelCounts field it adds to."""
    channel = channels.get(delivery.channel_key)
    if channel is None:
        # Removed from the config, or a typo: keep it owed so restoring the channel delivers it.
        return "unknown_channel"
    try:
        channel.send(delivery.message)
    except ChannelError as exc:
        error = exc.reason
    except Exception as exc:  # a channel bug is one channel's failure, not the loop's
        logger.warning("channel %s raised unexpectedly on delivery %d", channel.name, delivery.id, exc_info=True)
        error = f"{type(exc).__name__}: {exc}"
    else:
        store.mark_sent(delivery.id, now)
        logger.debug("delivered alert %s to %s", delivery.idempotency_key, channel.name)
        return "sent"
    failures = delivery.attempts + 1
    retry_at = policy.next_attempt_at(failures, now)
    store.mark_failed(delivery.id, error[:_MAX_ERROR_CHARS], retry_at)
    if retry_at is None:
        logger.warning("giving up on alert %s to %s after %d attempts: %s",
                       delivery.idempotency_key, channel.name, failures, error)
        return "given_up"
    logger.warning("alert %s to %s failed (attempt %d, retry at %s): %s",
                   delivery.idempotency_key, channel.name, failures, retry_at.isoformat(), error)
    return "failed"
