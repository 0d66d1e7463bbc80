"""Loading the seed corpus into the archive as canonical items (is_seed=true)."""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Any

from crawler.seed_text import parse_page_text
from newswatch.errors import ConfigError
from storage import Archive, PageRecord, UpsertOutcome

logger = logging.getLogger(__name__)

INDEX_FILE = "index.toml"


@dataclass(frozen=True)
class SeedFile:
    path: Path
    site: str
    url: str


@dataclass
class SeedLoadReport:
    loaded: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


def read_seed_index(corpus_dir: Path) -> list[SeedFile]:
    index = corpus_dir / INDEX_FILE
    try:
        data: dict[str, Any] = tomllib.loads(index.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read seed index {index}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"seed index {index} is not valid TOML: {exc}") from exc
    seeds: list[SeedFile] = []
    for entry in data.get("seed", []):
        name = entry.get("file")
        if not name or not (corpus_dir / name).is_file():
            raise ConfigError(f"seed index {index}: missing file {name!r}")
        seeds.append(SeedFile(corpus_dir / name, entry.get("site", "seed"), entry.get("url") or f"seed:{name}"))
    return seeds


def seed_record(seed: SeedFile, tz: tzinfo) -> PageRecord:
    page = parse_page_text(seed.path.read_text(encoding="utf-8"), tz)
    return PageRecord(
        url=seed.url,
        canonical_url=seed.url,
        source=seed.site,
        text=page.text,
        language=page.language,
        title=page.title,
        author=page.author,
        published_at=page.published_at,
        images=page.images,
        is_seed=True,
    )


def load_seeds(archive: Archive, corpus_dir: Path, tz: tzinfo) -> SeedLoadReport:
    """Archive every seed document; loading twice changes nothing."""
    report = SeedLoadReport()
    for seed in read_seed_index(corpus_dir):
        result = archive.archive_page(seed_record(seed, tz))
        report.loaded += 1
        report.outcomes[result.outcome.value] = report.outcomes.get(result.outcome.value, 0) + 1
        if result.outcome is not UpsertOutcome.UNCHANGED:
            logger.info("seed %s: %s", seed.path.name, result.outcome.value)
    return report
