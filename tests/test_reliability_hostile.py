"""Hostile input on real loopback servers: memory and time stay bounded, and the source is flagged.

The replica's own hostile modes (a 200 MB page, a gzip bomb inflating to 1 GiB, a billion-laughs
feed, an XXE sitemap, calendar and listing traps) and, on a tiny server, what it lacks: a
billion-laughs sitemap, a gzipped sitemap that is a bomb, and endless pagination whose every page
links new articles. Peak RSS is the crawl subprocess's own (os.wait4).
"""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import Any

import pytest

from replica import Replica, faults_content
from replica.faults import FaultPlan
from replica.onecms import OneCmsSite
from tests.test_reliability_common import Route, TinySite, add_sources, check_cli, html, run_cli

pytestmark = pytest.mark.reliability

# Generous but real: a clean crawl of one replica site peaks near 200 MB; holding the 200 MB page
# or the inflated bomb would pass 400 MB.
MAX_RSS_MB = 400
MAX_WALL_S = 120
MAX_LISTING_PAGES = 20
LAUGHS = ('<!DOCTYPE urlset [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">' for n in range(1, 10))
          + "]>")


def crawl_counters(db: str) -> tuple[dict[str, Any], float, float]:
    finished = run_cli(db, "crawl", "--json", "--no-alerts",
                       env={"NEWSWATCH_CRAWL_MAX_LISTING_PAGES": str(MAX_LISTING_PAGES)})
    assert finished.returncode == 0, finished.stderr[-3000:]
    runs = [json.loads(line) for line in finished.stdout.splitlines() if line.startswith("{")]
    runs = [run for run in runs if "source" in run]
    assert [run["status"] for run in runs] == ["finished"], runs
    print(f"crawl: {finished.wall_s:.1f} s, peak RSS {finished.peak_rss_mb:.0f} MB")
    return runs[0]["counters"], finished.wall_s, finished.peak_rss_mb


def test_replica_bombs_huge_page_and_traps_stay_bounded(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'hostile.db'}"
    plan = FaultPlan.parse("nghean=huge:200,gzip_bomb:1024,xml_bomb,trap")
    with Replica(day=0, sites=[OneCmsSite("nghean")], faults=plan) as replica:
        add_sources(db, replica)
        counters, wall, rss = crawl_counters(db)
    assert rss < MAX_RSS_MB
    assert wall < MAX_WALL_S
    assert counters.get("skipped/too_large", 0) >= 1, counters  # the 200 MB page
    assert counters.get("skipped/decompression_limit", 0) >= 1, counters  # the gzip bomb
    assert counters.get("errors/feed_malformed", 0) >= 1, counters  # billion laughs in /rss/tin-nong
    assert counters.get("errors/sitemap_entities", 0) >= 1, counters  # the XXE sitemap
    assert counters.get("items_new", 0) > 0, counters  # the rest of the site is still archived


def tiny_routes(base: str) -> Any:
    bomb = faults_content.gzip_bomb(1024)
    laughs_sitemap = (f'<?xml version="1.0"?>{LAUGHS}<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                      f"<url><loc>{base}thoi-su/a-10000001.html</loc><lastmod>&lol9;</lastmod></url></urlset>")
    feed = faults_content.billion_laughs_feed(title="Tin", home=base, link=f"{base}thoi-su/a-10000002.html")
    fixed: dict[str, Route] = {
        "/": html('<nav><a href="/tong-hop/">Tổng hợp</a></nav>',
                  '<link rel="alternate" type="application/rss+xml" href="/rss/bomb">'),
        "/robots.txt": (200, {"Content-Type": "text/plain"}, (
            f"User-agent: *\nSitemap: {base}sitemap-laughs.xml\nSitemap: {base}sitemap-bomb.xml.gz\n").encode()),
        "/sitemap-laughs.xml": (200, {"Content-Type": "application/xml"}, laughs_sitemap.encode()),
        "/sitemap-bomb.xml.gz": (200, {"Content-Type": "application/x-gzip"}, bomb),
        "/rss/bomb": (200, {"Content-Type": "application/rss+xml"}, feed),
    }

    def routes(target: str) -> Route | None:
        path, _, query = target.partition("?")
        if path == "/tong-hop/":
            return endless_page(int(query.removeprefix("page=") or 1) if query.startswith("page=") else 1)
        return fixed.get(path)

    return routes


def endless_page(number: int) -> Route:
    """Page `number` of a listing that always links ten articles never seen before, and a next page."""
    paths = [f"/tong-hop/tin-moi-{number}-{i}-{10000000 + number * 10 + i}.html" for i in range(10)]
    links = "".join(f'<h3 class="b-grid__title"><a href="{path}">Tin mới {number}</a></h3>' for path in paths)
    more = f'<div class="c-more onecms__loadmore"><a href="/tong-hop/?page={number + 1}">Xem thêm</a></div>'
    return html(f"<main>{links}{more}</main>")


def test_tiny_server_sitemap_bombs_and_endless_pagination(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'tiny.db'}"
    with TinySite() as site:
        site.routes = tiny_routes(site.url)
        check_cli(db, "sources", "add", site.url, "--name", "tiny")
        counters, wall, rss = crawl_counters(db)
        listing_requests = [path for path in site.requests if path.startswith("/tong-hop/?") or path == "/tong-hop/"]
    assert rss < MAX_RSS_MB
    assert wall < MAX_WALL_S
    assert len(listing_requests) <= MAX_LISTING_PAGES, listing_requests
    assert counters.get("listings_page_limit", 0) >= 1, counters
    assert counters.get("errors/sitemap_entities", 0) >= 1, counters
    assert counters.get("sitemaps_bad", 0) >= 1, counters  # the gzipped bomb: inflated only up to the limit
    assert counters.get("errors/feed_malformed", 0) >= 1, counters


def test_gzip_bomb_fixture_is_a_bomb() -> None:
    """The bomb the tiny server sends really inflates past any limit (checked, bounded, here)."""
    with gzip.open(io.BytesIO(faults_content.gzip_bomb(1024))) as inflating:
        assert len(inflating.read(64 << 20)) == 64 << 20
