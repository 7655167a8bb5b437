"""Single-node and multi-stage (distributed) MinHash dedup agree on the same data and parameters; the distributed run
keeps the accounting law across stages and resumes after a crash to the same result."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_dedup import CORPORA, documents, near_copy, run_pipeline, shards, write_jsonl  # noqa: E402

from curate.runner import Run, run  # noqa: E402


def decisions(run_dir: Path) -> dict[str, tuple]:
    removed = {r["id"]: ("removed", r["removed_reason"], r["duplicate_of"], r["cluster_id"], r["cluster_size"],
                         round(r["similarity"] or 0, 3)) for r in shards(run_dir, "removed").to_dicts()}
    kept = {r["id"]: ("kept", r["cluster_id"], r["cluster_size"]) for r in shards(run_dir, "data").to_dicts()}
    return removed | kept


def index_rows(run_dir: Path) -> dict[str, tuple]:
    """The persisted MinHash index (what a later run dedups against): id -> (band keys, signature)."""
    import numpy as np
    import pyarrow.parquet as pq

    rows = {}
    for part in sorted((run_dir / "index" / "dedup_minhash").iterdir()):
        ids = pq.read_table(part / "ids.parquet").column("id").to_pylist()
        keys, sigs = np.load(part / "keys.npy"), np.load(part / "sigs.npy")
        rows |= {i: (tuple(k.tolist()), s.tobytes()) for i, k, s in zip(ids, keys, sigs)}
    return rows


@pytest.mark.parametrize("corpus", CORPORA)
@pytest.mark.parametrize("keep", ["first", pytest.param("longest", marks=pytest.mark.slow)])
def test_single_and_distributed_agree(tmp_path, keep, corpus):
    docs = documents(corpus, 300, min_chars=800, seed=4)
    copies = [d | {"id": f"copy-{i}", "text": near_copy(d["text"], i)} for i, d in enumerate(docs[:60])]
    half = (docs + copies)[::2], (docs + copies)[1::2]  # copies land in the other file (the other task) too
    files = [write_jsonl(tmp_path / "a.jsonl", half[0]), write_jsonl(tmp_path / "b.jsonl", half[1])]
    steps = [{"type": "length", "min_chars": 1000}, {"type": "dedup_minhash", "keep": keep}]
    single, m1 = run_pipeline(tmp_path, files, steps, out="single", tasks=1)
    dist_steps = [steps[0], steps[1] | {"mode": "distributed"}]
    dist, m2 = run_pipeline(tmp_path, files, dist_steps, out="dist", tasks=2)
    a, b = decisions(single), decisions(dist)
    assert sum(v[0] == "removed" and v[1].startswith("dedup_minhash") for v in a.values()) >= 50
    assert a == b
    assert m1["removed"] == m2["removed"] and m1["documents_kept"] == m2["documents_kept"]
    # the index of the kept documents is the same too (distributed mode stores band keys band by band on disk)
    index = index_rows(single)
    assert len(index) == m1["documents_kept"] and index == index_rows(dist)
    for m in (m1, m2):
        assert m["documents_in"] == m["documents_kept"] + sum(m["removed"].values())
    assert not (dist / "work").exists()  # intermediates cleaned up
    if keep == "first":
        # crash during stage 2 of task 1 (after stage 1, buckets and cluster finished): the rerun resumes
        r = Run(str(tmp_path / "dist.yaml"))
        r.prepare(force=True)
        r.execute(progress=False)
        r.lock.release()  # what the death of the process would do
        os.remove(dist / "logs" / "datatrove" / "completions" / "00001")
        state, m3 = run(str(tmp_path / "dist.yaml"), progress=False)
        assert state == "resume"
        assert decisions(dist) == b and m3["removed"] == m2["removed"]
        assert index_rows(dist) == index  # task 1 wrote its part of the index again as it applied its decisions


def test_an_index_whose_run_did_not_finish_is_refused(tmp_path):
    """In distributed mode each task writes its part of the index as it applies its decisions, so a run stopped
    half-way leaves some parts unwritten: a later run deduping against that index must fail naming it, not miss the
    duplicates of the parts that are not there."""
    import json

    from curate.dedup.store import load_index

    docs = documents("fixture", 120, min_chars=800, seed=5)
    files = [write_jsonl(tmp_path / "a.jsonl", docs[::2]), write_jsonl(tmp_path / "b.jsonl", docs[1::2])]
    first, m = run_pipeline(tmp_path, files, [{"type": "dedup_minhash", "mode": "distributed"}], out="first", tasks=2)
    folder = first / "index" / "dedup_minhash"
    parts = sorted(folder.glob("*/meta.json"))
    assert [json.loads(p.read_text())["parts"] for p in parts] == [2, 2]
    ids, keys, sigs = load_index(str(folder), {})
    assert len(ids) == len(keys) == len(sigs) == m["documents_kept"] > 0
    parts[1].unlink()  # task 1 had not finished
    with pytest.raises(ValueError, match="incomplete: 1 of its 2 parts"):
        load_index(str(folder), {})


def test_collectors_spill_per_document_columns_a_batch_at_a_time(tmp_path):
    """What the collectors keep per document goes to disk as it is made (a task's memory does not grow with its
    documents): the columns in Parquet row groups of one batch each, band keys as rows of a file that np.load reads."""
    import numpy as np
    import pyarrow.parquet as pq

    from curate.dedup.distributed import META_SCHEMA
    from curate.dedup.store import ColumnSpill, RowStore

    spill = ColumnSpill(str(tmp_path / "c" / "meta.parquet"), META_SCHEMA, batch_rows=4)
    rows = [(f"doc-{i}", 10_000 + i, 50 * i, None if i % 3 else 0.5 * i, 1) for i in range(10)]
    for row in rows:
        spill.add(*row)
    assert not (tmp_path / "c" / "meta.parquet").exists()  # complete files only
    spill.close()
    f = pq.ParquetFile(tmp_path / "c" / "meta.parquet")
    assert f.metadata.num_row_groups == 3 and spill.rows == 10  # 4 + 4 + 2: never more than a batch held
    assert [tuple(r.values()) for r in f.read().to_pylist()] == rows

    # band by band: a band of every document is one contiguous row (what a bucket task reads), across chunks
    store = RowStore(str(tmp_path / "c" / "bands.bin"), 5, np.uint64)
    parts = [np.arange(k * 5, (k + 3) * 5, dtype=np.uint64).reshape(3, 5) + 2**63 for k in range(4)]
    for part in parts:
        store.add(part)
    store.save_columns_npy(str(tmp_path / "c" / "columns.npy"))
    assert np.array_equal(np.load(tmp_path / "c" / "columns.npy"), np.concatenate(parts).T)
    assert not (tmp_path / "c" / "bands.bin").exists()
    wide = RowStore(str(tmp_path / "w" / "rows.bin"), 3, np.uint64)
    big = np.arange(3 * 1_000_000, dtype=np.uint64).reshape(-1, 3)  # 24 MB: two 16 MB chunks
    wide.add(big)
    wide.save_columns_npy(str(tmp_path / "w" / "columns.npy"))
    assert np.array_equal(np.load(tmp_path / "w" / "columns.npy"), big.T)
    empty = RowStore(str(tmp_path / "e" / "bands.bin"), 5, np.uint64)
    empty.save_columns_npy(str(tmp_path / "e" / "columns.npy"))
    assert np.load(tmp_path / "e" / "columns.npy").shape == (5, 0)


def test_segment_reader_holds_one_batch_not_the_shard(tmp_path):
    """A later segment reads the shards of the one before; pyarrow's pre-buffering kept every row group read so far
    (a worker grew by its whole shard, up to shard_size_mb: +250 MB at 500,000 documents per task)."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from curate.plan import SegmentReader
    from curate.writers.sink import INTERNAL_COLUMN

    data, acc = tmp_path / "data", tmp_path / "acc"
    data.mkdir()
    acc.mkdir()
    rows, groups = 500, 40
    schema = pa.schema([("id", pa.string()), ("text", pa.string()), ("extra", pa.string()),
                        (INTERNAL_COLUMN, pa.string())])
    with pq.ParquetWriter(data / "000_00000.parquet", schema) as w:
        for g in range(groups):  # 40 row groups of ~1 MB (random text: compression does not shrink it)
            w.write_table(pa.table({"id": [f"d{g}-{i}" for i in range(rows)], "text": [os.urandom(1000).hex() for i in range(rows)],
                                    "extra": [None] * rows, INTERNAL_COLUMN: ["{}"] * rows}, schema=schema))
    (acc / "00000.sink.json").write_text(json.dumps({"documents_kept": rows * groups}))
    peak, n = 0, 0
    for doc in SegmentReader(str(data), str(acc)).run(None, 0, 1):
        n += 1
        peak = max(peak, pa.total_allocated_bytes())
    assert n == rows * groups
    assert peak < 8 * 2**20, peak  # the shard is ~40 MB of text


def test_decisions_and_index_parts_are_written_a_chunk_at_a_time(tmp_path):
    """The cluster stage writes each task's decisions, and each task its part of the index, in chunks of rows (a
    million documents' decisions as Python strings, or their signatures copied out of the memory map, would cost
    ~0.2-0.7 KB each): the files read back as if written at once."""
    import numpy as np
    import pyarrow.parquet as pq

    from curate.dedup.clusters import cluster
    from curate.dedup.decisions import _rows, write_decisions
    from curate.dedup.store import _save_rows

    rng = np.random.default_rng(0)
    sigs = rng.integers(0, 2**32, size=(50, 16), dtype=np.uint32)
    path = tmp_path / "sigs.bin"
    sigs.tofile(path)
    mapped = np.memmap(path, dtype=np.uint32, mode="r", shape=sigs.shape)
    rows = np.array([3, 7, 8, 20, 21, 22, 40, 49])
    _save_rows(str(tmp_path / "part.npy"), mapped, rows, chunk=3)
    assert np.array_equal(np.load(tmp_path / "part.npy"), sigs[rows])
    _save_rows(str(tmp_path / "none.npy"), mapped, rows[:0], chunk=3)
    assert np.load(tmp_path / "none.npy").shape == (0, 16)

    ids = [f"d{i}" for i in range(10)]
    result = cluster(10, np.array([0, 0, 4]), np.array([1, 2, 5]), np.arange(10))
    out = tmp_path / "decisions" / "00000.parquet"
    write_decisions(str(out), np.arange(10), np.arange(10), ids, result, np.full(10, 0.75), n_ref=0, chunk=4)
    assert pq.ParquetFile(out).metadata.num_row_groups == 3
    got = [row for _, row in _rows(str(out))]
    assert [r["pos"] for r in got] == list(range(10)) and [r["id"] for r in got] == ids
    assert [r["duplicate_of"] for r in got] == [None, "d0", "d0", None, None, "d4", None, None, None, None]
    assert [r["reason"] for r in got][:3] == [None, "duplicate", "duplicate"]
