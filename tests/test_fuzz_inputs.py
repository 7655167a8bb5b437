"""Promise, fuzzed: whatever happens to the input files — bit flips, truncation, fields of the wrong type — `curate run`
ends, the accounting law holds, and every record is accounted for exactly once.

The records come from the real documents in ../shared when it is present (else from the bundled demo corpus) and
are written as plain JSONL, JSONL.gz, JSONL.zst, Parquet, WARC.gz and WET.gz, then mutated per seed. The test counts, on
its own, what each mutated file holds: every line of a plain JSONL file, every row of a Parquet file whose footer
still reads, the records of each WARC/WET gzip member the mutation did not touch, the longest prefix of a compressed
stream it can decode. Those records must each appear exactly once in data/ or removed/.
"""

from __future__ import annotations

import gzip
import io
import json
import random
import zlib
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from conftest import archive_record
from curate.runner import run

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "corpora" / "web_en_ko.jsonl.gz"
SEEDS = [*range(8), 13]  # 13: a flip in the footer made pyarrow read a row group as 0 rows, without an error


def base_records(n: int = 60) -> list[dict]:
    source = SHARED if SHARED.exists() else REPO / "pipelines" / "demo_data" / "web_en.jsonl.gz"
    out = []
    with gzip.open(source, "rt", encoding="utf-8") as f:
        for i, line in enumerate(f):
            rec = json.loads(line)
            out.append({"id": f"r{i}", "text": rec["text"][:3000], "url": rec.get("url") or f"https://x.example/{i}"})
            if len(out) == n:
                break
    return out


def jsonl_bytes(records: list[dict]) -> bytes:
    return b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records)


def warc_members(records: list[dict], wet: bool = False) -> list[bytes]:
    """One gzip member per record: HTML responses, or (wet) Common Crawl's text records."""
    if wet:
        return [archive_record("conversion", r["url"], r["text"].encode(), ctype="text/plain") for r in records]
    return [archive_record("response", r["url"], f"<html><body><p>{r['text'][:500]}</p></body></html>".encode())
            for r in records]


def mutate(data: bytes, rng: random.Random) -> tuple[bytes, list[int]]:
    """Bit flips and/or a truncation; returns the new bytes and the damaged offsets (a cut damages all after it)."""
    data = bytearray(data)
    damaged: list[int] = []
    kind = rng.choice(["flip", "cut", "both"])
    if kind in ("flip", "both"):
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
            damaged.append(i)
    if kind in ("cut", "both"):
        cut = rng.randrange(len(data) // 4, len(data))
        del data[cut:]
        damaged.append(cut)
    return bytes(data), damaged


def type_swaps(records: list[dict], rng: random.Random) -> list[dict]:
    out = []
    for r in records:
        r = dict(r)
        if rng.random() < 0.2:
            field = rng.choice(["text", "id", "url"])
            r[field] = rng.choice([None, 7, 3.5, ["a", "b"], {"k": "v"}, True, ""])
        out.append(r)
    return out


def decodable_lines(data: bytes, codec: str) -> tuple[list[int], bool]:
    """Line numbers of the complete, non-blank lines the test can decode from a (damaged) single-frame compressed
    stream, fed one byte at a time so that it stops exactly where the stream breaks; and whether it broke."""
    d = zlib.decompressobj(31) if codec == "gz" else zstandard.ZstdDecompressor().decompressobj()
    out = b""
    try:
        for i in range(len(data)):
            out += d.decompress(data[i:i + 1])
            if d.eof:
                break
        damaged = not d.eof
    except (zlib.error, zstandard.ZstdError):
        damaged = True
    lines = out.split(b"\n")
    complete = lines[:-1] if damaged or not lines[-1] else lines
    return [n for n, line in enumerate(complete, 1) if line.strip()], damaged


@pytest.mark.parametrize("seed", SEEDS)
def test_mutated_inputs_are_each_accounted_for_once(tmp_path, seed):
    rng = random.Random(seed)
    records = base_records()
    groups = [records[i::5] for i in range(5)]
    files: dict[str, dict] = {}

    # plain JSONL: every line is a record
    plain, _ = mutate(jsonl_bytes(type_swaps(groups[0], rng)), rng)
    (tmp_path / "plain.jsonl").write_bytes(plain)
    files["plain.jsonl"] = {"expect": len([x for x in plain.split(b"\n") if x.strip() and x.strip() != b"\xef\xbb\xbf"])}

    # gzip and zstd JSONL: the decodable prefix, then one row for the rest
    for name, compress in (("docs.jsonl.gz", gzip.compress), ("docs.jsonl.zst", zstandard.ZstdCompressor().compress)):
        blob, _ = mutate(compress(jsonl_bytes(groups[1 if name.endswith("gz") else 2])), rng)
        (tmp_path / name).write_bytes(blob)
        lines, damaged = decodable_lines(blob, "gz" if name.endswith("gz") else "zst")
        files[name] = {"prefix": lines, "damaged": damaged}

    # Parquet (several row groups): every row of a readable footer is a record
    pq.write_table(pa.table({"id": [r["id"] for r in groups[3]], "text": [r["text"] for r in groups[3]]}),
                   tmp_path / "docs.parquet", row_group_size=4)
    blob, _ = mutate((tmp_path / "docs.parquet").read_bytes(), rng)
    (tmp_path / "docs.parquet").write_bytes(blob)
    try:
        files["docs.parquet"] = {"expect": pq.ParquetFile(io.BytesIO(blob)).metadata.num_rows}
    except Exception:  # noqa: BLE001 - a damaged footer: one row for the file
        files["docs.parquet"] = {"expect": 1}

    # WARC and WET: the records of untouched gzip members must be read
    for name, group, wet in (("crawl.warc.gz", groups[4], False), ("crawl.warc.wet.gz", groups[0], True)):
        members = warc_members(group, wet=wet)
        blob, damaged_at = mutate(b"".join(members), rng)
        (tmp_path / name).write_bytes(blob)
        intact, start = [], 0
        for r, member in zip(group, members):  # untouched by every flip, and wholly before any cut
            if start + len(member) <= len(blob) and not any(start <= d < start + len(member) for d in damaged_at):
                intact.append(r["url"])
            start += len(member)
        files[name] = {"intact_urls": intact}

    p = tmp_path / "p.yaml"
    paths = [str(tmp_path / name) for name in files]
    p.write_text(f"name: fuzz\ninputs: [{{name: s, paths: {json.dumps(paths)}}}]\n"
                 "steps: [{type: length, min_chars: 1}, {type: dedup_exact}]\n"
                 f"output: {{dir: {tmp_path / 'run'}}}\n")
    _, m = run(str(p), progress=False)  # ends: no exception, whatever the damage
    assert m["documents_in"] == m["documents_kept"] + sum(m["removed"].values())

    kept = pl.read_parquet(tmp_path / "run" / "data" / "*.parquet") if m["documents_kept"] else None
    removed = pl.read_parquet(tmp_path / "run" / "removed" / "**" / "*.parquet")
    rows = pl.concat([df.select("file", "line", "url", "id") for df in (kept, removed) if df is not None])
    by_file = {name: rows.filter(pl.col("file") == str(tmp_path / name)) for name in files}
    assert sum(len(df) for df in by_file.values()) == m["documents_in"]
    for name, df in by_file.items():
        assert df["line"].n_unique() == len(df), f"{name}: a record written twice"
    assert len(by_file["plain.jsonl"]) == files["plain.jsonl"]["expect"]
    assert len(by_file["docs.parquet"]) == files["docs.parquet"]["expect"]
    for name in ("docs.jsonl.gz", "docs.jsonl.zst"):
        lines, damaged = files[name]["prefix"], files[name]["damaged"]
        got = by_file[name].sort("line")["line"].to_list()
        if damaged:  # what was read is a prefix of what can be decoded (a reader may lose the block before the
            # damage), then one row stands for the rest of the file
            assert got[:-1] == lines[:len(got) - 1], name
        else:
            assert got == lines, name
    for name in ("crawl.warc.gz", "crawl.warc.wet.gz"):
        urls = by_file[name]["url"].to_list()
        for url in files[name]["intact_urls"]:
            assert urls.count(url) == 1, f"{name}: intact record {url} read {urls.count(url)} times"
