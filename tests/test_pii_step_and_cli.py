"""The `pii` step in a pipeline (kept and removed documents, counts, no values in any output), `curate scrub`, and
the replacement operators (mask, salted hash)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from curate.scrub.pii import PiiParams, PiiScrubber  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def test_mask_and_salted_hash(monkeypatch):
    monkeypatch.setenv("CURATE_PII_SALT", "a-test-salt-of-enough-length")
    p = PiiParams(entities=["EMAIL_ADDRESS", "PHONE_NUMBER"], operators={"EMAIL_ADDRESS": {"type": "hash"},
                                                                         "PHONE_NUMBER": {"type": "mask"}})
    s = PiiScrubber(p)
    out1, _ = s.scrub("a.b@example.com and 010-2345-6789")
    out2, _ = PiiScrubber(p).scrub("a.b@example.com")
    assert out1.startswith("<EMAIL:") and out1.split(" and ")[0] == out2  # deterministic for one salt
    assert out1.endswith("*************") and "a.b@example.com" not in out1
    monkeypatch.setenv("CURATE_PII_SALT", "another-salt-of-enough-length")
    assert PiiScrubber(p).scrub("a.b@example.com")[0] != out2
    monkeypatch.setenv("CURATE_PII_SALT", "short")
    with pytest.raises(ValueError):
        PiiScrubber(p).scrub("a.b@example.com")


def _cli(args, stdin: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "curate.cli", *args], input=stdin, capture_output=True, text=True,
                          cwd=REPO, env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=120)


def test_cli_scrub_stdin_stdout():
    records = [{"id": 1, "text": "mail a.b@example.org, 전화 010-9876-5432", "meta": {"k": "v"}},
               {"id": 2, "text": "nothing to see", "url": "https://example.com"}]
    r = _cli(["scrub", "-", "-o", "-"], "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in records))
    assert r.returncode == 0, r.stderr
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert out[0] == {"id": 1, "text": "mail <EMAIL>, 전화 <PHONE>", "meta": {"k": "v"}}
    assert out[1] == records[1]
    assert "a.b@example.org" not in r.stderr and "EMAIL_ADDRESS: 1" in r.stderr


def test_pipeline_scrubs_kept_and_removed(tmp_path):
    from curate.runner import run

    docs = [{"id": "a", "text": "Short note: reach me at jane@example.com or 010-2345-6789."},
            {"id": "b", "text": "Another short note without anything personal at all in it."},
            {"id": "c", "text": "AKIAABCDEFGHIJKLMNOP 900101-1234568"}]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    (tmp_path / "p.yaml").write_text(f"""
name: pii_test
inputs:
  - name: t
    paths: {tmp_path / 'in.jsonl'}
    license: CC0-1.0
steps:
  - type: length
    min_chars: 40
  - type: pii
output:
  dir: {tmp_path / 'run'}
""")
    from curate.steps import step_class

    assert "min_chars" in step_class("length").Params.model_fields, "the length step's parameter name changed"
    state, manifest = run(str(tmp_path / "p.yaml"), force=True, progress=False)
    assert manifest["documents_in"] == manifest["documents_kept"] + sum(manifest["removed"].values())
    kept = pl.read_parquet(str(tmp_path / "run" / "data" / "*.parquet"))
    removed = pl.read_parquet(str(tmp_path / "run" / "removed" / "*" / "*.parquet"))
    everything = " ".join(kept["text"].to_list() + removed["text"].to_list())
    for value in ("jane@example.com", "010-2345-6789", "AKIAABCDEFGHIJKLMNOP", "900101-1234568"):
        assert value not in everything
    row = kept.filter(pl.col("id") == "a").row(0, named=True)
    assert json.loads(row["pii_counts"]) == {"EMAIL_ADDRESS": 1, "PHONE_NUMBER": 1}
    pii = next(s for s in manifest["steps"] if s["type"] == "pii")
    assert pii["counters"]["EMAIL_ADDRESS"] == 1 and pii["counters"]["removed_documents_scrubbed"] == 1
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["pii"]["data"]["PHONE_NUMBER"] == 1
    for path in (tmp_path / "run").rglob("*"):  # no value in any log, report or shard metadata
        if path.is_file() and path.suffix in (".json", ".md", ".log", ".txt"):
            assert "jane@example.com" not in path.read_text(errors="ignore")
