"""Story content as data: the model, and the loader for ``replica/data/*.toml``.

A site is described by ``<key>.site.toml`` (editions, sections, tags, topic hub, interface
strings) and one ``<key>-story-<id>.toml`` per story. A story has a Vietnamese original and
translations, each with its own headline, sapo, body, author and publication time, plus
optional revisions that change the text from a later simulated day on.

Body syntax: one block per non-empty line; ``## text`` is a sub-heading, ``![file.jpg]
caption`` an image with an optional caption, anything else a paragraph.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any, Literal

from replica.dates import parse_local, with_seconds

LANGS: tuple[str, ...] = ("vi", "en", "zh", "ru", "fr")
BlockKind = Literal["p", "h", "img"]


@dataclass(frozen=True)
class Block:
    kind: BlockKind
    text: str
    image: str = ""


@dataclass(frozen=True)
class Edition:
    lang: str
    title: str
    sapo: str
    blocks: tuple[Block, ...]
    published: datetime
    author: str
    author_unit: str = ""
    garbled_date: bool = False
    seed_file: str | None = None

    def plain_text(self) -> str:
        """Sapo, then paragraphs, headings and captions in page order."""
        parts = [self.sapo] if self.sapo else []
        parts.extend(block.text for block in self.blocks if block.text)
        return "\n".join(parts)

    def images(self) -> list[str]:
        return [block.image for block in self.blocks if block.kind == "img"]


@dataclass(frozen=True)
class Revision:
    day: int
    lang: str
    modified: datetime
    sapo: str | None
    replacements: tuple[tuple[str, str], ...]
    append: tuple[Block, ...]

    def apply(self, edition: Edition) -> Edition:
        blocks = list(edition.blocks)
        for old, new in self.replacements:
            hits = [i for i, block in enumerate(blocks) if old in block.text]
            if not hits:
                raise ValueError(f"revision text not found: {old[:40]!r}")
            for i in hits:
                blocks[i] = replace(blocks[i], text=blocks[i].text.replace(old, new))
        blocks.extend(self.append)
        sapo = edition.sapo if self.sapo is None else self.sapo
        return replace(edition, sapo=sapo, blocks=tuple(blocks))


@dataclass(frozen=True)
class Event:
    type: str
    date: str
    place: str
    organizer: str

    def as_dict(self) -> dict[str, str]:
        return {"type": self.type, "date": self.date, "place": self.place, "organizer": self.organizer}


@dataclass(frozen=True)
class Story:
    id: int
    slug: str
    category: str
    tags: tuple[str, ...]
    topic: bool
    conference: bool
    event: Event | None
    editions: dict[str, Edition]
    revisions: tuple[Revision, ...]
    flat_url: bool = False

    def at_day(self, lang: str, day: int) -> tuple[Edition, datetime]:
        """The edition as served on ``day`` and its last-modified time."""
        return edition_at_day(self.editions, self.revisions, lang, day)


def edition_at_day(
    editions: dict[str, Edition], revisions: tuple[Revision, ...], lang: str, day: int
) -> tuple[Edition, datetime]:
    """An edition with the revisions made up to ``day`` applied, and its last-modified time."""
    edition = editions[lang]
    modified = edition.published
    for revision in sorted(revisions, key=lambda r: r.day):
        if revision.lang == lang and revision.day <= day:
            edition = revision.apply(edition)
            modified = revision.modified
    return edition, modified


@dataclass(frozen=True)
class Named:
    """A section, tag or topic hub: a slug, an optional numeric id, and names per language."""

    slug: str
    id: int
    names: dict[str, str]
    description: dict[str, str]
    created: datetime | None = None
    image: str = ""


@dataclass(frozen=True)
class EditionConfig:
    lang: str
    prefix: str
    label: str
    site_name: str
    ui: dict[str, str]
    footer: tuple[str, ...]


@dataclass(frozen=True)
class SiteData:
    key: str
    image_host: str
    opened: datetime
    editions: dict[str, EditionConfig]
    categories: tuple[Named, ...]
    tags: tuple[Named, ...]
    topic: Named
    stories: tuple[Story, ...]


def _str(table: dict[str, Any], key: str, default: str | None = None) -> str:
    value = table.get(key, default)
    if not isinstance(value, str):
        raise ValueError(f"expected a string at {key!r}, got {value!r}")
    return value.strip()


def _table(table: dict[str, Any], key: str) -> dict[str, Any]:
    value = table.get(key, {})
    if not isinstance(value, dict):
        raise ValueError(f"expected a table at {key!r}")
    return value


def _strings(table: dict[str, Any], key: str) -> dict[str, str]:
    return {k: str(v) for k, v in _table(table, key).items()}


def parse_body(text: str) -> tuple[Block, ...]:
    blocks: list[Block] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("## "):
            blocks.append(Block("h", line[3:].strip()))
        elif line.startswith("!["):
            name, _, caption = line[2:].partition("]")
            blocks.append(Block("img", caption.strip(), image=name.strip()))
        else:
            blocks.append(Block("p", line))
    return tuple(blocks)


def _edition(lang: str, table: dict[str, Any], salt: int) -> Edition:
    return Edition(
        lang=lang,
        title=_str(table, "title"),
        sapo=_str(table, "sapo"),
        blocks=parse_body(_str(table, "body")),
        published=with_seconds(parse_local(_str(table, "published")), salt),
        author=_str(table, "author"),
        author_unit=_str(table, "author_unit", ""),
        garbled_date=bool(table.get("garbled_date", False)),
        seed_file=table.get("seed_file"),
    )


def _revision(table: dict[str, Any], salt: int) -> Revision:
    pairs = tuple((str(old), str(new)) for old, new in table.get("replace", []))
    sapo = table.get("sapo")
    return Revision(
        day=int(table["day"]),
        lang=_str(table, "lang"),
        modified=with_seconds(parse_local(_str(table, "modified")), salt),
        sapo=sapo.strip() if isinstance(sapo, str) else None,
        replacements=pairs,
        append=parse_body(_str(table, "append", "")),
    )


def parse_story(data: dict[str, Any]) -> Story:
    story_id = int(data["id"])
    editions = {
        lang: _edition(lang, table, story_id + index * 7)
        for index, (lang, table) in enumerate(_table(data, "editions").items())
    }
    if "vi" not in editions or "en" not in editions or set(editions) - set(LANGS):
        raise ValueError(f"story {story_id}: needs vi and en editions, only {LANGS}")
    event_table = data.get("event")
    event = Event(**{k: _str(event_table, k) for k in ("type", "date", "place", "organizer")}) \
        if isinstance(event_table, dict) else None
    return Story(
        id=story_id,
        slug=_str(data, "slug"),
        category=_str(data, "category"),
        tags=tuple(str(tag) for tag in data.get("tags", [])),
        topic=bool(data.get("topic", False)),
        conference=bool(data.get("conference", False)),
        event=event,
        editions=editions,
        revisions=tuple(_revision(t, story_id) for t in data.get("revisions", [])),
        flat_url=bool(data.get("flat_url", False)),
    )


def _named(table: dict[str, Any]) -> Named:
    created = table.get("created")
    return Named(
        slug=_str(table, "slug"),
        id=int(table.get("id", 0)),
        names=_strings(table, "names"),
        description=_strings(table, "description"),
        created=parse_local(created) if isinstance(created, str) else None,
        image=_str(table, "image", ""),
    )


def _edition_config(lang: str, table: dict[str, Any]) -> EditionConfig:
    ui = _strings(table, "ui")
    footer = tuple(str(line) for line in table.get("footer", []))
    return EditionConfig(lang, _str(table, "prefix", ""), _str(table, "label"), _str(table, "site_name"),
                         ui, footer)


def read_toml(name: str) -> dict[str, Any]:
    return tomllib.loads(resources.files("replica").joinpath("data", name).read_text("utf-8"))


def story_files(key: str) -> list[str]:
    folder = resources.files("replica").joinpath("data")
    prefix = f"{key}-story-"
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(prefix) and p.name.endswith(".toml"))


@cache
def load_site_data(key: str) -> SiteData:
    """Load (once) the site description and all stories of site ``key``."""
    site = read_toml(f"{key}.site.toml")
    data = SiteData(
        key=key,
        image_host=_str(site, "image_host"),
        opened=parse_local(_str(site, "opened")),
        editions={lang: _edition_config(lang, t) for lang, t in _table(site, "editions").items()},
        categories=tuple(_named(t) for t in site.get("categories", [])),
        tags=tuple(_named(t) for t in site.get("tags", [])),
        topic=_named(_table(site, "topic")),
        stories=tuple(parse_story(read_toml(name)) for name in story_files(key)),
    )
    _check(data)
    return data


def _check(data: SiteData) -> None:
    categories = {c.slug for c in data.categories}
    tags = {t.slug for t in data.tags}
    ids: set[int] = set()
    for story in data.stories:
        if story.id in ids:
            raise ValueError(f"duplicate story id {story.id}")
        ids.add(story.id)
        if story.category not in categories:
            raise ValueError(f"story {story.id}: unknown category {story.category}")
        if set(story.tags) - tags:
            raise ValueError(f"story {story.id}: unknown tags {set(story.tags) - tags}")
        if story.conference != (story.event is not None):
            raise ValueError(f"story {story.id}: conference stories need an event, others none")
        if set(story.editions) - set(data.editions):
            raise ValueError(f"story {story.id}: edition without a site edition")
