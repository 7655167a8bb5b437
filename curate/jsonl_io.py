"""JSONL in and out for the one-file commands (`curate dedup`, `curate scrub`): records are parsed like the pipeline
reader parses them (a bad line is a record with a reason, never an exception), and an output file appears only
once it is complete (written beside itself, renamed at the end), so a failed command leaves no half-written file."""

from __future__ import annotations

import gzip
import io
import os
import sys
import tempfile
from typing import IO, Iterator

from curate.readers.formats import BOM, RawRecord, parse_json_line


def read_records(path: str) -> Iterator[RawRecord]:
    """Records of a JSONL file ('-': stdin; .gz read as gzip), bad lines included as records with an `error`."""
    stream: IO[bytes] = sys.stdin.buffer if path == "-" else (gzip.open(path, "rb") if path.endswith(".gz")
                                                              else open(path, "rb"))
    try:
        for n, raw in enumerate(stream, 1):
            raw = raw.rstrip(b"\r\n")
            if n == 1 and raw.startswith(BOM):
                raw = raw[len(BOM):]
            if raw.strip():
                yield parse_json_line(raw, n)
    except (EOFError, OSError) as e:  # a cut or damaged .gz: what was read stands, the rest is reported
        yield RawRecord(-1, error="truncated_stream", detail=f"{type(e).__name__}: {e}")
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


class AtomicOutput:
    """`with AtomicOutput(path) as f`: a text file that replaces `path` only when the block ends without an error
    ('-': stdout, written as it goes)."""

    def __init__(self, path: str | None):
        self.path, self.f, self.raw, self.tmp = path, None, None, None

    def __enter__(self) -> IO[str] | None:
        if self.path is None:
            return None
        if self.path == "-":
            self.f = sys.stdout
            return self.f
        fd, self.tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(self.path)),
                                        prefix=f".{os.path.basename(self.path)}.", suffix=".tmp")
        self.raw = os.fdopen(fd, "wb")
        self.f = gzip.open(self.raw, "wt", encoding="utf-8") if self.path.endswith(".gz") else \
            io.TextIOWrapper(self.raw, encoding="utf-8")
        return self.f

    def __exit__(self, exc_type, exc, tb):
        if self.f is None:
            return False
        if self.f is sys.stdout:
            self.f.flush()
            return False
        self.f.close()  # a gzip wrapper leaves the file it was given open
        self.raw.close()
        if exc_type is None:
            os.replace(self.tmp, self.path)
        else:
            os.remove(self.tmp)
        return False
