"""Low-level record iterators, one per input format. Each yields `RawRecord`s and turns damage into a record with an
error instead of an exception, so that the reader counts it and carries on; none of them ever ends early without
saying so. What each does with damage:

- JSONL (plain, .gz, .zst): a bad line is one record; a cut or corrupt compressed stream ends the file with one
  `truncated_stream` record (a deflate/zstd stream has no point to resync at).
- Parquet: read row group by row group; the rows of a group that cannot be read, or that pyarrow leaves out of a
  group without an error (damaged column metadata), are counted one by one (`parquet`) against the row count the
  footer gives the group, and the next group is read. A file whose footer is unreadable is one `parquet` record.
- WARC (.warc, .warc.gz) and WET (.warc.wet.gz, Common Crawl's extracted text): a damaged record, or a damaged gzip
  member, is one `warc_record`; the reader resyncs at the next record (the next gzip member that starts a WARC record,
  or the next `WARC/1.x` header line). A file cut inside a record ends with `truncated_stream`. A record that could
  hold a page but is not one the format reads (a PDF response, a WET text record in a WARC file, a revisit whose
  payload is in an earlier record) is one record with its reason; only warcinfo, request and metadata records, which
  describe the crawl, are not documents.
- An input file that cannot be opened is one `unreadable_file` record.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import zlib
from dataclasses import dataclass, field
from typing import BinaryIO, Iterator

from curate.fs import open_binary
from curate.fs import size as fs_size
from curate.readers.parts import jsonl_part_lines

FORMATS = ("jsonl", "parquet", "warc", "wet", "html")
BOM = b"\xef\xbb\xbf"


@dataclass
class RawRecord:
    line: int  # 1-based line (JSONL) or record number (Parquet, WARC, HTML files)
    data: dict | None = None  # the parsed record
    raw: bytes | None = None  # the raw bytes when the record could not be parsed
    error: str | None = None  # invalid:<error>
    detail: str = ""  # a human-readable explanation (never the record's content)
    extra: dict = field(default_factory=dict)


def infer_format(path: str) -> str | None:
    """The format a file name says, or None."""
    name = path.lower()
    for suffix in (".gz", ".zst", ".zstd"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    if name.endswith((".jsonl", ".json", ".ndjson")):
        return "jsonl"
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith(".wet"):
        return "wet"
    if name.endswith((".warc", ".arc")):
        return "warc"
    if name.endswith((".html", ".htm", ".xhtml")):
        return "html"
    return None


def _head(path: str, n: int = 4096) -> bytes:
    """The first (decompressed) bytes of a file; b"" when they cannot be read."""
    try:
        with open_binary(path) as f:
            raw = f.read(n)
            if raw[:2] == b"\x1f\x8b":
                f.seek(0)
                data, out = f.read(1 << 16), b""
                while data and len(out) < n:  # on across gzip members: a WARC's records are one member each
                    d = zlib.decompressobj(31)
                    try:
                        out += d.decompress(data, n - len(out))
                    except zlib.error:
                        break  # a damaged member: what came before it says the format
                    data = d.unused_data if d.eof else b""
                return out
            if raw[:4] == b"\x28\xb5\x2f\xfd":
                import zstandard

                f.seek(0)
                with zstandard.ZstdDecompressor().stream_reader(f) as r:
                    return r.read(n)
            return raw
    except Exception:  # noqa: BLE001 - sniffing is best effort; the reader reports real damage per record
        return b""


def sniff_format(path: str) -> str | None:
    """The format a file's first bytes say (None when they say nothing clear: empty, damaged, or plain text)."""
    head = _head(path)
    if head[:4] == b"PAR1":
        return "parquet"
    body = head[3:] if head.startswith(BOM) else head
    body = body.lstrip()
    if body.startswith((b"WARC/", b"filedesc://")):
        # Common Crawl's WET files: text records (`conversion`) after the warcinfo one; a head that shows no record
        # after the warcinfo (a long one, a file cut short) says nothing clear
        kinds = [k.lower() for k in _WARC_TYPE.findall(body) if k.lower() != b"warcinfo"]
        return ("wet" if kinds[0] == b"conversion" else "warc") if kinds else None
    if body[:1] == b"{":
        return "jsonl"
    if body[:1] == b"<":
        return "html"
    return None


# -- JSONL -------------------------------------------------------------------------------------------------------------

def _zstd_lines(f: BinaryIO, chunk_size: int = 1 << 20) -> Iterator[bytes]:
    """Lines of a (multi-frame) zstd file. zstandard's stream reader ends quietly at a cut in the middle of a frame;
    a decompression object tells us (`eof` is False), so a truncated download is reported, not mistaken for EOF."""
    import zstandard

    dctx = zstandard.ZstdDecompressor()
    d, pending, started = dctx.decompressobj(), b"", False
    while chunk := f.read(chunk_size):
        started = True
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
    if started and not d.eof:  # an empty file is an empty input, not a cut one
        raise EOFError("zstd stream ends inside a frame (truncated file)")


def iter_lines(f: BinaryIO, path: str) -> Iterator[bytes]:
    if path.endswith((".zst", ".zstd")):
        yield from _zstd_lines(f)
    elif path.endswith(".gz"):
        yield from gzip.GzipFile(fileobj=f)
    else:
        yield from f


STREAM_ERRORS: tuple[type[BaseException], ...] = (EOFError, gzip.BadGzipFile, zlib.error, OSError)
try:
    import zstandard

    STREAM_ERRORS = STREAM_ERRORS + (zstandard.ZstdError,)
except ImportError:  # pragma: no cover - zstandard is a dependency
    pass

# a lone surrogate can only enter through a JSON escape (raw UTF-8 cannot encode one: that is invalid UTF-8)
_SURROGATE_ESCAPE = re.compile(rb"\\[uU][dD][89a-fA-F]")


def _has_lone_surrogate(value) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


def parse_json_line(raw: bytes, line_no: int) -> RawRecord:
    """One JSONL line -> a record, or a record with the reason it is invalid (never an exception)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return RawRecord(line_no, raw=raw, error="utf8", detail=f"invalid UTF-8 at byte {e.start}")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        return RawRecord(line_no, raw=raw, error="json", detail=f"{e.msg} at column {e.colno}")
    except RecursionError:
        return RawRecord(line_no, raw=raw, error="json", detail="nested too deeply")
    except ValueError as e:  # e.g. an integer of more digits than Python converts
        return RawRecord(line_no, raw=raw, error="json", detail=f"{type(e).__name__}: {str(e)[:80]}")
    if not isinstance(data, dict):
        return RawRecord(line_no, raw=raw, error="not_object", detail=f"a JSON {type(data).__name__}")
    if _SURROGATE_ESCAPE.search(raw) and _has_lone_surrogate(data):
        return RawRecord(line_no, raw=raw, error="lone_surrogate", detail="a string holds an unpaired UTF-16 surrogate")
    return RawRecord(line_no, data=data)


def iter_jsonl(path: str, part: dict | None = None) -> Iterator[RawRecord]:
    """The records of a JSONL file, or of one part of it (`curate.readers.parts`: its lines keep their numbers)."""
    line_no = part["first"] - 1 if part else 0
    with _open(path) as f:
        if f is None:
            yield _unreadable(path)
            return
        try:
            for raw in jsonl_part_lines(f, part) if part else iter_lines(f, path):
                line_no += 1
                raw = raw.rstrip(b"\r\n")
                if line_no == 1 and raw.startswith(BOM):
                    raw = raw[len(BOM):]
                if not raw.strip():
                    continue  # blank lines are not records
                yield parse_json_line(raw, line_no)
        except STREAM_ERRORS as e:
            yield RawRecord(line_no + 1, error="truncated_stream",
                            detail=f"the rest of the file could not be read ({type(e).__name__}: {e})")


class _open:
    """`with _open(path) as f`: the open binary file, or None when it cannot be opened (counted by the caller)."""

    def __init__(self, path: str):
        self.path, self.f, self.error = path, None, None

    def __enter__(self) -> BinaryIO | None:
        try:
            self.f = open_binary(self.path)
        except OSError as e:
            self.error = e
        return self.f

    def __exit__(self, *exc):
        if self.f is not None:
            self.f.close()


def _unreadable(path: str) -> RawRecord:
    try:
        open_binary(path).close()
        detail = "cannot be read"
    except OSError as e:
        detail = f"cannot be opened: {e.strerror or type(e).__name__}"
    return RawRecord(1, error="unreadable_file", detail=detail)


# -- Parquet -----------------------------------------------------------------------------------------------------------

def iter_parquet(path: str, part: dict | None = None, batch_size: int = 1024) -> Iterator[RawRecord]:
    """The rows of a Parquet file, or of one part of it (a run of row groups; rows keep their numbers)."""
    import pyarrow.parquet as pq

    with _open(path) as source:
        if source is None:
            yield _unreadable(path)
            return
        try:
            pf = pq.ParquetFile(source)
            groups = [pf.metadata.row_group(g).num_rows for g in range(pf.num_row_groups)]
        except Exception as e:  # noqa: BLE001 - pyarrow raises ArrowInvalid/OSError/... for a damaged footer
            yield RawRecord(1, error="parquet", detail=f"unreadable file (footer): {type(e).__name__}: {str(e)[:120]}")
            return
        start, stop, row = (part["start"], part["stop"], part["first"] - 1) if part else (0, len(groups), 0)
        for g in range(start, stop):
            n, done, detail = groups[g], 0, None
            try:
                for batch in pf.iter_batches(batch_size=batch_size, row_groups=[g]):
                    for data in batch.to_pylist():
                        if done == n:
                            raise ValueError(f"more rows than the footer's {n}")
                        done += 1
                        yield RawRecord(row + done, data=data)
            except Exception as e:  # noqa: BLE001 - a damaged page: the rest of this row group is counted, not lost
                detail = f"row group {g} unreadable after {done} of {n} rows: {type(e).__name__}: {str(e)[:120]}"
            if done < n:
                # damaged column metadata can make pyarrow read a group as fewer rows, or none, without an error
                detail = detail or f"row group {g} read as {done} of the {n} rows its footer counts"
                for i in range(done + 1, n + 1):
                    yield RawRecord(row + i, error="parquet", detail=detail)
            row += n


# -- HTML files --------------------------------------------------------------------------------------------------------

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
    try:
        with open_binary(path) as f:
            body = f.read()
    except OSError:
        yield _unreadable(path)
        return
    html, charset = decode_html(body)
    yield RawRecord(1, data={"html": html, "charset": charset})


# -- WARC --------------------------------------------------------------------------------------------------------------

_HTTP_CHARSET = re.compile(r"charset=([A-Za-z0-9_\-]+)", re.I)
_GZIP_MAGIC = b"\x1f\x8b\x08"
_WARC_LINE = re.compile(rb"(?:^|\n)(WARC/1\.[01]\r?\n)")
_WARC_TYPE = re.compile(rb"(?:^|\n)WARC-Type: *(\w+)", re.I)
NOT_DOCUMENTS = ("warcinfo", "request", "metadata", "arc_header")  # records that describe the crawl, not a page
MAX_BUFFERED = 64 * 2**20  # a gzip member's records are held until its checksum passes, up to this many bytes


class _GzipMember(io.RawIOBase):
    """One gzip member of a file, decompressed on read; `end` is its compressed end once it has been read through.
    A damaged member raises zlib.error; one cut by the end of the file raises EOFError."""

    def __init__(self, f: BinaryIO, offset: int, chunk: int = 1 << 16):
        self.f, self.offset, self.chunk = f, offset, chunk
        self.d = zlib.decompressobj(31)
        self.pos = offset  # compressed bytes consumed so far
        self.out = b""
        self.end: int | None = None

    def readable(self):
        return True

    def readinto(self, b) -> int:
        while not self.out and self.end is None:
            self.f.seek(self.pos)
            data = self.f.read(self.chunk)
            if not data:
                raise EOFError(f"gzip member at byte {self.offset} is cut by the end of the file")
            self.out = self.d.decompress(data)
            if self.d.eof:
                self.end = self.pos + len(data) - len(self.d.unused_data)
            self.pos += len(data)
        n = min(len(b), len(self.out))
        b[:n] = self.out[:n]
        self.out = self.out[n:]
        return n

    def drain(self) -> int:
        while self.read(1 << 20):
            pass
        return self.end


def _body(record, n: int) -> bytes:
    body = record.content_stream().read()
    raw = record.raw_stream  # warcio reads a body cut by the end of the file as a short body, silently
    while raw.read(1 << 16):
        pass
    if getattr(raw, "limit", 0) > 0:
        raise EOFError(f"record {n} ends {raw.limit} bytes before its Content-Length")
    return body


def _url(record) -> str | None:
    headers = record.rec_headers
    return headers.get_header("WARC-Target-URI") or headers.get_header("uri")  # an ARC file's records: `uri`


def _not_read(record, n: int, url: str | None, why: str) -> RawRecord:
    _body(record, n)  # read through, so that a record cut by the end of the file is reported as such
    return RawRecord(n, raw=b"", error="unsupported_content", detail=f"{why} at {url}", extra={"url": url})


def _revisit(record, n: int, url: str | None) -> RawRecord:
    _body(record, n)
    target = record.rec_headers.get_header("WARC-Refers-To-Target-URI") or url
    return RawRecord(n, raw=b"", error="warc_revisit", extra={"url": url},
                     detail=f"a revisit of {target} ({record.rec_headers.get_header('WARC-Profile') or 'no profile'}): "
                            "its payload is in an earlier record, read as that record")


def _archive_record(record, n: int, read) -> RawRecord | None:
    """None for a record that describes the crawl (warcinfo, request, metadata), a counted revisit, or what the
    format's `read(record, n, url)` makes of the record."""
    kind = record.rec_type
    if kind in NOT_DOCUMENTS:
        return None
    url = _url(record)
    if kind == "revisit":
        return _revisit(record, n, url)
    return read(record, n, url)


def _warc_record(record, n: int, url: str | None) -> RawRecord:
    """An HTML page (a response, or a resource record) -> {html, url, charset, warc_record_id, date}."""
    kind = record.rec_type
    if kind == "response":
        ctype = (record.http_headers.get_header("Content-Type") if record.http_headers else None) or ""
    elif kind == "resource":  # a page archived without its HTTP exchange (its type in the WARC header)
        ctype = record.rec_headers.get_header("Content-Type") or ""
    elif kind == "conversion":
        return _not_read(record, n, url, "a text record (WET: read the file with `format: wet`)")
    else:
        return _not_read(record, n, url, f"a {kind} record")
    body = _body(record, n)
    if "html" not in ctype.lower():
        return RawRecord(n, raw=b"", error="unsupported_content", detail=f"{ctype or 'no type'} at {url}",
                         extra={"url": url})
    m = _HTTP_CHARSET.search(ctype)
    html, charset = decode_html(body, m.group(1) if m else None)
    return RawRecord(n, data={"html": html, "url": url, "charset": charset,
                              "warc_record_id": record.rec_headers.get_header("WARC-Record-ID"),
                              "date": record.rec_headers.get_header("WARC-Date")
                              or record.rec_headers.get_header("archive-date")})


def _wet_record(record, n: int, url: str | None) -> RawRecord:
    """A WET text record (`conversion`: the text Common Crawl extracted from a response) -> {text, url,
    warc_record_id, date, refers_to (the response's record id), languages (Common Crawl's CLD2 guess)}."""
    kind = record.rec_type
    if kind != "conversion":
        return _not_read(record, n, url, f"a {kind} record in a WET file (read WARC files with `format: warc`)")
    body = _body(record, n)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        return RawRecord(n, raw=body, error="utf8", detail=f"invalid UTF-8 at byte {e.start} of the text at {url}",
                         extra={"url": url})
    headers = record.rec_headers
    return RawRecord(n, data={"text": text, "url": url, "warc_record_id": headers.get_header("WARC-Record-ID"),
                              "date": headers.get_header("WARC-Date"),
                              "refers_to": headers.get_header("WARC-Refers-To"),
                              "languages": headers.get_header("WARC-Identified-Content-Language")})


def _archive_iterator(stream):
    """warcio's iterator, minus its stderr warning about a bad Content-Length, which prints the bytes that follow
    the record (document content) straight to the terminal; the damage is counted by the record that follows."""
    from warcio.archiveiterator import ArchiveIterator

    class QuietArchiveIterator(ArchiveIterator):
        INC_RECORD = ""

    return QuietArchiveIterator(stream)


def _next_gzip_member(f: BinaryIO, start: int, size: int) -> int | None:
    """The next offset >= start where a gzip member begins that decompresses to a WARC record header."""
    window = 1 << 20
    pos = start
    while pos < size:
        f.seek(pos)
        block = f.read(window + 2)
        i = block.find(_GZIP_MAGIC)
        while i != -1:
            f.seek(pos + i)
            try:
                head = zlib.decompressobj(31).decompress(f.read(4096), 16)
            except zlib.error:
                head = b""
            if head.startswith((b"WARC/", b"filedesc")):
                return pos + i
            i = block.find(_GZIP_MAGIC, i + 1)
        pos += window
    return None


def _iter_warc_gzip(f: BinaryIO, size: int, convert) -> Iterator[RawRecord]:
    n, offset = 0, 0
    while offset < size:
        member = _GzipMember(f, offset)
        held: list[RawRecord] = []
        held_bytes = 0
        try:
            for record in _archive_iterator(member):
                rec = convert(record, n + 1)
                if rec is None:
                    continue
                n += 1
                held.append(rec)
                held_bytes += sum(len(v) for v in (rec.data or {}).values() if isinstance(v, str))
                if held_bytes > MAX_BUFFERED:  # a whole-file gzip of many records: stream it, damage counted below
                    yield from held
                    held, held_bytes = [], 0
            end = member.drain()
        except EOFError as e:
            yield from held
            yield RawRecord(n + 1, error="truncated_stream", detail=str(e))
            return
        except Exception as e:  # noqa: BLE001 - zlib.error, warcio's ArchiveLoadFailed, a bad header...
            n += 1
            resync = _next_gzip_member(f, offset + 1, size)
            where = f"resynced at byte {resync}" if resync is not None else "no further record"
            yield RawRecord(n, error="warc_record",
                            detail=f"damaged record at byte {offset} ({type(e).__name__}: {str(e)[:80]}); {where}")
            if resync is None:
                return
            offset = resync
            continue
        yield from held
        offset = end


def _next_warc_header(f: BinaryIO, start: int, size: int) -> int | None:
    window = 1 << 20
    pos = start
    while pos < size:
        f.seek(pos)
        block = f.read(window + 16)
        m = _WARC_LINE.search(block, 1 if pos == start else 0)
        if m:
            return pos + m.start(1)
        pos += window
    return None


def _iter_warc_plain(f: BinaryIO, size: int, convert) -> Iterator[RawRecord]:
    n, offset = 0, 0
    while offset < size:
        f.seek(offset)
        it = _archive_iterator(f)
        record_start = offset
        try:
            for record in it:
                record_start = it.offset
                rec = convert(record, n + 1)
                if rec is not None:
                    n += 1
                    yield rec
            f.seek(it.offset)
            if f.read(4096).strip():  # warcio ends quietly where a record header is cut off
                yield RawRecord(n + 1, error="truncated_stream", detail=f"a cut record at byte {it.offset}")
            return
        except Exception as e:  # noqa: BLE001 - a damaged header or a cut body
            n += 1
            record_start = max(record_start, getattr(it, "offset", record_start))  # the record being parsed
            resync = _next_warc_header(f, record_start + 1, size)
            if resync is None:
                yield RawRecord(n, error="truncated_stream" if isinstance(e, EOFError) else "warc_record",
                                detail=f"damaged record at byte {record_start} ({type(e).__name__}); no further record")
                return
            yield RawRecord(n, error="warc_record",
                            detail=f"damaged record at byte {record_start} ({type(e).__name__}); resynced at byte {resync}")
            offset = resync


def _iter_archive(path: str, read) -> Iterator[RawRecord]:
    def convert(record, n: int) -> RawRecord | None:
        return _archive_record(record, n, read)

    with _open(path) as f:
        if f is None:
            yield _unreadable(path)
            return
        size = fs_size(path)
        if f.read(3) == _GZIP_MAGIC:
            yield from _iter_warc_gzip(f, size, convert)
        else:
            yield from _iter_warc_plain(f, size, convert)


def iter_warc(path: str) -> Iterator[RawRecord]:
    """HTML pages (HTTP responses, resource records) become records {html, url, charset, warc_record_id, date}; other
    records that could hold a page are reported (`unsupported_content`, `warc_revisit`)."""
    return _iter_archive(path, _warc_record)


def iter_wet(path: str) -> Iterator[RawRecord]:
    """Common Crawl's WET files: each text record becomes {text, url, warc_record_id, date, refers_to, languages}."""
    return _iter_archive(path, _wet_record)


ITERATORS = {"jsonl": iter_jsonl, "parquet": iter_parquet, "warc": iter_warc, "wet": iter_wet,
             "html": iter_html_file}
