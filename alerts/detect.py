"""Conference detection: does a report describe an event that has just taken place, and which one?

Rules over the vocabulary, not a model. Evidence adds up to a score:

- the title names an event ("Hội nghị …", "… holds regular meeting", "…召开…例行会议") or has the
  shape of a review report ("tổng kết … triển khai nhiệm vụ", "reviews 2025, sets tasks");
- the lead sentence reports one: an event word, a verb of holding ("tổ chức", "held", "召开"),
  a date or time of day at its start ("Sáng 5/9,", "On the morning of …", "9月4日上午");
- the body has the captions and phrases of a conference report ("Quang cảnh hội nghị", "会议概况");

and evidence against it takes points away: a title that commemorates or looks back ("nhìn lại",
"kỷ niệm", "years ago"), a mention next to a retrospective cue ("hồi tháng 1/2025", "was cited
at"), an event word that is part of a venue or a thing ("Trung tâm Hội nghị", "会议室"), and a
lead date long before publication.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date

from alerts.event_date import first_mention, local_day, resolve_mention
from alerts.event_fields import extract_fields
from alerts.model import EventRecord, ReportText
from alerts.vocabulary import Language, Vocabulary, word_regex

logger = logging.getLogger(__name__)

THRESHOLD = 3.0
_RETRO_WINDOW = 100  # characters either side of an event word where a retrospective cue takes it back
_DATE_AT_START = 45  # a lead "opens with a date" when its first date starts within this many characters
_STALE_DAYS = 45  # an event this long before publication is recalled, not reported
_SENTENCE = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])|\n+")
# "No. 3", "Mr. Loi", "TP. Hồ Chí Minh": a short capitalised word before a full stop is an abbreviation.
_ABBREVIATION = re.compile(r"(?:^|\s)[A-ZА-ЯЁІЇЄҐĐ][a-zа-яёіїєґ]{0,3}\.$")
_CJK = re.compile(r"[\u3400-\u9fff]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_UKRAINIAN = re.compile(r"[іїєґІЇЄҐ]")
_VIETNAMESE = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.IGNORECASE)


@dataclass(frozen=True)
class _Hit:
    text: str
    kind: str
    start: int
    end: int
    weak: bool = False


class _Rules:
    """One language's vocabulary compiled for matching."""

    def __init__(self, language: Language) -> None:
        script = language.script
        self.language = language
        self.events = word_regex((w for w, _ in language.events), script)
        self.kinds = {w.casefold(): kind for w, kind in reversed(language.events)}
        self.weak = frozenset(w.casefold() for w in language.weak)
        self.not_event = word_regex(language.not_event, script)
        self.verbs = word_regex(language.verbs, script)
        self.captions = word_regex(language.captions, script)
        self.retrospective = word_regex(language.retrospective, script)
        self.anniversary = word_regex((*language.anniversary, *language.retrospective), script)
        self.title_patterns = tuple(re.compile(p, re.IGNORECASE) for p in language.title_patterns)

    def hits(self, text: str) -> list[_Hit]:
        """Event words of `text` that are not part of a venue or thing phrase."""
        blocked = [(m.start(), m.end()) for m in self.not_event.finditer(text)]
        found = []
        for match in self.events.finditer(text):
            if any(s <= match.start() < e or s < match.end() <= e for s, e in blocked):
                continue
            word = match.group(0).casefold()
            found.append(_Hit(match.group(0), self.kinds.get(word, "conference"), match.start(), match.end(),
                              word in self.weak))
        return found

    def current(self, text: str) -> list[_Hit]:
        """Event words not taken back by a nearby retrospective cue."""
        cues = [m.start() for m in self.retrospective.finditer(text)]
        return [h for h in self.hits(text)
                if not any(h.start - _RETRO_WINDOW <= c <= h.end + _RETRO_WINDOW for c in cues)]


@dataclass
class _Evidence:
    score: float = 0.0
    matched: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    kind: str | None = None
    title_weak: bool = False

    def add(self, points: float, rule: str, *words: str) -> None:
        self.score += points
        self.rules.append(rule)
        self.matched.extend(w for w in words if w not in self.matched)


def _strongest(hits: list[_Hit]) -> _Hit:
    """The hit that says most: a specific word over a weak one, a longer over a shorter."""
    return max(hits, key=lambda h: (not h.weak, len(h.text)))


def guess_languages(text: str) -> tuple[str, ...]:
    """Candidate language codes from the script of `text` (latin without Vietnamese letters: try several)."""
    sample = text[:3000]
    if len(_CJK.findall(sample)) > 20:
        return ("zh",)
    if len(_CYRILLIC.findall(sample)) > 40:
        return ("uk",) if _UKRAINIAN.search(sample) else ("ru",)
    if len(_VIETNAMESE.findall(sample)) > 5:
        return ("vi",)
    return ("en", "fr", "es")


def split_report(report: ReportText) -> tuple[str, str]:
    """Lead and body: the given lead, or the first paragraph of the text when the lead is unknown."""
    text = report.text.strip()
    lead = report.lead.strip()
    if not lead:
        lead, _, body = text.partition("\n")
        return lead.strip(), body.strip()
    body = text[len(lead):].strip() if text.startswith(lead) else text
    return lead, body


def _sentences(text: str) -> list[str]:
    sentences: list[str] = []
    glue = False
    for piece in _SENTENCE.split(text):
        if not piece or not piece.strip():
            continue
        if glue and sentences:
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
        glue = bool(_ABBREVIATION.search(piece))
    return sentences


class ConferenceDetector:
    """Detects conference reports among archived items; one instance serves any number of calls."""

    def __init__(self, vocabulary: Vocabulary, threshold: float = THRESHOLD) -> None:
        self.vocabulary = vocabulary
        self.threshold = threshold
        self._rules = {lang.code: _Rules(lang) for lang in vocabulary.languages}

    def _candidates(self, report: ReportText) -> list[_Rules]:
        language = self.vocabulary.language(report.language)
        if language is not None:
            return [self._rules[language.code]]
        codes = guess_languages(f"{report.title}\n{report.lead}\n{report.text}")
        return [self._rules[c] for c in codes if c in self._rules] or list(self._rules.values())

    def detect(self, report: ReportText) -> EventRecord | None:
        """The event the report describes, or None when it is no conference report."""
        best: EventRecord | None = None
        lead, body = split_report(report)
        for rules in self._candidates(report):
            record = self._detect(report, lead, body, rules)
            if record is not None and (best is None or record.score > best.score):
                best = record
        return best

    def _title(self, title: str, rules: _Rules, evidence: _Evidence) -> None:
        cue = rules.anniversary.search(title)
        if cue:
            evidence.add(-4.0, f"title-retrospective:{cue.group(0)}", cue.group(0))
        hits = rules.hits(title)
        if hits:
            best = _strongest(hits)
            evidence.kind = best.kind
            evidence.title_weak = best.weak
            evidence.add(1.0 if best.weak else 2.0, f"title:{best.text.lower()}", best.text)
        for pattern in rules.title_patterns:
            match = pattern.search(title)
            if match:
                evidence.add(1.5, "title-shape:review", match.group(0))
                break

    def _lead(self, lead: str, rules: _Rules, evidence: _Evidence) -> str:
        """Score the lead; return the sentence that reports the event (for date and fields)."""
        sentences = _sentences(lead) or [""]
        first = sentences[0]
        hits = rules.current(first)
        if hits:
            best = _strongest(hits)
            # A specific lead word ("hội nghị đối thoại") says more than a weak title word ("đối thoại").
            if evidence.kind is None or (evidence.title_weak and not best.weak):
                evidence.kind = best.kind
            verb = rules.verbs.search(first)
            # A weak word ("session", "meeting") is an event only when something is held.
            evidence.add(1.0 if best.weak and not verb else 2.0, f"lead:{best.text.lower()}", best.text)
            if verb:
                evidence.add(1.0, f"lead-verb:{verb.group(0).lower()}", verb.group(0))
            mention = first_mention(first, rules.language.code, self.vocabulary)
            if mention is not None and mention.start <= _DATE_AT_START:
                evidence.add(1.0, "lead-date", mention.text)
            return first
        for sentence in sentences[1:3]:
            later = [h for h in rules.current(sentence) if not h.weak]
            if later:
                evidence.kind = evidence.kind or later[0].kind
                evidence.add(1.0, f"lead-later:{later[0].text.lower()}", later[0].text)
                break
        return first

    def _body(self, body: str, rules: _Rules, evidence: _Evidence) -> None:
        caption = rules.captions.search(body)
        if caption:
            evidence.add(1.5, f"caption:{caption.group(0)}", caption.group(0))
        if len(rules.current(body[:8000])) >= 3:
            evidence.add(1.0, "body-repeats")

    def _event_date(self, sentence: str, lead: str, title: str, rules: _Rules,
                    report: ReportText) -> date | None:
        reference = local_day(report.published_at) if report.published_at else None
        for text in (sentence, title):
            mention = first_mention(text, rules.language.code, self.vocabulary)
            if mention is not None:
                return resolve_mention(mention, reference, lead)
        # A report without a date in its lead is published the day of its event, or the next.
        return reference

    def _detect(self, report: ReportText, lead: str, body: str, rules: _Rules) -> EventRecord | None:
        evidence = _Evidence()
        self._title(report.title, rules, evidence)
        sentence = self._lead(lead, rules, evidence)
        self._body(body, rules, evidence)
        event_date = self._event_date(sentence, lead, report.title, rules, report)
        if event_date and report.published_at and \
                (local_day(report.published_at) - event_date).days > _STALE_DAYS:
            evidence.add(-5.0, "date:long-before-publication", event_date.isoformat())
        if evidence.score < self.threshold:
            return None
        fields = extract_fields(report.title, sentence, body, rules.language, self.vocabulary,
                                on=event_date)
        logger.debug("conference %s: %.1f %s", report.url, evidence.score, evidence.rules)
        return EventRecord(
            type=evidence.kind or "conference", date=event_date, place=fields.place, province=fields.province,
            organizer=fields.organizer, officials=fields.officials, topic=fields.topic,
            matched=tuple(evidence.matched), rule=" + ".join(evidence.rules), score=round(evidence.score, 2),
        )

