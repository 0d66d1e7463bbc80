"""The composition root's exceptions: one base, each carrying its subject."""

from __future__ import annotations


class NewswatchError(Exception):
    """Base of the errors the CLI turns into one clear line."""


class ConfigError(NewswatchError):
    """A setting, config file or argument that cannot be used."""


class SourceUnreachableError(NewswatchError):
    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot reach {url}: {reason}")
        self.url = url
        self.reason = reason
