"""The dedup index at scale: per-item duplicate check latency and index size on SQLite, and the
MinHash implementations considered.

An archive is filled with N synthetic items (their dedup keys bulk-written with the same row
count and key kinds a real item files: URL keys, 16 band keys, anchors drawn from a skewed number
vocabulary, unique image/link/slug/id anchors, over three years of days; their stored anchors add
the dates and years a real item carries), then the labelled replica items are archived through the
normal path, then probes are timed: near-duplicate copies of archived items and unseen texts.
"check" = the index look-ups and candidate verification inside a transaction (`find_match`);
"features" = shingling, MinHash and anchors of the new item. The index size counts the
`dedup_keys` table and the anchors stored on the items (`items.dedup_anchors`).

Usage (from the repository root)::

    .venv/bin/python bench/dedup.py [--items 1000000] [--probes 1000] [--db PATH] [--out FILE]

With `--db` naming an archive an earlier run filled, the fill is skipped and only the probes run.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from datasketch import MinHash, MinHashLSH
from sqlalchemy import insert, text

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from storage import Archive, PageRecord  # noqa: E402
from storage.dedup import features_of_record, find_match  # noqa: E402
from storage.dedup.anchors import MAX_INDEXED  # noqa: E402
from storage.dedup.features import UNDATED  # noqa: E402
from storage.dedup.shingles import BANDS, index_key, signature  # noqa: E402
from storage.models import Item, utcnow  # noqa: E402
from tests.test_dedup import ITEMS, record  # noqa: E402

DEFAULT_OUT = REPO_ROOT / "bench" / "results" / "dedup.json"
FIRST_DAY = 19000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAYS = 3 * 365
BATCH = 20_000


def _number_anchor(rng: random.Random) -> str:
    return f"num:{int(10 ** rng.uniform(1, 7)) // (10 ** rng.randint(0, 2)) or 10}"


Rows = tuple[list[dict[str, Any]], list[tuple[int, int, int]]]


def synthetic_rows(rng: random.Random, first_id: int, count: int, stored: random.Random) -> Rows:
    """`stored` draws the unindexed anchors, so the index rows stay those of earlier runs."""
    items, keys = [], []
    for item_id in range(first_id, first_id + count):
        day = FIRST_DAY + rng.randrange(DAYS)
        url = f"https://synthetic{item_id % 60}.test/tin/{item_id}.html"
        # Published on the day its anchors are filed under, so a candidate found by them is scored too.
        published = EPOCH + timedelta(days=day, hours=5)
        items.append({"id": item_id, "url": url, "canonical_url": url, "source": "synthetic", "text": f"s{item_id}",
                      "text_hash": f"{item_id:064x}", "images": [], "source_links": [], "is_seed": False,
                      "alerted": False, "version": 1, "published_at": published})
        keys.append((index_key("url", url), UNDATED, item_id))
        keys.extend((rng.getrandbits(48), UNDATED, item_id) for _ in range(BANDS))
        anchors = {f"img:{item_id}-{n}.jpg" for n in range(rng.randint(0, 3))} | {f"link:{url}", f"uid:{item_id}"}
        anchors |= {_number_anchor(rng) for _ in range(rng.randint(2, 12))}
        keys.extend((index_key("anchor", a), day, item_id) for a in sorted(anchors)[:MAX_INDEXED])
        # Dates and years are stored with the item, not indexed (a real item has about 1.5 and 1.8).
        unindexed = {f"year:{stored.randint(2015, 2026)}" for _ in range(stored.randint(0, 3))}
        unindexed |= {f"date:{stored.randint(1, 12):02d}-{stored.randint(1, 28):02d}"
                      for _ in range(stored.randint(0, 3))}
        items[-1]["dedup_anchors"] = "\n".join(sorted(anchors | unindexed))
    return items, keys


def fill(archive: Archive, total: int, seed: int = 7) -> float:
    """Bulk-load: keys go to a plain staging table first, then into the index in key order."""
    rng, stored = random.Random(seed), random.Random(seed + 1)
    started = time.perf_counter()
    with archive.engine.connect() as connection:
        connection.execute(text("PRAGMA synchronous=OFF"))
        connection.execute(text("PRAGMA cache_size=-1000000"))
        connection.execute(text("CREATE TEMP TABLE staging (key INTEGER, day INTEGER, item_id INTEGER)"))
        for first in range(1, total + 1, BATCH):
            items, keys = synthetic_rows(rng, first, min(BATCH, total + 1 - first), stored)
            times = _times()
            connection.execute(insert(Item), [item | times for item in items])
            connection.execute(text("INSERT INTO staging VALUES (:k, :d, :i)"),
                               [{"k": k, "d": d, "i": i} for k, d, i in keys])
            connection.commit()
            print(f"filled {first + len(items) - 1}/{total}", file=sys.stderr, flush=True)
        connection.execute(text("INSERT OR IGNORE INTO dedup_keys (key, day, item_id) "
                                "SELECT key, day, item_id FROM staging ORDER BY key, day, item_id"))
        connection.execute(text("DROP TABLE staging"))
        connection.commit()
    return time.perf_counter() - started


def _times() -> dict[str, Any]:
    now = utcnow()
    return {"first_seen_at": now, "updated_at": now}


def load_real(archive: Archive) -> list[PageRecord]:
    records = [record(item) for item in ITEMS]
    for rec in records:
        archive.archive_page(rec)
    return records


def probes(records: list[PageRecord], count: int, rng: random.Random) -> list[PageRecord]:
    out = []
    for n in range(count):
        base = rng.choice(records)
        lines = base.text.split("\n")
        if n % 2 and len(lines) > 4:
            lines.pop(rng.randrange(len(lines)))  # a near-duplicate copy
            body = "\n".join(lines)
        else:
            words = base.text.split()
            rng.shuffle(words)  # same vocabulary and numbers, another text
            body = " ".join(words)
        out.append(PageRecord(url=f"https://probe.test/{n}", canonical_url=f"https://probe.test/{n}", source="probe",
                              text=body, language=base.language, published_at=base.published_at))
    return out


def measure(archive: Archive, records: list[PageRecord]) -> dict[str, Any]:
    check, feature = [], []
    found = 0
    for rec in records:
        started = time.perf_counter()
        features = features_of_record(rec)
        middle = time.perf_counter()
        with archive.session() as session:
            decision = find_match(session, features, -1, rec.text_hash, True)
            session.rollback()
        done = time.perf_counter()
        feature.append((middle - started) * 1000)
        check.append((done - middle) * 1000)
        found += decision is not None
    def pct(values: list[float], q: float) -> float:
        return round(float(np.percentile(values, q)), 3)
    return {"probes": len(records), "matched": found,
            "check_ms": {"p50": pct(check, 50), "p99": pct(check, 99), "mean": round(statistics.fmean(check), 3)},
            "features_ms": {"p50": pct(feature, 50), "p99": pct(feature, 99)}}


_ANCHOR_BYTES = ("SELECT COUNT(*), COALESCE(SUM(LENGTH(CAST(dedup_anchors AS BLOB))), 0) FROM items "
                 "WHERE dedup_anchors IS NOT NULL AND source {} 'synthetic'")


def index_size(archive: Archive) -> dict[str, Any]:
    """`dedup_keys` pages (dbstat), and the stored anchors' payload bytes in the items rows, for the
    whole archive and for the labelled real items alone."""
    with archive.engine.connect() as connection:
        size = connection.execute(text("SELECT SUM(pgsize) FROM dbstat WHERE name = 'dedup_keys'")).scalar() or 0
        rows = connection.execute(text("SELECT COUNT(*) FROM dedup_keys")).scalar() or 0
        items = connection.execute(text("SELECT COUNT(*) FROM items")).scalar() or 1
        synthetic, synthetic_bytes = connection.execute(text(_ANCHOR_BYTES.format("="))).one()
        real, real_bytes = connection.execute(text(_ANCHOR_BYTES.format("!="))).one()
    keys_per_item = size / items
    anchors_per_item = (synthetic_bytes + real_bytes) / items
    return {"items": items, "rows": rows, "bytes": size, "bytes_per_item": round(keys_per_item, 1),
            "rows_per_item": round(rows / items, 1),
            "anchors": {"items_with_anchors": synthetic + real, "bytes": synthetic_bytes + real_bytes,
                        "bytes_per_item": round(anchors_per_item, 1),
                        "real_items_bytes_per_item": round(real_bytes / max(real, 1), 1)},
            "total_bytes_per_item": round(keys_per_item + anchors_per_item, 1)}


def is_filled(path: Path) -> bool:
    if not path.exists():
        return False
    with sqlite3.connect(path) as connection:
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return "items" in tables and connection.execute("SELECT COUNT(*) FROM items").fetchone()[0] > 0


def compare_minhash(rng: random.Random) -> dict[str, Any]:
    """Signature time of the implementations considered, and LSH recall just above Jaccard 0.8."""
    sets = [{f"w{rng.randrange(10**6)}" for _ in range(400)} for _ in range(200)]
    timings: dict[str, float] = {}
    started = time.perf_counter()
    for s in sets:
        signature(s)
    timings["datasketch affine32 + blake2b (used)"] = (time.perf_counter() - started) / len(sets) * 1000
    started = time.perf_counter()
    for s in sets:
        m = MinHash(num_perm=128, seed=1)
        m.update_batch([x.encode() for x in s])
    elapsed = (time.perf_counter() - started) / len(sets) * 1000
    timings["datasketch default (sha1, new permutations per object)"] = elapsed
    a = np.random.default_rng(1).integers(1, 2**31, 128, dtype=np.uint64)
    b = np.random.default_rng(2).integers(0, 2**31, 128, dtype=np.uint64)
    started = time.perf_counter()
    for s in sets:
        hashes = np.array([hash(x) & 0xFFFFFFFF for x in s], dtype=np.uint64)
        ((np.outer(hashes, a) + b) % ((1 << 61) - 1)).min(axis=0)
    timings["own numpy (reference)"] = (time.perf_counter() - started) / len(sets) * 1000
    found_fixed = found_auto = 0
    pairs = 300
    auto = MinHashLSH(threshold=0.8, num_perm=128)
    for n in range(pairs):
        base = [f"p{n}-{i}" for i in range(500)]
        other = base[:456] + [f"q{n}-{i}" for i in range(44)]  # Jaccard 456/544 = 0.838
        sig_a, sig_b = signature(set(base)), signature(set(other))
        found_fixed += any((sig_a[i * 8:(i + 1) * 8] == sig_b[i * 8:(i + 1) * 8]).all() for i in range(16))
        ma = MinHash(num_perm=128, seed=1)
        ma.update_batch([x.encode() for x in base])
        mb = MinHash(num_perm=128, seed=1)
        mb.update_batch([x.encode() for x in other])
        auto.insert(f"a{n}", ma)
        found_auto += f"a{n}" in auto.query(mb)
    return {"signature_ms": {k: round(v, 3) for k, v in timings.items()},
            "recall_at_jaccard_0.838": {"16 bands x 8 rows": found_fixed / pairs,
                                        f"datasketch MinHashLSH(0.8) b={auto.b} r={auto.r}": found_auto / pairs}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--probes", type=int, default=1000)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    rng = random.Random(11)
    path = args.db or Path(tempfile.mkdtemp(prefix="nw-dedup-bench-")) / "archive.db"
    reused = is_filled(path)
    with Archive.open(f"sqlite:///{path}") as archive:
        fill_s = None if reused else round(fill(archive, args.items), 1)
        records = [record(item) for item in ITEMS] if reused else load_real(archive)
        checks = measure(archive, probes(records, args.probes, rng))
        result = {"items": args.items, "fill_s": fill_s, "reused_db": reused, "sqlite": checks,
                  "index": index_size(archive), "minhash": compare_minhash(rng)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
