"""Scheduler execution models, measured: memory over many crawl cycles and the cost of starting one.

    python bench/scheduler_cycles.py [--cycles 200] [--site sggp] [--mode both|process|inprocess]

`process`: what `newswatch run` does, one child process per cycle (scheduler.child.run_cycle):
the scheduler's own RSS, the children's peak RSS, and the wall time per cycle.
`inprocess`: the alternative, one asyncio Twisted reactor kept alive and a fresh
AsyncCrawlerRunner per cycle: RSS after each cycle and the wall time per cycle.
Both crawl one replica site on loopback; the first cycle archives it, the others find nothing new
(conditional requests), as most scheduled cycles do. Results go to bench/results/scheduler_cycles.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from replica import Replica  # noqa: E402
from storage import Archive  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "scheduler_cycles.json"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def summary(times: list[float], rss: list[float]) -> dict[str, Any]:
    steady = times[1:] or times
    return {
        "cycles": len(times),
        "first_cycle_s": round(times[0], 3),
        "cycle_s_median": round(statistics.median(steady), 3),
        "cycle_s_p90": round(sorted(steady)[int(len(steady) * 0.9) - 1], 3) if len(steady) > 1 else None,
        "rss_mb_after_cycle_1": round(rss[0], 1),
        "rss_mb_after_cycle_10": round(rss[min(9, len(rss) - 1)], 1),
        "rss_mb_last": round(rss[-1], 1),
        "rss_mb_growth_10_to_last": round(rss[-1] - rss[min(9, len(rss) - 1)], 1),
    }


def bench_process(db: str, site: str, cycles: int) -> dict[str, Any]:
    from scheduler.child import ChildRegistry, run_cycle  # noqa: PLC0415

    archive = Archive.open(db)
    source = archive.get_source(site)
    command = (sys.executable, "-m", "newswatch", "--db", db, "crawl", "--json", "--no-alerts", "--source")
    env = {"NEWSWATCH_CRAWL_AUTOTHROTTLE": "false"}
    times, rss = [], []
    registry = ChildRegistry()
    for number in range(cycles):
        started = time.perf_counter()
        outcome = run_cycle(archive, source, command, env=env, timeout_s=300, children=registry)
        times.append(time.perf_counter() - started)
        rss.append(rss_mb())
        if not outcome.ok:
            raise SystemExit(f"cycle {number} {outcome.status}: {outcome.error}")
    result = summary(times, rss)
    result["child_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
    result["startup_s_median"] = startup_cost(db)
    archive.close()
    return result


def startup_cost(db: str, runs: int = 10) -> float:
    """A child that imports everything and opens the archive, then stops (an unknown source)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "newswatch", "--db", db, "crawl", "--source", "nonexistent"],
                       capture_output=True, check=False)
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 3)


def bench_inprocess(db: str, site: str, cycles: int) -> dict[str, Any]:
    from scrapy.utils.reactor import install_reactor  # noqa: PLC0415

    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    from scrapy.crawler import AsyncCrawlerRunner  # noqa: PLC0415
    from scrapy.utils.defer import deferred_from_coro  # noqa: PLC0415
    from twisted.internet import reactor  # noqa: PLC0415

    from crawler.runner import CrawlOptions, CrawlTarget, scrapy_settings  # noqa: PLC0415
    from crawler.spiders.source import SourceSpider  # noqa: PLC0415

    archive = Archive.open(db)
    options = CrawlOptions(archive_url=db, autothrottle=False)
    times: list[float] = []
    rss: list[float] = []

    async def run_all() -> None:
        try:
            for _ in range(cycles):
                target = CrawlTarget.from_archive(archive, archive.get_source(site))
                started = time.perf_counter()
                runner = AsyncCrawlerRunner(scrapy_settings(options))
                await runner.crawl(
                    SourceSpider, source=target.name, source_id=target.source_id, home_url=target.home_url,
                    timezone=options.timezone, discovered=target.discovered, pending=list(target.pending),
                    cycle=target.cycle, max_listing_pages=options.max_listing_pages,
                    recheck_days=options.recheck_days, not_articles=list(target.not_articles),
                )
                times.append(time.perf_counter() - started)
                rss.append(rss_mb())
        finally:
            reactor.stop()

    reactor.callWhenRunning(lambda: deferred_from_coro(run_all()))
    reactor.run()
    runs = archive.list_runs(archive.get_source(site).id)
    archive.close()
    result = summary(times, rss)
    result["runs_finished"] = sum(run.status == "finished" for run in runs)
    return result


def prepare(folder: Path, replica: Replica, site: str, name: str) -> str:
    db = f"sqlite:///{folder / f'{name}.db'}"
    subprocess.run([sys.executable, "-m", "newswatch", "--db", db, "sources", "add", replica.base_urls[site],
                    "--name", site, "--no-check"], check=True, capture_output=True)
    return db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--site", default="sggp")
    parser.add_argument("--mode", choices=["both", "process", "inprocess"], default="both")
    args = parser.parse_args()
    results: dict[str, Any] = {"cycles": args.cycles, "site": args.site}
    with tempfile.TemporaryDirectory() as tmp, Replica(day=0) as replica:
        if args.mode in ("both", "process"):
            results["process"] = bench_process(prepare(Path(tmp), replica, args.site, "process"), args.site,
                                               args.cycles)
            print("process:", json.dumps(results["process"]), flush=True)
        if args.mode in ("both", "inprocess"):
            # Last: a reactor, once started, stays installed in this process.
            results["inprocess"] = bench_inprocess(prepare(Path(tmp), replica, args.site, "inprocess"),
                                                   args.site, args.cycles)
            print("inprocess:", json.dumps(results["inprocess"]), flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
