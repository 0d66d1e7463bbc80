"""Peak resident memory of one newswatch crawl over a large generated site, and how it grows.

    .venv/bin/python bench/memory.py [--articles 50000] [--per-day 200] [--marks 10000,20000,...]

Serves ``--articles`` synthetic OneCMS article pages (bench/big_replica.py) on loopback, adds the
site by its home page and runs one ``newswatch crawl --no-alerts`` (politeness off:
NEWSWATCH_CRAWL_AUTOTHROTTLE=false, NEWSWATCH_CRAWL_OBEY_ROBOTS=false) into a fresh SQLite
archive. Every second it samples the crawl process's RSS (VmRSS from /proc/<pid>/status, its
child processes added) and the number of pages the server has answered. Reports the peak, the
RSS when the crawl passed each mark (pages served), and the archive's size at the end; then a
second cycle over the unchanged site and the full archive, with its own peak.
Results: bench/results/memory.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from big_replica import BigReplica  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "memory.json"
ENV = {"NEWSWATCH_CRAWL_AUTOTHROTTLE": "false", "NEWSWATCH_CRAWL_OBEY_ROBOTS": "false"}


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text()
            found += [int(child) for child in text.split()]
    except OSError:
        return found
    return found


def rss_kb(pid: int) -> int:
    """VmRSS of ``pid`` and its descendants, in KiB (0 once it has exited)."""
    total = 0
    for proc in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{proc}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def uptime_line() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def sampled_crawl(db: str, env: dict[str, str], big: BigReplica, log_path: Path,
                  timeout_s: float) -> dict[str, Any]:
    """One ``newswatch crawl`` with its RSS and the server's page count sampled every second."""
    samples: list[dict[str, Any]] = []
    first_page = big.server.requests
    started = time.perf_counter()
    with open(log_path, "w+", encoding="utf-8") as log:
        crawl = subprocess.Popen([sys.executable, "-m", "newswatch", "--db", db, "crawl", "--json", "--no-alerts"],
                                 env=env, stdout=log, stderr=subprocess.STDOUT, cwd=str(ROOT))
        stopped = None
        while crawl.poll() is None:
            rss = rss_kb(crawl.pid)
            if rss:
                samples.append({"t_s": round(time.perf_counter() - started, 1), "rss_mb": round(rss / 1024, 1),
                                "pages": big.server.requests - first_page, "articles": big.server.article_requests,
                                "load_1min": round(os.getloadavg()[0], 2)})
            if time.perf_counter() - started > timeout_s:
                crawl.terminate()
                stopped = f"timeout after {timeout_s} s"
            time.sleep(1.0)
        wall = time.perf_counter() - started
        log.seek(0)
        runs = [json.loads(line) for line in log.read().splitlines() if line.startswith("{")]
    pages = big.server.requests - first_page
    peak = max(samples, key=lambda s: s["rss_mb"]) if samples else None
    return {"exit_status": crawl.returncode, "stopped": stopped, "wall_s": round(wall, 1), "pages_served": pages,
            "pages_per_s": round(pages / wall, 2), "counters": runs[-1].get("counters") if runs else None,
            "peak_rss_mb": peak["rss_mb"] if peak else None, "peak_at_pages": peak["pages"] if peak else None,
            "samples": samples}


def rss_at_marks(samples: list[dict[str, Any]], marks: list[int]) -> dict[str, Any]:
    at_marks: dict[str, Any] = {}
    for mark in marks:
        reached = [s for s in samples if s["pages"] >= mark]
        at_marks[str(mark)] = ({"rss_mb": reached[0]["rss_mb"], "t_s": reached[0]["t_s"],
                                "max_rss_mb_so_far": max(s["rss_mb"] for s in samples if s["t_s"] <= reached[0]["t_s"])}
                               if reached else None)
    return at_marks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=50_000)
    parser.add_argument("--per-day", type=int, default=200)
    parser.add_argument("--marks", default="")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--timeout", type=float, default=4 * 3600)
    args = parser.parse_args()
    marks = [int(m) for m in args.marks.split(",") if m] or [
        args.articles * i // 5 for i in range(1, 6)]
    env = {key: value for key, value in os.environ.items() if not key.startswith("NEWSWATCH_")} | ENV
    result: dict[str, Any] = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                              "articles": args.articles, "per_day": args.per_day, "uptime_start": uptime_line()}
    with tempfile.TemporaryDirectory(prefix="nw-memory-") as tmp, BigReplica(args.articles, args.per_day) as big:
        db_path = Path(tmp) / "memory.db"
        db = f"sqlite:///{db_path}"
        subprocess.run([sys.executable, "-m", "newswatch", "--db", db, "sources", "add", big.base_url, "--name", "big"],
                       env=env, check=True, capture_output=True, cwd=str(ROOT))
        first = sampled_crawl(db, env, big, Path(tmp) / "crawl.log", args.timeout)
        result["archive_bytes"] = db_path.stat().st_size
        # The same site again, unchanged, over the full archive: its RSS against the first cycle's
        # says whether memory follows the archive's size or the cycle's own pages.
        second = sampled_crawl(db, env, big, Path(tmp) / "crawl2.log", args.timeout)
        result["bytes_served"] = big.server.bytes
    result.update({key: first[key] for key in first if key != "samples"})
    result["rss_at_pages"] = rss_at_marks(first["samples"], marks)
    result["second_cycle"] = {key: second[key] for key in second if key not in ("samples", "counters")}
    result["second_cycle"]["counters"] = second["counters"]
    result["uptime_end"] = uptime_line()
    result["samples"] = first["samples"]
    result["second_cycle_samples"] = second["samples"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if not k.endswith("samples")}, indent=1))


if __name__ == "__main__":
    main()
