"""Fault injection in the replica: every fault mode behaves as declared, on a real loopback server."""

from __future__ import annotations

import http.client
import re
import socket
import subprocess
import sys
import threading
import time
import unicodedata
import urllib.robotparser
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from lxml import etree, html

from replica import ManifestEntry, Replica
from replica.faults import Fault, FaultPlan, FaultRecord, SiteFaults
from replica.onecms import OneCmsSite

ROOT = Path(__file__).resolve().parents[1]
ALL = "nghean=all,slow:0.3,timeout:30"
TRANSPORT = {Fault.HTTP_5XX, Fault.SLOW, Fault.TIMEOUT, Fault.RESET, Fault.TRUNCATED, Fault.HUGE,
             Fault.GZIP_BOMB, Fault.DELETED}


def NGHEAN() -> list[OneCmsSite]:  # noqa: N802 - reads as a constant at the call sites
    """The OneCMS site alone: these tests count its pages."""
    return [OneCmsSite("nghean")]


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def get(url: str, headers: dict[str, str] | None = None, timeout: float = 5.0, method: str = "GET") -> Reply:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        connection.close()


def raw_get(url: str, timeout: float = 5.0) -> bytes:
    """Everything the server sends for one request, until it closes the connection."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname or "", parts.port or 80), timeout=timeout) as sock:
        sock.sendall(f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def affected(records: list[FaultRecord], fault: Fault, detail: str | None = None) -> list[str]:
    return [r.url for r in records if r.fault is fault and (detail is None or r.detail == detail)]


def body_text(tree: html.HtmlElement) -> str:
    sapo = tree.cssselect("p.sc-longform-header-sapo")[0].text_content()
    parts = [sapo] + [node.text_content().strip()
                      for node in tree.cssselect("div.article__body")[0].iter("p", "h2", "figcaption")]
    return "\n".join(part for part in parts if part)


@pytest.fixture(scope="module")
def replica() -> Iterator[Replica]:
    with Replica(sites=NGHEAN(), day=0, faults=FaultPlan.parse(ALL)) as running:
        yield running


@pytest.fixture(scope="module")
def truth(replica: Replica) -> list[FaultRecord]:
    return replica.fault_map()


@pytest.fixture(scope="module")
def manifest(replica: Replica) -> dict[str, ManifestEntry]:
    return {entry.url: entry for entry in replica.manifest()}


@pytest.fixture(scope="module")
def base(replica: Replica) -> str:
    return replica.base_urls["nghean"]


# -- the plan ---------------------------------------------------------------------------------


def test_plan_parses_and_round_trips() -> None:
    plan = FaultPlan.parse("nghean=5xx:3,slow:0.5,burst:2;*=deleted")
    nghean = plan.for_site("nghean")
    assert nghean.faults == {Fault.HTTP_5XX, Fault.SLOW}
    assert (nghean.every, nghean.slow_seconds, nghean.burst) == (3, 0.5, 2)
    assert plan.for_site("portal") == SiteFaults.of(Fault.DELETED)
    assert FaultPlan.parse(str(plan)) == plan
    assert FaultPlan.parse("x=all").for_site("x").faults == set(Fault)
    assert not FaultPlan.parse("nghean=none;*=all").for_site("nghean")
    assert not FaultPlan.parse("")
    assert not FaultPlan()
    for bad in ("nghean", "nghean=frobnicate", "nghean=deleted:3", "nghean=slow:fast", "a=slow;a=reset", "a=burst"):
        with pytest.raises(ValueError):
            FaultPlan.parse(bad)
    with pytest.raises(ValueError, match="unknown site"):
        Replica(sites=NGHEAN(), faults=FaultPlan.parse("portal=all"))


def test_no_fault_is_on_by_default() -> None:
    plain = Replica(sites=NGHEAN(), day=0)
    assert not plain.faults
    assert plain.fault_map() == []
    assert plain.alias_urls == {}
    faulted = Replica(sites=NGHEAN(), day=0, faults=FaultPlan.parse("nghean=none"))
    assert [e.to_json() for e in faulted.manifest()] == [e.to_json() for e in plain.manifest()]


def test_every_mode_has_ground_truth(truth: list[FaultRecord], manifest: dict[str, ManifestEntry]) -> None:
    assert {r.fault for r in truth} == set(Fault) - {Fault.LYING_ETAG}  # nothing has changed on day 0
    articles = [u for u, e in manifest.items() if e.kind == "article"]
    for fault in (Fault.DELETED, Fault.SLOW, Fault.TIMEOUT, Fault.RESET, Fault.TRUNCATED, Fault.HTTP_5XX,
                  Fault.CHARSET, Fault.MALFORMED, Fault.UNSTABLE_VALIDATORS):
        hit = [u for u in affected(truth, fault) if u in manifest and manifest[u].kind == "article"]
        assert 0 < len(hit) < len(articles) / 4, fault
    transport = [r.url for r in truth if r.fault in TRANSPORT]
    assert len(transport) == len(set(transport)), "one transport fault per URL"
    assert all(url in manifest for url in transport)


def test_faults_are_deterministic(truth: list[FaultRecord], base: str) -> None:
    again = Replica(sites=NGHEAN(), day=0, faults=FaultPlan.parse(ALL), base_url=base).fault_map()
    on_site = [sorted(repr(r) for r in records if r.url.startswith(base)) for records in (again, truth)]
    assert on_site[0] == on_site[1]
    assert len(on_site[0]) == len(truth) - 1  # the old-domain alias is on a free port


# -- transport ----------------------------------------------------------------------------------


def test_5xx(truth: list[FaultRecord], manifest: dict[str, ManifestEntry]) -> None:
    failing = [r for r in truth if r.fault is Fault.HTTP_5XX]
    assert {r.detail for r in failing} == {"500", "502", "503"}
    assert {manifest[r.url].kind for r in failing} >= {"article", "listing"}
    for record in failing:
        reply = get(record.url)
        assert reply.status == int(record.detail)
        assert b"nginx" in reply.body
        assert (reply.headers["Retry-After"] == "1") == (reply.status == 503)


def test_5xx_bursts_end_and_move_with_the_day() -> None:
    with Replica(sites=NGHEAN(), day=0, faults=FaultPlan.parse("nghean=5xx,burst:2")) as running:
        url = affected(running.fault_map(), Fault.HTTP_5XX)[0]
        statuses = [get(url).status for _ in range(4)]
        assert statuses[0] == statuses[1] >= 500
        assert statuses[2:] == [200, 200]
        running.set_day(0)  # a day (or plan) change starts the bursts again
        assert get(url).status >= 500
        day0 = set(affected(running.fault_map(), Fault.HTTP_5XX))
        running.set_day(1)
        assert set(affected(running.fault_map(), Fault.HTTP_5XX)) != day0


def test_slow(truth: list[FaultRecord]) -> None:
    url = affected(truth, Fault.SLOW)[0]
    started = time.monotonic()
    reply = get(url)
    assert reply.status == 200
    assert time.monotonic() - started >= 0.3
    with pytest.raises(TimeoutError):
        get(url, timeout=0.1)


def test_timeout_holds_the_socket_until_the_server_stops() -> None:
    running = Replica(sites=NGHEAN(), day=0, faults=FaultPlan.parse("nghean=timeout:30")).start()
    url = affected(running.fault_map(), Fault.TIMEOUT)[0]
    with pytest.raises(TimeoutError):
        get(url, timeout=0.5)
    outcome: list[BaseException] = []

    def held() -> None:
        try:
            get(url, timeout=20)
        except (http.client.HTTPException, OSError) as exc:
            outcome.append(exc)

    client = threading.Thread(target=held)
    client.start()
    time.sleep(0.2)
    started = time.monotonic()
    running.stop()
    client.join(timeout=10)
    assert time.monotonic() - started < 5
    assert outcome, "the held request ends without an answer when the server stops"
    assert not isinstance(outcome[0], TimeoutError)


def test_reset(truth: list[FaultRecord]) -> None:
    for url in affected(truth, Fault.RESET):
        with pytest.raises(ConnectionResetError):
            get(url)


def test_truncated(truth: list[FaultRecord]) -> None:
    for url in affected(truth, Fault.TRUNCATED):
        with pytest.raises(http.client.IncompleteRead):
            get(url)
        head, _, body = raw_get(url).partition(b"\r\n\r\n")
        promised = int(re.search(rb"Content-Length: (\d+)", head).group(1))  # type: ignore[union-attr]
        assert 0 < len(body) < promised


def test_huge_page_is_streamed(truth: list[FaultRecord], manifest: dict[str, ManifestEntry]) -> None:
    [url] = affected(truth, Fault.HUGE)
    assert manifest[url].kind == "other"
    assert re.search(r"-\d{8}\.html$", url)
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    connection.request("GET", parts.path)
    response = connection.getresponse()
    length = int(response.headers["Content-Length"])
    assert length >= 30 << 20
    received, first = 0, b""
    while chunk := response.read(1 << 20):
        first = first or chunk
        received += len(chunk)
    connection.close()
    assert received == length
    assert first.startswith(b"<!DOCTYPE html>")


def test_gzip_bomb_is_small_on_the_wire(truth: list[FaultRecord]) -> None:
    [url] = affected(truth, Fault.GZIP_BOMB)
    reply = get(url, timeout=10)
    assert reply.status == 200
    assert reply.headers["Content-Encoding"] == "gzip"
    assert len(reply.body) == int(reply.headers["Content-Length"]) < 2 << 20
    inflater = zlib.decompressobj(wbits=31)
    start = inflater.decompress(reply.body, 4 << 20)  # inflate 4 MB, not the whole GB
    assert start == bytes(4 << 20)
    assert inflater.unconsumed_tail
    assert int.from_bytes(reply.body[-4:], "little") == 1 << 30  # ISIZE: 1 GiB inflated


# -- redirects, deletions, robots ----------------------------------------------------------------


def test_redirects(replica: Replica, base: str, manifest: dict[str, ManifestEntry]) -> None:
    home = get(base).body.decode()
    hrefs = set(re.findall(r'href="([^"]+)"', home))
    assert {"/chain-1", "/loop-a"} <= hrefs
    old = next(h for h in hrefs if h.startswith("/old/"))
    reply = get(base + old.lstrip("/"))
    assert reply.status == 301
    assert reply.headers["Location"] == base + old.removeprefix("/old/")
    url, statuses = base + "chain-1", []
    for _ in range(5):
        reply = get(url)
        statuses.append(reply.status)
        if reply.status == 200:
            break
        url = reply.headers["Location"]
    assert statuses == [302, 307, 301, 200]
    assert manifest[url].kind == "article"
    assert get(base + "loop-a").headers["Location"] == base + "loop-b"
    assert get(base + "loop-b").headers["Location"] == base + "loop-a"
    for path in ("chain-1", "chain-2", "chain-3", "loop-a", "loop-b", old.lstrip("/")):
        assert manifest[base + path].kind == "other"
    alias = replica.alias_urls["nghean"]
    assert alias != base
    assert manifest[alias].kind == "other"
    reply = get(alias + "en/?x=1")
    assert (reply.status, reply.headers["Location"]) == (301, base + "en/?x=1")


def test_deleted_articles_are_404_but_still_listed(truth: list[FaultRecord], base: str,
                                                  manifest: dict[str, ManifestEntry]) -> None:
    deleted = affected(truth, Fault.DELETED)
    listed = b"".join(get(url).body for url, e in manifest.items()
                      if e.kind == "sitemap" and url not in affected(truth, Fault.HTTP_5XX))
    for url in deleted:
        assert manifest[url].kind == "article"
        assert manifest[url].text
        reply = get(url)
        assert reply.status == 404
        assert reply.headers.get("Content-Type", "").startswith("text/html")
        assert url.encode() in listed


def test_robots(truth: list[FaultRecord], base: str) -> None:
    robots = get(base + "robots.txt").body.decode()
    assert "Crawl-delay: 1" in robots
    parser = urllib.robotparser.RobotFileParser()
    parser.parse(robots.splitlines())
    assert str(parser.crawl_delay("newswatch")) == "1"
    disallowed = affected(truth, Fault.ROBOTS)
    assert len(disallowed) > 1
    for url in disallowed:
        if not url.endswith("robots.txt"):
            assert not parser.can_fetch("newswatch", url)
            assert get(url).status == 200  # robots.txt forbids, the server still serves
    assert parser.can_fetch("newswatch", affected(truth, Fault.DELETED)[0])


# -- content ------------------------------------------------------------------------------------


def test_charset_meta_only_windows_1258(truth: list[FaultRecord], manifest: dict[str, ManifestEntry]) -> None:
    urls = affected(truth, Fault.CHARSET, "meta-windows-1258")
    assert urls
    for url in urls:
        reply = get(url)
        assert reply.headers["Content-Type"] == "text/html"
        assert b'<meta http-equiv="Content-Type" content="text/html; charset=windows-1258">' in reply.body
        with pytest.raises(UnicodeDecodeError):
            reply.body.decode("utf-8")
        text = unicodedata.normalize("NFC", reply.body.decode("cp1258"))
        entry = manifest[url]
        tree = html.fromstring(text)
        assert tree.cssselect("h1.sc-longform-header-title")[0].text_content() == entry.title
        assert body_text(tree) == entry.text


def test_charset_wrong_header_and_none(truth: list[FaultRecord], manifest: dict[str, ManifestEntry]) -> None:
    for url in affected(truth, Fault.CHARSET, "wrong-header"):
        reply = get(url)
        assert reply.headers["Content-Type"] == "text/html; charset=iso-8859-1"
        tree = html.fromstring(reply.body.decode("utf-8"))
        assert tree.cssselect("h1.sc-longform-header-title")[0].text_content() == manifest[url].title
    nones = affected(truth, Fault.CHARSET, "none")
    assert nones
    for url in nones:
        reply = get(url)
        assert reply.headers["Content-Type"] == "text/html"
        assert b"charset" not in reply.body.lower()
        assert body_text(html.fromstring(reply.body.decode("utf-8"))) == manifest[url].text


def test_malformed_html_keeps_its_text(truth: list[FaultRecord], manifest: dict[str, ManifestEntry]) -> None:
    urls = affected(truth, Fault.MALFORMED, "html")
    assert urls
    for url in urls:
        body = get(url).body
        assert b"\x00" in body
        assert b"</p>\n<p>" not in body
        assert b"<p>" in body
        assert re.search(rb"<body[^>]*></div></span>", body)
        tree = html.fromstring(body.replace(b"\x00", b""))
        assert body_text(tree) == manifest[url].text
        assert body_text(html.fromstring(body)) == manifest[url].text  # lxml copes with the NUL too


def test_malformed_and_hostile_xml(truth: list[FaultRecord], base: str, manifest: dict[str, ManifestEntry]) -> None:
    home = get(base).body.decode()
    [broken] = affected(truth, Fault.MALFORMED, "rss")
    [laughs] = affected(truth, Fault.XML_BOMB, "billion-laughs")
    [xxe] = affected(truth, Fault.XML_BOMB, "external-entity")
    for url in (broken, laughs):
        assert 'type="application/rss+xml" title="Tin n' in home
        assert f'href="/{url.removeprefix(base)}"' in home
        assert manifest[url].kind == "other"
        with pytest.raises(etree.XMLSyntaxError):
            etree.fromstring(get(url).body)
    assert b'<!ENTITY lol9 "&lol8;&lol8;' in get(laughs).body
    sitemap = get(xxe).body
    assert b'<!ENTITY x SYSTEM "file:///etc/passwd">' in sitemap
    assert b"<loc>&x;</loc>" in sitemap
    assert f"Sitemap: {xxe}" in get(base + "robots.txt").body.decode()


def test_pdf_listed_in_a_feed(truth: list[FaultRecord], manifest: dict[str, ManifestEntry]) -> None:
    [url] = affected(truth, Fault.PDF)
    assert url.endswith(".html")
    reply = get(url)
    assert reply.headers["Content-Type"] == "application/pdf"
    assert reply.body.startswith(b"%PDF-1.4")
    assert reply.body.rstrip().endswith(b"%%EOF")
    xref = int(re.search(rb"startxref\n(\d+)", reply.body).group(1))  # type: ignore[union-attr]
    assert reply.body[xref:xref + 4] == b"xref"
    for offset, number in zip(re.findall(rb"(\d{10}) 00000 n", reply.body), range(1, 6), strict=True):
        assert reply.body[int(offset):].startswith(f"{number} 0 obj".encode())
    feeds = [u for u, e in manifest.items() if e.kind == "feed"]
    assert any(f"<link>{url}</link>".encode() in get(feed).body for feed in feeds)
    assert manifest[url].kind == "other"


def test_traps_never_end(truth: list[FaultRecord], base: str, manifest: dict[str, ManifestEntry]) -> None:
    [calendar] = affected(truth, Fault.TRAP, "calendar")
    [listing] = affected(truth, Fault.TRAP, "pagination")
    assert (manifest[calendar].kind, manifest[listing].kind) == ("other", "listing")
    home = get(base).body.decode()
    assert f'href="/{calendar.removeprefix(base)}"' in home
    url, seen = calendar, set()
    for _ in range(30):
        tree = html.fromstring(get(url).body)
        seen.add(url)
        url = urljoin(url, tree.cssselect("a.c-calendar__next")[0].get("href"))
    assert len(seen) == 30
    assert url.endswith("/lich/2029/03/")
    assert "/lich/2026/08/" in get(calendar).body.decode()
    for number in (2, 50, 10**9):
        tree = html.fromstring(get(f"{listing}?page={number}").body)
        assert tree.cssselect("div.c-more.onecms__loadmore a")[0].get("href") == f"/tin-tong-hop/?page={number + 1}"
        assert len(tree.cssselect("h3.b-grid__title a")) == 10
    for path in ("lich/2026/13/", "tin-tong-hop/?page=x"):
        assert get(base + path).status == 404


# -- validators ---------------------------------------------------------------------------------


def test_unstable_validators(truth: list[FaultRecord]) -> None:
    url = affected(truth, Fault.UNSTABLE_VALIDATORS)[0]
    first, second = get(url), get(url)
    assert first.body == second.body
    assert first.headers["ETag"] != second.headers["ETag"]
    assert first.headers["Last-Modified"] != second.headers["Last-Modified"]
    assert get(url, {"If-None-Match": second.headers["ETag"]}).status == 200
    assert get(url, {"If-Modified-Since": second.headers["Last-Modified"]}).status == 200


def test_lying_etag() -> None:
    with Replica(sites=NGHEAN(), day=0, faults=FaultPlan.parse("nghean=lying_etag")) as running:
        before = {e.url: e for e in running.manifest()}
        first = {url: get(url) for url, e in before.items() if e.kind in ("article", "feed")}
        running.set_day(1)
        after = {e.url: e for e in running.manifest()}
        edited = [u for u, e in before.items() if e.kind == "article" and e.text != after[u].text]
        assert len(edited) == 1
        lying = set(affected(running.fault_map(), Fault.LYING_ETAG))
        changed_feed = next(u for u in first if before[u].kind == "feed" and u in lying)
        assert edited[0] in lying
        for url in (edited[0], changed_feed):
            fresh = get(url)
            assert fresh.body != first[url].body
            assert fresh.headers["ETag"] == first[url].headers["ETag"]
            assert get(url, {"If-None-Match": first[url].headers["ETag"]}).status == 304
        unchanged = next(u for u in first if u not in lying)
        assert get(unchanged).headers["ETag"] == first[unchanged].headers["ETag"]
        assert any(r.fault is Fault.LYING_ETAG for r in running.fault_log())


# -- the manifest and switching ------------------------------------------------------------------


def test_manifest_stays_true(truth: list[FaultRecord], base: str, manifest: dict[str, ManifestEntry]) -> None:
    plain = {e.url for e in Replica(sites=NGHEAN(), day=0, base_url=base).manifest()}
    assert plain <= set(manifest)
    added = set(manifest) - plain
    assert {manifest[u].kind for u in added} == {"other", "listing"}
    assert [u for u in added if manifest[u].kind == "listing"] == [base + "tin-tong-hop/"]
    skip = {r.url for r in truth if r.fault in TRANSPORT | {Fault.REDIRECTS}}
    for url in sorted(set(manifest) - skip):
        assert get(url).status == 200, url
    for href in re.findall(r'href="(/[^"]*)"', get(base).body.decode()):
        assert urljoin(base, href) in manifest, href


def test_set_faults_toggles_while_running() -> None:
    with Replica(sites=NGHEAN(), day=0) as running:
        assert not running.fault_map()
        plan = FaultPlan.parse("nghean=deleted,redirects")
        running.set_faults(plan)
        url = affected(running.fault_map(), Fault.DELETED)[0]
        assert get(url).status == 404
        alias = running.alias_urls["nghean"]
        assert get(alias).status == 301
        running.set_faults(None)
        assert not running.fault_map()
        assert get(url).status == 200
        assert get(alias).status == 404
        assert get(running.base_urls["nghean"] + "loop-a").status == 404
        log = running.fault_log(clear=True)
        assert FaultRecord(url, Fault.DELETED, "") in log
        assert running.fault_log() == []


def test_cli_serves_with_faults() -> None:
    plan = "nghean=deleted"
    process = subprocess.Popen([sys.executable, "-m", "replica", "serve", "--faults", plan],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert process.stdout is not None
        site, served = process.stdout.readline().split()
        assert site == "nghean"  # the first site; the others follow, then "ready"
        while process.stdout.readline().strip() != "ready":
            pass
        model = Replica(sites=NGHEAN(), day=0, faults=FaultPlan.parse(plan), base_url=served)
        for url in affected(model.fault_map(), Fault.DELETED):
            assert get(url).status == 404
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0
    bad = subprocess.run([sys.executable, "-m", "replica", "manifest", "--faults", "nghean=nope"],
                         capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1
