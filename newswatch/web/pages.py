"""The dashboard's HTML pages, rendered on the server (no scripts)."""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup, escape

from newswatch.web import queries
from newswatch.web.chart import build_chart
from newswatch.web.context import DEFAULT_DAYS, DEFAULT_PAGE, MAX_GROUP, Context, Days, Limit, Offset, SearchText
from newswatch.web.searching import SearchParams, run_search

logger = logging.getLogger(__name__)

LATEST_ON_HOME = 15
ALERTS_ON_HOME = 10


_MARK_TAG = re.compile(r"</?mark>")


def marked(html: str) -> Markup:
    """storage.search's pre-escaped title or snippet as markup; anything but <mark> in it is escaped again."""
    if "<" in _MARK_TAG.sub("", html) or ">" in _MARK_TAG.sub("", html):
        return escape(html)
    return Markup(html)  # noqa: S704 - escaped by storage.search, <mark> only (checked above)


def _page(request: Request, context: Context, name: str, values: dict[str, Any], status: int = 200) -> Response:
    return context.templates.TemplateResponse(request, name, values, status_code=status)


def _pager(total: int, limit: int, offset: int) -> dict[str, int | None]:
    return {"total": total, "limit": limit, "offset": offset,
            "prev": max(offset - limit, 0) if offset > 0 else None,
            "next": offset + limit if offset + limit < total else None}


def _home_and_lists(router: APIRouter) -> None:
    @router.get("/", response_class=HTMLResponse)
    def home(request: Request, context: Context) -> Response:
        nw = context.newswatch
        latest = queries.latest_items(nw, LATEST_ON_HOME, 0)
        alerts = queries.events(nw, ALERTS_ON_HOME, 0)
        recent_events = queries.events(nw, ALERTS_ON_HOME, 0, alerted_only=False)
        return _page(request, context, "index.html", {
            "latest": latest, "alerts": alerts, "recent_events": recent_events,
            "sources": queries.sources(nw), "chart": build_chart(queries.items_per_day(nw, DEFAULT_DAYS)),
        })

    @router.get("/items", response_class=HTMLResponse)
    def items(request: Request, context: Context, *, limit: Limit = DEFAULT_PAGE, offset: Offset = 0,
              source: str | None = None, canonical: bool = False) -> Response:
        page = queries.latest_items(context.newswatch, limit, offset, source, canonical)
        return _page(request, context, "items.html", {
            "page": page, "pager": _pager(page.total, limit, offset), "source": source, "canonical": canonical})

    @router.get("/items/{item_id}", response_class=HTMLResponse)
    def item(request: Request, context: Context, item_id: int) -> Response:
        page = queries.item_page(context.newswatch, item_id, MAX_GROUP)
        if page is None:
            raise HTTPException(404, f"no item {item_id}")
        return _page(request, context, "item.html", {"page": page, "item": page.detail.item})

    @router.get("/sources", response_class=HTMLResponse)
    def sources(request: Request, context: Context, days: Days = DEFAULT_DAYS) -> Response:
        nw = context.newswatch
        return _page(request, context, "sources.html", {
            "rows": queries.sources(nw), "chart": build_chart(queries.items_per_day(nw, days)), "days": days})


def _alerts(router: APIRouter) -> None:
    @router.get("/alerts", response_class=HTMLResponse)
    def alerts(request: Request, context: Context, *, limit: Limit = DEFAULT_PAGE, offset: Offset = 0,
               all_events: Annotated[bool, Query(alias="all")] = False) -> Response:
        page = queries.events(context.newswatch, limit, offset, alerted_only=not all_events)
        return _page(request, context, "alerts.html", {
            "page": page, "pager": _pager(page.total, limit, offset), "all_events": all_events,
            "writable": context.token is not None})

    @router.get("/alerts/{event_id}", response_class=HTMLResponse)
    def event(request: Request, context: Context, event_id: int) -> Response:
        page = queries.event_page(context.newswatch, event_id)
        if page is None:
            raise HTTPException(404, f"no event {event_id}")
        return _page(request, context, "event.html", {"page": page, "event": page.event})


def _search(router: APIRouter) -> None:
    @router.get("/search", response_class=HTMLResponse)
    def search(request: Request, context: Context, *, q: SearchText = "", limit: Limit = DEFAULT_PAGE,
               offset: Offset = 0, source: str | None = None, language: str | None = None,
               published_from: date | None = None, published_to: date | None = None,
               event_type: str | None = None, duplicates: bool = False) -> Response:
        params = SearchParams(q.strip(), source or None, language or None, published_from, published_to,
                              event_type or None, duplicates, limit, offset)
        result = run_search(context.newswatch, params) if params.text else None
        hits = [(hit, marked(hit.title_html), marked(hit.snippet_html)) for hit in result.hits] if result else []
        return _page(request, context, "search.html", {
            "params": params, "result": result, "hits": hits,
            "pager": _pager(result.total, limit, offset) if result is not None else None,
            "sources": [row.name for row in context.newswatch.list_sources()]})


def router() -> APIRouter:
    built = APIRouter(include_in_schema=False)
    _home_and_lists(built)
    _alerts(built)
    _search(built)
    return built
