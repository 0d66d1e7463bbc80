"""What every route needs: the application, the token, the templates, and the bounds on query cost."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.templating import Jinja2Templates

from newswatch.app import Newswatch

logger = logging.getLogger(__name__)

DEFAULT_PAGE = 20
MAX_PAGE = 100
MAX_OFFSET = 10_000
# Members of a dedup group shown on an item page (each one's evidence is recomputed).
MAX_GROUP = 50
FEED_ENTRIES = 50
DEFAULT_DAYS = 30
MAX_DAYS = 90
MAX_QUERY_CHARS = 300


@dataclass(frozen=True)
class WebContext:
    newswatch: Newswatch
    token: str | None
    templates: Jinja2Templates


def web_context(request: Request) -> WebContext:
    context: WebContext = request.app.state.web
    return context

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"page size (at most {MAX_PAGE})")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description=f"items to skip (at most {MAX_OFFSET})")]
Days = Annotated[int, Query(ge=1, le=MAX_DAYS, description=f"days to count (at most {MAX_DAYS})")]
SearchText = Annotated[str, Query(max_length=MAX_QUERY_CHARS, description="words to look for")]
Context = Annotated[WebContext, Depends(web_context)]
