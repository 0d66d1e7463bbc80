"""Putting back what trafilatura leaves out of a news story: the lead (sapo) and figure captions.

trafilatura finds the story's paragraphs well but drops the lead, which these sites print in
the article header, and image captions, which carry names and facts. Its paragraphs locate the
story's body element in the page; the body is then read in page order, keeping trafilatura's
paragraphs and the captions inside it, and the lead is put first.
"""

from __future__ import annotations

import re
from collections import defaultdict

from lxml.html import HtmlElement

from crawler.page_meta import css_selectors

_BLOCKS = ("p", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "figcaption", "pre", "td", "div")
_LEAF_BLOCKS = frozenset(_BLOCKS) - {"div"}
_FURNITURE = re.compile(
    r"(related|relate|comment|share|social|tags?\b|breadcrumb|author|byline|meta|date|time|"
    r"most-read|mostread|same-?cat|latest|footer|header|sidebar|aside|advert|banner|print|rating)",
    re.IGNORECASE,
)
_LEAD_SELECTORS = css_selectors(
    ".sc-longform-header-sapo", ".article__sapo", "h2.sapo", "h4.sapo", ".sapo", ".detail-sapo",
    ".c-detail-head__sapo", ".article-lead", ".lead", ".summary", ".chapeau",
)
# A body element must hold this share of trafilatura's text to be taken as the story's body.
BODY_SHARE = 0.8


def _norm(text: str) -> str:
    return " ".join(text.split())


def _has_furniture_class(element: HtmlElement, stop: HtmlElement) -> bool:
    node: HtmlElement | None = element
    while node is not None and node is not stop:
        if _FURNITURE.search(f"{node.get('class', '')} {node.get('id', '')}") or node.tag in ("aside", "footer"):
            return True
        node = node.getparent()
    return False


def kept_lines(extracted: str) -> list[str]:
    """The non-empty lines of trafilatura's text, whitespace-normalised as they are matched to the page."""
    return [_norm(line) for line in extracted.split("\n") if line.strip()]


def body_element(tree: HtmlElement, lines: set[str]) -> HtmlElement | None:
    """The deepest element holding BODY_SHARE of the text of the blocks trafilatura kept."""
    weights: dict[HtmlElement, int] = defaultdict(int)
    total = 0
    for element in tree.iter(*_LEAF_BLOCKS):
        text = _norm(element.text_content())
        if text in lines:
            total += len(text)
            for ancestor in element.iterancestors():
                weights[ancestor] += len(text)
    if total == 0:
        return None
    candidates = [element for element, weight in weights.items() if weight >= BODY_SHARE * total]
    return max(candidates, key=lambda element: len(list(element.iterancestors())), default=None)


def locate_body(tree: HtmlElement, extracted: str) -> tuple[list[str], HtmlElement | None]:
    """`kept_lines(extracted)` and the body element that holds them (None without lines)."""
    lines = kept_lines(extracted)
    return lines, (body_element(tree, set(lines)) if lines else None)


def body_coverage(body: HtmlElement | None, lines: list[str]) -> float:
    """Share of the body element's text that the kept lines make up (0 without a body element)."""
    if body is None:
        return 0.0
    total = len(_norm(body.text_content()))
    return sum(map(len, lines)) / total if total else 0.0


def find_lead(tree: HtmlElement) -> str | None:
    for selector in _LEAD_SELECTORS:
        for element in selector(tree):
            text = _norm(element.text_content())
            if len(text) >= 30:
                return text
    return None


def _captions_by_anchor(body: HtmlElement, lines: set[str]) -> dict[str | None, list[str]]:
    """Captions inside the body, keyed by the kept paragraph they follow (None: before the first)."""
    anchored: dict[str | None, list[str]] = defaultdict(list)
    anchor: str | None = None
    for element in body.iter(*_LEAF_BLOCKS):
        text = _norm(element.text_content())
        if not text:
            continue
        if text in lines:
            anchor = text
        elif element.tag == "figcaption" and not _has_furniture_class(element, body):
            anchored[anchor].append(text)
    return anchored


def complete_text(tree: HtmlElement, extracted: str,
                  located: tuple[list[str], HtmlElement | None] | None = None) -> str:
    """`extracted` with the page's lead first and the body's figure captions in place.

    Every line trafilatura kept stays, in its order; only the lead and captions are added.
    `located` is `locate_body(tree, extracted)` when the caller has it already.
    """
    extracted_lines, body = located if located is not None else locate_body(tree, extracted)
    if not extracted_lines:
        return extracted
    lines = set(extracted_lines)
    captions = _captions_by_anchor(body, lines) if body is not None else {}
    paragraphs = list(captions.get(None, []))
    for line in extracted_lines:
        paragraphs.append(line)
        paragraphs.extend(captions.pop(line, []))
    lead = find_lead(tree)
    if lead and lead not in lines and not extracted_lines[0].startswith(lead[:60]):
        paragraphs = [lead, *paragraphs]
    return "\n".join(paragraphs)
