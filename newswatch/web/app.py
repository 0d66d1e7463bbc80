"""The dashboard's FastAPI application: pages, JSON API (described at /openapi.json) and Atom feeds.

Safety: every template autoescapes (scraped text is data, never markup; the search snippets,
pre-escaped by storage.search with <mark> only, are the one exception); links to scraped URLs are
made only for http(s); a Content-Security-Policy forbids scripts (the dashboard has none) and
inline styles; the one write (retrying alert deliveries) needs the configured bearer token.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import jinja2
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from newswatch.app import Newswatch
from newswatch.web import api, pages
from newswatch.web.context import WebContext

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def http_url(value: object) -> str | None:
    """The URL if it is an http(s) URL (safe in an href), else None: no javascript:, data: or relative."""
    if not isinstance(value, str):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    return value if parts.scheme in ("http", "https") and parts.netloc else None


def _when(value: datetime | None, tz: ZoneInfo, with_time: bool = True) -> str:
    if value is None:
        return "—"
    local = value.astimezone(tz)
    return local.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


def _compact(value: Any) -> str:
    """A value as short JSON text (escaped by the template like any other text)."""
    return json.dumps(value, ensure_ascii=False, default=str)


def make_templates(tz: ZoneInfo) -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every template, whatever its name
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["http_url"] = http_url
    env.filters["when"] = lambda value, with_time=True: _when(value, tz, with_time)
    env.filters["compact"] = _compact
    env.globals["timezone"] = str(tz)
    return Jinja2Templates(env=env)


def _wants_json(request: Request) -> bool:
    """API and feed paths answer errors in JSON, and so does a client asking for JSON; pages in HTML."""
    accept = request.headers.get("accept", "")
    return request.url.path.startswith(("/api/", "/openapi", "/feeds/")) or (
        "application/json" in accept and "text/html" not in accept)


def _install_error_pages(app: FastAPI, templates: Jinja2Templates) -> None:
    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, StarletteHTTPException) else 500
        detail = exc.detail if isinstance(exc, StarletteHTTPException) else "error"
        headers = getattr(exc, "headers", None)
        if _wants_json(request):
            return JSONResponse({"detail": detail}, status_code=status, headers=headers)
        return templates.TemplateResponse(request, "error.html", {"status": status, "detail": str(detail)},
                                          status_code=status, headers=headers)

    async def invalid_request(request: Request, exc: Exception) -> Response:
        errors = exc.errors() if isinstance(exc, RequestValidationError) else []
        if _wants_json(request):
            return JSONResponse({"detail": json.loads(json.dumps(errors, default=str))}, status_code=422)
        detail = "; ".join(f"{'.'.join(map(str, e.get('loc', ())))}: {e.get('msg', '')}" for e in errors)
        return templates.TemplateResponse(request, "error.html", {"status": 422, "detail": detail}, status_code=422)

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)


def create_app(newswatch: Newswatch, token: str | None, allowed_hosts: Sequence[str] | None = None) -> FastAPI:
    """The dashboard over `newswatch`'s archive; read-only unless `token` is set. With `allowed_hosts`,
    requests naming another Host are refused (a loopback server is then safe from DNS rebinding)."""
    templates = make_templates(newswatch.settings.tz)
    app = FastAPI(
        title="newswatch", version="1",
        description="The newswatch archive: items with their editions and duplicates, events and alerts, "
                    "sources and their health, search, and Atom feeds. Read-only unless a token is configured.",
        docs_url=None, redoc_url=None,  # their pages load scripts from a CDN; /openapi.json is the description
    )
    app.state.web = WebContext(newswatch=newswatch, token=token or None, templates=templates)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    if allowed_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))
    _install_error_pages(app, templates)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(api.router())
    app.include_router(pages.router())

    @app.get("/healthz", include_in_schema=False, response_class=HTMLResponse)
    def healthz() -> str:
        return "ok"

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response((HERE / "static" / "favicon.svg").read_bytes(), media_type="image/svg+xml")

    return app
