"""The dashboard in a real browser: Debian's Chromium, driven by Selenium, over an archive crawled from
the replica by the real CLI, with `newswatch serve` running in a subprocess.

Screenshots land in tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from replica import Replica
from storage import Archive, PageRecord, search
from tests.test_e2e import newswatch

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"
# Chinese titles would show as boxes in the screenshots without a CJK font.
CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROME_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1400,1800")
HOSTILE_TITLE = "Hội nghị <script>alert(1)</script> <img src=x onerror=alert(1)>"
HOSTILE_TEXT = "Nội dung <script>alert(1)</script> và <img src=x onerror=alert(1)> " * 10
WAIT_S = 20.0


def _install_chromium() -> str | None:
    """None when Chromium and its driver are there (installed now if need be), else why not."""
    if Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists() and Path(CJK_FONT).exists():
        return None
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        return "chromium is not installed and apt-get cannot install it here"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    packages = ["chromium", "chromium-driver", "fonts-wqy-zenhei"]
    for argv in (["apt-get", "update"], ["apt-get", "install", "-y", *packages]):
        result = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=900, check=False)
        if result.returncode != 0:
            return f"{' '.join(argv)} failed: {result.stderr.strip().splitlines()[-1:]}"
    return None if Path(CHROMEDRIVER).exists() else "chromium-driver installed no /usr/bin/chromedriver"


@pytest.fixture(scope="module")
def chromium() -> None:
    reason = _install_chromium()
    if reason is not None:
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def _fill_archive(db: str, config: Path, replica: Replica) -> int:
    for key, base_url in replica.base_urls.items():
        if not key.endswith("-en"):
            newswatch(db, "--config", str(config), "sources", "add", base_url, "--name", key)
    newswatch(db, "--config", str(config), "seeds", "load")
    newswatch(db, "--config", str(config), "crawl")
    with Archive.open(db) as archive:
        source = archive.list_sources()[0]
        result = archive.archive_page(PageRecord(
            url="https://hostile.example/bai-viet-1.html", canonical_url="https://hostile.example/bai-viet-1.html",
            source=source.name, source_id=source.id, title=HOSTILE_TITLE, text=HOSTILE_TEXT, language="vi",
            author="<svg onload=alert(1)>", published_at=datetime.now(UTC)))
        _reindex(archive)
        return result.item_id


def _reindex(archive: Archive) -> None:
    """Rebuild the search index (idempotent), in case archiving does not keep it up to date yet."""
    with archive.session() as session:
        search.reindex_all(session)


@pytest.fixture(scope="module")
def served(chromium: None) -> Iterator[tuple[str, int]]:
    """The dashboard's base URL over a crawled replica archive, and the hostile item's id."""
    work = Path(tempfile.mkdtemp(prefix="nw-browser-"))
    db = f"sqlite:///{work / 'archive.db'}"
    config = work / "newswatch.toml"
    config.write_text(f'[alerts.channels]\nfeed = "atom://{work / "alerts.xml"}"\n', encoding="utf-8")
    with Replica(day=0) as replica:
        hostile_id = _fill_archive(db, config, replica)
    port = _free_port()
    code = ("import sys; from newswatch.config import load_settings; from newswatch.app import make_app; "
            "from newswatch.web.server import serve; from pathlib import Path; "
            "serve(make_app(load_settings(Path(sys.argv[2]), {}, {'db': sys.argv[1]})), '127.0.0.1', int(sys.argv[3]))")
    process = subprocess.Popen([sys.executable, "-c", code, db, str(config), str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + WAIT_S
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"the server did not start: {process.communicate()[1]}") from None
                time.sleep(0.2)
        yield base, hostile_id
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture
def browser(chromium: None, tmp_path: Path) -> Iterator[Any]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROME_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(WAIT_S)
    try:
        yield driver
    finally:
        driver.quit()


def _no_alert_and_no_errors(driver: Any, where: str) -> None:
    try:
        fired: str | None = driver.switch_to.alert.text
    except NoAlertPresentException:
        fired = None
    assert fired is None, f"a JavaScript alert fired on {where}: {fired!r}"
    errors = [entry for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]
    assert errors == [], f"console errors on {where}: {errors}"


def _group_of_three(base: str) -> int:
    """An item whose story has three or more editions (the canonical item and two duplicates at least)."""
    for offset in range(0, 1000, 100):
        page = _get(f"{base}/api/items?canonical=true&limit=100&offset={offset}")
        for item in page["items"]:
            if _get(f"{base}/api/items/{item['id']}")["group_total"] >= 3:
                return int(item["id"])
        if offset + 100 >= page["total"]:
            break
    raise AssertionError("no story with three editions in the replica's archive")


def test_dashboard_in_chromium(served: tuple[str, int], browser: Any) -> None:
    base, hostile_id = served
    ARTIFACTS.mkdir(exist_ok=True)
    browser.get(f"{base}/")
    assert browser.title.startswith("Dashboard")
    assert browser.find_elements(By.CSS_SELECTOR, "svg.chart rect"), "no items-per-day chart"
    assert browser.find_elements(By.CSS_SELECTOR, "table.sources td .badge")
    browser.save_screenshot(str(ARTIFACTS / "dashboard-home.png"))
    _no_alert_and_no_errors(browser, "the dashboard, which lists the hostile item")

    box = browser.find_element(By.ID, "search-box")
    box.send_keys("hội nghị")
    box.send_keys(Keys.ENTER)
    # Submitting navigates asynchronously: wait for the results page, not a fixed time.
    WebDriverWait(browser, 30).until(expected_conditions.url_contains("/search?q="))
    WebDriverWait(browser, 30).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "li.hit")))
    hits = browser.find_elements(By.CSS_SELECTOR, "li.hit a.hit-link")
    assert hits, "the search found nothing"
    assert browser.find_elements(By.CSS_SELECTOR, "li.hit mark"), "no highlighted words"
    browser.save_screenshot(str(ARTIFACTS / "dashboard-search.png"))

    story = _group_of_three(base)
    browser.get(f"{base}/items/{story}")
    members = browser.find_elements(By.CSS_SELECTOR, "table.group tr.member")
    assert len(members) >= 3
    heading = browser.find_element(By.ID, "editions").text
    assert int(heading.rsplit("(", 1)[1].rstrip(")")) >= 3
    evidence = browser.find_elements(By.CSS_SELECTOR, "table.group table.evidence")
    assert len(evidence) >= 2
    assert "jaccard" in evidence[0].text
    browser.save_screenshot(str(ARTIFACTS / "dashboard-item-editions.png"))

    browser.get(f"{base}/alerts")
    events = browser.find_elements(By.CSS_SELECTOR, "table.events a.event-link")
    assert events, "the replica's crawl alerted nothing"
    events[0].click()
    WebDriverWait(browser, 30).until(expected_conditions.url_contains("/alerts/"))
    assert browser.find_elements(By.CSS_SELECTOR, "table.deliveries tbody tr")
    browser.save_screenshot(str(ARTIFACTS / "dashboard-alert.png"))
    browser.find_elements(By.CSS_SELECTOR, "table.reports a.report-link")[0].click()
    WebDriverWait(browser, 30).until(expected_conditions.url_contains("/items/"))
    assert browser.find_element(By.ID, "item-title").text

    browser.get(f"{base}/items/{hostile_id}")
    assert browser.find_element(By.ID, "item-title").text == HOSTILE_TITLE  # shown as text
    assert not browser.find_elements(By.CSS_SELECTOR, "main img, main script")
    browser.save_screenshot(str(ARTIFACTS / "dashboard-hostile-item.png"))
    _no_alert_and_no_errors(browser, "the hostile item's page")
    browser.get(f"{base}/search?q=onerror")
    _no_alert_and_no_errors(browser, "a search that finds the hostile item")
