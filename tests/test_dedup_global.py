"""Dedup over the whole input, whatever the number of tasks: with `mode: distributed`, exact (text and URL keys) and
MinHash dedup find duplicates in different files and tasks, and `--tasks 1` and `--tasks 4` give the same kept set,
the same `duplicate_of` and the same clusters, for every keep policy. (Runs on the bundled demo corpus: no
../shared needed.)"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import polars as pl
import pytest

from curate.runner import run

REPO = Path(__file__).resolve().parents[1]


def corpus(tmp_path: Path) -> list[Path]:
    """The demo's English and Korean articles spread over 4 files, with 100 exact copies (some re-cased and
    re-spaced: equal after normalisation), 20 URL copies and 30 near copies planted across the files."""
    rng = random.Random(5)
    docs = [json.loads(x) for x in gzip.decompress((REPO / "pipelines/demo_data/web_en.jsonl.gz").read_bytes()).splitlines()]
    docs += [json.loads(x) for x in (REPO / "pipelines/demo_data/web_ko.jsonl").read_text().splitlines()]
    docs = [{"id": f"d{i}", "text": d["text"], "url": f"https://site.example/{i}"} for i, d in enumerate(docs)
            if len(d["text"]) > 300]
    planted = []
    for k in range(100):
        src = rng.choice(docs)
        text = src["text"] if k % 2 else src["text"].upper().replace(" ", "  ")
        planted.append({"id": f"copy{k}", "text": text, "url": f"https://mirror.example/{k}"})
    for k in range(20):
        src = rng.choice(docs)
        planted.append({"id": f"urlcopy{k}", "text": f"Another page at the same address, number {k}. " * 5,
                        "url": src["url"]})
    for k in range(30):
        src = rng.choice(docs)
        words = src["text"].split()
        words[rng.randrange(len(words))] = "CHANGED"
        planted.append({"id": f"near{k}", "text": " ".join(words), "url": f"https://near.example/{k}"})
    everything = docs + planted
    rng.shuffle(everything)
    files = []
    for f in range(4):
        path = tmp_path / f"part{f}.jsonl"
        path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in everything[f::4]))
        files.append(path)
    return files


def pipeline(tmp_path: Path, files: list[Path], keep: str, name: str) -> str:
    p = tmp_path / f"{name}.yaml"
    p.write_text(f"""name: global
inputs: [{{name: web, paths: {json.dumps([str(f) for f in files])}}}]
steps:
  - {{type: dedup_exact, name: dedup_url, key: url, mode: distributed, keep: {keep}}}
  - {{type: dedup_exact, name: dedup_text, mode: distributed, keep: {keep}, bucket_tasks: 3}}
  - {{type: dedup_minhash, mode: distributed, keep: {keep}, threshold: 0.7}}
output: {{dir: {tmp_path / name}}}
""")
    return str(p)


def decisions(run_dir: Path) -> dict:
    kept = pl.read_parquet(run_dir / "data" / "*.parquet")
    removed = pl.read_parquet(run_dir / "removed" / "**" / "*.parquet")
    out = {r["id"]: ("kept", r["cluster_id"], r["cluster_size"]) for r in kept.iter_rows(named=True)}
    out |= {r["id"]: (r["removed_reason"], r["duplicate_of"], r["cluster_id"], r["cluster_size"])
            for r in removed.iter_rows(named=True)}
    return out


@pytest.mark.parametrize("keep", ["first", "longest"])
def test_one_task_and_four_tasks_decide_the_same(tmp_path, keep):
    files = corpus(tmp_path)
    one = pipeline(tmp_path, files, keep, "one")
    four = pipeline(tmp_path, files, keep, "four")
    _, m1 = run(one, tasks=1, progress=False)
    _, m4 = run(four, tasks=4, workers=2, progress=False)
    a, b = decisions(tmp_path / "one"), decisions(tmp_path / "four")
    assert a == b
    assert m1["removed"] == m4["removed"] and m1["documents_kept"] == m4["documents_kept"]
    # the planted copies were found although they sit in other files (other tasks) than their originals
    assert m4["removed"]["dedup_url:duplicate"] == 20
    assert m4["removed"]["dedup_text:duplicate"] >= 95  # a copy whose original shared a URL copy's fate is gone
    assert m4["removed"]["dedup_minhash:duplicate"] >= 25
    for reason, dup_of, *_ in (v for v in b.values() if v[0] != "kept"):
        assert dup_of in b  # every removed copy points at a document of the run


def test_fresh_workers_after_the_global_stages_decide_the_same(tmp_path, monkeypatch):
    """Workers that have grown by the end of a global stage are replaced (`SharedPool.after_stage`); here every
    global stage counts as grown (on this corpus none grows by `RENEW_ABOVE_MB`): the new workers take the next
    stages' tasks and the run decides exactly as one task does."""
    from curate import executors

    files = corpus(tmp_path)
    one, four = pipeline(tmp_path, files, "first", "one"), pipeline(tmp_path, files, "first", "four")
    _, m1 = run(one, tasks=1, progress=False)
    renewed, workers = [], []
    after_stage = executors.SharedPool.after_stage

    def watched(shared, global_stage):
        renewed.append(after_stage(shared, global_stage))
        workers.append(set(shared.worker_memory()))
        return renewed[-1]

    monkeypatch.setattr(executors, "RENEW_ABOVE_MB", -1024)  # any size counts as grown
    monkeypatch.setattr(executors.SharedPool, "after_stage", watched)
    _, m4 = run(four, tasks=4, workers=2, progress=False)
    # segment, URL partitions, segment, text partitions, segment, MinHash buckets, cluster, last segment
    assert renewed == [False, True, False, True, False, True, True, False]
    assert all(len(w) == 2 for w in workers) and len(set().union(*workers)) == 10  # new workers each time
    assert decisions(tmp_path / "one") == decisions(tmp_path / "four")
    assert m1["removed"] == m4["removed"] and m1["documents_kept"] == m4["documents_kept"]
