"""The date an event took place, from the words of its report, resolved against the publication date.

Reports rarely give the year ("Sáng 5/6", "On the morning of April 24", "1月7日上午", "Вранці 14
липня"), and often only say "this morning" or "hôm nay". The day and month are read with the
language's date patterns (alerts/vocabulary/<lang>.toml) and the year is that of the publication
day in Asia/Ho_Chi_Minh, or the year before or after when that puts the date nearer publication
(reports mostly follow events, so days ahead weigh more): "28/12" in an article of 3 January is
last December's.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from alerts.vocabulary import Language, Vocabulary, expand, word_regex

logger = logging.getLogger(__name__)

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# An explicit date this close after a relative word belongs to it: "Chiều nay (25/9)", "This afternoon (June 16)".
_RELATIVE_REACH = 25
# Reports appear the same day or a day later; an event a day after publication is a timezone slip, not the future.
_FUTURE_SLACK = timedelta(days=1)
_FUTURE_WEIGHT = 4
_YEAR = re.compile(r"(?<!\d)(19[89]\d|20[0-4]\d)(?!\d)")


@dataclass(frozen=True)
class DateMention:
    """One date expression in a text: where it is and what it says."""

    start: int
    end: int
    text: str
    day: int | None = None
    month: int | None = None
    year: int | None = None
    relative: int | None = None  # days before publication: 0 today, 1 yesterday


@dataclass(frozen=True)
class _Compiled:
    patterns: tuple[re.Pattern[str], ...]
    today: re.Pattern[str]
    yesterday: re.Pattern[str]
    months: dict[str, int]


@lru_cache(maxsize=64)
def _compiled(language: Language) -> _Compiled:
    words = language.dates
    patterns = tuple(
        re.compile(expand(p, words.months, words.time_of_day, words.today, words.yesterday), re.IGNORECASE)
        for p in words.patterns
    )
    months = {name.casefold(): index + 1 for index, names in enumerate(words.months) for name in names}
    return _Compiled(patterns, word_regex(words.today, language.script),
                     word_regex(words.yesterday, language.script), months)


def local_day(moment: datetime) -> date:
    """The calendar day of `moment` in Vietnam (naive datetimes are taken as local already)."""
    return moment.astimezone(LOCAL_TZ).date() if moment.tzinfo else moment.date()


def _explicit(match: re.Match[str], months: dict[str, int]) -> DateMention | None:
    groups = match.groupdict()
    month: int | None = None
    if groups.get("m"):
        month = int(groups["m"])
    elif groups.get("mon"):
        month = months.get(groups["mon"].casefold())
    if month is None or not groups.get("d") or not 1 <= month <= 12:
        return None
    year = int(groups["y"]) if groups.get("y") else None
    return DateMention(match.start(), match.end(), match.group(0), int(groups["d"]), month, year)


def find_dates(text: str, language: Language) -> list[DateMention]:
    """Every date expression of `text` in reading order, longest first where two start together."""
    compiled = _compiled(language)
    found: list[DateMention] = []
    for pattern in compiled.patterns:
        for match in pattern.finditer(text):
            mention = _explicit(match, compiled.months)
            if mention is not None:
                found.append(mention)
    for offset, pattern in ((0, compiled.today), (1, compiled.yesterday)):
        found.extend(DateMention(m.start(), m.end(), m.group(0), relative=offset) for m in pattern.finditer(text))
    found.sort(key=lambda m: (m.start, -(m.end - m.start)))
    kept: list[DateMention] = []
    for mention in found:
        if not kept or mention.start >= kept[-1].end:
            kept.append(mention)
    return kept


def _reference_year(text: str) -> int | None:
    years = [int(y) for y in _YEAR.findall(text)]
    return max(years) if years else None


def resolve_mention(mention: DateMention, reference: date | None, text: str = "") -> date | None:
    """The calendar day a mention means, given the publication day (or None: a year from `text`)."""
    if mention.relative is not None:
        return reference - timedelta(days=mention.relative) if reference else None
    if mention.day is None or mention.month is None:
        return None
    try:
        if mention.year is not None:
            return date(mention.year, mention.month, mention.day)
        if reference is None:
            year = _reference_year(text)
            return date(year, mention.month, mention.day) if year else None
        return _nearest_year(mention.month, mention.day, reference)
    except ValueError:
        return None


def _nearest_year(month: int, day: int, reference: date) -> date | None:
    """The year that puts the date nearest the publication day, a day ahead weighing as much as
    _FUTURE_WEIGHT days behind: "28/12" in an article of 3 January is last December's, while "2/1" in
    one of 30 December announces next January, and "15/6" on 10 June is this June's."""
    best: tuple[float, date] | None = None
    for year in (reference.year - 1, reference.year, reference.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:  # 29 February
            continue
        ahead = (candidate - reference).days
        cost = max(ahead - _FUTURE_SLACK.days, 0) * _FUTURE_WEIGHT if ahead > 0 else -ahead
        if best is None or cost < best[0]:
            best = (cost, candidate)
    return best[1] if best else None


def _pick(mentions: list[DateMention]) -> DateMention | None:
    """The first mention, except that a relative word followed closely by an explicit date yields to it."""
    if not mentions:
        return None
    first = mentions[0]
    if first.relative is None:
        return first
    explicit = next((m for m in mentions if m.relative is None), None)
    if explicit is not None and explicit.start - first.end <= _RELATIVE_REACH:
        return explicit
    return first


def _languages(language: str | None, vocabulary: Vocabulary) -> list[Language]:
    chosen = vocabulary.language(language)
    return [chosen] if chosen else list(vocabulary.languages)


def first_mention(text: str, language: str | None, vocabulary: Vocabulary) -> DateMention | None:
    """The mention `resolve_event_date` uses: the earliest over the language (or every language when unknown)."""
    best: DateMention | None = None
    for lang in _languages(language, vocabulary):
        mention = _pick(find_dates(text, lang))
        if mention is not None and (best is None or mention.start < best.start):
            best = mention
    return best


def resolve_event_date(text: str, language: str | None, published_at: datetime | None,
                       vocabulary: Vocabulary) -> date | None:
    """The event date the text gives first ("Sáng 5/6", "On November 13", "今天上午"), or None.

    Without a publication date, a date without a year takes the latest year the text mentions
    ("…review 2024 and deploy tasks for 2025": 2025), and relative words resolve to nothing.
    """
    mention = first_mention(text, language, vocabulary)
    if mention is None:
        return None
    reference = local_day(published_at) if published_at else None
    resolved = resolve_mention(mention, reference, text)
    logger.debug("event date %r -> %s", mention.text, resolved)
    return resolved
