"""Text handling for archive search: one tokenizer for documents, queries and snippets.

Both databases are fed tokens this module made (SQLite: space-joined for FTS5's unicode61; PostgreSQL:
a tsvector literal), so folding, CJK segmentation and case never depend on the database's locale or
extensions, and a snippet highlights exactly the words the index matched.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

MAX_QUERY_CHARS = 300
MAX_TERMS = 12
MAX_PHRASE_TOKENS = 24
MAX_TOKEN_CHARS = 64
# Text past this is not indexed: it bounds the index row and the snippet's tokenizing cost.
MAX_INDEXED_CHARS = 100_000
SNIPPET_CHARS = 300
OPERATORS = frozenset({"AND", "OR", "NOT", "NEAR"})

# Han, kana and compatibility ideographs have no spaces between words: each character is one token,
# so a one- or two-character query (which trigram indexes miss) is a word or a phrase.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_TOKEN = re.compile(rf"[{_CJK}]|(?:(?![{_CJK}])[^\W_]|[{_MARKS}])+")
# Letters with no Unicode decomposition, which stripping combining marks would leave alone.
_UNDECOMPOSED = str.maketrans({"đ": "d", "ð": "d", "ł": "l", "ø": "o", "ħ": "h", "ı": "i"})


class QueryError(ValueError):
    """The query text cannot be searched; the message says why (storage.search wraps it)."""


@dataclass(frozen=True)
class Token:
    start: int
    end: int
    exact: str  # case-folded, diacritics kept
    folded: str  # case-folded, diacritics removed, đ -> d


@dataclass(frozen=True)
class Term:
    """One query word: a phrase of tokens (a CJK run or 'covid-19' gives several)."""

    exact: tuple[str, ...]
    folded: tuple[str, ...]


@lru_cache(maxsize=1 << 16)
def fold(word: str) -> str:
    """`word` without diacritics: "lũ lụt" -> "lu lut", "Đà" -> "da" (after case folding).

    Cached: a document's words repeat, across documents too, and folding was most of indexing's cost.
    """
    if word.isascii():
        return word
    stripped = "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped.translate(_UNDECOMPOSED))


def display_text(text: str | None, limit: int = MAX_INDEXED_CHARS) -> str:
    """The form every offset refers to: NFC, so decomposed Vietnamese tokenizes like precomposed."""
    return unicodedata.normalize("NFC", (text or "")[:limit])


def _word_matches(text: str) -> Iterator[re.Match[str]]:
    """The words of an NFC string; over-long runs (base64, URLs glued together) dropped."""
    return (match for match in _TOKEN.finditer(text) if match.end() - match.start() <= MAX_TOKEN_CHARS)


def tokenize(text: str) -> list[Token]:
    """Tokens of an NFC string with their spans (the words of `_word_matches`)."""
    tokens = []
    for match in _word_matches(text):
        exact = match.group().casefold()
        tokens.append(Token(match.start(), match.end(), exact, fold(exact)))
    return tokens


def parse_query(text: str) -> list[Term]:
    """The words of a user query, every operator and punctuation mark treated as a separator.

    Tokens with nothing between them (a run of Chinese characters) form one phrase. Raises
    QueryError when nothing searchable is left or the query is over the size caps.
    """
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"longer than {MAX_QUERY_CHARS} characters")
    shown = display_text(text)
    terms: list[Term] = []
    for group in _adjacent_groups(tokenize(shown)):
        # Upper-case AND/OR/NOT/NEAR are FTS syntax the user may have typed; lower-case "and" is a word.
        if len(group) == 1 and shown[group[0].start:group[0].end] in OPERATORS:
            continue
        if len(group) > MAX_PHRASE_TOKENS:
            raise QueryError(f"a phrase of more than {MAX_PHRASE_TOKENS} characters or words")
        term = Term(tuple(t.exact for t in group), tuple(t.folded for t in group))
        if term not in terms:
            terms.append(term)
    if not terms:
        raise QueryError("no words to search for (only punctuation or search operators)")
    if len(terms) > MAX_TERMS:
        raise QueryError(f"more than {MAX_TERMS} words")
    return terms


def _adjacent_groups(tokens: list[Token]) -> list[list[Token]]:
    groups: list[list[Token]] = []
    for token in tokens:
        if groups and groups[-1][-1].end == token.start:
            groups[-1].append(token)
        else:
            groups.append([token])
    return groups


def index_fields(text: str | None) -> tuple[str, str]:
    """(exact, folded) space-joined token strings of a field; folded is "" when nothing folds.

    The tokens of `tokenize`, without their spans (which indexing does not need)."""
    words = [match.group().casefold() for match in _word_matches(display_text(text))]
    exact = " ".join(words)
    folded = " ".join(map(fold, words))
    return exact, ("" if folded == exact else folded)


def fts5_expression(terms: Sequence[Term]) -> str:
    """An FTS5 MATCH string: every term a quoted phrase, exact columns OR'ed with any folded match."""
    parts = []
    for term in terms:
        exact, folded = _fts5_phrase(term.exact), _fts5_phrase(term.folded)
        parts.append(folded if exact == folded else f"({{title text}} : {exact} OR {folded})")
    return " AND ".join(parts)


def _fts5_phrase(tokens: Sequence[str]) -> str:
    return '"' + " ".join(tokens).replace('"', '""') + '"'


def tsquery_terms(terms: Sequence[Term]) -> list[str]:
    """A tsquery literal per term: exact lexemes restricted to weights A/B (original title/text) OR'ed
    with the folded ones anywhere. AND them to match; rank each alone, as ts_rank scores OR-only
    queries by the weights found, where AND queries score word distances instead."""
    parts = []
    for term in terms:
        folded = _ts_phrase(term.folded, "")
        if term.exact == term.folded:
            parts.append(folded)
        else:
            parts.append(f"({_ts_phrase(term.exact, ':AB')} | {folded})")
    return parts


def _ts_phrase(tokens: Sequence[str], weights: str) -> str:
    quoted = [_ts_quote(token) + weights for token in tokens]
    return quoted[0] if len(quoted) == 1 else "(" + " <-> ".join(quoted) + ")"


def _ts_quote(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_literal(title: str | None, text: str | None) -> str:
    """The item's tsvector: title A, text B; a folded lexeme (C in the title, D in the text) shares the
    position of the word it folds, so phrases match in either form."""
    entries: dict[str, list[str]] = {}
    position = 1
    for field, (exact_weight, folded_weight) in ((title, ("A", "C")), (text, ("B", "D"))):
        for token in tokenize(display_text(field)):
            # PostgreSQL clamps positions at 16383 and keeps at most 256 per lexeme.
            where = str(min(position, 16383))
            _add_position(entries, token.exact, where + exact_weight)
            if token.folded != token.exact:
                _add_position(entries, token.folded, where + folded_weight)
            position += 1
        position += 1  # no phrase across the title/text boundary
    return " ".join(f"{_ts_quote(lexeme)}:{','.join(places)}" for lexeme, places in entries.items())


def _add_position(entries: dict[str, list[str]], lexeme: str, place: str) -> None:
    places = entries.setdefault(lexeme, [])
    if len(places) < 256:
        places.append(place)


def match_spans(tokens: Sequence[Token], terms: Sequence[Term]) -> list[tuple[int, int, int]]:
    """(start, end, term index) of every place a term matches, by folded form (exact ⊂ folded)."""
    spans = []
    folded = [t.folded for t in tokens]
    for index, term in enumerate(terms):
        size = len(term.folded)
        first = term.folded[0]
        for i, word in enumerate(folded):
            if word == first and tuple(folded[i:i + size]) == term.folded:
                spans.append((tokens[i].start, tokens[i + size - 1].end, index))
    spans.sort()
    return spans


def highlight(text: str, spans: Sequence[tuple[int, int, int]], start: int = 0, end: int | None = None) -> str:
    """text[start:end] HTML-escaped, with the spans inside it wrapped in <mark>…</mark>."""
    end = len(text) if end is None else end
    out, cursor = [], start
    for span_start, span_end, _ in spans:
        if span_start < cursor or span_end > end:
            continue  # overlapping or cut by the window
        out.append(html.escape(text[cursor:span_start]))
        out.append("<mark>" + html.escape(text[span_start:span_end]) + "</mark>")
        cursor = span_end
    out.append(html.escape(text[cursor:end]))
    return "".join(out)


def snippet(text: str | None, terms: Sequence[Term], size: int = SNIPPET_CHARS) -> str:
    """An escaped excerpt of about `size` characters around the densest cluster of matches."""
    shown = display_text(text)
    spans = match_spans(tokenize(shown), terms)
    start = _word_start(shown, max(0, _densest(spans, size - 40) - size // 5)) if spans else 0
    end = min(len(shown), start + size)
    if end < len(shown):
        end = max(shown.rfind(" ", start, end), start + size // 2)
    body = highlight(shown, spans, start, end).strip()
    return ("…" if start > 0 else "") + body + ("…" if end < len(shown) else "")


def _densest(spans: Sequence[tuple[int, int, int]], width: int) -> int:
    """Start of the first window of `width` characters holding the most distinct terms (one pass)."""
    counts: Counter[int] = Counter()
    best_start, best_count, low = spans[0][0], 0, 0
    for start, _, term in spans:
        counts[term] += 1
        while spans[low][0] < start - width:
            counts[spans[low][2]] -= 1
            if counts[spans[low][2]] == 0:
                del counts[spans[low][2]]
            low += 1
        if len(counts) > best_count:
            best_start, best_count = spans[low][0], len(counts)
    return best_start


def _word_start(text: str, index: int) -> int:
    if index == 0:
        return 0
    space = text.find(" ", index, index + 40)
    return space + 1 if space >= 0 else index
