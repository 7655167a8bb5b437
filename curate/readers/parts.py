"""Large input files cut into parts that several tasks read at once: uncompressed JSONL at line boundaries, Parquet
at row-group boundaries. A part's records keep the line (row) numbers they have in the whole file, so document ids
(`<file>:<line>`), the order global steps decide by, and every error message are the same however the file was cut.

Tasks read parts as they read files (task `rank` reads `parts[rank::tasks]`), so one big file no longer runs on one
worker while the others wait. Compressed JSONL (.gz, .zst) and WARC/WET/HTML files have no point to start reading
at without reading what comes before it: they are read whole, by one task.
"""

from __future__ import annotations

from typing import Any, Iterator

from curate.fs import open_binary
from curate.fs import size as fs_size

SCAN_CHUNK = 8 << 20
COMPRESSED_MAGIC = (b"\x1f\x8b", b"\x28\xb5\x2f\xfd")  # gzip, zstd
COMPRESSED_NAMES = (".gz", ".zst", ".zstd")


def split_into_parts(files: list[dict[str, Any]], part_bytes: int) -> list[dict[str, Any]]:
    """Every input file, the ones larger than `part_bytes` (>0) replaced by their parts, in order. A part is the
    file's spec with `part` added: {"k", "of", "start", "stop", "first"} (byte range and first line number for JSONL;
    row groups [start, stop) and first row number for Parquet)."""
    out: list[dict[str, Any]] = []
    for spec in files:
        parts = _cuts(spec, part_bytes) if part_bytes > 0 else []
        if len(parts) < 2:
            out.append(spec)
            continue
        out.extend({**spec, "part": {"k": k, "of": len(parts), **p}} for k, p in enumerate(parts))
    return out


def _cuts(spec: dict[str, Any], part_bytes: int) -> list[dict[str, int]]:
    cut = {"jsonl": jsonl_cuts, "parquet": parquet_cuts}.get(spec["format"])
    if cut is None or spec["path"].lower().endswith(COMPRESSED_NAMES):  # judged by name first: no look at the file
        return []
    try:
        return cut(spec["path"], part_bytes) if fs_size(spec["path"]) > part_bytes else []
    except Exception:  # noqa: BLE001 - a file that cannot be looked at is read whole; the reader reports its damage
        return []


def jsonl_cuts(path: str, part_bytes: int) -> list[dict[str, int]]:
    """Byte ranges of about `part_bytes` that start at a line start, with the number of their first line. One pass
    over the file (newlines counted at memory speed); none for a compressed file, which cannot be entered midway."""
    starts = [(0, 1)]  # (byte, line number) where each part starts
    pos, lines, target = 0, 0, part_bytes
    with open_binary(path) as f:
        if f.read(4).startswith(COMPRESSED_MAGIC):
            return []
        f.seek(0)
        while chunk := f.read(SCAN_CHUNK):
            # the first newline at or after each target that falls in this chunk ends that part
            while target < pos + len(chunk):
                nl = chunk.find(b"\n", max(target - pos, 0))
                if nl < 0:
                    break  # the line goes on into the next chunk: look there
                start = pos + nl + 1
                starts.append((start, lines + chunk.count(b"\n", 0, nl + 1) + 1))
                target = start + part_bytes
            lines += chunk.count(b"\n")
            pos += len(chunk)
    if starts[-1][0] >= pos:  # the file ends on the last cut
        starts.pop()
    ends = [s for s, _ in starts[1:]] + [pos]
    return [{"start": s, "stop": e, "first": line} for (s, line), e in zip(starts, ends)]


def parquet_cuts(path: str, part_bytes: int) -> list[dict[str, int]]:
    """Runs of whole row groups of about `part_bytes` (compressed), with the number of their first row."""
    import pyarrow.parquet as pq

    with open_binary(path) as f:
        meta = pq.ParquetFile(f).metadata
    groups = [meta.row_group(g) for g in range(meta.num_row_groups)]
    cuts: list[dict[str, int]] = []
    start, first, size, rows = 0, 1, 0, 0
    for g, group in enumerate(groups):
        size += sum(group.column(c).total_compressed_size for c in range(group.num_columns))
        rows += group.num_rows
        if size >= part_bytes or g == len(groups) - 1:
            cuts.append({"start": start, "stop": g + 1, "first": first})
            start, first, size = g + 1, rows + 1, 0
    return cuts


def jsonl_part_lines(f, part: dict[str, int]) -> Iterator[bytes]:
    """The lines of one JSONL part from an open binary file."""
    f.seek(part["start"])
    remaining = part["stop"] - part["start"]
    for line in f:
        if remaining <= 0:
            return
        remaining -= len(line)
        yield line
