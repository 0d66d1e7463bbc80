"""Building a :class:`~replica.faults.FaultView`: which URL gets which fault, the pages faults
add (traps, redirect endpoints, documents, hostile XML) and the links that lead crawlers to them.

Added pages (root-relative; ``<s>`` is the first article section of the site, e.g. ``thoi-su``):

=================================================================  ==============  =========
path                                                               fault           kind
=================================================================  ==============  =========
``/lich/<yyyy>/<mm>/`` (any month; manifest: the current one)      trap            other
``/tin-tong-hop/[?page=N]`` (any N; manifest: page 1)              trap            listing
``/old/<path>`` (any path: 301 to ``/<path>``)                     redirects       other
``/chain-1`` 302 → ``/chain-2`` 307 → ``/chain-3`` 301 → article   redirects       other
``/loop-a`` 302 ↔ ``/loop-b`` 302                                  redirects       other
``/<s>/danh-sach-ho-duoc-ho-tro-...-10399901.html`` (30 MB)        huge            other
``/<s>/tong-hop-y-kien-cu-tri-...-10399902.html`` (gzip bomb)      gzip_bomb       other
``/<s>/toan-van-nghi-quyet-...-10399903.html`` (a PDF, in a feed)  pdf             other
``/rss/tin-nong`` (billion laughs)                                 xml_bomb        other
``/sitemap-article-tong-hop.xml`` (external entity; robots.txt)    xml_bomb        other
``/rss/tin-nhanh`` (unclosed element)                              malformed       other
=================================================================  ==============  =========
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from datetime import datetime, time

from replica import faults_content as content
from replica.dates import VN_TZ, day_date, rfc822
from replica.faults import Directive, Fault, FaultRecord, FaultView, Redirect, SiteFaults, plain_view
from replica.manifest import Kind, ManifestEntry
from replica.site import HTML, RSS, TEXT, XML, Page, Snapshot, page_target

CYCLE = 20
ARTICLE_SLOTS: dict[int, Directive] = {
    0: Directive(Fault.DELETED), 1: Directive(Fault.SLOW), 2: Directive(Fault.TIMEOUT), 3: Directive(Fault.RESET),
    4: Directive(Fault.TRUNCATED), 5: Directive(Fault.CHARSET, "meta-windows-1258"),
    6: Directive(Fault.CHARSET, "wrong-header"), 7: Directive(Fault.CHARSET, "none"),
    8: Directive(Fault.MALFORMED, "html"), 9: Directive(Fault.UNSTABLE_VALIDATORS),
}
LISTING_SLOTS = {slot: ARTICLE_SLOTS[slot] for slot in (1, 2, 3, 4, 9)}
_ROOT = re.compile(r"/([a-z]{2}/)?")
CALENDAR = re.compile(r"/lich/([1-9]\d{3})/(0[1-9]|1[0-2])/")
ENDLESS = "/tin-tong-hop/"
_ENDLESS_PAGE = re.compile(re.escape(ENDLESS) + r"\?page=([1-9]\d{0,11})")
CHAIN = ("/chain-1", "/chain-2", "/chain-3")
LOOP = ("/loop-a", "/loop-b")
BOMB_FEED = "/rss/tin-nong"
XXE_SITEMAP = "/sitemap-article-tong-hop.xml"
BROKEN_FEED = "/rss/tin-nhanh"
PDF = "application/pdf"


class Trap:
    """The endless pages: a month calendar linking its neighbours, a listing that never ends."""

    def __init__(self, snapshot: Snapshot, language: str, teasers: list[content.Teaser], modified: datetime) -> None:
        self.snapshot, self.language, self.teasers, self.modified = snapshot, language, teasers, modified

    def matches(self, target: str) -> str:
        if CALENDAR.fullmatch(target):
            return "calendar"
        return "pagination" if target == ENDLESS or _ENDLESS_PAGE.fullmatch(target) else ""

    def page(self, path: str, query: str) -> Page | None:
        target = page_target(path, query)
        month = CALENDAR.fullmatch(target)
        if month:
            body = content.calendar_page(int(month[1]), int(month[2]), self.teasers)
            return self._page(target, body, "other")
        number = 1 if target == ENDLESS else int(m[1]) if (m := _ENDLESS_PAGE.fullmatch(target)) else 0
        if not number:
            return None
        return self._page(target, content.endless_listing(ENDLESS, number, self.teasers), "listing")

    def _page(self, target: str, body: bytes, kind: Kind) -> Page:
        entry = ManifestEntry(url=self.snapshot.base_url + target.lstrip("/"), site=self.snapshot.site, kind=kind,
                              language=self.language)
        return Page(target, body, HTML, self.modified, entry)


def build_view(snapshot: Snapshot, faults: SiteFaults, *, day0: FaultView | None = None,
               alias_url: str | None = None) -> FaultView:
    """Serve ``snapshot`` under ``faults``. ``day0``: the same site and faults on day 0 (for
    lying ETags); ``alias_url``: the base URL of the site's old-domain alias (for redirects)."""
    if not faults:
        return plain_view(snapshot)
    return ViewBuilder(snapshot, faults, alias_url).build(day0)


class ViewBuilder:
    """Applies one site's faults to one snapshot."""

    def __init__(self, snapshot: Snapshot, faults: SiteFaults, alias_url: str | None) -> None:
        self.snapshot, self.faults, self.alias_url = snapshot, faults, alias_url
        self.pages = dict(snapshot.pages)
        self.directives: dict[str, Directive] = {}
        self.redirects: dict[str, Redirect] = {}
        self.entries: list[ManifestEntry] = []
        self.records: list[FaultRecord] = []
        self.links: list[tuple[str, str]] = []
        self.feeds: list[tuple[str, str]] = []
        self.sitemaps: list[str] = []
        self.trap: Trap | None = None
        pages = snapshot.pages.values()
        self.articles = sorted((p for p in pages if p.entry.kind == "article"),
                               key=lambda p: (p.entry.published_at or "", p.target))
        self.listings = sorted(p.target for p in pages if p.entry.kind in ("listing", "tag")
                               and not _ROOT.fullmatch(p.target))
        listings = sorted(p.target for p in pages if p.entry.kind == "listing")
        self.home = "/" if "/" in snapshot.pages else (listings[0] if listings else None)
        self.language = snapshot.pages[self.home].entry.language if self.home else "vi"
        self.modified = datetime.combine(day_date(snapshot.day), time(6, 30), VN_TZ)
        self.disallowed = self._smallest_section()

    def build(self, day0: FaultView | None) -> FaultView:
        free = self.assign([p.target for p in self.articles], ARTICLE_SLOTS)
        free_listings = self.assign(self.listings, LISTING_SLOTS)
        if Fault.HTTP_5XX in self.faults:
            self.fail(free)
            self.fail(free_listings)
        self.add_trap()
        self.add_redirects()
        self.add_documents()
        self.add_xml()
        self.rewrite_robots()
        self.inject_home()
        return FaultView(self.snapshot, self.faults, self.pages, self.directives, self.redirects,
                         self.lying_etags(day0), tuple(self.entries), tuple(self.records), self.trap)

    # -- helpers -------------------------------------------------------------------------------

    def url(self, target: str) -> str:
        return self.snapshot.base_url + target.lstrip("/")

    def entry(self, target: str, kind: Kind) -> ManifestEntry:
        return ManifestEntry(url=self.url(target), site=self.snapshot.site, kind=kind, language=self.language)

    def add_page(self, target: str, body: bytes, content_type: str, directive: Directive) -> None:
        if target in self.pages:
            raise ValueError(f"fault page {target} collides with a page of {self.snapshot.site}")
        self.pages[target] = Page(target, body, content_type, self.modified, self.entry(target, "other"))
        self.directives[target] = directive

    def _sections(self) -> Counter[str]:
        return Counter(p.target.split("/")[1] for p in self.articles
                       if p.entry.language == self.language and p.target.count("/") >= 2)

    def _smallest_section(self) -> str | None:
        sections = self._sections()
        if len(sections) < 2:
            return None
        return "/" + min(sections, key=lambda s: (sections[s], s)) + "/"

    def section(self) -> str:
        sections = self._sections()
        return f"/{max(sections, key=lambda s: (sections[s], s))}/" if sections else "/"

    def clean_article(self) -> Page | None:
        """The oldest article no fault touches, in the home page's language if there is one."""
        clean = [p for p in self.articles if p.target not in self.directives
                 and not (self.disallowed and p.target.startswith(self.disallowed))]
        return next((p for p in clean if p.entry.language == self.language), clean[0] if clean else None)

    # -- per-URL faults ------------------------------------------------------------------------

    def assign(self, targets: list[str], slots: dict[int, Directive]) -> list[str]:
        """Apply the slot faults that are on; return the targets in free slots."""
        free = []
        for index, target in enumerate(targets):
            directive = slots.get(index % CYCLE)
            if directive is None:
                free.append(target)
            elif directive.fault in self.faults:
                self.apply(target, directive)
        return free

    def apply(self, target: str, directive: Directive) -> None:
        page = self.pages[target]
        if directive.fault is Fault.CHARSET:
            directive, page = self.recode(page, directive.detail)
        elif directive.fault is Fault.MALFORMED:
            page = replace(page, body=content.malform_html(page.body))
        self.pages[target] = page
        self.directives[target] = directive
        if directive.fault is Fault.DELETED:
            del self.pages[target]

    def recode(self, page: Page, variant: str) -> tuple[Directive, Page]:
        if variant == "meta-windows-1258":
            entry = page.entry
            if content.cp1258_encodable((entry.title or "") + (entry.text or "")):
                return Directive(Fault.CHARSET, variant), replace(
                    page, body=content.declare_cp1258(page.body), content_type="text/html")
            variant = "none"  # Chinese and Russian editions cannot be written in windows-1258
        if variant == "wrong-header":
            return Directive(Fault.CHARSET, variant), replace(page, content_type="text/html; charset=iso-8859-1")
        return Directive(Fault.CHARSET, "none"), replace(page, body=content.strip_charset(page.body),
                                                         content_type="text/html")

    def fail(self, free: list[str]) -> None:
        failing = [t for j, t in enumerate(free) if (j + self.snapshot.day) % self.faults.every == 0]
        for number, target in enumerate(failing):
            self.directives[target] = Directive(Fault.HTTP_5XX, str((503, 502, 500)[number % 3]))

    def lying_etags(self, day0: FaultView | None) -> dict[str, str]:
        if Fault.LYING_ETAG not in self.faults or day0 is None or self.snapshot.day == 0:
            return {}
        return {target: day0.pages[target].etag for target, page in self.pages.items()
                if target in day0.pages and day0.pages[target].body != page.body}

    # -- added pages ---------------------------------------------------------------------------

    def add_trap(self) -> None:
        if Fault.TRAP not in self.faults:
            return
        calendar = f"/lich/{day_date(self.snapshot.day):%Y/%m}/"
        pages: tuple[tuple[str, Kind, str, str], ...] = (
            (calendar, "other", "calendar", "Lịch sự kiện"), (ENDLESS, "listing", "pagination", "Tin tổng hợp"))
        for target, kind, detail, text in pages:
            self.entries.append(self.entry(target, kind))
            self.links.append((target, text))
            self.records.append(FaultRecord(self.url(target), Fault.TRAP, detail))
        teasers = [content.Teaser(p.target, p.entry.title or "", p.entry.published_at or "")
                   for p in reversed(self.articles) if p.entry.language == self.language]
        self.trap = Trap(self.snapshot, self.language, teasers, self.modified)

    def add_redirects(self) -> None:
        article = self.clean_article()
        if Fault.REDIRECTS not in self.faults or article is None:
            return
        old = "/old" + article.target
        hops = {CHAIN[0]: (302, CHAIN[1]), CHAIN[1]: (307, CHAIN[2]), CHAIN[2]: (301, article.target),
                LOOP[0]: (302, LOOP[1]), LOOP[1]: (302, LOOP[0])}
        self.redirects = {source: (status, self.url(to)) for source, (status, to) in hops.items()}
        for source, (status, location) in [(old, (301, article.entry.url)), *self.redirects.items()]:
            self.entries.append(self.entry(source, "other"))
            self.records.append(FaultRecord(self.url(source), Fault.REDIRECTS, f"{status} {location}"))
        if self.alias_url:
            self.entries.append(replace(self.entry("/", "other"), url=self.alias_url))
            self.records.append(FaultRecord(self.alias_url, Fault.REDIRECTS, f"301 {self.url('/')}"))
        self.links += [(old, f"{article.entry.title} (địa chỉ cũ)"), (CHAIN[0], "Xem chi tiết"),
                       (LOOP[0], "Chuyên trang sự kiện")]

    def add_documents(self) -> None:
        section = self.section()
        if Fault.HUGE in self.faults:
            target = f"{section}danh-sach-ho-duoc-ho-tro-khac-phuc-hau-qua-mua-lu-10399901.html"
            self.add_page(target, b"", HTML, Directive(Fault.HUGE, f"{self.faults.huge_mb} MB"))
            self.links.append((target, "Danh sách hộ được hỗ trợ khắc phục hậu quả mưa lũ"))
        if Fault.GZIP_BOMB in self.faults:
            target = f"{section}tong-hop-y-kien-cu-tri-truoc-ky-hop-10399902.html"
            self.add_page(target, b"", HTML, Directive(Fault.GZIP_BOMB, f"{self.faults.bomb_mb} MB"))
            self.links.append((target, "Tổng hợp ý kiến cử tri trước kỳ họp"))
        if Fault.PDF in self.faults:
            self.add_pdf(f"{section}toan-van-nghi-quyet-ky-hop-thu-ba-hdnd-tinh-10399903.html")

    def add_pdf(self, target: str) -> None:
        lines = ["HOI DONG NHAN DAN TINH", "NGHI QUYET ve ke hoach dau tu cong trung han giai doan 2026 - 2030",
                 "Dieu 1. Thong qua ke hoach dau tu cong trung han giai doan 2026 - 2030 cua tinh.",
                 "Dieu 2. Giao Uy ban nhan dan tinh to chuc thuc hien Nghi quyet nay."]
        self.add_page(target, content.pdf_document(lines), PDF, Directive(Fault.PDF, "application/pdf"))
        feeds = sorted(t for t, p in self.pages.items() if p.entry.kind == "feed" and p.entry.language == self.language)
        if feeds:
            feed = self.pages[feeds[0]]
            body = content.feed_with_item(
                feed.body, title="Toàn văn Nghị quyết Kỳ họp thứ Ba HĐND tỉnh về đầu tư công trung hạn 2026 - 2030",
                link=self.url(target), published=rfc822(self.modified),
                description="Toàn văn Nghị quyết (tệp PDF) do Văn phòng Đoàn ĐBQH và HĐND tỉnh công bố.")
            self.pages[feeds[0]] = replace(feed, body=body)

    def add_xml(self) -> None:
        if Fault.XML_BOMB in self.faults:
            newest = self.articles[-1].entry.url if self.articles else self.url("/")
            body = content.billion_laughs_feed(title="Tin nóng", home=self.url("/"), link=newest)
            self.add_page(BOMB_FEED, body, RSS, Directive(Fault.XML_BOMB, "billion-laughs"))
            self.feeds.append((BOMB_FEED, "Tin nóng"))
            locs = [p.entry.url for p in self.articles[:3]]
            lastmod = self.modified.isoformat(timespec="seconds")
            self.add_page(XXE_SITEMAP, content.xxe_sitemap(locs, lastmod), XML,
                          Directive(Fault.XML_BOMB, "external-entity"))
            self.sitemaps.append(self.url(XXE_SITEMAP))
        feeds = sorted(t for t, p in self.snapshot.pages.items() if p.entry.kind == "feed")
        if Fault.MALFORMED in self.faults and feeds:
            body = content.malformed_feed(self.snapshot.pages[feeds[0]].body)
            self.add_page(BROKEN_FEED, body, RSS, Directive(Fault.MALFORMED, "rss"))
            self.feeds.append((BROKEN_FEED, "Tin nhanh"))

    # -- changed pages -------------------------------------------------------------------------

    def rewrite_robots(self) -> None:
        on = Fault.ROBOTS in self.faults
        if not (on or self.sitemaps):
            return
        disallow = [self.disallowed] if on and self.disallowed else []
        delay = self.faults.crawl_delay if on else None
        page = self.pages.get("/robots.txt")
        body = content.robots_with(page.body if page else b"", disallow, delay, self.sitemaps)
        if page is None:
            page = Page("/robots.txt", body, TEXT, self.modified, self.entry("/robots.txt", "other"))
        self.pages["/robots.txt"] = replace(page, body=body)
        if not on:
            return
        self.directives["/robots.txt"] = Directive(Fault.ROBOTS, f"Disallow: {self.disallowed}; Crawl-delay: {delay}")
        for article in self.articles:
            if self.disallowed and article.target.startswith(self.disallowed):
                self.records.append(FaultRecord(article.entry.url, Fault.ROBOTS, f"disallowed {self.disallowed}"))

    def inject_home(self) -> None:
        if self.home is None or not (self.links or self.feeds) or self.home not in self.pages:
            return
        page = self.pages[self.home]
        self.pages[self.home] = replace(page, body=content.inject_links(page.body, self.links, self.feeds))
