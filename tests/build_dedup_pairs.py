"""Build the labelled dedup set from the replica's ground truth and the seed corpus.

Every article the replica serves on the last day (all stories and their edits) is fetched from
a running replica and extracted by newswatch's own extractor, so the items carry what a crawl
archives: text with the extractor's noise, image file names, Source links, canonical links.
The seeds are parsed as `newswatch seeds` parses them. Labels come from the manifest:
`duplicate_group` says which pages are one story; a copy within the group (a seed and its page,
the Vietnamese original and its verbatim republication) is a near-duplicate pair, any other pair
of the group (two languages, or two independent translations into one) a translation pair;
pairs of different groups are negatives.

Writes ``tests/fixtures/dedup_pairs_items.jsonl`` (one item per line, in publication order)
and ``tests/fixtures/dedup_pairs.jsonl`` (every positive pair and the hard negatives: pairs of
two different stories that share a site and language, a publication day, or an image). Run:

    .venv/bin/python tests/build_dedup_pairs.py
"""

from __future__ import annotations

import itertools
import json
import sys
import urllib.request
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from crawler.extraction import extract_page
from newswatch.seeds import read_seed_index, seed_record
from replica import Replica

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
ITEMS_FILE = FIXTURES / "dedup_pairs_items.jsonl"
PAIRS_FILE = FIXTURES / "dedup_pairs.jsonl"
LAST_DAY = 7
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def _fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        body: bytes = response.read()
    return body.decode("utf-8", errors="replace")


def crawled_items() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    with Replica(day=LAST_DAY) as replica:
        for entry in replica.manifest():
            if entry.kind != "article":
                continue
            page = extract_page(_fetch(entry.url), entry.url, TZ)
            base = replica.base_urls[entry.site]
            items.append({
                "url": _relative(entry.url, base, entry.site),
                "canonical_url": _relative(page.canonical_url, base, entry.site),
                "site": entry.site, "language": page.language or entry.language, "title": page.title,
                "text": page.text, "published_at": page.published_at.isoformat() if page.published_at else None,
                "images": list(page.images), "source_links": [_relative_any(link, replica.base_urls)
                                                              for link in page.source_links],
                "group": entry.duplicate_group, "seed_file": entry.seed_file, "is_seed": False,
            })
    return items


def _relative(url: str, base: str, site: str) -> str:
    """Replica ports change from run to run: name each site's host after the site."""
    return url.replace(base, f"https://{site}.replica.test/") if url.startswith(base) else url


def _relative_any(url: str, bases: dict[str, str]) -> str:
    for site, base in bases.items():
        if url.startswith(base):
            return _relative(url, base, site)
    return url


def seed_items(groups: dict[str, str]) -> list[dict[str, Any]]:
    items = []
    for seed in read_seed_index(ROOT / "seeds" / "corpus"):
        record = seed_record(seed, TZ)
        items.append({
            "url": record.url, "canonical_url": record.canonical_url, "site": seed.site,
            "language": record.language, "title": record.title, "text": record.text,
            "published_at": record.published_at.isoformat() if record.published_at else None,
            "images": list(record.images), "source_links": [], "group": groups[seed.path.name],
            "seed_file": seed.path.name, "is_seed": True,
        })
    return items


def edited_copies(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Near-duplicates the replica does not serve: copies on a mirror (no images, no slug, no id)
    with one paragraph dropped and one sentence reworded; and each seed's raw page text, with its
    menus, "Same category" lists and footer (page furniture)."""
    copies = []
    for number, item in enumerate(items):
        lines = item["text"].split("\n")
        if item["is_seed"] or number % 3 or len(lines) < 8:
            continue
        lines.pop(len(lines) // 2)
        lines[1] = lines[1][: len(lines[1]) // 2] + " (updated)"
        copies.append({**item, "url": f"https://mirror.replica.test/copy/{number}", "canonical_url": "",
                       "site": "mirror", "text": "\n".join(lines), "images": [], "source_links": [],
                       "seed_file": None})
    for seed in (i for i in items if i["is_seed"]):
        raw = (ROOT / "seeds" / "corpus" / seed["seed_file"]).read_text(encoding="utf-8")
        copies.append({**seed, "url": f"https://mirror.replica.test/raw/{seed['seed_file']}", "canonical_url": "",
                       "site": "mirror", "text": raw, "is_seed": False, "seed_file": None})
    return copies


def _copies(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """One text is a copy of the other: a seed and its page, or the Vietnamese original and its
    verbatim republication. Two independent translations into one language are not copies."""
    copy = "mirror" in (a["site"], b["site"]) and a["site"] != b["site"]
    return bool(a["is_seed"] or b["is_seed"] or a["language"] == "vi" or copy)


def labelled_pairs(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    pairs = []
    for a, b in itertools.combinations(items, 2):
        same_lang = a["language"] == b["language"]
        if a["group"] == b["group"]:
            label = "near" if same_lang and _copies(a, b) else "translation"
        else:
            hard = (same_lang and a["site"] == b["site"]) or set(a["images"]) & set(b["images"]) or (
                a["published_at"] and b["published_at"] and a["published_at"][:10] == b["published_at"][:10])
            if not hard:
                continue
            label = "negative"
        pairs.append({"a": a["url"], "b": b["url"], "label": label,
                      "languages": sorted({a["language"], b["language"]})})
    return pairs


def main() -> int:
    crawled = crawled_items()
    groups = {item["seed_file"]: item["group"] for item in crawled if item["seed_file"]}
    items = seed_items(groups) + sorted(crawled, key=lambda i: (i["published_at"] or "", i["url"]))
    items += edited_copies(items)
    pairs = labelled_pairs(items)
    FIXTURES.mkdir(parents=True, exist_ok=True)
    with ITEMS_FILE.open("w", encoding="utf-8") as out:
        for item in items:
            out.write(json.dumps(item, ensure_ascii=False, sort_keys=True) + "\n")
    with PAIRS_FILE.open("w", encoding="utf-8") as out:
        for pair in pairs:
            out.write(json.dumps(pair, ensure_ascii=False, sort_keys=True) + "\n")
    counts: dict[str, int] = {}
    for pair in pairs:
        counts[pair["label"]] = counts.get(pair["label"], 0) + 1
    print(f"{len(items)} items, pairs: {counts}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
