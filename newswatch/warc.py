"""The kept raw pages as a WARC file (gzip per record), written with warcio."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC
from http import HTTPStatus
from io import BytesIO
from typing import BinaryIO

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from storage.raw_pages import RawResponse

# The kept body is decompressed and whole: headers that described the transfer no longer hold.
_DROPPED_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def write_warc(responses: Iterable[RawResponse], out: BinaryIO, filename: str = "newswatch.warc.gz",
               progress: Callable[[int], None] | None = None) -> int:
    """A warcinfo record, then one `response` record per kept page; the number of pages."""
    writer = WARCWriter(out, gzip=True)
    writer.write_record(writer.create_warcinfo_record(filename, {"software": "newswatch",
                                                                 "format": "WARC File Format 1.1"}))
    count = 0
    for response in responses:
        headers = [(k, v) for k, v in response.headers if k.lower() not in _DROPPED_HEADERS]
        headers.append(("Content-Length", str(len(response.body))))
        http_headers = StatusAndHeaders(_status_line(response.status), headers, protocol="HTTP/1.1")
        when = response.fetched_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        record = writer.create_warc_record(response.url, "response", payload=BytesIO(response.body),
                                           http_headers=http_headers,
                                           warc_headers_dict={"WARC-Date": when,
                                                              "WARC-Payload-Digest": response.digest})
        writer.write_record(record)
        count += 1
        if progress is not None:
            progress(count)
    return count
