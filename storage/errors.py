"""The storage package's exceptions: one base, each carrying its subject."""

from __future__ import annotations


class StorageError(Exception):
    """Base of every error the archive raises."""


class ArchiveOpenError(StorageError):
    """The archive at `url` cannot be opened or migrated."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot open archive {url}: {reason}")
        self.url = url
        self.reason = reason


class ArchiveWriteError(StorageError):
    """The page at `url` could not be written to the archive: `reason` says why."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot archive {url}: {reason}")
        self.url = url
        self.reason = reason


class SourceNotFoundError(StorageError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no source named {name!r} (see 'newswatch sources list')")
        self.name = name


class SourceExistsError(StorageError):
    def __init__(self, name: str, home_url: str) -> None:
        super().__init__(f"a source named {name!r} already exists with home page {home_url}")
        self.name = name
        self.home_url = home_url


class SearchError(StorageError):
    """The search `query` (the text the user typed) cannot be run: `reason` says why."""

    def __init__(self, query: str, reason: str) -> None:
        shown = query if len(query) <= 80 else query[:77] + "..."
        super().__init__(f"cannot search for {shown!r}: {reason}")
        self.query = query
        self.reason = reason
