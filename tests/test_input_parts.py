"""Large input files read by several tasks (curate/readers/parts.py): parts cover the file exactly, records keep
their line numbers, and a run over parts decides exactly what a run over whole files decides."""

import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from conftest import run_outcome
from curate.readers.formats import iter_jsonl, iter_parquet
from curate.readers.parts import jsonl_cuts, parquet_cuts, split_into_parts
from curate.runner import run

MB = 2**20


def _words(rng: random.Random, n: int) -> str:
    # random words (text that Parquet cannot compress much) with stop words between them
    return " ".join(rng.choice(("the", "of", "and", "to", "with")) if i % 4 == 3 else rng.randbytes(3).hex()
                    for i in range(n))


def _records(rec_list):
    return [(r.line, r.data, r.error, r.detail) for r in rec_list]


def damaged_jsonl(path: Path, rng: random.Random, target_bytes: int) -> Path:
    """A JSONL file with what real dumps hold: a BOM, blank lines, CRLF ends, a bad line, invalid UTF-8, a line
    longer than a part, and no newline after the last line."""
    lines = [b"\xef\xbb\xbf" + json.dumps({"id": "first", "text": _words(rng, 20)}).encode()]
    i = 0
    while sum(map(len, lines)) < target_bytes:
        i += 1
        kind = i % 97
        if kind == 5:
            lines.append(b"")
        elif kind == 11:
            lines.append(b'{"text": "cut off')
        elif kind == 17:
            lines.append(b'{"text": "bad \xff byte"}')
        elif i == 150:
            lines.append(json.dumps({"text": _words(rng, 250_000)}).encode())  # ~2.5 MB: longer than a part
        else:
            end = b"\r" if kind == 23 else b""
            lines.append(json.dumps({"text": _words(rng, rng.randrange(20, 400))}).encode() + end)
    path.write_bytes(b"\n".join(lines))  # no newline at the end
    return path


def test_jsonl_parts_cover_the_file_and_keep_line_numbers(tmp_path):
    path = damaged_jsonl(tmp_path / "big.jsonl", random.Random(1), 6 * MB)
    cuts = jsonl_cuts(str(path), MB)
    assert len(cuts) >= 4
    assert cuts[0]["start"] == 0 and cuts[-1]["stop"] == path.stat().st_size
    assert all(a["stop"] == b["start"] for a, b in zip(cuts, cuts[1:]))
    data = path.read_bytes()
    assert all(data[c["start"] - 1:c["start"]] == b"\n" for c in cuts[1:])  # every part starts at a line start
    whole = _records(iter_jsonl(str(path)))
    parts = [r for c in cuts for r in _records(iter_jsonl(str(path), part=c))]
    assert parts == whole
    assert {e for _, _, e, _ in whole} == {None, "json", "utf8"}
    # the file's id: <file>:<line> needs the true line numbers (blank lines count)
    assert [c["first"] for c in cuts] == [data[:c["start"]].count(b"\n") + 1 for c in cuts]


def test_parquet_parts_are_runs_of_row_groups(tmp_path):
    rng = random.Random(2)
    path = tmp_path / "big.parquet"
    texts = [rng.randbytes(3000).hex() for _ in range(1200)]  # incompressible: ~7 MB
    pq.write_table(pa.table({"id": [f"d{i}" for i in range(len(texts))], "text": texts}), path, row_group_size=100)
    cuts = parquet_cuts(str(path), 2 * MB)
    assert 3 <= len(cuts) <= 5
    assert cuts[0]["start"] == 0 and cuts[-1]["stop"] == 12
    assert all(a["stop"] == b["start"] for a, b in zip(cuts, cuts[1:]))
    assert [c["first"] for c in cuts] == [100 * c["start"] + 1 for c in cuts]
    whole = _records(iter_parquet(str(path)))
    assert [r for c in cuts for r in _records(iter_parquet(str(path), part=c))] == whole
    assert len(whole) == 1200


def test_only_large_plain_jsonl_and_parquet_are_split(tmp_path):
    rng = random.Random(3)
    big = damaged_jsonl(tmp_path / "big.jsonl", rng, 3 * MB)
    small = damaged_jsonl(tmp_path / "small.jsonl", rng, MB // 4)
    gz = tmp_path / "big.jsonl.gz"
    import gzip

    gz.write_bytes(gzip.compress(big.read_bytes(), compresslevel=1))
    files = [{"path": str(p), "format": "jsonl", "index": i} for i, p in enumerate([big, small, gz])]
    parts = split_into_parts(files, MB)
    assert [p["path"] for p in parts].count(str(big)) == len(jsonl_cuts(str(big), MB)) >= 2
    assert [p for p in parts if p["path"] != str(big)] == files[1:]  # whole, as they were
    assert split_into_parts(files, 0) == files


def _pipeline(tmp: Path, inputs: list[Path], tasks: int, split_mb: int, out: str) -> Path:
    cfg = {"name": "parts", "inputs": [{"name": "web", "paths": [str(p) for p in inputs], "license": "CC-BY-4.0"}],
           "steps": [{"type": "dedup_exact"},
                     {"type": "dedup_minhash", "mode": "distributed"}],
           "output": {"dir": str(tmp / out), "shard_size_mb": 1},
           "executor": {"tasks": tasks, "workers": 2, "split_mb": split_mb}}
    path = tmp / f"{out}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    run(str(path), progress=False)
    return tmp / out


def test_a_run_over_parts_decides_what_a_run_over_whole_files_decides(tmp_path):
    rng = random.Random(4)
    big = damaged_jsonl(tmp_path / "big.jsonl", rng, 3 * MB)
    # near and exact duplicates across parts, so that the global steps must see all parts as one input
    with open(big, "ab") as f:
        bases = [_words(random.Random(k), 120).split() for k in range(3)]
        for i in range(60):  # each a copy of one of three texts with one word changed
            words = list(bases[i % 3])
            words[rng.randrange(len(words))] = f"changed{i}"
            f.write(b"\n" + json.dumps({"text": " ".join(words)}).encode())
    texts = [_words(rng, 2000) for _ in range(200)] + [_words(random.Random(5), 100)] * 3  # ~2 MB compressed
    table = pa.table({"id": [f"p{i}" for i in range(len(texts))], "text": texts})
    pq.write_table(table, tmp_path / "big.parquet", row_group_size=5)
    inputs = [big, tmp_path / "big.parquet"]

    whole = _pipeline(tmp_path, inputs, tasks=1, split_mb=0, out="whole")
    parts = _pipeline(tmp_path, inputs, tasks=3, split_mb=1, out="parts")

    a, b = run_outcome(whole), run_outcome(parts)
    assert a["kept"] == b["kept"] and a["removed"] == b["removed"]
    for key in ("documents_in", "documents_kept", "removed", "duplicate_ids", "licenses", "sources"):
        assert a["totals"][key] == b["totals"][key], key
    removed = a["totals"]["removed"]
    assert removed["dedup_minhash:duplicate"] >= 50 and removed["dedup_exact:duplicate"] >= 2, removed
    assert removed["invalid:json"] > 0 and removed["invalid:utf8"] > 0, removed
    # every task read a share of the big file, and the manifest names each input file once
    readers = [json.loads(p.read_text()) for p in sorted(parts.glob("logs/accounting/**/0000*.reader.json"))]
    assert len(readers) == 3 and all(r["documents_in"] > 0 for r in readers)
    for path in inputs:
        assert sum(any(e["path"] == str(path) for e in r["inputs"]) for r in readers) >= 2, path
    manifest = json.loads((parts / "manifest.json").read_text())
    by_path = {e["path"]: e for e in manifest["inputs"]}
    whole_inputs = {e["path"]: e for e in json.loads((whole / "manifest.json").read_text())["inputs"]}
    assert sorted(by_path) == sorted(whole_inputs) == sorted(str(p) for p in inputs)
    assert by_path[str(big)]["parts"] >= 3
    for p in by_path:
        assert by_path[p]["documents"] == whole_inputs[p]["documents"]
        assert by_path[p]["sha256"] == whole_inputs[p]["sha256"]
    # the progress bar counts what the tasks read: parts here, files in the run that cut nothing
    for run_dir, unit, count in ((parts, "parts", sum(by_path[p].get("parts", 1) for p in by_path)),
                                 (whole, "files", len(inputs))):
        progress = [json.loads(p.read_text()) for p in run_dir.glob("logs/progress/*.json")]
        assert {p["unit"] for p in progress} == {unit} and sum(p["files"] for p in progress) == count


def test_the_part_size_is_part_of_the_run(tmp_path):
    """A run folder is resumed only with the part size it started with: parts decide which task reads what."""
    from curate.config import load_pipeline

    base = {"name": "x", "inputs": [{"name": "web", "paths": ["x.jsonl"]}], "steps": [],
            "executor": {"tasks": 2}}
    hashes = set()
    for split in (256, 64):
        path = tmp_path / f"p{split}.yaml"
        path.write_text(yaml.safe_dump(base | {"executor": {"tasks": 2, "split_mb": split}}))
        hashes.add(load_pipeline(str(path)).config_hash())
    assert len(hashes) == 2


@pytest.mark.parametrize("bad", [-1])
def test_a_negative_part_size_is_refused(tmp_path, bad):
    from curate.config import ConfigError, load_pipeline

    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({"name": "x", "inputs": [{"name": "web", "paths": ["x.jsonl"]}], "steps": [],
                                    "executor": {"tasks": 2, "split_mb": bad}}))
    with pytest.raises(ConfigError, match="split_mb"):
        load_pipeline(str(path))
