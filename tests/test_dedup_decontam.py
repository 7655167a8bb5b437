"""Decontamination on real pages: documents that quote evaluation items are caught per evaluation set."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_dedup import SHARED, load_docs, run_pipeline, shards, write_jsonl  # noqa: E402

from curate.util import read_json  # noqa: E402


@pytest.mark.skipif(not (SHARED / "web_en_ko.jsonl.gz").exists(), reason="../shared/corpora absent")
def test_documents_quoting_eval_items_are_removed_per_set(tmp_path):
    docs = [d for d in load_docs(seed=5) if len(d["text"].split()) > 200][:120]
    # evaluation items made of sentences of some pages (so that those pages "contain the benchmark")
    mmlu_src, hella_src = docs[:5], docs[5:8]
    mmlu = [{"question": " ".join(d["text"].split()[50:80]), "choices": ["A", "B", "C", "D"], "answer": 1}
            for d in mmlu_src]
    hella = [{"ctx": " ".join(d["text"].split()[100:115]), "endings": [" ".join(d["text"].split()[115:130]), "x"],
              "label": 0} for d in hella_src]
    write_jsonl(tmp_path / "mmlu.jsonl", mmlu)
    (tmp_path / "hellaswag.json").write_text(json.dumps(hella))
    # a page with a single 12-word overlap is not contaminated at n=13
    docs.append(docs[10] | {"id": "near-miss", "text": " ".join(docs[0]["text"].split()[50:62])})
    path = write_jsonl(tmp_path / "in.jsonl", docs)
    steps = [{"type": "decontaminate", "eval_sets": [
        {"name": "mmlu", "paths": [str(tmp_path / "mmlu.jsonl")], "fields": ["question", "choices"]},
        {"name": "hellaswag", "paths": [str(tmp_path / "hellaswag.json")]}]}]
    run_dir, manifest = run_pipeline(tmp_path, [path], steps, out="run")
    removed = {r["id"]: r for r in shards(run_dir, "removed").to_dicts()}
    assert {d["id"] for d in mmlu_src} <= set(removed)
    assert {d["id"] for d in hella_src} <= set(removed)
    assert "near-miss" not in removed
    for d in mmlu_src:
        assert removed[d["id"]]["removed_reason"] == "decontaminate:mmlu"
        assert removed[d["id"]]["contaminated_by"] == "mmlu"
    section = read_json(run_dir / "logs" / "report_sections" / "decontaminate.json")["data"]["sets"]
    assert section["mmlu"]["documents"] >= 5 and section["hellaswag"]["documents"] >= 3
    assert manifest["documents_in"] == manifest["documents_kept"] + sum(manifest["removed"].values())
