"""newswatch measured against its peers, side by side in one run, on the whole replica.

    .venv/bin/python bench/peers.py [--repeats 3] [--day 2] [--np-python /tmp/np-venv/bin/python]

The replica serves day ``--day`` (day 2: every article of days 0-2, about 350) on loopback, and
every tool crawls the same pages, politeness off (no robots.txt delay, no AutoThrottle, no
download delay), each in its own subprocess:

- newswatch: ``python -m newswatch --db ... crawl --no-alerts`` (sources added by home page;
  NEWSWATCH_CRAWL_AUTOTHROTTLE=false, NEWSWATCH_CRAWL_OBEY_ROBOTS=false);
- news-please (PyPI, in its own venv: ``--np-python``): crawler mode (``news-please -c DIR``,
  SitemapCrawler on every host) and library mode (``NewsPlease.from_urls`` over the manifest's
  article URLs);
- trafilatura's own discovery and download: ``find_feed_urls``, ``sitemap_search`` and
  ``focused_crawler`` from each home page, then ``fetch_url`` + ``extract`` of what they found;
- the limit: bare ``trafilatura.extract`` of the manifest's article bodies (fetched once
  beforehand), on 2 worker processes.

CPU seconds are ``resource.getrusage(RUSAGE_CHILDREN)`` deltas around each tool's subprocess
(its waited-for children included). Requests and bytes are counted on the server side, by a
counting handler wrapped around the replica's own handler (responses unchanged). Each run then
crawls a second time over the unchanged replica (the incremental cost). Quality is scored
against the manifest with tests/test_e2e.py's token F1.

Hosts: every site is served as ``http://<site>.localhost:<port>/`` instead of
``http://127.0.0.1:<port>/``: trafilatura (courlan) drops every URL whose host is an IP address
or ``localhost``, so on IP URLs it finds nothing. Every tool's subprocess gets a
``sitecustomize`` that resolves ``*.localhost`` to 127.0.0.1 and refuses any connection or name
lookup that is not loopback (nothing leaves the machine). Results: bench/results/peers.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "peers.json"
DEFAULT_NP_PYTHON = "/tmp/np-venv/bin/python"
TOKEN = re.compile(r"\w+")

GUARD_SOURCE = '''"""Benchmark guard: *.localhost resolves to 127.0.0.1; nothing but loopback is reached."""
import ipaddress
import socket

_connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex
_getaddrinfo, _gethostbyname, _gethostbyname_ex = socket.getaddrinfo, socket.gethostbyname, socket.gethostbyname_ex


def _name(host):
    if isinstance(host, bytes):
        host = host.decode()
    name = str(host).strip("[]").lower().rstrip(".")
    return "127.0.0.1" if name.endswith(".localhost") else name


def _loopback(host):
    if host is None:
        return True
    name = _name(host)
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _check(sock, address):
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
        raise OSError(f"benchmark guard: refusing non-loopback connection to {address!r}")


def connect(self, address):
    _check(self, address)
    return _connect(self, address)


def connect_ex(self, address):
    _check(self, address)
    return _connect_ex(self, address)


def getaddrinfo(host, *args, **kwargs):
    if not _loopback(host):
        raise socket.gaierror(socket.EAI_NONAME, f"benchmark guard: no lookup of {host!r}")
    return _getaddrinfo(None if host is None else _name(host), *args, **kwargs)


def gethostbyname(host):
    if not _loopback(host):
        raise socket.gaierror(socket.EAI_NONAME, f"benchmark guard: no lookup of {host!r}")
    return _gethostbyname(_name(host))


def gethostbyname_ex(host):
    if not _loopback(host):
        raise socket.gaierror(socket.EAI_NONAME, f"benchmark guard: no lookup of {host!r}")
    return (host, [], [_gethostbyname(_name(host))])


socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
socket.getaddrinfo, socket.gethostbyname, socket.gethostbyname_ex = getaddrinfo, gethostbyname, gethostbyname_ex
'''

NP_LIBRARY_SOURCE = '''import json, sys
from newsplease import NewsPlease

urls = json.load(open(sys.argv[1]))
articles = NewsPlease.from_urls(urls, request_args={"timeout": 30})
out = {}
for url, article in articles.items():
    if not article or isinstance(article, dict):
        continue
    date = article.date_publish
    out[url] = {"text": article.maintext or "", "title": article.title,
                "date": date.isoformat() if date else None, "language": article.language}
json.dump(out, open(sys.argv[2], "w"), ensure_ascii=False)
'''


# -- the replica, counted and named ----------------------------------------------------------------


class Traffic:
    """Requests and response bytes (status line, headers and body) the replica has sent."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.bytes = 0
        self.statuses: Counter[int] = Counter()

    def add(self, status: int | None, sent: int) -> None:
        with self.lock:
            self.requests += 1
            self.bytes += sent
            self.statuses[status or 0] += 1

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"requests": self.requests, "bytes": self.bytes, "statuses": dict(self.statuses)}

    @staticmethod
    def delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
        statuses = {str(k): v - before["statuses"].get(k, 0) for k, v in after["statuses"].items()}
        return {"requests": after["requests"] - before["requests"], "bytes": after["bytes"] - before["bytes"],
                "statuses": {k: v for k, v in sorted(statuses.items()) if v}}


TRAFFIC = Traffic()


def install_counting_replica(traffic: Traffic = TRAFFIC) -> None:
    """Make every Replica started from now on count its traffic and name its hosts
    ``<site>.localhost`` (the handler's answers are the replica's own)."""
    import replica.handlers as handlers  # noqa: PLC0415
    import replica.server as server  # noqa: PLC0415

    class CountingWriter:
        def __init__(self, raw: Any, owner: Any) -> None:
            self._raw, self._owner = raw, owner

        def write(self, data: bytes) -> int:
            written = self._raw.write(data)
            self._owner.sent += len(data)
            return int(written) if written is not None else len(data)

        def __getattr__(self, name: str) -> Any:
            return getattr(self._raw, name)

    class CountingHandler(handlers.Handler):
        sent = 0
        status: int | None = None

        def setup(self) -> None:
            super().setup()
            self.wfile = CountingWriter(self.wfile, self)  # type: ignore[assignment]

        def send_response(self, code: int, message: str | None = None) -> None:
            self.status = code
            super().send_response(code, message)

        def _answer(self, send_body: bool) -> None:
            before, self.status = self.sent, None
            try:
                super()._answer(send_body)
            finally:
                traffic.add(self.status, self.sent - before)

    class NamedSiteServer(handlers.SiteServer):
        def __init__(self, address: tuple[str, int], site: Any, state: Any, handler: Any = None) -> None:
            super().__init__(address, site, state, handler or CountingHandler)

        @property
        def base_url(self) -> str:
            return f"http://{self.site.key}.localhost:{self.server_address[1]}/"

    server.SiteServer = NamedSiteServer  # type: ignore[misc]


def guard_dir(folder: Path) -> Path:
    """A folder holding the loopback guard as ``sitecustomize.py``, for PYTHONPATH."""
    path = folder / "guard"
    path.mkdir(parents=True, exist_ok=True)
    (path / "sitecustomize.py").write_text(GUARD_SOURCE, encoding="utf-8")
    return path


def install_guard_here(folder: Path) -> None:
    """The same guard in this process (the harness fetches pages too)."""
    namespace: dict[str, Any] = {}
    exec(compile((guard_dir(folder) / "sitecustomize.py").read_text(), "sitecustomize", "exec"), namespace)


def load() -> float:
    return round(os.getloadavg()[0], 2)


def uptime_line() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


# -- running a tool ------------------------------------------------------------------------------


def run_measured(argv: list[str], env: dict[str, str], timeout: float = 1800, cwd: str | None = None,
                 traffic: Traffic = TRAFFIC) -> dict[str, Any]:
    """Run one subprocess; wall and CPU seconds (RUSAGE_CHILDREN delta), the replica's traffic."""
    load_before = load()
    before_traffic = traffic.snapshot()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, cwd=cwd, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:4])} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return {
        "wall_s": round(wall, 3),
        "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 3),
        "load_1min_before": load_before,
        **Traffic.delta(before_traffic, traffic.snapshot()),
        "stdout": done.stdout,
    }


def tool_env(guard: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("NEWSWATCH_")}
    env["PYTHONPATH"] = os.pathsep.join([str(guard), *filter(None, [os.environ.get("PYTHONPATH")])])
    return {**env, **(extra or {})}


# -- newswatch -----------------------------------------------------------------------------------

NW_ENV = {"NEWSWATCH_CRAWL_AUTOTHROTTLE": "false", "NEWSWATCH_CRAWL_OBEY_ROBOTS": "false",
          "NEWSWATCH_CRAWL_DOWNLOAD_DELAY_S": "0"}


def newswatch_cmd(db: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "newswatch", "--db", db, *args]


def newswatch_add_sources(db: str, base_urls: dict[str, str], env: dict[str, str]) -> dict[str, Any]:
    added = TRAFFIC.snapshot()
    for key, url in base_urls.items():
        if not key.endswith("-en"):  # a separate English host is an edition, found from its home page
            subprocess.run(newswatch_cmd(db, "sources", "add", url, "--name", key), env=env, check=True,
                           capture_output=True, cwd=str(ROOT))
    return Traffic.delta(added, TRAFFIC.snapshot())


def newswatch_export(db: str, env: dict[str, str]) -> dict[str, dict[str, Any]]:
    done = subprocess.run(newswatch_cmd(db, "export", "--format", "jsonl"), env=env, check=True,
                          capture_output=True, text=True, cwd=str(ROOT))
    rows = {}
    for line in done.stdout.splitlines():
        row = json.loads(line)
        rows[row["url"]] = {"text": row.get("text") or "", "title": row.get("title"), "date": row.get("published_at"),
                            "language": row.get("language"), "duplicate_of": row.get("duplicate_of"),
                            "duplicate_kind": row.get("duplicate_kind")}
    return rows


def run_newswatch(work: Path, base_urls: dict[str, str], guard: Path) -> dict[str, Any]:
    db = f"sqlite:///{work / 'newswatch.db'}"
    env = tool_env(guard, NW_ENV)
    setup = newswatch_add_sources(db, base_urls, env)
    first = run_measured(newswatch_cmd(db, "crawl", "--json", "--no-alerts"), env, cwd=str(ROOT))
    second = run_measured(newswatch_cmd(db, "crawl", "--json", "--no-alerts"), env, cwd=str(ROOT))
    for run in (first, second):
        runs = [json.loads(line) for line in run.pop("stdout").splitlines() if line.startswith("{")]
        run["runs_finished"] = sum(r.get("status") == "finished" for r in runs)
    return {"setup_sources_add": setup, "first": first, "second": second, "archive": newswatch_export(db, env)}


def newswatch_startup_cpu(work: Path, guard: Path) -> dict[str, Any]:
    """A crawl child that imports everything, opens the archive and stops (unknown source)."""
    db = f"sqlite:///{work / 'startup.db'}"
    env = tool_env(guard, NW_ENV)
    subprocess.run(newswatch_cmd(db, "sources", "list"), env=env, capture_output=True, check=False, cwd=str(ROOT))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(newswatch_cmd(db, "crawl", "--no-alerts", "--source", "nonexistent"), env=env,
                   capture_output=True, check=False, cwd=str(ROOT))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall_s": round(time.perf_counter() - started, 3),
            "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 3)}


# -- news-please ---------------------------------------------------------------------------------


def np_package_dir(np_python: str) -> Path:
    done = subprocess.run([np_python, "-c", "import newsplease, os; print(os.path.dirname(newsplease.__file__))"],
                          capture_output=True, text=True, check=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    return Path(done.stdout.strip().splitlines()[-1])


def np_version(np_python: str) -> dict[str, str]:
    code = ("import importlib.metadata as m, json; print(json.dumps({p: m.version(p) for p in "
            "['news-please', 'scrapy', 'newspaper4k', 'readability-lxml', 'twisted']}))")
    done = subprocess.run([np_python, "-c", code], capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout))


def np_config(folder: Path, package: Path, base_urls: dict[str, str]) -> Path:
    """news-please's own default config.cfg with politeness off, output under ``folder``, and
    Scrapy's OffsiteMiddleware off: news-please puts the host *with its port* in
    allowed_domains, which Scrapy ignores, so on a host:port URL every request is offsite."""
    config = (package / "config" / "config.cfg").read_text(encoding="utf-8")
    politeness_off = ("ROBOTSTXT_OBEY=False\nAUTOTHROTTLE_ENABLED=False\nDOWNLOAD_DELAY=0\n"
                      "TELNETCONSOLE_ENABLED=False\n"
                      "DOWNLOADER_MIDDLEWARES = {'scrapy.downloadermiddlewares.offsite.OffsiteMiddleware': None}")
    replaced = {"working_path = ~/news-please-repo/": f"working_path = {folder / 'work'}/",
                "ROBOTSTXT_OBEY=True": politeness_off, "LOG_LEVEL = INFO": "LOG_LEVEL = WARNING"}
    for old, new in replaced.items():
        if old not in config:
            raise RuntimeError(f"news-please's config.cfg changed: no {old!r}")
        config = config.replace(old, new)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.cfg").write_text(config, encoding="utf-8")
    sites = [{"url": url, "crawler": "SitemapCrawler"} for url in base_urls.values()]
    (folder / "sitelist.hjson").write_text(json.dumps({"base_urls": sites}, indent=1), encoding="utf-8")
    return folder


def np_articles(folder: Path) -> dict[str, dict[str, Any]]:
    rows = {}
    for path in (folder / "work" / "data").rglob("*.json"):
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("url"):
            rows[doc["url"]] = {"text": doc.get("maintext") or "", "title": doc.get("title"),
                                "date": doc.get("date_publish"), "language": doc.get("language")}
    return rows


def run_news_please_crawler(work: Path, base_urls: dict[str, str], guard: Path, np_python: str,
                            package: Path) -> dict[str, Any]:
    folder = np_config(work / "np-crawler", package, base_urls)
    launcher = str(Path(np_python).parent / "news-please")
    env = tool_env(guard, {"PYTHONWARNINGS": "ignore"})
    first = run_measured([launcher, "-c", str(folder), "-no-confirm"], env)
    archive = np_articles(folder)
    second = run_measured([launcher, "-c", str(folder), "-no-confirm"], env)
    resumed = run_measured([launcher, "-c", str(folder), "-no-confirm", "-resume"], env)
    for run in (first, second, resumed):
        run.pop("stdout")
    return {"first": first, "second": second, "second_resume": resumed, "archive": archive}


def run_news_please_library(work: Path, urls: list[str], guard: Path, np_python: str) -> dict[str, Any]:
    folder = work / "np-library"
    folder.mkdir(parents=True, exist_ok=True)
    script, url_file, out = folder / "from_urls.py", folder / "urls.json", folder / "out.json"
    script.write_text(NP_LIBRARY_SOURCE, encoding="utf-8")
    url_file.write_text(json.dumps(urls), encoding="utf-8")
    env = tool_env(guard, {"PYTHONWARNINGS": "ignore"})
    first = run_measured([np_python, str(script), str(url_file), str(out)], env)
    first.pop("stdout")
    archive = json.loads(out.read_text(encoding="utf-8"))
    second = run_measured([np_python, str(script), str(url_file), str(out)], env)
    second.pop("stdout")
    return {"first": first, "second": second, "archive": archive}


# -- trafilatura ---------------------------------------------------------------------------------


def _trafilatura_config() -> Any:
    from trafilatura.settings import use_config  # noqa: PLC0415

    config = use_config()
    config.set("DEFAULT", "SLEEP_TIME", "0")
    config.set("DEFAULT", "SSRF_PROTECTION", "off")  # the documented switch for intranet use: loopback
    return config


def trafilatura_crawl_worker(out: str, homes: list[str]) -> None:
    """In a subprocess: trafilatura's own discovery from each home page, then fetch + extract."""
    from urllib.parse import urlsplit  # noqa: PLC0415

    import trafilatura  # noqa: PLC0415
    from trafilatura.feeds import find_feed_urls  # noqa: PLC0415
    from trafilatura.sitemaps import sitemap_search  # noqa: PLC0415
    from trafilatura.spider import focused_crawler  # noqa: PLC0415

    config = _trafilatura_config()
    urls: dict[str, str] = {}
    found: dict[str, dict[str, int]] = {}
    for home in homes:
        host = urlsplit(home).netloc
        feeds = find_feed_urls(home, sleep_time=0, config=config)
        sitemap = sitemap_search(home, sleep_time=0, max_sitemaps=10_000, config=config)
        to_visit, known = focused_crawler(home, config=config)
        found[home] = {"feeds": len(feeds), "sitemaps": len(sitemap), "crawler": len(set(to_visit) | set(known))}
        for url in [*feeds, *sitemap, *to_visit, *known]:
            if urlsplit(url).netloc == host:
                urls.setdefault(url, home)
    results: dict[str, Any] = {}
    for url in urls:
        html = trafilatura.fetch_url(url, config=config)
        if not html:
            continue
        doc = trafilatura.extract(html, url=url, output_format="json", with_metadata=True, config=config)
        if doc:
            data = json.loads(doc)
            results[url] = {"text": data.get("text") or "", "title": data.get("title"), "date": data.get("date"),
                            "language": data.get("language")}
    Path(out).write_text(json.dumps({"discovered": found, "fetched": len(urls), "archive": results}), encoding="utf-8")


def run_trafilatura(work: Path, base_urls: dict[str, str], guard: Path) -> dict[str, Any]:
    out = work / "trafilatura.json"
    env = tool_env(guard)
    argv = [sys.executable, str(Path(__file__).resolve()), "_trafilatura", str(out), *base_urls.values()]
    first = run_measured(argv, env)
    first.pop("stdout")
    data = json.loads(out.read_text(encoding="utf-8"))
    second = run_measured(argv, env)
    second.pop("stdout")
    return {"first": first, "second": second, "discovered": data["discovered"], "fetched": data["fetched"],
            "archive": data["archive"]}


def _bare_one(task: tuple[str, bytes]) -> tuple[str, dict[str, Any] | None, float]:
    import trafilatura  # noqa: PLC0415

    url, body = task
    started = time.process_time()
    doc = trafilatura.extract(body, url=url, output_format="json", with_metadata=True)
    spent = time.process_time() - started
    if not doc:
        return url, None, spent
    data = json.loads(doc)
    return url, {"text": data.get("text") or "", "title": data.get("title"), "date": data.get("date"),
                 "language": data.get("language")}, spent


def bare_worker(bodies: str, out: str, workers: int) -> None:
    """In a subprocess: bare trafilatura.extract of pre-fetched bodies on ``workers`` processes."""
    import pickle  # noqa: PLC0415
    from multiprocessing import Pool  # noqa: PLC0415

    import trafilatura  # noqa: F401, PLC0415

    tasks = pickle.loads(Path(bodies).read_bytes())
    started = time.perf_counter()
    with Pool(workers) as pool:
        rows = pool.map(_bare_one, tasks, chunksize=4)
    extract_wall = time.perf_counter() - started
    archive = {url: doc for url, doc, _ in rows if doc}
    Path(out).write_text(json.dumps({"archive": archive, "extract_wall_s": extract_wall,
                                     "extract_cpu_s": sum(spent for _, _, spent in rows)}), encoding="utf-8")


def prefetch(urls: list[str]) -> list[tuple[str, bytes]]:
    import urllib.request  # noqa: PLC0415

    bodies = []
    for url in urls:
        with urllib.request.urlopen(url, timeout=30) as reply:
            bodies.append((url, reply.read()))
    return bodies


def run_bare(work: Path, urls: list[str], guard: Path, workers: int) -> dict[str, Any]:
    import pickle  # noqa: PLC0415

    bodies_file, out = work / "bodies.pickle", work / "bare.json"
    fetched = TRAFFIC.snapshot()
    bodies_file.write_bytes(pickle.dumps(prefetch(urls)))
    prefetch_traffic = Traffic.delta(fetched, TRAFFIC.snapshot())
    argv = [sys.executable, str(Path(__file__).resolve()), "_bare", str(bodies_file), str(out), str(workers)]
    first = run_measured(argv, tool_env(guard))
    first.pop("stdout")
    data = json.loads(out.read_text(encoding="utf-8"))
    return {"prefetch": prefetch_traffic, "first": first, "archive": data["archive"],
            "extract_wall_s": round(data["extract_wall_s"], 3), "extract_cpu_s": round(data["extract_cpu_s"], 3)}


# -- quality -------------------------------------------------------------------------------------


def token_f1(predicted: str, reference: str) -> float:
    """tests/test_e2e.py's metric (WCXB): lower-cased \\w+ tokens as multisets."""
    pred, ref = Counter(TOKEN.findall(predicted.lower())), Counter(TOKEN.findall(reference.lower()))
    overlap = sum((pred & ref).values())
    if not pred or not ref or not overlap:
        return float(pred == ref)
    precision, recall = overlap / sum(pred.values()), overlap / sum(ref.values())
    return 2 * precision * recall / (precision + recall)


def _parse_when(value: str | None) -> dt.datetime | dt.date | None:
    if not value:
        return None
    text = str(value).strip().replace(" ", "T", 1) if len(str(value)) > 10 else str(value).strip()
    try:
        return dt.date.fromisoformat(text) if len(text) == 10 else dt.datetime.fromisoformat(text)
    except ValueError:
        return None


def date_scores(got: str | None, truth: str | None) -> tuple[bool, bool | None]:
    """(same local day, same local minute); minute is None when the tool gives only a day.
    A tool's naive date-time is read as the page's local time (UTC+7), as the page prints it."""
    want = _parse_when(truth)
    have = _parse_when(got)
    if not isinstance(want, dt.datetime):
        return have is None, None
    if have is None:
        return False, False
    if not isinstance(have, dt.datetime):
        return have == want.date(), None
    if have.tzinfo is not None:
        have = have.astimezone(want.tzinfo)
    local = have.replace(tzinfo=None)
    return local.date() == want.date(), local.replace(second=0, microsecond=0) == want.replace(
        tzinfo=None, second=0, microsecond=0)


def quality(archive: dict[str, dict[str, Any]], manifest: list[Any]) -> dict[str, Any]:
    articles = {entry.url: entry for entry in manifest if entry.kind == "article"}
    kinds = {entry.url: entry.kind for entry in manifest}
    found = [url for url in archive if url in articles]
    not_articles = [url for url in archive if url not in articles]
    f1s, days, minutes, portal_days = [], [], [], []
    for url in found:
        truth, got = articles[url], archive[url]
        f1s.append(token_f1(got["text"], truth.text or ""))
        day, minute = date_scores(got.get("date"), truth.published_at)
        days.append(day)
        # the portal prints the day only; as in tests/test_e2e.py, a midnight time there is a day
        if truth.site == "portal" and got.get("date") and str(got["date"])[11:19] in ("00:00:00", ""):
            portal_days.append(day)
            minute = day if minute is not None else None
        if minute is not None:
            minutes.append(minute)
    result: dict[str, Any] = {
        "manifest_articles": len(articles),
        "articles_found": len(found),
        "missing_by_site": dict(Counter(entry.site for url, entry in articles.items() if url not in archive)),
        "archived_not_article": len(not_articles),
        "archived_not_article_kinds": dict(Counter(kinds.get(url, "not in manifest") for url in not_articles)),
        "text_f1_mean_found": round(statistics.fmean(f1s), 4) if f1s else None,
        "text_f1_mean_all": round(sum(f1s) / len(articles), 4) if articles else None,
        "date_day_accuracy": round(statistics.fmean(days), 4) if days else None,
        "date_minute_accuracy": round(statistics.fmean(minutes), 4) if minutes else None,
        "date_minute_scored": len(minutes),
    }
    if any("duplicate_of" in row for row in archive.values()):
        result["duplicates"] = duplicate_scores(archive, articles)
    return result


def duplicate_scores(archive: dict[str, dict[str, Any]], articles: dict[str, Any]) -> dict[str, Any]:
    """newswatch's duplicate_of links against the manifest's duplicate_group: a link is right when
    both ends are in one group; expected: every found member of a group but one."""
    groups: Counter[str] = Counter(articles[url].duplicate_group for url in archive if url in articles)
    expected = sum(count - 1 for group, count in groups.items() if group)
    linked = right = 0
    kinds: Counter[str] = Counter()
    for url, row in archive.items():
        target = row.get("duplicate_of")
        if url not in articles or not target:
            continue
        linked += 1
        kinds[row.get("duplicate_kind") or "?"] += 1
        if target in articles and articles[target].duplicate_group == articles[url].duplicate_group:
            right += 1
    # members left unlinked although another member of their group was archived
    return {"expected_links": expected, "links": linked, "right": right, "wrong": linked - right,
            "kinds": dict(kinds)}


# -- the whole run -------------------------------------------------------------------------------


@contextmanager
def counted_replica(day: int) -> Iterator[Any]:
    install_counting_replica()
    from replica import Replica  # noqa: PLC0415

    with Replica(day=day) as running:
        yield running


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return round(statistics.median(float(run[key]) for run in runs), 3)


def summarise_tool(name: str, reps: list[dict[str, Any]], manifest: list[Any],
                   articles_key: Callable[[dict[str, Any]], int] | None = None) -> dict[str, Any]:
    firsts = [rep["first"] for rep in reps]
    qualities = [quality(rep["archive"], manifest) for rep in reps]
    found = [q["articles_found"] for q in qualities]
    summary: dict[str, Any] = {
        "tool": name,
        "repeats": len(reps),
        "wall_s_median": _median(firsts, "wall_s"),
        "wall_s_all": [run["wall_s"] for run in firsts],
        "cpu_s_median": _median(firsts, "cpu_s"),
        "cpu_s_all": [run["cpu_s"] for run in firsts],
        "requests_median": _median(firsts, "requests"),
        "bytes_median": _median(firsts, "bytes"),
        "pages_per_s_median": round(statistics.median(run["requests"] / run["wall_s"] for run in firsts), 2),
        "articles_per_s_median": round(statistics.median(
            q["articles_found"] / run["wall_s"] for q, run in zip(qualities, firsts, strict=True)), 2),
        "cpu_s_per_article_median": round(statistics.median(
            run["cpu_s"] / max(q["articles_found"], 1) for q, run in zip(qualities, firsts, strict=True)), 5),
        "articles_found": found,
        "load_1min_before": [run["load_1min_before"] for run in firsts],
        "quality": qualities[-1],
    }
    seconds = [rep["second"] for rep in reps if "second" in rep]
    if seconds:
        summary["second_cycle"] = {
            "requests_median": _median(seconds, "requests"),
            "bytes_median": _median(seconds, "bytes"),
            "wall_s_median": _median(seconds, "wall_s"),
            "bytes_share_of_first": round(statistics.median(
                s["bytes"] / f["bytes"] for s, f in zip(seconds, firsts, strict=True)), 5),
            "statuses_last": seconds[-1]["statuses"],
        }
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--day", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--np-python", default=DEFAULT_NP_PYTHON)
    parser.add_argument("--tools", default="newswatch,news-please,news-please-lib,trafilatura,bare")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    tools = args.tools.split(",")
    started = dt.datetime.now(dt.UTC)
    results: dict[str, Any] = {"date": started.isoformat(timespec="seconds"), "day": args.day,
                               "uptime_start": uptime_line(), "python": sys.version.split()[0]}
    import trafilatura  # noqa: PLC0415

    results["versions"] = {"trafilatura": trafilatura.__version__}
    np_ok = Path(args.np_python).exists()
    if any(t.startswith("news-please") for t in tools):
        if np_ok:
            results["versions"].update(np_version(args.np_python))
            package = np_package_dir(args.np_python)
        else:
            results["news_please_error"] = f"no news-please interpreter at {args.np_python}"
    raw: dict[str, list[dict[str, Any]]] = {tool: [] for tool in tools}
    with tempfile.TemporaryDirectory(prefix="nw-peers-") as tmp, counted_replica(args.day) as running:
        folder = Path(tmp)
        guard = guard_dir(folder)
        install_guard_here(folder)
        manifest = running.manifest()
        base_urls = dict(running.base_urls)
        urls = [entry.url for entry in manifest if entry.kind == "article"]
        results["manifest"] = dict(Counter(entry.kind for entry in manifest))
        results["base_urls"] = base_urls
        results["newswatch_startup"] = newswatch_startup_cpu(folder, guard)
        for rep in range(args.repeats):
            for tool in tools:
                work = folder / f"{tool}-{rep}"
                work.mkdir()
                print(f"rep {rep} {tool} (load {load()})", flush=True)
                if tool == "newswatch":
                    raw[tool].append(run_newswatch(work, base_urls, guard))
                elif tool == "news-please" and np_ok:
                    raw[tool].append(run_news_please_crawler(work, base_urls, guard, args.np_python, package))
                elif tool == "news-please-lib" and np_ok:
                    raw[tool].append(run_news_please_library(work, urls, guard, args.np_python))
                elif tool == "trafilatura":
                    raw[tool].append(run_trafilatura(work, base_urls, guard))
                elif tool == "bare":
                    raw[tool].append(run_bare(work, urls, guard, args.workers))
                last = raw[tool][-1] if raw[tool] else None
                if last:
                    print("   first:", {k: v for k, v in last["first"].items() if k != "statuses"},
                          "second:", {k: v for k, v in last.get("second", {}).items() if k != "statuses"}, flush=True)
        summaries = {tool: summarise_tool(tool, reps, manifest) for tool, reps in raw.items() if reps}
    if raw.get("bare"):
        bare = summaries["bare"]
        bare["extract_cpu_s_median"] = round(statistics.median(r["extract_cpu_s"] for r in raw["bare"]), 3)
        bare["extract_wall_s_median"] = round(statistics.median(r["extract_wall_s"] for r in raw["bare"]), 3)
    if raw.get("news-please"):
        resumed = [rep["second_resume"] for rep in raw["news-please"]]
        summaries["news-please"]["second_cycle_resume"] = {
            "requests_median": _median(resumed, "requests"), "bytes_median": _median(resumed, "bytes"),
            "statuses_last": resumed[-1]["statuses"]}
    if raw.get("trafilatura"):
        summaries["trafilatura"]["discovered"] = raw["trafilatura"][-1]["discovered"]
        summaries["trafilatura"]["urls_fetched"] = raw["trafilatura"][-1]["fetched"]
    if raw.get("newswatch"):
        summaries["newswatch"]["setup_sources_add"] = raw["newswatch"][-1]["setup_sources_add"]
    results["tools"] = summaries
    results["targets"] = targets(summaries, results.get("newswatch_startup"))
    results["runs"] = {tool: [{k: v for k, v in rep.items() if k != "archive"} for rep in reps]
                       for tool, reps in raw.items()}
    results["uptime_end"] = uptime_line()
    results["elapsed_s"] = round((dt.datetime.now(dt.UTC) - started).total_seconds(), 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({"tools": {k: {kk: vv for kk, vv in v.items() if kk != "quality"} for k, v in summaries.items()},
                      "targets": results["targets"]}, indent=1))


def targets(summaries: dict[str, Any], startup: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    nw = summaries.get("newswatch")
    if nw is None:
        return out
    np_ = summaries.get("news-please")
    if np_:
        ratio = nw["pages_per_s_median"] / np_["pages_per_s_median"]
        out["pages_per_s_vs_news_please"] = {"ratio": round(ratio, 2), "target": 3.0, "met": ratio >= 3.0}
        ratio = nw["articles_per_s_median"] / np_["articles_per_s_median"]
        out["articles_per_s_vs_news_please"] = {"ratio": round(ratio, 2)}
    bare = summaries.get("bare")
    if bare:
        ratio = nw["cpu_s_per_article_median"] / bare["cpu_s_per_article_median"]
        out["cpu_per_article_vs_bare"] = {"ratio": round(ratio, 2), "target": 1.3, "met": ratio <= 1.3}
        if startup and bare.get("extract_cpu_s_median"):
            found = max(bare["quality"]["articles_found"], 1)
            nw_found = max(nw["quality"]["articles_found"], 1)
            ours = (nw["cpu_s_median"] - startup["cpu_s"]) / nw_found
            theirs = bare["extract_cpu_s_median"] / found
            out["cpu_per_article_vs_bare_without_startup"] = {
                "newswatch_s": round(ours, 5), "bare_extract_only_s": round(theirs, 5),
                "ratio": round(ours / theirs, 2)}
    second = nw.get("second_cycle")
    if second:
        share = second["bytes_share_of_first"]
        out["second_cycle_bytes_share"] = {"share": share, "target": 0.05, "met": share <= 0.05}
    return out


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_trafilatura":
        trafilatura_crawl_worker(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) > 1 and sys.argv[1] == "_bare":
        bare_worker(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        sys.path.insert(0, str(ROOT))
        main()
