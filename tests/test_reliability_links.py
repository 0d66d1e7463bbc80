"""Link safety: a crawl never follows links off the source's hosts, and never connects to a private,
loopback or link-local address the source did not declare (its home host, its editions' hosts).

The crawl runs with a socket guard (a sitecustomize on PYTHONPATH) that refuses, and records,
every connection and name lookup other than the source's own loopback port: if the crawler tried
to reach 10.0.0.1 the guard would stop it before any packet and the test would fail. A second
loopback server, linked from the source but not declared, must receive nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from crawler.middlewares.private_hosts import host_address, is_internal
from tests.test_reliability_common import Route, TinySite, check_cli, html, query, run_cli

pytestmark = pytest.mark.reliability

GUARD = '''
import os, socket
_ALLOWED = ("127.0.0.1", int(os.environ["GUARD_PORT"]))
_LOG = os.environ["GUARD_LOG"]
def _record(what):
    with open(_LOG, "a") as log:
        log.write(repr(what) + "\\n")
_connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex
def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and tuple(address[:2]) != _ALLOWED:
        _record(("connect", address))
        raise ConnectionRefusedError("guard: " + repr(address))
    return _connect(self, address)
def connect_ex(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and tuple(address[:2]) != _ALLOWED:
        _record(("connect", address))
        return 111
    return _connect_ex(self, address)
socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
_getaddrinfo, _gethostbyname = socket.getaddrinfo, socket.gethostbyname
def getaddrinfo(host, *args, **kwargs):
    if host not in ("127.0.0.1", "localhost", None):
        _record(("lookup", host))
        raise socket.gaierror(-2, "guard")
    return _getaddrinfo(host, *args, **kwargs)
def gethostbyname(host):
    if host not in ("127.0.0.1", "localhost"):
        _record(("lookup", host))
        raise socket.gaierror(-2, "guard")
    return _gethostbyname(host)
socket.getaddrinfo, socket.gethostbyname = getaddrinfo, gethostbyname
'''
FORBIDDEN_HOSTS = ("10.0.0.1", "192.168.1.1", "169.254.169.254", "[::1]", "news.example.com")
ARTICLE = "/thoi-su/hoi-nghi-tong-ket-{n}.html"


def forbidden_urls(other: str) -> list[str]:
    hosts = [other.rstrip("/"), *(f"http://{host}" for host in FORBIDDEN_HOSTS)]
    return [f"{host}{ARTICLE.format(n=10000100 + i)}" for i, host in enumerate(hosts)]


def source_routes(own: str, other: str) -> Callable[[str], Route | None]:
    targets = forbidden_urls(other)
    links = "".join(f'<li><a href="{url}">Tin {i}</a></li>' for i, url in enumerate(targets))
    head = ('<link rel="alternate" type="application/rss+xml" href="/rss/thoi-su">'
            '<link rel="alternate" type="application/rss+xml" href="http://10.0.0.1/rss">'
            '<link rel="alternate" hreflang="en" href="http://169.254.169.254/en/">'
            '<link rel="alternate" hreflang="zh" href="http://192.168.1.1/zh/">')
    items = "".join(f"<item><title>t{i}</title><link>{url}</link></item>" for i, url in enumerate(targets))
    feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>{items}</channel></rss>'
    urls = "".join(f"<url><loc>{url}</loc></url>" for url in targets)
    sitemap = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    pages = {
        "/": html(f'<nav><a href="/thoi-su/">Thời sự</a></nav><ul>{links}</ul>'
                  f'<a href="{ARTICLE.format(n=10000099)}">Chuyển</a>', head),
        "/thoi-su/": html(f"<ul>{links}</ul>"),
        "/robots.txt": (200, {"Content-Type": "text/plain"},
                        f"User-agent: *\nSitemap: {own}sitemap.xml\nSitemap: http://10.0.0.1/sitemap.xml\n".encode()),
        "/rss/thoi-su": (200, {"Content-Type": "application/rss+xml"}, feed.encode()),
        "/sitemap.xml": (200, {"Content-Type": "application/xml"}, sitemap.encode()),
        # An article of the source's own that redirects into the private network.
        ARTICLE.format(n=10000099): (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""),
    }
    return lambda path: pages.get(path.split("?")[0])


def test_private_ranges_are_internal() -> None:
    for host in ("10.0.0.1", "192.168.1.1", "169.254.169.254", "[::1]", "127.0.0.1", "localhost", "[::ffff:10.0.0.1]"):
        address = host_address(host)
        assert address is not None, host
        assert is_internal(address), host
    assert host_address("news.example.com") is None
    public = host_address("203.113.131.1")
    assert public is not None
    assert not is_internal(public)


def test_links_off_the_source_and_to_private_hosts_are_never_requested(tmp_path: Path) -> None:
    guard_dir, guard_log = tmp_path / "guard", tmp_path / "guard.log"
    guard_dir.mkdir()
    (guard_dir / "sitecustomize.py").write_text(GUARD)
    guard_log.write_text("")
    db = f"sqlite:///{tmp_path / 'links.db'}"
    with TinySite(lambda _path: html("<p>nothing here</p>")) as other, TinySite() as source_site:
        source_site.routes = source_routes(source_site.url, other.url)
        check_cli(db, "sources", "add", source_site.url, "--name", "guarded")
        env = {"PYTHONPATH": f"{guard_dir}:{Path.cwd()}", "GUARD_PORT": str(source_site.server.server_address[1]),
               "GUARD_LOG": str(guard_log)}
        finished = run_cli(db, "crawl", "--json", "--no-alerts", env=env)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert other.requests == [], "an undeclared loopback host was requested"
    assert guard_log.read_text() == "", f"connections or lookups attempted: {guard_log.read_text()}"
    assert "/thoi-su/" in source_site.requests, "the source itself was not crawled"
    counters = query(db, "SELECT counters FROM crawl_runs")[0][0]
    assert "skipped/private_host" in str(counters), counters
