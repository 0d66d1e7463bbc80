"""What a conference report says about its event besides the date: place, organizer, officials, topic.

Best effort and rule based: the language's field patterns (alerts/vocabulary/<lang>.toml) read
the lead sentence ("Sáng 5/9, <organizer> tổ chức …", "On …, the <organizer> held …"), and the
province comes from the names in alerts/vocabulary/provinces.toml, moved to the province it was
merged into when the event is on or after the merger date.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from alerts.model import Official
from alerts.vocabulary import Language, Province, Vocabulary, fold, word_regex

logger = logging.getLogger(__name__)

_MAX_OFFICIALS = 8
_MAX_TOPIC = 220
_TRIM = " ,.;:-–\"'“”()（）"
# Unit names that belong to a province without naming it: "Ban Tuyên giáo Tỉnh ủy" -> "... Tỉnh ủy Nghệ An".
_PROVINCIAL_UNIT = re.compile(r"(?:Tỉnh ủy|tỉnh|Tỉnh|HĐND tỉnh|UBND tỉnh|Thành ủy)$")


@dataclass(frozen=True)
class EventFields:
    place: str | None
    province: str | None
    organizer: str | None
    officials: tuple[Official, ...]
    topic: str | None


@dataclass(frozen=True)
class _ProvinceIndex:
    names: re.Pattern[str]
    districts: re.Pattern[str]
    by_name: dict[str, Province]


@lru_cache(maxsize=8)
def _province_index(vocabulary: Vocabulary) -> _ProvinceIndex:
    names: dict[str, Province] = {}
    districts: dict[str, Province] = {}
    for province in vocabulary.provinces:
        for name in ((province.name,) if province.bare_name else ()) + province.aliases:
            names.setdefault(name.casefold(), province)
        for district in province.districts:
            districts.setdefault(district.casefold(), province)
    # Latin and Cyrillic names need whole-word matches ("An Giang" not inside "Tân An Giang…"); CJK names do not.
    return _ProvinceIndex(word_regex(names, "latin"), word_regex(districts, "latin"), names | districts)


@lru_cache(maxsize=64)
def _compiled(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in patterns)


def _current(province: Province, on: date | None, vocabulary: Vocabulary) -> Province:
    if province.merged_into and on is not None and on >= vocabulary.merger_date:
        return vocabulary.province(province.merged_into) or province
    return province


def find_province(texts: tuple[str, ...], vocabulary: Vocabulary, on: date | None = None) -> Province | None:
    """The province the texts are about: the first named in the earliest text that names one, else districts."""
    index = _province_index(vocabulary)
    for pattern in (index.names, index.districts):
        for text in texts:
            counts = Counter(index.by_name[m.group(0).casefold()].name for m in pattern.finditer(text))
            if counts:
                name = counts.most_common(1)[0][0]
                return _current(vocabulary.province(name) or index.by_name[name.casefold()], on, vocabulary)
    return None


def _first_group(patterns: tuple[str, ...], text: str, group: str, capitalized: bool = False) -> str | None:
    for pattern in _compiled(patterns):
        match = pattern.search(text)
        if match and match.group(group):
            value = match.group(group).strip(_TRIM)
            # Names start with a capital; regex classes like [À-Ỹ] cannot say so for Vietnamese.
            if value and (not capitalized or not value[0].isalpha() or value[0].isupper()):
                return value
    return None


def find_organizer(lead: str, language: Language, province: Province | None) -> str | None:
    """Who held the event, as the lead names it ("UBND tỉnh Nghệ An", "the Nghe An Provincial People's Committee")."""
    organizer = _first_group(language.organizer, lead, "org", capitalized=True)
    if organizer is None:
        return None
    organizer = re.sub(r"^(?:the|The)\s+", "", organizer)
    if province and language.code == "vi" and _PROVINCIAL_UNIT.search(organizer) \
            and fold(province.name) not in fold(organizer):
        organizer = f"{organizer} {province.name}"
    return organizer


def find_officials(text: str, language: Language) -> tuple[Official, ...]:
    """Officials named with their titles ("Đồng chí Hồ Văn Tâm - Chủ tịch UBND tỉnh", "Chairman Ho Van Tam")."""
    found: dict[str, Official] = {}
    for pattern in _compiled(language.officials):
        for match in pattern.finditer(text):
            name = match.group("name").strip(_TRIM)
            title = re.sub(r"\s+", " ", match.group("title")).strip(_TRIM)
            if name and title and name not in found:
                found[name] = Official(name=name, title=title)
            if len(found) >= _MAX_OFFICIALS:
                return tuple(found.values())
    return tuple(found.values())


def find_topic(lead: str, language: Language) -> str | None:
    """What the event reviewed or deployed, cut from the lead sentence."""
    topic = _first_group(language.topic, lead, "topic")
    if topic and len(topic) > _MAX_TOPIC:
        topic = topic[:_MAX_TOPIC].rsplit(" ", 1)[0] + "…"
    return topic


def extract_fields(title: str, lead: str, body: str, language: Language, vocabulary: Vocabulary, *,
                   on: date | None) -> EventFields:
    """Place, province, organizer, officials and topic of the event a report describes."""
    province = find_province((lead, title, body), vocabulary, on)
    local = _first_group(language.place, lead, "place")
    place: str | None
    if local and province and fold(province.name) not in fold(local):
        place = f"{local}, {province.name}"
    else:
        place = local or (province.name if province else None)
    officials = find_officials(f"{lead}\n{body[:6000]}", language)
    return EventFields(place=place, province=province.name if province else None,
                       organizer=find_organizer(lead, language, province), officials=officials,
                       topic=find_topic(lead, language))
