"""The JSON API (described at /openapi.json), the Atom feeds, and the one write: retrying deliveries."""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from newswatch.errors import NewswatchError
from newswatch.web import feeds, queries
from newswatch.web.context import (
    DEFAULT_DAYS,
    DEFAULT_PAGE,
    FEED_ENTRIES,
    MAX_GROUP,
    Context,
    Days,
    Limit,
    Offset,
    SearchText,
    WebContext,
)
from newswatch.web.searching import SearchParams, SearchResult, run_search, search_result
from storage.browse import DailyCount

logger = logging.getLogger(__name__)

_bearer = HTTPBearer(auto_error=False, description="the token `newswatch serve` was started with")
ATOM = {"content": {"application/atom+xml": {}}, "description": "an Atom 1.0 feed"}


@dataclass(frozen=True)
class RetryResult:
    queued: int
    sent: int
    failed: int


def require_token(context: Context,
                  credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> WebContext:
    """Writes need the configured token: 403 when none is configured or it does not match, 401 when absent."""
    if context.token is None:
        raise HTTPException(403, "this dashboard is read-only: start it with a token to allow retries")
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "an 'Authorization: Bearer <token>' header is required",
                            headers={"WWW-Authenticate": "Bearer"})
    if not hmac.compare_digest(credentials.credentials.encode(), context.token.encode()):
        raise HTTPException(403, "wrong token")
    return context


def _atom(data: bytes) -> Response:
    return Response(data, media_type=feeds.FEED_MEDIA_TYPE)


def _api_routes(router: APIRouter) -> None:
    @router.get("/api/items", response_model=queries.ItemsPage, tags=["items"], summary="Latest items")
    def items(context: Context, *, limit: Limit = DEFAULT_PAGE, offset: Offset = 0, source: str | None = None,
              canonical: Annotated[bool, Query(description="canonical items only (no duplicates)")] = False,
              ) -> queries.ItemsPage:
        return queries.latest_items(context.newswatch, limit, offset, source, canonical)

    @router.get("/api/items/{item_id}", response_model=queries.ItemPage, tags=["items"],
                summary="An item with its editions, duplicates, dedup evidence and events")
    def item(context: Context, item_id: int) -> queries.ItemPage:
        page = queries.item_page(context.newswatch, item_id, MAX_GROUP)
        if page is None:
            raise HTTPException(404, f"no item {item_id}")
        return page

    @router.get("/api/sources", response_model=list[queries.SourceRow], tags=["sources"],
                summary="Sources with their health")
    def sources(context: Context) -> list[queries.SourceRow]:
        return queries.sources(context.newswatch)

    @router.get("/api/alerts", response_model=queries.EventsPage, tags=["alerts"],
                summary="Alerted events (or every detected event), newest first")
    def alerts(context: Context, *, limit: Limit = DEFAULT_PAGE, offset: Offset = 0,
               all_events: Annotated[bool, Query(alias="all", description="every detected event")] = False,
               ) -> queries.EventsPage:
        return queries.events(context.newswatch, limit, offset, alerted_only=not all_events)

    @router.get("/api/events/{event_id}", response_model=queries.EventPage, tags=["alerts"],
                summary="An event with its reports and deliveries")
    def event(context: Context, event_id: int) -> queries.EventPage:
        page = queries.event_page(context.newswatch, event_id)
        if page is None:
            raise HTTPException(404, f"no event {event_id}")
        return page

    @router.post("/api/alerts/retry", response_model=RetryResult, tags=["alerts"],
                 summary="Retry undelivered alerts now (needs the bearer token)")
    def retry(context: Annotated[WebContext, Depends(require_token)],
              channel: Annotated[str | None, Query(max_length=200)] = None) -> RetryResult:
        try:
            queued, report = context.newswatch.retry_alerts(channel)
        except NewswatchError as exc:
            raise HTTPException(400, str(exc)) from exc
        logger.info("retry of alert deliveries requested over the API: %d queued", queued)
        return RetryResult(queued, report.sent, report.failed)

    @router.get("/api/stats/items-per-day", response_model=list[DailyCount], tags=["sources"],
                summary="Items per publication day (UTC) and source")
    def per_day(context: Context, days: Days = DEFAULT_DAYS, source: str | None = None) -> list[DailyCount]:
        return queries.items_per_day(context.newswatch, days, source)

    @router.get("/api/search", response_model=SearchResult, tags=["search"], summary="Full-text search")
    def search_api(context: Context, *, q: SearchText, limit: Limit = DEFAULT_PAGE, offset: Offset = 0,
                   source: str | None = None, language: str | None = None, published_from: date | None = None,
                   published_to: date | None = None, event_type: str | None = None,
                   duplicates: bool = False) -> SearchResult:
        params = SearchParams(q, source, language, published_from, published_to, event_type, duplicates,
                              limit, offset)
        return search_result(params, run_search(context.newswatch, params))


def _feed_routes(router: APIRouter) -> None:
    @router.get("/feeds/items.atom", response_class=Response, responses={200: ATOM}, tags=["feeds"],
                summary="New items (canonical stories, not their duplicates)")
    def items_feed(request: Request, context: Context) -> Response:
        page = queries.latest_items(context.newswatch, FEED_ENTRIES, 0, canonical_only=True)
        return _atom(feeds.items_feed(page.items, "urn:newswatch:items", "newswatch: new items",
                                      str(request.base_url)))

    @router.get("/feeds/alerts.atom", response_class=Response, responses={200: ATOM}, tags=["feeds"],
                summary="Alerts")
    def alerts_feed(request: Request, context: Context) -> Response:
        page = queries.events(context.newswatch, FEED_ENTRIES, 0)
        return _atom(feeds.alerts_feed(page.events, str(request.base_url)))

    @router.get("/feeds/sources/{name}.atom", response_class=Response, responses={200: ATOM}, tags=["feeds"],
                summary="The items of one source")
    def source_feed(request: Request, context: Context, name: str) -> Response:
        if name not in {row.name for row in context.newswatch.list_sources()}:
            raise HTTPException(404, f"no source named {name!r}")
        page = queries.latest_items(context.newswatch, FEED_ENTRIES, 0, source=name)
        return _atom(feeds.items_feed(page.items, f"urn:newswatch:source:{name}", f"newswatch: {name}",
                                      str(request.base_url)))


def router() -> APIRouter:
    built = APIRouter()
    _api_routes(built)
    _feed_routes(built)
    return built
