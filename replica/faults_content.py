"""Bodies for the replica's fault modes: re-encoded and broken pages, hostile XML, bombs, traps.

Pure functions over bytes (no I/O); :mod:`replica.faults` decides where they are served.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from html import escape
from xml.sax.saxutils import escape as xml_escape

CP1258 = "windows-1258"
# Vietnamese tone marks: windows-1258 has them as combining characters, not precomposed.
_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")
_META_CHARSET = re.compile(rb"""<meta\s+charset=["']?utf-8["']?\s*/?>""", re.IGNORECASE)
_HTTP_EQUIV = re.compile(rb"""<meta\s+http-equiv=["']?content-type["']?[^>]*>""", re.IGNORECASE)
_HEAD = re.compile(rb"<head(\s[^>]*)?>", re.IGNORECASE)
_BODY = re.compile(rb"<body(\s[^>]*)?>", re.IGNORECASE)


@dataclass(frozen=True)
class Teaser:
    """An article as the generated trap pages list it."""

    path: str
    title: str
    published: str  # ISO 8601 (the manifest's published_at)


# -- charsets ----------------------------------------------------------------------------------


def _cp1258_char(char: str) -> bytes | None:
    try:
        return char.encode("cp1258")
    except UnicodeEncodeError:
        pass
    parts = unicodedata.normalize("NFD", char)
    base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES))
    tones = "".join(c for c in parts if c in _TONES)
    try:
        encoded = base.encode("cp1258") + tones.encode("cp1258")
    except UnicodeEncodeError:
        return None
    return encoded if unicodedata.normalize("NFC", encoded.decode("cp1258")) == char else None


def cp1258_encodable(text: str) -> bool:
    """Whether ``text`` survives :func:`encode_cp1258` without character references."""
    return all(_cp1258_char(char) is not None for char in unicodedata.normalize("NFC", text))


def encode_cp1258(text: str) -> bytes:
    """Windows-1258 the way Vietnamese Windows software writes it: base letters precomposed
    where the code page has them (â ê ô ơ ư ă đ), tone marks as combining characters, so that
    ``NFC(data.decode("cp1258")) == text``. Characters outside the code page become numeric
    character references (as browsers submit them), which only HTML readers undo.
    """
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        encoded = _cp1258_char(char)
        out += encoded if encoded is not None else f"&#{ord(char)};".encode("ascii")
    return bytes(out)


def declare_cp1258(body: bytes) -> bytes:
    """An HTML page re-encoded as windows-1258, declared only by a ``<meta>`` tag."""
    text = body.decode("utf-8")
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={CP1258}">'
    data = encode_cp1258(text)
    if _META_CHARSET.search(data):
        return _META_CHARSET.sub(meta.encode("ascii"), data, count=1)
    return _HEAD.sub(lambda m: m.group(0) + b"\n" + meta.encode("ascii"), data, count=1)


def strip_charset(body: bytes) -> bytes:
    """The page without any in-document charset declaration."""
    return _HTTP_EQUIV.sub(b"", _META_CHARSET.sub(b"", body))


# -- broken HTML and page furniture -----------------------------------------------------------


def malform_html(body: bytes) -> bytes:
    """Broken markup around intact text: stray closing tags and a NUL byte right after
    ``<body>``, ``</p>`` and ``</li>`` dropped where the next element opens the same tag (which
    closes it implicitly), two tags left open at the end."""
    broken = _BODY.sub(lambda m: m.group(0) + b"</div></span>\x00", body, count=1)
    broken = re.sub(rb"</(p|li)>(\s*<\1[\s>])", rb"\2", broken, flags=re.IGNORECASE)
    closing = broken.lower().rfind(b"</body>")
    if closing < 0:
        return broken + b'<div class="c-banner"><center>'
    return broken[:closing] + b'<div class="c-banner"><center>\n' + broken[closing:]


def inject_links(body: bytes, links: Sequence[tuple[str, str]], feeds: Sequence[tuple[str, str]]) -> bytes:
    """Add footer links and ``<link rel=alternate>`` feed declarations to an HTML page."""
    head = "".join(f'<link rel="alternate" type="application/rss+xml" title="{escape(title)}" href="{escape(href)}">\n'
                   for href, title in feeds).encode()
    anchors = "".join(f'<li class="c-menu__item"><a href="{escape(href)}">{escape(text)}</a></li>'
                      for href, text in links)
    foot = f'<div class="c-footer__more"><ul class="c-menu__list">{anchors}</ul></div>\n'.encode() if links else b""
    out = body
    if head:
        at = out.lower().find(b"</head>")
        out = out[:at] + head + out[at:] if at >= 0 else head + out
    if foot:
        at = out.lower().rfind(b"</body>")
        out = out[:at] + foot + out[at:] if at >= 0 else out + foot
    return out


def robots_with(body: bytes, disallow: Sequence[str], crawl_delay: int | None, sitemaps: Sequence[str]) -> bytes:
    """robots.txt with extra rules in its ``User-agent: *`` group and extra ``Sitemap:`` lines."""
    lines = body.decode("utf-8").splitlines() if body else ["User-agent: *"]
    rules = [f"Disallow: {path}" for path in disallow]
    if crawl_delay is not None:
        rules.append(f"Crawl-delay: {crawl_delay}")
    at = next((i + 1 for i, line in enumerate(lines) if line.strip().lower() == "user-agent: *"), None)
    if at is None:
        lines[:0] = ["User-agent: *", *rules, ""]
    else:
        lines[at:at] = rules
    lines.extend(f"Sitemap: {url}" for url in sitemaps)
    return ("\n".join(lines) + "\n").encode("utf-8")


# -- feeds and sitemaps -------------------------------------------------------------------------


def feed_with_item(body: bytes, *, title: str, link: str, published: str, description: str) -> bytes:
    """The RSS feed with one more item at the top."""
    item = (f"<item>\n<title>{xml_escape(title)}</title>\n<link>{xml_escape(link)}</link>\n"
            f'<guid isPermaLink="true">{xml_escape(link)}</guid>\n<pubDate>{published}</pubDate>\n'
            f"<description>{xml_escape(description)}</description>\n</item>\n").encode()
    at = body.find(b"<item>")
    if at < 0:
        at = body.rfind(b"</channel>")
    return body[:at] + item + body[at:]


def malformed_feed(body: bytes) -> bytes:
    """The feed with its first item's ``</title>`` missing: not well-formed XML."""
    at = body.find(b"<item>")
    end = body.find(b"</title>", at)
    if at < 0 or end < 0:
        return body.replace(b"</channel>", b"<item><title>", 1)
    return body[:end] + body[end + len(b"</title>"):]


def billion_laughs_feed(*, title: str, home: str, link: str) -> bytes:
    """An RSS feed whose DOCTYPE expands one entity to 10**9 copies of "lol" (about 3 GB); its
    one item links ``link``."""
    entities = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">' for n in range(1, 10)
    ]
    doctype = "<!DOCTYPE rss [\n" + "\n".join(entities) + "\n]>"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
{doctype}
<rss version="2.0">
<channel>
<title>{xml_escape(title)}</title>
<link>{xml_escape(home)}</link>
<description>&lol9;</description>
<item>
<title>&lol9;</title>
<link>{xml_escape(link)}</link>
<description>&lol9;</description>
</item>
</channel>
</rss>
""".encode()


def xxe_sitemap(locs: Sequence[str], lastmod: str) -> bytes:
    """A sitemap declaring an external entity (``file:///etc/passwd``) and using it in a ``<loc>``."""
    urls = [f"<url><loc>{xml_escape(loc)}</loc><lastmod>{lastmod}</lastmod></url>" for loc in locs]
    urls.append(f"<url><loc>&x;</loc><lastmod>{lastmod}</lastmod></url>")
    body = "\n".join(urls)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE urlset [
<!ENTITY x SYSTEM "file:///etc/passwd">
]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
{body}
</urlset>
""".encode()


# -- documents ------------------------------------------------------------------------------------


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf_document(lines: Sequence[str]) -> bytes:
    """A small valid one-page PDF 1.4 (Helvetica, ASCII text) with a correct xref table."""
    shown = " ".join(f"({_pdf_escape(line)}) '" for line in lines)
    stream = f"BT /F1 11 Tf 16 TL 60 800 Td {shown} ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        "/Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{obj}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode("ascii")
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode("ascii")
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode("ascii")
    return bytes(out)


_SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hồ", "Hoàng", "Võ", "Đặng", "Lương", "Vi")
_MIDDLE = ("Văn", "Thị", "Đình", "Hữu", "Xuân", "Thị Thu", "Bá")
_GIVEN = ("An", "Bình", "Cường", "Dũng", "Hà", "Hùng", "Lan", "Mai", "Nam", "Phương", "Sơn", "Tâm", "Vinh")
_COMMUNES = ("Con Cuông", "Tương Dương", "Mường Xén", "Quế Phong", "Châu Tiến", "Anh Sơn", "Thanh Chương",
             "Tam Quang", "Nhôn Mai", "Mỹ Lý")
_ROW = 200  # bytes per table row, padded: the page length is known without rendering it


def _row(number: int) -> bytes:
    name = f"{_SURNAMES[number % 10]} {_MIDDLE[number % 7]} {_GIVEN[number % 13]}"
    place = f"Bản {number % 23 + 1}, xã {_COMMUNES[number // 7 % 10]}"
    money = f"{(number % 9 + 1) * 500_000:,}".replace(",", ".")
    row = f"<tr><td>{number}</td><td>{name}</td><td>{place}</td><td>{money}</td></tr>".encode()
    return row + b" " * (_ROW - 1 - len(row)) + b"\n"


HUGE_TITLE = "Danh sách hộ được hỗ trợ khắc phục hậu quả mưa lũ năm 2026"


def huge_page(size: int, title: str = HUGE_TITLE) -> tuple[int, Iterator[bytes]]:
    """A generated HTML page of about ``size`` bytes: its exact length and its chunks."""
    head = (f'<!DOCTYPE html>\n<html lang="vi">\n<head>\n<meta charset="utf-8">\n<title>{escape(title)}</title>\n'
            f'</head>\n<body class="onecms page-detail">\n<h1 class="sc-longform-header-title">{escape(title)}</h1>\n'
            '<table class="c-table">\n<tr><th>STT</th><th>Họ và tên chủ hộ</th><th>Địa chỉ</th>'
            "<th>Mức hỗ trợ (đồng)</th></tr>\n").encode()
    tail = b"</table>\n</body>\n</html>\n"
    rows = max(0, -(-(size - len(head) - len(tail)) // _ROW))

    def chunks() -> Iterator[bytes]:
        yield head
        for start in range(1, rows + 1, 4096):
            yield b"".join(_row(n) for n in range(start, min(rows, start + 4095) + 1))
        yield tail

    return len(head) + rows * _ROW + len(tail), chunks()


@cache
def gzip_bomb(inflated_mb: int) -> bytes:
    """A gzip member that inflates to ``inflated_mb`` MiB of zeros (rounded up to 16 MiB), about
    1,000 times smaller: one full-flushed 16 MiB deflate block, repeated. Computed once."""
    block_size = 16 << 20
    blocks = max(1, -(-inflated_mb // 16))
    zeros = bytes(block_size)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    final = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    crc = 0
    for _ in range(blocks):
        crc = zlib.crc32(zeros, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = crc.to_bytes(4, "little") + (blocks * block_size % (1 << 32)).to_bytes(4, "little")
    return header + block * blocks + final + trailer


# -- crawler traps ------------------------------------------------------------------------------


def _trap_page(title: str, main: str) -> bytes:
    return f"""<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<title>{escape(title)}</title>
</head>
<body class="onecms page-list">
<main class="l-main">
<h1 class="c-block__title">{escape(title)}</h1>
{main}
</main>
</body>
</html>
""".encode()


def calendar_page(year: int, month: int, teasers: Sequence[Teaser]) -> bytes:
    """The events calendar of one month: its articles, and links to the months before and after."""
    prev_y, prev_m = (year, month - 1) if month > 1 else (year - 1, 12)
    next_y, next_m = (year, month + 1) if month < 12 else (year + 1, 1)
    prefix = f"{year:04d}-{month:02d}"
    items = "".join(f'<li><a href="{escape(t.path)}">{escape(t.title)}</a> <span>{t.published[8:10]}/{month:02d}'
                    f"/{year}</span></li>\n" for t in teasers if t.published.startswith(prefix))
    nav = (f'<div class="c-calendar__nav"><a class="c-calendar__prev" href="/lich/{prev_y:04d}/{prev_m:02d}/">'
           f'« Tháng {prev_m}/{prev_y}</a> <a class="c-calendar__next" href="/lich/{next_y:04d}/{next_m:02d}/">'
           f"Tháng {next_m}/{next_y} »</a></div>")
    body = f'<ul class="c-calendar__list">\n{items}</ul>\n{nav}' if items else f"<p>Chưa có sự kiện.</p>\n{nav}"
    return _trap_page(f"Lịch sự kiện tháng {month}/{year}", body)


def endless_listing(path: str, number: int, teasers: Sequence[Teaser]) -> bytes:
    """Page ``number`` of a listing that always has a next page (teasers recycled)."""
    shown = [teasers[(number * 10 + i) % len(teasers)] for i in range(10)] if teasers else []
    items = "".join(f'<article class="b-grid"><div class="b-grid__content"><h3 class="b-grid__title">'
                    f'<a href="{escape(t.path)}">{escape(t.title)}</a></h3></div></article>\n' for t in shown)
    more = f'<div class="c-more onecms__loadmore"><a href="{escape(path)}?page={number + 1}">Xem thêm</a></div>'
    return _trap_page(f"Tin tổng hợp - Trang {number}", f'<div class="c-listing">\n{items}</div>\n{more}')
