"""The alerts package's exceptions: one base, each carrying its subject."""

from __future__ import annotations


class AlertsError(Exception):
    """Base of every error the alerts package raises."""


class VocabularyError(AlertsError):
    """A vocabulary file that cannot be read or holds an invalid entry."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"vocabulary {path}: {reason}")
        self.path = path
        self.reason = reason


class ChannelError(AlertsError):
    """A notification channel that cannot be built from its URL, or that failed to deliver."""

    def __init__(self, channel: str, reason: str) -> None:
        super().__init__(f"channel {channel}: {reason}")
        self.channel = channel
        self.reason = reason
