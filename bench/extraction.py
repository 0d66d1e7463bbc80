"""newswatch's extraction against bare trafilatura on the WCXB development pages, side by side.

Articles: WCXB token F1 of the main text, and exact title, publication day and author.
Listing and collection pages: whether each tool would archive the page as an article
(newswatch: its page classifier; bare trafilatura: it returns text, which is what a pipeline
built on it archives).

Usage (from the repository root)::

    .venv/bin/python bench/extraction.py [--data DIR] [--limit N] [--workers 2] [--out FILE]

Data: ../shared/bench/wcxb-dev (Web Content eXtraction Benchmark, 2026, CC-BY-4.0); when it
is absent the script says so and exits 0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import re
import statistics
import sys
from collections import Counter
from multiprocessing import Pool
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import trafilatura

from crawler.extraction import PageType, decode_html, extract_page

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "bench" / "wcxb-dev"
DEFAULT_OUT = REPO_ROOT / "bench" / "results" / "extraction.json"
TOKEN = re.compile(r"\w+")
UTC = ZoneInfo("UTC")


def token_f1(predicted: str, reference: str) -> float:
    pred, ref = Counter(TOKEN.findall(predicted.lower())), Counter(TOKEN.findall(reference.lower()))
    if not ref:
        return 1.0 if not pred else 0.0
    overlap = sum((pred & ref).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(pred.values()), overlap / sum(ref.values())
    return 2 * precision * recall / (precision + recall)


def _same(a: str | None, b: str | None) -> bool:
    norm = lambda value: " ".join((value or "").split()).casefold()  # noqa: E731
    return norm(a) == norm(b)


def _bare(html: bytes, url: str) -> dict[str, Any]:
    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True)
    if doc is None:
        return {"text": "", "title": None, "author": None, "date": None, "article": False}
    text = doc.text or ""
    return {"text": text, "title": doc.title, "author": doc.author, "date": doc.date, "article": bool(text.strip())}


def _ours(html: bytes, url: str) -> dict[str, Any]:
    page = extract_page(decode_html(html), url, UTC)
    return {
        "text": page.text, "title": page.title, "author": page.author,
        "date": page.published_at.date().isoformat() if page.published_at else None,
        "article": page.page_type is PageType.ARTICLE,
    }


def score_page(task: tuple[str, str]) -> dict[str, Any]:
    html_path, truth_path = task
    truth = json.loads(Path(truth_path).read_text(encoding="utf-8"))
    html = gzip.decompress(Path(html_path).read_bytes())
    kind = truth["_internal"]["page_type"]["primary"]
    gt = truth["ground_truth"]
    row: dict[str, Any] = {"file": Path(html_path).name, "kind": kind}
    for tool, run in (("trafilatura", _bare), ("newswatch", _ours)):
        try:
            got = run(html, truth["url"])
        except Exception as exc:
            got = {"text": "", "title": None, "author": None, "date": None, "article": False, "error": repr(exc)}
        row[tool] = {
            "f1": token_f1(got["text"], gt.get("main_content") or ""),
            "title": _same(got["title"], gt.get("title")),
            "date": (got["date"] or None) == (gt.get("publish_date") or None),
            "author": _same(got["author"], gt.get("author")),
            "article": got["article"],
        }
    return row


def _mean(tool: str, key: str, subset: list[dict[str, Any]]) -> float:
    return statistics.fmean(float(row[tool][key]) for row in subset)


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    articles = [row for row in rows if row["kind"] == "article"]
    others = [row for row in rows if row["kind"] != "article"]
    for tool in ("trafilatura", "newswatch"):
        def mean(key: str, subset: list[dict[str, Any]], tool: str = tool) -> float:
            return _mean(tool, key, subset)

        summary[tool] = {
            "text_f1": round(mean("f1", articles), 4),
            "title_accuracy": round(mean("title", articles), 4),
            "date_accuracy": round(mean("date", articles), 4),
            "author_accuracy": round(mean("author", articles), 4),
            "articles_kept": round(mean("article", articles), 4),
            "non_articles_rejected": round(1 - mean("article", others), 4) if others else None,
        }
        summary[tool]["page_type_accuracy"] = round(
            (sum(row[tool]["article"] for row in articles) + sum(not row[tool]["article"] for row in others))
            / len(rows), 4,
        )
    summary["pages"] = {"article": len(articles), "listing/collection": len(others)}
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if not (args.data / "html").is_dir():
        print(f"no benchmark data at {args.data}: nothing measured")
        return 0
    tasks = []
    for html_path in sorted((args.data / "html").glob("*.html.gz")):
        truth = args.data / "ground-truth" / html_path.name.replace(".html.gz", ".json")
        kind = json.loads(truth.read_text(encoding="utf-8"))["_internal"]["page_type"]["primary"]
        if kind in ("article", "listing", "collection"):
            tasks.append((str(html_path), str(truth)))
    if args.limit:
        tasks = tasks[: args.limit]
    with Pool(args.workers) as pool:
        rows = pool.map(score_page, tasks, chunksize=8)
    summary = summarise(rows)
    summary["date"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    summary["trafilatura_version"] = trafilatura.__version__
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"summary": summary, "pages": rows}, indent=1), encoding="utf-8")
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
