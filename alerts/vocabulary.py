"""Conference vocabulary: the per-language words, cues and patterns detection reads, loaded from TOML data.

The package ships ``alerts/vocabulary/<lang>.toml`` for vi, en, zh, uk, ru, fr and es, plus
``provinces.toml``. ``load_vocabulary(extra_dirs)`` reads them and then every ``*.toml`` of each
extra directory, in order: a language file there extends the packaged language of the same
``language`` code (lists are appended, duplicates dropped) or, with ``mode = "replace"`` at the
top, replaces every key it sets. A file with a new code adds a language.

Language file format (every key optional except ``language``)::

    language = "vi"                 # code; `aliases` lists other codes that mean it ("zh-cn")
    aliases = ["vi-vn"]
    script = "latin"                # latin | cyrillic | cjk: used to guess an unlabelled text's language
    mode = "extend"                 # only in extra files: "extend" (default) or "replace"

    [events]                        # canonical type (alerts.model.EVENT_TYPES) -> words, as they stand in text
    conference = ["hội nghị", "hội nghị tổng kết"]

    [cues]
    weak = ["đối thoại"]            # event words that are often something else: worth less without a verb
    verbs = ["tổ chức"]             # verbs that report an event taking place
    captions = ["Quang cảnh hội nghị"]   # photo captions and body phrases of a conference report
    not_event = ["trung tâm hội nghị"]   # phrases holding an event word that are no event (a venue, a room)
    retrospective = ["nhìn lại"]    # a mention near these recalls an old event
    anniversary = ["kỷ niệm"]       # in a title: a commemoration or feature, not a report
    title_patterns = ['tổng kết.{0,120}?triển khai']   # regexes: report titles without an event word

    [fields]                        # regexes with named groups, tried in order
    organizer = ['...(?P<org>...)...']
    officials = ['...(?P<name>...)...(?P<title>...)...']
    place = ['...(?P<place>...)...']
    topic = ['...(?P<topic>...)...']

    [dates]
    time_of_day = ["sáng", "chiều"]  # {tod} in patterns
    today = ["hôm nay"]             # {today}; alone they mean the publication day
    yesterday = ["hôm qua"]         # {yesterday}; the day before publication
    months = [["tháng 1"], ...]     # exactly 12 lists of names (genitive forms where the language has them); {month}
    patterns = ['(?:{tod})\\s+(?P<d>\\d{1,2})/(?P<m>\\d{1,2})']   # groups: d, m or mon, optional y and d2

Words match case-insensitively, whole-word for latin and cyrillic scripts (explicit look-arounds,
not ``\\b``, which fails next to CJK characters), anywhere for CJK.

``provinces.toml``: ``merger_date`` and ``[[province]]`` tables with ``name``, ``kind``,
``aliases``, optional ``merged_into``, ``districts`` and ``bare_name`` (false: only the aliases match).
"""

from __future__ import annotations

import logging
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from alerts.errors import VocabularyError
from alerts.model import EVENT_TYPES

logger = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent / "vocabulary"
SCRIPTS = ("latin", "cyrillic", "cjk")
_LIST_SECTIONS: dict[str, tuple[str, ...]] = {
    "cues": ("weak", "verbs", "captions", "not_event", "retrospective", "anniversary", "title_patterns"),
    "fields": ("organizer", "officials", "place", "topic"),
    "dates": ("time_of_day", "today", "yesterday", "patterns"),
}
_REGEX_KEYS = {("cues", "title_patterns"), ("fields", "organizer"), ("fields", "officials"), ("fields", "place"),
               ("fields", "topic"), ("dates", "patterns")}


@dataclass(frozen=True)
class DateWords:
    time_of_day: tuple[str, ...] = ()
    today: tuple[str, ...] = ()
    yesterday: tuple[str, ...] = ()
    months: tuple[tuple[str, ...], ...] = ()
    patterns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Language:
    code: str
    aliases: tuple[str, ...]
    script: str
    events: tuple[tuple[str, str], ...]  # (word, canonical type)
    weak: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ()
    captions: tuple[str, ...] = ()
    not_event: tuple[str, ...] = ()
    retrospective: tuple[str, ...] = ()
    anniversary: tuple[str, ...] = ()
    title_patterns: tuple[str, ...] = ()
    organizer: tuple[str, ...] = ()
    officials: tuple[str, ...] = ()
    place: tuple[str, ...] = ()
    topic: tuple[str, ...] = ()
    dates: DateWords = field(default_factory=DateWords)


@dataclass(frozen=True)
class Province:
    name: str
    kind: str
    aliases: tuple[str, ...]
    merged_into: str | None = None
    districts: tuple[str, ...] = ()
    bare_name: bool = True  # False: the name alone means something else too; only the aliases match


@dataclass(frozen=True)
class Vocabulary:
    languages: tuple[Language, ...]
    provinces: tuple[Province, ...]
    merger_date: date

    def language(self, code: str | None) -> Language | None:
        """The language for a code or one of its aliases ("zh-CN" -> zh), or None."""
        if not code:
            return None
        wanted = code.strip().lower().replace("_", "-")
        for lang in self.languages:
            if wanted == lang.code or wanted in lang.aliases:
                return lang
        base = wanted.split("-")[0]
        return next((lang for lang in self.languages if lang.code == base), None)

    def province(self, name: str) -> Province | None:
        return next((p for p in self.provinces if p.name == name), None)


def fold(text: str) -> str:
    """Lower case without diacritics ("Nghệ An" -> "nghe an"): the ASCII spelling of a Vietnamese name."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise VocabularyError(str(path), str(exc)) from exc


def _strings(value: Any, path: Path, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise VocabularyError(str(path), f"{where} must be a list of non-empty strings")
    return [v.strip() for v in value]


def _merge(base: list[str], extra: list[str], replace: bool) -> list[str]:
    if replace:
        return list(dict.fromkeys(extra))
    return list(dict.fromkeys([*base, *extra]))


def _apply(data: dict[str, Any], path: Path, into: dict[str, Any]) -> None:
    """Fold one language file into the accumulated raw language `into`, validating as it goes."""
    replace = data.get("mode", "extend") == "replace"
    if data.get("mode", "extend") not in ("extend", "replace"):
        raise VocabularyError(str(path), "mode must be 'extend' or 'replace'")
    if "aliases" in data:
        into["aliases"] = _merge(into.get("aliases", []), _strings(data["aliases"], path, "aliases"), replace)
    if "script" in data:
        if data["script"] not in SCRIPTS:
            raise VocabularyError(str(path), f"script must be one of {SCRIPTS}")
        into["script"] = data["script"]
    events = data.get("events", {})
    if not isinstance(events, dict):
        raise VocabularyError(str(path), "[events] must be a table")
    for kind, words in events.items():
        if kind not in EVENT_TYPES:
            raise VocabularyError(str(path), f"unknown event type {kind!r} (one of {EVENT_TYPES})")
        table = into.setdefault("events", {})
        table[kind] = _merge(table.get(kind, []), _strings(words, path, f"events.{kind}"), replace)
    for section, keys in _LIST_SECTIONS.items():
        table = data.get(section, {})
        if not isinstance(table, dict):
            raise VocabularyError(str(path), f"[{section}] must be a table")
        for key in keys:
            if key in table:
                values = [] if table[key] == [] else _strings(table[key], path, f"{section}.{key}")
                into[key] = _merge(into.get(key, []), values, replace)
        if section == "dates" and "months" in table:
            into["months"] = _months(table["months"], path)


def _months(value: Any, path: Path) -> list[list[str]]:
    if not isinstance(value, list) or len(value) != 12:
        raise VocabularyError(str(path), "dates.months must list exactly 12 months")
    return [_strings(names, path, f"dates.months[{i}]") for i, names in enumerate(value)]


def _alternation(words: Iterable[str]) -> str:
    # Longest first, so "hội nghị tổng kết" wins over "hội nghị" at the same position.
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


def expand(pattern: str, months: Sequence[Sequence[str]], time_of_day: Sequence[str], today: Sequence[str],
           yesterday: Sequence[str] = ()) -> str:
    """A date or field pattern with its placeholders ({month} {tod} {today} {yesterday}) replaced by alternations."""
    values = {
        "{month}": _alternation(name for names in months for name in names) or "(?!)",
        "{tod}": _alternation(time_of_day) or "(?!)",
        "{today}": _alternation(today) or "(?!)",
        "{yesterday}": _alternation(yesterday) or "(?!)",
    }
    for key, value in values.items():
        pattern = pattern.replace(key, value)
    return pattern


# Letters and digits of the scripts whose words are delimited by spaces: a match must not touch one.
_WORD_CHARS = "0-9A-Za-zÀ-ɏḀ-ỿЀ-ӿ'’"


def word_regex(words: Iterable[str], script: str) -> re.Pattern[str]:
    """One case-insensitive regex for `words`; whole words for latin/cyrillic, anywhere for CJK.

    Explicit look-arounds instead of ``\\b``: CJK characters count as word characters, so ``\\b``
    finds no boundary in "举行conference" and one inside nothing useful.
    """
    alternation = _alternation(words) or "(?!)"
    if script == "cjk":
        return re.compile(f"(?:{alternation})", re.IGNORECASE)
    return re.compile(f"(?<![{_WORD_CHARS}])(?:{alternation})(?![{_WORD_CHARS}])", re.IGNORECASE)


def _check_patterns(raw: dict[str, Any], path: str) -> None:
    """Every regex must compile once its placeholders are expanded: fail at load time, not mid-crawl."""
    for _section, key in _REGEX_KEYS:
        for pattern in raw.get(key, []):
            try:
                re.compile(expand(pattern, raw.get("months", []), raw.get("time_of_day", []), raw.get("today", []),
                                  raw.get("yesterday", [])))
            except re.error as exc:
                raise VocabularyError(path, f"{key}: bad pattern {pattern!r}: {exc}") from exc


def _language(code: str, raw: dict[str, Any], path: str) -> Language:
    if not raw.get("events"):
        raise VocabularyError(path, f"language {code!r} has no [events]")
    _check_patterns(raw, path)
    events = tuple((word, kind) for kind, words in raw["events"].items() for word in words)
    lists = {key: tuple(raw.get(key, ())) for keys in _LIST_SECTIONS.values() for key in keys}
    dates = DateWords(
        time_of_day=lists.pop("time_of_day"), today=lists.pop("today"), yesterday=lists.pop("yesterday"),
        months=tuple(tuple(m) for m in raw.get("months", ())), patterns=lists.pop("patterns"),
    )
    return Language(code=code, aliases=tuple(a.lower() for a in raw.get("aliases", ())),
                    script=raw.get("script", "latin"), events=events, dates=dates, **lists)


def _province_tables(data: dict[str, Any], path: Path) -> Iterable[Province]:
    tables = data.get("province", [])
    if not isinstance(tables, list):
        raise VocabularyError(str(path), "[[province]] must be an array of tables")
    for table in tables:
        name = table.get("name") if isinstance(table, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise VocabularyError(str(path), "every [[province]] needs a name")
        merged = table.get("merged_into")
        aliases = _strings(table.get("aliases", []), path, f"{name}.aliases") if table.get("aliases") else []
        districts = _strings(table.get("districts", []), path, f"{name}.districts") if table.get("districts") else []
        bare = bool(table.get("bare_name", True))
        yield Province(name=name, kind=str(table.get("kind", "province")),
                       aliases=tuple(dict.fromkeys([*aliases, *([fold(name).title()] if bare else [])])),
                       merged_into=merged if isinstance(merged, str) and merged else None, districts=tuple(districts),
                       bare_name=bare)


def _files(extra_dirs: Sequence[Path]) -> list[Path]:
    files = sorted(PACKAGE_DIR.glob("*.toml"))
    for folder in extra_dirs:
        if not Path(folder).is_dir():
            raise VocabularyError(str(folder), "not a directory")
        files.extend(sorted(Path(folder).glob("*.toml")))
    return files


def load_vocabulary(extra_dirs: Sequence[Path] = ()) -> Vocabulary:
    """The packaged vocabulary extended (or overridden) by the ``*.toml`` files of ``extra_dirs``."""
    raw_languages: dict[str, dict[str, Any]] = {}
    paths: dict[str, str] = {}
    provinces: dict[str, Province] = {}
    merger_date = date(2025, 7, 1)
    for path in _files(extra_dirs):
        data = _read(path)
        if "province" in data or "merger_date" in data:
            for province in _province_tables(data, path):
                provinces[province.name] = province
            if isinstance(data.get("merger_date"), date):
                merger_date = data["merger_date"]
            continue
        code = data.get("language")
        if not isinstance(code, str) or not code.strip():
            raise VocabularyError(str(path), "missing 'language'")
        _apply(data, path, raw_languages.setdefault(code.strip().lower(), {}))
        paths[code.strip().lower()] = str(path)
    for province in provinces.values():
        if province.merged_into and province.merged_into not in provinces:
            raise VocabularyError("provinces", f"{province.name} merged into unknown {province.merged_into!r}")
    languages = tuple(_language(code, raw, paths[code]) for code, raw in raw_languages.items())
    logger.debug("vocabulary: %d languages, %d provinces", len(languages), len(provinces))
    return Vocabulary(languages=languages, provinces=tuple(provinces.values()), merger_date=merger_date)
