"""A large generated OneCMS-style news site on loopback, for memory benchmarks.

    .venv/bin/python bench/big_replica.py [--articles 50000] [--per-day 500] [--port 0]

Serves N synthetic Vietnamese article pages in the OneCMS family's HTML (the markup of
replica/onecms_html.py's article page: header, menu, breadcrumb, ``sc-longform`` article with
sapo, body and a captioned figure, "latest" block, footer), rendered on request from the article
number (nothing is held in memory), with what a OneCMS site offers for discovery: a home page
with the latest teasers and ``<link rel=alternate>`` feeds, section listings (10 a page),
RSS feeds of the latest 50, one ``/sitemap-article-YYYY-MM-DD.xml`` per day (``--per-day``
articles each) listed in robots.txt. Every article has its own words (a seeded draw from a
Vietnamese vocabulary), so none is a near-duplicate of another.
"""

from __future__ import annotations

import argparse
import html
import random
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

TZ = timezone(timedelta(hours=7))
START = datetime(2025, 1, 1, 6, 0, tzinfo=TZ)
SECTIONS = [("thoi-su", "Thời sự"), ("chinh-tri", "Chính trị"), ("kinh-te", "Kinh tế"), ("xa-hoi", "Xã hội"),
            ("van-hoa", "Văn hóa"), ("the-thao", "Thể thao")]
PAGE_SIZE = 10
FEED_SIZE = 50
SITE = "Báo Nghệ An"
_VOCABULARY = (
    "tỉnh ủy hội nghị tổng kết công tác năm triển khai nhiệm vụ đồng chí bí thư chủ tịch ủy ban nhân dân "
    "hội đồng phát biểu chỉ đạo các cấp ngành địa phương kinh tế xã hội phát triển nông nghiệp nông thôn "
    "xây dựng đảng chính quyền cơ sở người dân doanh nghiệp đầu tư dự án hạ tầng giao thông đường bộ cầu "
    "cảng sân bay giáo dục đào tạo học sinh trường học y tế bệnh viện sức khỏe văn hóa du lịch lễ hội di "
    "tích môi trường mưa lũ sạt lở khắc phục hậu quả thiên tai hỗ trợ hộ nghèo việc làm thu nhập tăng "
    "trưởng ngân sách thu chi kế hoạch chỉ tiêu hoàn thành vượt mức đạt kết quả tích cực quan trọng đánh "
    "giá khó khăn hạn chế nguyên nhân giải pháp thời gian tới tập trung đẩy mạnh nâng cao chất lượng hiệu "
    "quả quản lý nhà nước cải cách hành chính chuyển đổi số công nghệ thông tin sản xuất công nghiệp "
    "thương mại dịch vụ xuất khẩu lao động an ninh quốc phòng trật tự an toàn biên giới hợp tác quốc tế "
    "huyện xã phường thị trấn thành phố vùng miền núi đồng bằng ven biển sông suối rừng đất đai mùa vụ "
    "lúa ngô cây trồng vật nuôi chăn nuôi thủy sản đánh bắt chế biến thị trường giá cả tiêu thụ sản phẩm"
)
WORDS = _VOCABULARY.split()


def _article_time(number: int, per_day: int) -> datetime:
    day, slot = divmod(number, per_day)
    return START + timedelta(days=day, seconds=slot * (16 * 3600 // per_day))


class BigSite:
    """What the generated site serves: every page is a function of its URL."""

    def __init__(self, articles: int, per_day: int = 500) -> None:
        self.articles, self.per_day = articles, per_day
        self.days = (articles + per_day - 1) // per_day
        self.base_url = "http://127.0.0.1:8000/"

    # -- article model --
    def section(self, number: int) -> tuple[str, str]:
        return SECTIONS[number % len(SECTIONS)]

    def path(self, number: int) -> str:
        return f"/{self.section(number)[0]}/bai-viet-so-{number}-{10_000_000 + number}.html"

    def words(self, number: int, count: int, salt: int = 0) -> str:
        rng = random.Random(number * 7919 + salt)
        return " ".join(rng.choice(WORDS) for _ in range(count))

    def title(self, number: int) -> str:
        return f"{self.words(number, 10, 1).capitalize()} số {number}"

    def published(self, number: int) -> datetime:
        return _article_time(number, self.per_day)

    def newest_first(self, numbers: range) -> list[int]:
        return sorted(numbers, reverse=True)

    # -- pages --
    def lookup(self, target: str) -> tuple[str, bytes] | None:
        parts = urlsplit(target)
        path, page = parts.path, int((parse_qs(parts.query).get("page") or ["1"])[-1] or 1)
        if path == "/":
            return "text/html; charset=utf-8", self.home().encode()
        if path == "/robots.txt":
            lines = ["User-agent: *", "Disallow: /admin/", ""]
            lines += [f"Sitemap: {self.abs(self.sitemap_path(day))}" for day in range(self.days)]
            return "text/plain; charset=utf-8", ("\n".join(lines) + "\n").encode()
        if path.startswith("/sitemap-article-") and path.endswith(".xml"):
            return self._sitemap(path)
        if path.startswith("/rss/"):
            slug = path.removeprefix("/rss/").strip("/")
            if slug == "tin-moi" or slug in dict(SECTIONS):
                return "application/rss+xml; charset=utf-8", self.feed(slug).encode()
            return None
        if path.endswith(".html") and "/bai-viet-so-" in path:
            try:
                number = int(path.rsplit("/bai-viet-so-", 1)[1].split("-", 1)[0])
            except ValueError:
                return None
            if 0 <= number < self.articles and self.path(number) == path:
                return "text/html; charset=utf-8", self.article(number).encode()
            return None
        slug = path.strip("/")
        if slug in dict(SECTIONS) or slug == "tin-moi":
            listing = self.listing(slug, page)
            return ("text/html; charset=utf-8", listing.encode()) if listing else None
        return None

    def abs(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def sitemap_path(self, day: int) -> str:
        return f"/sitemap-article-{(START + timedelta(days=day)).date().isoformat()}.xml"

    def _sitemap(self, path: str) -> tuple[str, bytes] | None:
        try:
            day = (datetime.fromisoformat(path[len("/sitemap-article-"):-4]).date() - START.date()).days
        except ValueError:
            return None
        if not 0 <= day < self.days:
            return None
        rows = []
        for number in range(day * self.per_day, min((day + 1) * self.per_day, self.articles)):
            rows.append(f"<url><loc>{self.abs(self.path(number))}</loc>"
                        f"<lastmod>{self.published(number).isoformat()}</lastmod></url>")
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
                + "\n".join(rows) + "\n</urlset>\n")
        return "application/xml; charset=utf-8", body.encode()

    def _in(self, slug: str) -> range | list[int]:
        if slug == "tin-moi":
            return range(self.articles - 1, -1, -1)
        index = [s for s, _ in SECTIONS].index(slug)
        last = self.articles - 1
        top = last - ((last - index) % len(SECTIONS))
        return range(top, -1, -len(SECTIONS))

    def _teaser(self, number: int) -> str:
        title = html.escape(self.title(number))
        when = self.published(number).strftime("%d/%m/%Y %H:%M")
        return (f'<article class="b-grid"><div class="b-grid__content"><h3 class="b-grid__title">'
                f'<a href="{self.path(number)}" title="{title}">{title}</a></h3>'
                f'<div class="b-grid__time">{when}</div></div></article>')

    def _head(self, title: str, extra: str = "") -> str:
        feeds = "".join(f'<link rel="alternate" type="application/rss+xml" title="{SITE} - {name}" '
                        f'href="/rss/{slug}">\n' for slug, name in SECTIONS)
        return ('<!DOCTYPE html>\n<html lang="vi">\n<head>\n<meta charset="utf-8">\n'
                f'<title>{html.escape(title)}</title>\n'
                f'<meta property="og:site_name" content="{SITE}">\n{extra}{feeds}</head>\n')

    def _header(self) -> str:
        menu = "".join(f'<li class="c-menu__item"><a href="/{slug}/">{name}</a></li>' for slug, name in SECTIONS)
        return (f'<body class="onecms"><header class="c-header"><div class="c-header__logo"><a href="/" title="{SITE}">'
                f'{SITE}</a></div><nav class="c-menu"><ul class="c-menu__list"><li class="c-menu__item">'
                f'<a href="/">Trang chủ</a></li>{menu}<li class="c-menu__item"><a href="/tin-moi/">Mới nhất</a></li>'
                "</ul></nav></header>\n")

    def _footer(self) -> str:
        return ('<footer class="c-footer"><div class="c-footer__info"><p>Báo Nghệ An - Cơ quan của Đảng bộ tỉnh '
                'Nghệ An</p><p>Giấy phép hoạt động báo điện tử số 476/GP-BTTTT</p></div><div class="c-footer__rss">'
                '<a href="/rss">RSS</a></div><div class="c-footer__powered">POWERED BY ONECMS - A PRODUCT OF NEKO'
                "</div></footer>\n</body>\n</html>\n")

    def home(self) -> str:
        latest = "".join(self._teaser(n) for n in list(self._in("tin-moi"))[:12])
        return (self._head(SITE) + self._header() + '<main class="l-main"><section class="c-latest">'
                f'<h2 class="c-block__title">Mới nhất</h2><div class="c-block__list">{latest}</div></section></main>\n'
                + self._footer())

    def listing(self, slug: str, page: int) -> str | None:
        numbers = self._in(slug)
        chunk = list(numbers[(page - 1) * PAGE_SIZE: page * PAGE_SIZE])
        if page < 1 or not chunk:
            return None
        name = dict(SECTIONS).get(slug, "Mới nhất")
        more = f'<a class="c-pagination__next" href="/{slug}/?page={page + 1}">Trang sau</a>' \
            if len(numbers) > page * PAGE_SIZE else ""
        return (self._head(f"{name} - {SITE}") + self._header() + f'<main class="l-main"><h1>{name}</h1>'
                f'<div class="c-block__list">{"".join(self._teaser(n) for n in chunk)}</div>'
                f'<div class="c-pagination">{more}</div></main>\n' + self._footer())

    def feed(self, slug: str) -> str:
        items = []
        for number in list(self._in(slug))[:FEED_SIZE]:
            items.append(f"<item><title>{html.escape(self.title(number))}</title><link>{self.abs(self.path(number))}"
                         f"</link><guid>{self.abs(self.path(number))}</guid><pubDate>"
                         f"{format_datetime(self.published(number))}</pubDate></item>")
        name = dict(SECTIONS).get(slug, "Mới nhất")
        return ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
                f"<title>{SITE} - {name}</title><link>{self.base_url}</link><description>{name}</description>"
                + "".join(items) + "</channel></rss>\n")

    def article(self, number: int) -> str:
        title = self.title(number)
        when = self.published(number)
        section, section_name = self.section(number)
        url = self.abs(self.path(number))
        sapo = self.words(number, 40, 2).capitalize() + "."
        paragraphs = "".join(f"<p>{self.words(number, 60, 10 + i).capitalize()}.</p>\n" for i in range(6))
        figure = (f'<figure class="image"><img src="https://bna.1cdn.vn/{when:%Y/%m/%d}/anh-{number}.jpg" '
                  f'alt="{html.escape(title)}"><figcaption>{self.words(number, 12, 3).capitalize()}. Ảnh: PV'
                  "</figcaption></figure>\n")
        meta = (f'<meta property="og:title" content="{html.escape(title)}">\n'
                '<meta property="og:type" content="article">\n'
                f'<meta property="og:url" content="{url}">\n<meta name="description" content="{html.escape(sapo)}">\n'
                f'<meta property="article:published_time" content="{when.isoformat()}">\n'
                f'<meta property="article:section" content="{section_name}">\n<link rel="canonical" href="{url}">\n')
        latest = "".join(self._teaser(n) for n in range(max(0, number - 5), number))
        return (self._head(f"{title} - {SITE}", meta) + self._header()
                + f'<main class="l-main"><div class="c-breadcrumb"><a href="/">Trang chủ</a> / '
                f'<a href="/{section}/">{section_name}</a></div>\n<article class="sc-longform">'
                f'<div class="sc-longform-header"><h1 class="sc-longform-header-title">{html.escape(title)}</h1>'
                f'<div class="sc-longform-header-meta"><span class="sc-longform-header-author">Phóng viên {number % 97}'
                f'</span> <span class="sc-longform-header-date">{when:%d/%m/%Y %H:%M}</span></div>'
                f'<p class="sc-longform-header-sapo">{html.escape(sapo)}</p></div>\n'
                f'<div class="article__body cms-body">\n{paragraphs[: len(paragraphs) // 2]}{figure}'
                f"{paragraphs[len(paragraphs) // 2:]}</div></article>\n"
                f'<section class="c-latest"><h2 class="c-block__title">Mới nhất</h2><div class="c-block__list">{latest}'
                "</div></section></main>\n" + self._footer())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""

    def do_GET(self) -> None:
        server: BigServer = self.server  # type: ignore[assignment]
        found = server.site.lookup(self.path)
        if found is None:
            status, content_type, body = 404, "text/html; charset=utf-8", b"<html><body>404</body></html>"
        else:
            status, (content_type, body) = 200, found
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Last-Modified", format_datetime(datetime(2025, 1, 1, tzinfo=UTC), usegmt=True))
        self.end_headers()
        self.wfile.write(body)
        server.count(self.path, status, len(body))

    def log_message(self, format: str, *args: object) -> None:
        pass


class BigServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, site: BigSite, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.site = site
        self.lock = threading.Lock()
        self.requests = 0
        self.article_requests = 0
        self.bytes = 0
        self.statuses: Counter[int] = Counter()
        site.base_url = f"http://127.0.0.1:{self.server_address[1]}/"

    def count(self, path: str, status: int, size: int) -> None:
        with self.lock:
            self.requests += 1
            self.bytes += size
            self.statuses[status] += 1
            if "/bai-viet-so-" in path:
                self.article_requests += 1


class BigReplica:
    """``with BigReplica(50_000) as big: big.base_url, big.server.requests``"""

    def __init__(self, articles: int, per_day: int = 500, port: int = 0) -> None:
        self.site = BigSite(articles, per_day)
        self.server = BigServer(self.site, port)
        self.thread = threading.Thread(target=self.server.serve_forever, name="big-replica", daemon=True)

    @property
    def base_url(self) -> str:
        return self.site.base_url

    def __enter__(self) -> BigReplica:
        self.thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=50_000)
    parser.add_argument("--per-day", type=int, default=500)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    with BigReplica(args.articles, args.per_day, args.port) as big:
        print(big.base_url, flush=True)
        print("ready", flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
