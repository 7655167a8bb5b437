"""Low-level record iterators, one per input format. Each yields `RawRecord`s and turns stream damage into a record
with an error instead of an exception, so the reader can count it and carry on with the next file."""

from __future__ import annotations

import gzip
import json
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

FORMATS = ("jsonl", "parquet", "warc", "html")


@dataclass
class RawRecord:
    line: int  # 1-based line (JSONL) or record number (Parquet, WARC, HTML files)
    data: dict | None = None  # the parsed record
    raw: bytes | None = None  # the raw bytes when the record could not be parsed
    error: str | None = None  # invalid:<error>
    detail: str = ""  # a human-readable explanation (never the record's content)
    extra: dict = field(default_factory=dict)


def infer_format(path: str) -> str:
    name = path.lower()
    for suffix in (".gz", ".zst", ".zstd"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    if name.endswith((".jsonl", ".json", ".ndjson")):
        return "jsonl"
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".warc", ".arc")):
        return "warc"
    if name.endswith((".html", ".htm")):
        return "html"
    raise ValueError(f"{path}: cannot tell the format from the file name; set `format:` ({', '.join(FORMATS)})")


def _zstd_lines(path: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
    """Lines of a (multi-frame) zstd file. zstandard's stream reader ends quietly at a cut in the middle of a frame;
    a decompression object tells us (`eof` is False), so a truncated download is reported, not mistaken for EOF."""
    import zstandard

    dctx = zstandard.ZstdDecompressor()
    d, pending = dctx.decompressobj(), b""
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            out = d.decompress(chunk)
            while d.eof and d.unused_data:  # the next frame starts inside this chunk
                rest = d.unused_data
                d = dctx.decompressobj()
                out += d.decompress(rest)
            pending += out
            *lines, pending = pending.split(b"\n")
            for line in lines:
                yield line + b"\n"
    if pending:
        yield pending
    if not d.eof:
        raise EOFError("zstd stream ends inside a frame (truncated file)")


def iter_lines(path: str) -> Iterator[bytes]:
    if path.endswith((".zst", ".zstd")):
        yield from _zstd_lines(path)
        return
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        yield from f


STREAM_ERRORS: tuple[type[BaseException], ...] = (EOFError, gzip.BadGzipFile, zlib.error, OSError)
try:
    import zstandard

    STREAM_ERRORS = STREAM_ERRORS + (zstandard.ZstdError,)
except ImportError:  # pragma: no cover - zstandard is a dependency
    pass


def iter_jsonl(path: str) -> Iterator[RawRecord]:
    line_no = 0
    try:
        for raw in iter_lines(path):
            line_no += 1
            raw = raw.rstrip(b"\r\n")
            if not raw.strip():
                continue  # blank lines are not records
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                yield RawRecord(line_no, raw=raw, error="utf8", detail=f"invalid UTF-8 at byte {e.start}")
                continue
            try:
                data = json.loads(text)
            except json.JSONDecodeError as e:
                yield RawRecord(line_no, raw=raw, error="json", detail=f"{e.msg} at column {e.colno}")
                continue
            if not isinstance(data, dict):
                yield RawRecord(line_no, raw=raw, error="not_object", detail=f"a JSON {type(data).__name__}")
                continue
            yield RawRecord(line_no, data=data)
    except STREAM_ERRORS as e:
        yield RawRecord(line_no + 1, error="truncated_stream", detail=f"{type(e).__name__}: {e}")


def iter_parquet(path: str, batch_size: int = 1024) -> Iterator[RawRecord]:
    import pyarrow.parquet as pq

    row = 0
    try:
        pf = pq.ParquetFile(path)
        for batch in pf.iter_batches(batch_size=batch_size):
            for data in batch.to_pylist():
                row += 1
                yield RawRecord(row, data=data)
    except Exception as e:  # pyarrow raises ArrowInvalid/OSError for damaged files
        yield RawRecord(row + 1, error="parquet", detail=f"{type(e).__name__}: {e}")


_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_\-]+)|<\?xml[^>]+encoding=["']([A-Za-z0-9_\-]+)""", re.I)


def decode_html(body: bytes, declared: str | None = None) -> tuple[str, str]:
    """Decode an HTML page: the HTTP charset, else the page's own declaration (XML prolog or <meta>), else UTF-8.
    Returns (text, charset). Undecodable bytes are replaced rather than fatal: a page is still worth extracting."""
    candidates = []
    if declared:
        candidates.append(declared)
    m = _META_CHARSET.search(body[:4096])
    if m:
        candidates.append((m.group(1) or m.group(2)).decode("ascii"))
    candidates.append("utf-8")
    for charset in candidates:
        try:
            return body.decode(charset), charset.lower()
        except (UnicodeDecodeError, LookupError):
            continue
    return body.decode("utf-8", "replace"), "utf-8"


def iter_html_file(path: str) -> Iterator[RawRecord]:
    body = Path(path).read_bytes()
    html, charset = decode_html(body)
    yield RawRecord(1, data={"html": html, "charset": charset})


_HTTP_CHARSET = re.compile(r"charset=([A-Za-z0-9_\-]+)", re.I)


def iter_warc(path: str) -> Iterator[RawRecord]:
    """HTTP responses with an HTML body become records {html, url, warc_record_id, date}. Other response types are
    reported (`unsupported_content`), request/metadata/warcinfo records are not documents and are skipped."""
    from warcio.archiveiterator import ArchiveIterator

    n = 0
    try:
        with open(path, "rb") as f:
            for record in ArchiveIterator(f):
                if record.rec_type != "response":
                    continue
                n += 1
                url = record.rec_headers.get_header("WARC-Target-URI")
                ctype = (record.http_headers.get_header("Content-Type") if record.http_headers else None) or ""
                body = record.content_stream().read()
                if "html" not in ctype.lower():
                    yield RawRecord(n, raw=body[:0], error="unsupported_content", detail=f"{ctype or 'no type'} at {url}",
                                    extra={"url": url})
                    continue
                m = _HTTP_CHARSET.search(ctype)
                html, charset = decode_html(body, m.group(1) if m else None)
                yield RawRecord(
                    n,
                    data={
                        "html": html,
                        "url": url,
                        "charset": charset,
                        "warc_record_id": record.rec_headers.get_header("WARC-Record-ID"),
                        "date": record.rec_headers.get_header("WARC-Date"),
                    },
                )
    except Exception as e:  # warcio raises ArchiveLoadFailed / zlib errors on damaged archives
        yield RawRecord(n + 1, error="truncated_stream", detail=f"{type(e).__name__}: {e}")


ITERATORS = {"jsonl": iter_jsonl, "parquet": iter_parquet, "warc": iter_warc, "html": iter_html_file}
