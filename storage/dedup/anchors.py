"""Layer 4 inputs: language-independent anchors of a story (numbers, dates, document codes, image
file names, outbound source links, URL slugs and ids) and the score over shared anchors.

No `\\b` here: Python's word boundary fails next to CJK characters (`共1万` has none before `1`),
so digits are delimited with explicit look-arounds.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from posixpath import basename
from urllib.parse import unquote, urlsplit

from storage.dedup.urls import canonicalize_url

# Weights: strong anchors identify one story on their own; weak ones only count together.
WEIGHTS = {"img": 4.0, "link": 5.0, "slug": 4.0, "uid": 5.0, "code": 2.0, "num": 1.0, "year": 0.25, "date": 0.75}
STRONG = frozenset({"img", "link", "slug", "uid"})
# Anchor kinds written to the index (looked up within the date window); dates and years are too
# common to look up and only count in the score.
INDEXED = frozenset({"img", "link", "slug", "uid", "code", "num"})
MAX_INDEXED = 16

_MULTIPLIERS = {
    "万": 10**4, "萬": 10**4, "亿": 10**8, "億": 10**8, "千": 10**3, "百万": 10**6,
    "тис": 10**3, "тыс": 10**3, "млн": 10**6, "млрд": 10**9, "nghìn": 10**3, "ngàn": 10**3,
    "triệu": 10**6, "tỷ": 10**9, "tỉ": 10**9, "thousand": 10**3, "million": 10**6, "millions": 10**6,
    "billion": 10**9, "billions": 10**9, "mille": 10**3, "milliard": 10**9, "milliards": 10**9,
    "millones": 10**6, "millón": 10**6, "mil": 10**3, "k": 10**3,
}
_MULT_RE = "|".join(sorted((re.escape(m) for m in _MULTIPLIERS), key=len, reverse=True))
_NUMBER = re.compile(
    r"(?<![\d.,])(\d{1,3}(?:[.,  ]\d{3})+|\d+(?:[.,]\d+)?)(?![\d])"
    rf"(?:\s?({_MULT_RE})(?![^\W\d_]))?", re.IGNORECASE)
_CODE = re.compile(r"(?<![\w/])(\d{1,4}[-/](?:[A-ZĐ]{1,8}[-/])*[A-ZĐ]{1,8}(?:/[A-ZĐ]{1,8})?)(?![\w])")
_MONTH_NAMES = (
    "january february march april may june july august september october november december",
    "січня лютого березня квітня травня червня липня серпня вересня жовтня листопада грудня",
    "января февраля марта апреля мая июня июля августа сентября октября ноября декабря",
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
)
_MONTHS = {name: number for names in _MONTH_NAMES for number, name in enumerate(names.split(), 1)}
_DATE_PATTERNS = (
    (re.compile(r"(?<![\d/.])(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{4}))?(?![\d/])"), "dm"),
    (re.compile(r"(?<!\d)(\d{1,2})\s*月\s*(\d{1,2})\s*日"), "md"),
    (re.compile(r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})", re.IGNORECASE), "dm"),
    # Month names are looked up in `_MONTHS` after a cheap word match (an alternation is slow).
    (re.compile(r"(?<!\d)(\d{1,2})(?:er)?\s+(?:de\s+)?([^\W\d_]{3,})"), "dM"),
    (re.compile(r"(?<![^\W\d_])([^\W\d_]{3,})\s+(\d{1,2})(?!\d)"), "Md"),
)
_URL_ID = re.compile(r"(?:-a|-post|-postid|-|/)(\d{5,})(?:\.[a-z]+)?/?$")
_GENERIC_IMAGE = re.compile(r"logo|icon|avatar|default|no-?image|placeholder|banner|blank|spacer", re.IGNORECASE)


@dataclass(frozen=True)
class Anchor:
    kind: str
    value: str

    @property
    def weight(self) -> float:
        return WEIGHTS[self.kind]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


def _number(raw: str, multiplier: str | None) -> float:
    if re.fullmatch(r"\d{1,3}(?:[.,  ]\d{3})+", raw):
        value = float(re.sub(r"[.,  ]", "", raw))
    else:
        value = float(raw.replace(",", "."))
    return value * _MULTIPLIERS.get((multiplier or "").lower(), 1)


def numbers(text: str) -> set[Anchor]:
    found = set()
    for match in _NUMBER.finditer(text):
        value = _number(match.group(1), match.group(2))
        if value < 10 or (value <= 31 and not match.group(2)):
            continue  # days and small counts say nothing about a story
        shown = f"{value:.0f}" if value == int(value) else f"{value:g}"
        kind = "year" if 1900 <= value <= 2100 and not match.group(2) and value == int(value) else "num"
        found.add(Anchor(kind, shown))
    return found


def dates(text: str) -> set[Anchor]:
    found = set()
    for pattern, order in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            first, second = match.group(1), match.group(2)
            if order in ("dM", "Md"):
                name = (second if order == "dM" else first).lower()
                if name not in _MONTHS:
                    continue
                day, month = (first if order == "dM" else second), str(_MONTHS[name])
            else:
                day, month = (first, second) if order == "dm" else (second, first)
            d, m = int(day), int(month)
            if 1 <= d <= 31 and 1 <= m <= 12:
                found.add(Anchor("date", f"{m:02d}-{d:02d}"))
    return found


def url_anchors(url: str) -> set[Anchor]:
    """The slug and numeric id an article keeps across its editions (hosts differ, ids do not)."""
    if not url.lower().startswith(("http://", "https://")):
        return set()
    try:
        path = unquote(urlsplit(url).path).rstrip("/")
    except ValueError:  # an unparsable host ("http://[::1"): no slug or id to read
        return set()
    found = set()
    match = _URL_ID.search(path)
    if match:
        found.add(Anchor("uid", match.group(1)))
    slug = re.sub(r"(?:-a|-post|-postid|-)?\d{5,}$", "", basename(path).rsplit(".", 1)[0])
    if slug.count("-") >= 4:
        found.add(Anchor("slug", slug.lower()))
    return found


def extract(text: str, url: str, images: Iterable[str], source_links: Iterable[str],
            aliases: Mapping[str, str] | None = None) -> set[Anchor]:
    """Every anchor of an item; its own URL counts as a link, so a republication's Source matches it."""
    text = unicodedata.normalize("NFKC", text)
    found = numbers(text) | dates(text) | {Anchor("code", c.upper()) for c in _CODE.findall(text)}
    found |= {Anchor("img", basename(name).lower()) for name in images if not _GENERIC_IMAGE.search(name)}
    for link in (url, *source_links):
        if link.lower().startswith(("http://", "https://")):
            found.add(Anchor("link", canonicalize_url(link, aliases)))
            found |= url_anchors(link)
    return found


def indexed(anchors: set[Anchor]) -> list[Anchor]:
    """The anchors written to the index: strong ones first, then codes, then the longest numbers."""
    chosen = sorted((a for a in anchors if a.kind in INDEXED),
                    key=lambda a: (-a.weight, -len(a.value), a.value))
    return chosen[:MAX_INDEXED]


@dataclass(frozen=True)
class AnchorScore:
    score: float
    shared: tuple[Anchor, ...]
    strong: bool


def score(a: set[Anchor], b: set[Anchor]) -> AnchorScore:
    """Weight of shared anchors over the weight of the lighter side (its own URL excluded)."""
    shared = a & b
    images_a, images_b = {x for x in a if x.kind == "img"}, {x for x in b if x.kind == "img"}
    if images_a and images_b and not images_a & images_b:
        # Every edition of a story carries the same picture file names: different pictures, different stories.
        return AnchorScore(0.0, tuple(sorted(shared, key=str)), False)
    weight_a = sum(x.weight for x in a if x.kind not in STRONG)
    weight_b = sum(x.weight for x in b if x.kind not in STRONG)
    weak_shared = sum(x.weight for x in shared if x.kind not in STRONG)
    lighter = min(weight_a, weight_b)
    value = weak_shared / lighter if lighter >= 4 else 0.0
    ordered = tuple(sorted(shared, key=lambda x: (-x.weight, str(x))))
    return AnchorScore(round(value, 3), ordered, any(x.kind in STRONG for x in shared))


def dump(anchors: Iterable[Anchor]) -> str | None:
    """The anchors as stored on an item, one `kind:value` a line; None (recompute from the text)
    when a value holds a line break, which an image name or a URL slug could."""
    lines = sorted(str(a) for a in anchors)
    if any("\n" in line for line in lines):
        return None
    return "\n".join(lines)


def load(stored: str) -> set[Anchor]:
    """The anchors `dump` stored; a kind this version does not weigh is dropped, not guessed."""
    found = set()
    for line in stored.split("\n"):
        kind, _, value = line.partition(":")
        if kind in WEIGHTS:
            found.add(Anchor(kind, value))
    return found
