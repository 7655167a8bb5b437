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
