"""Reading raw page text (the seed corpus): title, byline, date, language and the body without furniture.

The seeds are copies of the visible text of article pages, menus and footers included. Their
layouts are those of the sites in the seed corpus: OneCMS (category, title, byline with date),
the republishing portal (title, doubled source-name-and-date line, "Source" at the end) and the
"-a<id>" family (hotline and header clock first, "Reported by … - Translated by …" at the end).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, tzinfo

from crawler.dates import decode_dnum, parse_page_date
from crawler.language import detect_language
from crawler.page_meta import clean_byline

# Lines that open the page furniture after the body, in the languages of the corpus.
END_MARKERS = frozenset(
    marker.casefold()
    for marker in (
        "Latest", "Featured Nghe An Newspaper", "Same category", "Same tag", "Same author", "Source",
        "Mới nhất", "Tin cùng chuyên mục", "Nguồn", "Cùng chuyên mục",
        "最新的", "特色义安报纸", "来源", "同类",
        "Джерело", "У тій самій категорії", "Источник",
        "Source :", "Sources",
    )
)
_END_PREFIXES = ("powered by", "comment (", "коментар (", "bình luận (", "评论 (")
_BANNER = re.compile(r"^(Hotline:|Vietnam\.vn - |Báo .{0,40}- |Tel:|Email:)", re.IGNORECASE)
# "Saturday, 26-4-25 13:20:20": the time the page was captured, never the publication date.
_HEADER_CLOCK = re.compile(r"^[A-Za-zÀ-ỹ ]+,\s*\d{1,2}-\d{1,2}-\d{2}\s+\d{1,2}:\d{2}:\d{2}$")
_PORTAL_DATE_LINE = re.compile(r"^(?P<name>.+?)(?P=name)(?P<date>\d{2}/\d{2}/\d{4})$")
_BYLINE_DATE = re.compile(r"(DNUM_[A-JZ]+|\d{1,2}/\d{1,2}/\d{4})(\s+\d{1,2}:\d{2})?\s*$")
_REPORTED_BY = re.compile(r"^(?:Reported by|Written by)\s+")
_IMAGE_NAME = re.compile(r"^[\w.()\-]+\.(?:jpe?g|png|gif|webp)$", re.IGNORECASE)
_HEAD_LINES = 12


@dataclass(frozen=True)
class PageText:
    title: str | None
    author: str | None
    published_at: datetime | None
    language: str | None
    text: str
    images: tuple[str, ...]


def _date_line(line: str, tz: tzinfo) -> tuple[datetime | None, str | None] | None:
    """(date, author) when `line` is a byline or date line, else None."""
    portal = _PORTAL_DATE_LINE.match(line)
    if portal:
        return parse_page_date(portal["date"], tz), None
    byline = _BYLINE_DATE.search(line)
    if byline and len(line) < 200:
        date = parse_page_date(line, tz)
        if date is not None:
            author = line[: byline.start()].strip().split(",")[0].strip() or None
            return date, author
    return None


def _is_end(line: str) -> bool:
    folded = line.casefold()
    return folded in END_MARKERS or folded.startswith(_END_PREFIXES)


def _is_title_like(line: str) -> bool:
    if _BANNER.match(line) or _HEADER_CLOCK.match(line):
        return False
    return len(line.split()) >= 4 or (len(line) >= 8 and not line.isascii())


def _find_head(lines: list[str], tz: tzinfo) -> tuple[str | None, str | None, datetime | None, int]:
    """Title, author, date and the index where the body starts."""
    for index, line in enumerate(lines[:_HEAD_LINES]):
        found = _date_line(line, tz)
        if found is not None and index > 0:
            return lines[index - 1], found[1], found[0], index + 1
    for index, line in enumerate(lines[:_HEAD_LINES]):
        if _is_title_like(line):
            return line, None, None, index + 1
    return None, None, None, 0


def _looks_like_name(line: str) -> bool:
    return len(line) <= 40 and len(line.split()) <= 3 and not re.search(r"[.!?…:;。,，：()]", line)


def _split_body(lines: list[str], title: str | None) -> tuple[list[str], list[str], str | None]:
    """Body paragraphs, image file names and a trailing author, up to the first furniture line."""
    body: list[str] = []
    images: list[str] = []
    author: str | None = None
    for line in lines:
        if _REPORTED_BY.match(line):
            author = clean_byline(line)
            break
        if _is_end(line):
            break
        if _IMAGE_NAME.match(line):
            images.append(line)
        else:
            body.append(line)
    # The portal ends a story with its author's name alone on a line, right before "Source".
    if author is None and body and _looks_like_name(body[-1]):
        author = body.pop()
    return body, images, author


def parse_page_text(raw: str, tz: tzinfo) -> PageText:
    """Split the visible text of an article page into its fields; the body keeps one line per paragraph."""
    lines = [decode_dnum(line.strip()) for line in raw.splitlines()]
    lines = [line for line in lines if line]
    title, author, published, start = _find_head(lines, tz)
    body, images, trailing_author = _split_body(lines[start:], title)
    text = "\n".join(body)
    return PageText(
        title=title,
        author=author or trailing_author,
        published_at=published,
        language=detect_language(text or (title or "")),
        text=text,
        images=tuple(images),
    )
