"""Archive search at scale on SQLite: index build rate, index size per item, query latency.

An archive is filled with N synthetic items in Vietnamese, Chinese, Ukrainian and English (words
drawn from Zipf-distributed vocabularies of generated syllables, characters and words, ~120
tokens an item, over four sources and two years, a tenth marked duplicates, a tenth with an
event), bulk-inserted into `items`, then indexed with `search.reindex_all`. Each query kind is
timed end to end through `search.search` (count, ranked page of 20, snippets built in Python).

Usage (from the repository root)::

    .venv/bin/python bench/search.py [--items 50000] [--runs 60] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from storage import Archive, text_fingerprint  # noqa: E402
from storage.models import Item, utcnow  # noqa: E402
from storage.search import SearchQuery, reindex_all, search  # noqa: E402
from storage.search_text import fold  # noqa: E402

DEFAULT_OUT = REPO_ROOT / "bench" / "results" / "search.json"
LANGUAGES = ("vi", "zh", "uk", "en")
SOURCES = ("baonghean", "vietnam.vn", "baobinhduong", "portal")
VOCABULARY = 3000
TOKENS = 120
BATCH = 5000
START = datetime(2024, 1, 1, tzinfo=UTC)


def _vi_syllables(rng: random.Random) -> list[str]:
    onsets = ["", "b", "c", "ch", "d", "đ", "g", "h", "kh", "l", "m", "n", "ng", "nh", "ph", "qu", "r", "s", "t",
              "th", "tr", "v", "x"]
    vowels, tones = "a ă â e ê i o ô ơ u ư y", ["", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323"]
    codas = ["", "c", "ch", "m", "n", "ng", "nh", "p", "t", "i", "o", "u"]
    found: dict[str, None] = {}
    while len(found) < VOCABULARY:
        nucleus = unicodedata.normalize("NFC", rng.choice(vowels.split()) + rng.choice(tones))
        found[rng.choice(onsets) + nucleus + rng.choice(codas)] = None
    return list(found)


def _words(rng: random.Random, letters: str) -> list[str]:
    found: dict[str, None] = {}
    while len(found) < VOCABULARY:
        found["".join(rng.choice(letters) for _ in range(rng.randint(3, 9)))] = None
    return list(found)


def vocabularies(rng: random.Random) -> dict[str, list[str]]:
    return {
        "vi": _vi_syllables(rng),
        "zh": [chr(0x4E00 + i) for i in rng.sample(range(20000), VOCABULARY)],
        "uk": _words(rng, "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя"),
        "en": _words(rng, "abcdefghijklmnopqrstuvwxyz"),
    }


def _text(rng: random.Random, words: list[str], weights: list[float], language: str) -> str:
    tokens = rng.choices(words, cum_weights=weights, k=TOKENS)
    if language == "zh":
        # Chinese runs without spaces, broken by punctuation into clauses.
        return "，".join("".join(tokens[i:i + 12]) for i in range(0, TOKENS, 12)) + "。"
    return " ".join(tokens).capitalize() + "."


def _rows(rng: random.Random, vocab: dict[str, list[str]], first: int, count: int) -> list[dict[str, Any]]:
    cumulative = [0.0]
    for rank in range(VOCABULARY):
        cumulative.append(cumulative[-1] + 1 / (rank + 1))
    weights = cumulative[1:]
    rows, now = [], utcnow()
    for n in range(first, first + count):
        language = LANGUAGES[n % len(LANGUAGES)]
        body = _text(rng, vocab[language], weights, language)
        url = f"http://bench.test/{n}.html"
        rows.append({
            "url": url, "canonical_url": url, "source": SOURCES[n % len(SOURCES)], "text": body,
            "title": body[:60], "text_hash": text_fingerprint(body), "language": language, "images": [],
            "source_links": [], "is_seed": False, "alerted": False, "version": 1, "first_seen_at": now,
            "updated_at": now, "published_at": START + timedelta(hours=rng.randint(0, 2 * 365 * 24)),
            "event": {"type": "conference"} if n % 10 == 3 else None,
            "duplicate_of_id": 1 if n % 10 == 7 else None,
        })
    return rows


def fill(archive: Archive, items: int, vocab: dict[str, list[str]]) -> float:
    """Bulk-insert the items (no dedup, no indexing); returns the seconds taken."""
    rng, started = random.Random(7), time.perf_counter()
    for first in range(1, items + 1, BATCH):
        with archive.session() as session:
            session.execute(insert(Item), _rows(rng, vocab, first, min(BATCH, items + 1 - first)))
    return time.perf_counter() - started


def _db_bytes(archive: Archive) -> int:
    with archive.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = connection.exec_driver_sql("PRAGMA page_count").scalar_one()
        size = connection.exec_driver_sql("PRAGMA page_size").scalar_one()
        return int(pages) * int(size)


def queries(vocab: dict[str, list[str]]) -> dict[str, Callable[[], SearchQuery]]:
    vi, zh, uk, en = vocab["vi"], vocab["zh"], vocab["uk"], vocab["en"]
    return {
        "vi_two_words_exact": lambda: SearchQuery(f"{vi[30]} {vi[120]}"),
        "vi_two_words_folded": lambda: SearchQuery(fold(f"{vi[30]} {vi[120]}")),
        "vi_rare_word": lambda: SearchQuery(vi[2900]),
        "zh_one_char_common": lambda: SearchQuery(zh[3]),
        "zh_two_char_phrase": lambda: SearchQuery(zh[0] + zh[1]),
        "zh_four_char_phrase": lambda: SearchQuery(zh[0] + zh[1] + zh[2] + zh[3]),
        "uk_word_upper_case": lambda: SearchQuery(uk[40].upper()),
        "en_two_words": lambda: SearchQuery(f"{en[10]} {en[300]}"),
        "en_filtered": lambda: SearchQuery(en[10], sources=("portal",), event_types=("conference",),
                                           published_from=date(2024, 6, 1), published_to=date(2024, 12, 31)),
        "vi_page_50": lambda: SearchQuery(vi[5], limit=20, offset=1000),
    }


def time_queries(archive: Archive, vocab: dict[str, list[str]], runs: int) -> dict[str, Any]:
    results = {}
    for name, make in queries(vocab).items():
        times, total = [], 0
        for _ in range(runs):
            started = time.perf_counter()
            with archive.session() as session:
                total = search(session, make()).total
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        results[name] = {"query": make().text, "total": total, "p50_ms": round(statistics.median(times), 2),
                         "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 2)}
        shown = results[name]
        print(f"{name:24} total {total:6}  p50 {shown['p50_ms']:7.2f} ms  p99 {shown['p99_ms']:7.2f} ms")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    vocab = vocabularies(random.Random(3))
    with tempfile.TemporaryDirectory() as folder, Archive.open(f"sqlite:///{folder}/bench.db") as archive:
        fill_s = fill(archive, args.items, vocab)
        before = _db_bytes(archive)
        started = time.perf_counter()
        with archive.session() as session:
            indexed = reindex_all(session)
        index_s = time.perf_counter() - started
        index_bytes = _db_bytes(archive) - before
        with archive.engine.connect() as connection:
            text_bytes = connection.execute(text("SELECT sum(length(CAST(text AS BLOB))) FROM items")).scalar_one()
        print(f"{indexed} items indexed in {index_s:.1f} s; index {index_bytes / indexed:.0f} bytes an item")
        report = {
            "items": args.items, "runs": args.runs, "fill_s": round(fill_s, 1),
            "index": {"build_s": round(index_s, 1), "items_per_s": round(indexed / index_s),
                      "bytes": index_bytes, "bytes_per_item": round(index_bytes / indexed, 1),
                      "text_bytes_per_item": round(int(text_bytes) / indexed, 1)},
            "queries": time_queries(archive, vocab, args.runs),
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
