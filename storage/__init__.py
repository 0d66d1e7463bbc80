"""The archive: SQLAlchemy models and migrations, idempotent writes, duplicate links, export."""

from storage.archive import Archive
from storage.errors import ArchiveOpenError, ArchiveWriteError, SourceExistsError, SourceNotFoundError, StorageError
from storage.records import PageRecord, UpsertOutcome, UpsertResult, normalize_text, text_fingerprint

__all__ = [
    "Archive",
    "ArchiveOpenError",
    "ArchiveWriteError",
    "PageRecord",
    "SourceExistsError",
    "SourceNotFoundError",
    "StorageError",
    "UpsertOutcome",
    "UpsertResult",
    "normalize_text",
    "text_fingerprint",
]
