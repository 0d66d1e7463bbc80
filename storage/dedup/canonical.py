"""Which member of a duplicate group is its canonical item: a rule on the items, not on arrival.

Two crawls of the same pages must build the same archive, whichever page was parsed first (one
process or several workers, any concurrency). So the root of a group is the member that ranks
first by `canonical_key`, and a later arrival that ranks before the root takes the group over.
"""

from __future__ import annotations

from datetime import UTC, datetime

from storage.models import Item

_NEVER = datetime.max.replace(tzinfo=UTC)


def canonical_key(item: Item) -> tuple[bool, bool, datetime, str]:
    """Seeds first; then pages that name no source they were taken from (a republication or a
    portal's machine translation links back to the newspaper's article, which is the original);
    then the earliest publication, undated last; then the URL, so that ties break the same way."""
    published = item.published_at
    if published is not None and published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    return (not item.is_seed, bool(item.source_links), published or _NEVER, item.url)


def ranks_first(item: Item, other: Item) -> bool:
    return canonical_key(item) < canonical_key(other)
