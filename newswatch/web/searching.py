"""Search for the dashboard and the API: the request's filters as a `storage.search.SearchQuery`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from fastapi import HTTPException

from newswatch.app import Newswatch
from storage.errors import StorageError
from storage.search import SearchHit, SearchPage, SearchQuery, search

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SearchParams:
    text: str
    source: str | None = None
    language: str | None = None
    published_from: date | None = None
    published_to: date | None = None
    event_type: str | None = None
    include_duplicates: bool = False
    limit: int = 20
    offset: int = 0


def _one(value: str | None) -> tuple[str, ...]:
    return (value,) if value else ()


def run_search(newswatch: Newswatch, params: SearchParams) -> SearchPage:
    """One page of hits; 400 for a query storage refuses."""
    try:
        query = SearchQuery(
            text=params.text, sources=_one(params.source), languages=_one(params.language),
            published_from=params.published_from, published_to=params.published_to,
            event_types=_one(params.event_type), include_duplicates=params.include_duplicates,
            limit=params.limit, offset=params.offset,
        )
        with newswatch.archive.session() as session:
            return search(session, query)
    except (StorageError, ValueError) as exc:
        raise HTTPException(400, f"cannot search: {exc}") from exc


@dataclass(frozen=True)
class SearchResult:
    text: str
    total: int
    limit: int
    offset: int
    hits: list[SearchHit]


def search_result(params: SearchParams, page: SearchPage) -> SearchResult:
    return SearchResult(params.text, page.total, params.limit, params.offset, list(page.hits))
