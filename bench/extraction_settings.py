"""Compare trafilatura settings for main-text extraction on the WCXB article pages.

Scores each configuration with the WCXB token F1 (Web Content eXtraction Benchmark, 2026,
CC-BY-4.0): lower-cased ``\\w+`` tokens counted as multisets; precision = overlap / predicted
tokens, recall = overlap / reference tokens; an empty reference scores 1 only against an empty
prediction; figures are means over pages. Only pages whose primary type is ``article`` are used.

Usage (from the repository root)::

    .venv/bin/python bench/extraction_settings.py [--data DIR] [--limit N] [--out FILE]

The data lives outside the project (``../shared/bench/wcxb-dev``); when it is absent the script
prints a message and exits 0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import trafilatura

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "bench" / "wcxb-dev"
DEFAULT_OUT = REPO_ROOT / "bench" / "results" / "extraction_settings.json"

FALLBACK_MIN_CHARS = 200
TOKEN_RE = re.compile(r"\w+")

# Configurations passed to trafilatura.extract(html, url=..., output_format="txt", **kwargs).
# "precision+fallback" is not a separate call: it is the "precision" result, replaced by the
# "no-comments" result when shorter than FALLBACK_MIN_CHARS (its time adds both calls then).
CONFIGS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "no-comments": {"include_comments": False},
    "precision": {"favor_precision": True, "include_comments": False},
    "recall": {"favor_recall": True, "include_comments": False},
    "tables+dedup": {"include_comments": False, "include_tables": True, "deduplicate": True},
}
FALLBACK_CONFIG = "precision+fallback"
CONFIG_ORDER = ["defaults", "no-comments", "precision", FALLBACK_CONFIG, "recall", "tables+dedup"]
CONFIG_KWARGS: dict[str, dict[str, Any]] = {
    **CONFIGS,
    FALLBACK_CONFIG: {
        **CONFIGS["precision"],
        "fallback": f"no-comments when empty or under {FALLBACK_MIN_CHARS} characters",
    },
}


@dataclass(frozen=True)
class Page:
    file_id: str
    url: str
    html_path: Path
    reference: str


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float


@dataclass(frozen=True)
class Outcome:
    """One configuration's result on one page."""

    score: Score
    empty: bool
    ms: float


@dataclass
class Summary:
    f1: list[float] = field(default_factory=list)
    precision: list[float] = field(default_factory=list)
    recall: list[float] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)
    empty_ids: list[str] = field(default_factory=list)

    def add(self, file_id: str, outcome: Outcome) -> None:
        self.f1.append(outcome.score.f1)
        self.precision.append(outcome.score.precision)
        self.recall.append(outcome.score.recall)
        self.ms.append(outcome.ms)
        if outcome.empty:
            self.empty_ids.append(file_id)

    def as_dict(self) -> dict[str, Any]:
        return {
            "f1": round(statistics.fmean(self.f1), 4),
            "precision": round(statistics.fmean(self.precision), 4),
            "recall": round(statistics.fmean(self.recall), 4),
            "empty": len(self.empty_ids),
            "median_ms": round(statistics.median(self.ms), 1),
            "empty_file_ids": sorted(self.empty_ids),
        }


def tokens(text: str) -> Counter[str]:
    return Counter(TOKEN_RE.findall(text.lower()))


def token_score(predicted: str, reference: str) -> Score:
    """WCXB token precision, recall and F1 of one prediction against one reference."""
    pred, ref = tokens(predicted), tokens(reference)
    n_pred, n_ref = sum(pred.values()), sum(ref.values())
    if n_ref == 0:
        value = 1.0 if n_pred == 0 else 0.0
        return Score(value, value, value)
    if n_pred == 0:
        return Score(0.0, 0.0, 0.0)
    overlap = sum((pred & ref).values())
    precision, recall = overlap / n_pred, overlap / n_ref
    f1 = 2 * precision * recall / (precision + recall) if overlap else 0.0
    return Score(precision, recall, f1)


def load_pages(data: Path, limit: int | None) -> list[Page]:
    pages: list[Page] = []
    for gt_path in sorted((data / "ground-truth").glob("*.json")):
        record = json.loads(gt_path.read_text(encoding="utf-8"))
        if record.get("_internal", {}).get("page_type", {}).get("primary") != "article":
            continue
        html_path = data / "html" / f"{gt_path.stem}.html.gz"
        if not html_path.is_file():
            continue
        pages.append(
            Page(
                file_id=gt_path.stem,
                url=record.get("url", ""),
                html_path=html_path,
                reference=record.get("ground_truth", {}).get("main_content") or "",
            )
        )
        if limit is not None and len(pages) >= limit:
            break
    return pages


def timed_extract(html: bytes, url: str, kwargs: dict[str, Any]) -> tuple[str, float]:
    start = time.perf_counter()
    text = trafilatura.extract(html, url=url or None, output_format="txt", **kwargs) or ""
    return text, (time.perf_counter() - start) * 1000


def evaluate_page(page: Page) -> tuple[str, dict[str, Outcome]]:
    """Run every configuration on one page (the raw bytes, as a crawler would receive them)."""
    html = gzip.decompress(page.html_path.read_bytes())
    texts: dict[str, str] = {}
    times: dict[str, float] = {}
    for name, kwargs in CONFIGS.items():
        texts[name], times[name] = timed_extract(html, page.url, kwargs)

    precise = texts["precision"]
    if len(precise.strip()) < FALLBACK_MIN_CHARS:
        texts[FALLBACK_CONFIG] = texts["no-comments"] or precise
        times[FALLBACK_CONFIG] = times["precision"] + times["no-comments"]
    else:
        texts[FALLBACK_CONFIG] = precise
        times[FALLBACK_CONFIG] = times["precision"]

    outcomes = {
        name: Outcome(token_score(texts[name], page.reference), not texts[name].strip(), times[name])
        for name in CONFIG_ORDER
    }
    return page.file_id, outcomes


def run(pages: list[Page], workers: int) -> dict[str, Summary]:
    summaries = {name: Summary() for name in CONFIG_ORDER}

    def collect(results: Iterable[tuple[str, dict[str, Outcome]]]) -> None:
        for done, (file_id, outcomes) in enumerate(results, start=1):
            for name, outcome in outcomes.items():
                summaries[name].add(file_id, outcome)
            if done % 50 == 0 or done == len(pages):
                print(f"  {done}/{len(pages)} pages", file=sys.stderr, flush=True)

    if workers > 1:
        with Pool(processes=workers) as pool:
            collect(pool.imap_unordered(evaluate_page, pages, chunksize=4))
    else:
        collect(map(evaluate_page, pages))
    return summaries


def format_table(rows: dict[str, dict[str, Any]], describe: Callable[[str], str]) -> str:
    header = f"{'config':<20} {'F1':>6} {'prec':>6} {'recall':>6} {'empty':>5} {'med ms':>7}  settings"
    lines = [header, "-" * len(header)]
    for name in CONFIG_ORDER:
        row = rows[name]
        lines.append(
            f"{name:<20} {row['f1']:>6.3f} {row['precision']:>6.3f} {row['recall']:>6.3f} "
            f"{row['empty']:>5d} {row['median_ms']:>7.1f}  {describe(name)}"
        )
    return "\n".join(lines)


def describe_config(name: str) -> str:
    kwargs = CONFIG_KWARGS[name]
    return ", ".join(f"{key}={value}" for key, value in kwargs.items()) or "(defaults)"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="WCXB dev folder")
    parser.add_argument("--limit", type=int, default=None, help="only the first N article pages")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data: Path = args.data
    if not (data / "ground-truth").is_dir() or not (data / "html").is_dir():
        print(f"Benchmark data not found at {data}; skipping.")
        return 0

    pages = load_pages(data, args.limit)
    if not pages:
        print(f"No article pages under {data}; nothing to measure.")
        return 0

    print(
        f"trafilatura {trafilatura.__version__}: {len(pages)} article pages, {args.workers} worker(s)",
        file=sys.stderr,
    )
    started = time.perf_counter()
    summaries = run(pages, max(1, args.workers))
    elapsed = time.perf_counter() - started
    rows = {name: summaries[name].as_dict() for name in CONFIG_ORDER}

    print(format_table(rows, describe_config))
    print(f"\n{len(pages)} article pages in {elapsed:.0f} s. Ground truth: WCXB dev split (CC-BY-4.0).")

    report = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "trafilatura_version": trafilatura.__version__,
        "python_version": sys.version.split()[0],
        "dataset": "WCXB (Web Content eXtraction Benchmark, 2026) dev split, CC-BY-4.0",
        "data_dir": str(data),
        "page_type": "article",
        "pages": len(pages),
        "limit": args.limit,
        "workers": args.workers,
        "elapsed_s": round(elapsed, 1),
        "metric": (
            "WCXB token F1: lower-case, re.findall(r'\\w+'), multiset overlap; "
            "mean over pages; empty reference scores 1 only against empty prediction"
        ),
        "call": "trafilatura.extract(html_bytes, url=url, output_format='txt', **settings)",
        "configs": {name: {"settings": CONFIG_KWARGS[name], **rows[name]} for name in CONFIG_ORDER},
    }
    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"Results written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
