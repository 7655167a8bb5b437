"""Promise: a run folder is never left in a state a rerun cannot finish, and curate never destroys what is not its
own: finalization resumes from any point, --force deletes only run folders that hold none of the inputs, two runs
cannot share a folder, and the one-file commands never leave half-written outputs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from curate.config import ConfigError
from curate.jsonl_io import AtomicOutput
from curate.runner import Run, run

GOOD = "A perfectly fine document about gardens. It has a few sentences. Nothing is wrong with it."


def write_inputs(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    words = ["apple", "birch", "cedar", "daisy", "elder", "fern", "grape", "hazel", "iris", "juniper"]
    docs = [{"id": f"d{i}", "text": f"{GOOD} About the {words[i % 10]} and the {words[i // 10]}."} for i in range(30)]
    docs += [{"id": "short", "text": "tiny"}, {"id": "copy", "text": docs[3]["text"]}]
    a, b = folder / "a.jsonl", folder / "b.jsonl"
    a.write_text("".join(json.dumps(d) + "\n" for d in docs[::2]) + "{broken\n")
    b.write_text("".join(json.dumps(d) + "\n" for d in docs[1::2]))
    return [a, b]


def pipeline(tmp_path: Path, inputs: list[Path], out: Path, name: str = "p.yaml") -> str:
    """Two segments (a distributed exact dedup cuts the pipeline), so finalization also gathers a segment's
    removed shards."""
    p = tmp_path / name
    p.write_text(f"name: t\ninputs: [{{name: s, paths: {json.dumps([str(x) for x in inputs])}}}]\n"
                 "steps: [{type: length, min_chars: 20}, {type: dedup_exact, mode: distributed, bucket_tasks: 2}]\n"
                 f"output: {{dir: {out}}}\nexecutor: {{tasks: 1}}\n")
    return str(p)


def comparable(run_dir: Path) -> tuple[dict, list[dict], list[dict]]:
    m = json.loads((run_dir / "manifest.json").read_text())
    for key in ("started_at", "finished_at", "run_dir", "versions", "config", "config_hash"):
        m.pop(key)
    for step in m["steps"]:  # how long a step took is not part of the result (0.0 or 0.001 s as the machine goes)
        step.pop("seconds")
    kept = pl.read_parquet(run_dir / "data" / "*.parquet").sort("id").drop("file").to_dicts()
    removed = pl.read_parquet(run_dir / "removed" / "**" / "*.parquet").sort("id").drop("file").to_dicts()
    return m, kept, removed


class Killed(BaseException):
    """What `kill -9` leaves behind: nothing after this point ran (no cleanup, no `finally` of ours)."""


def test_a_run_killed_at_any_point_of_finalization_finishes_on_rerun(tmp_path, monkeypatch):
    inputs = write_inputs(tmp_path / "in")
    run(pipeline(tmp_path, inputs, tmp_path / "reference", "ref.yaml"), progress=False)
    reference = comparable(tmp_path / "reference")
    assert reference[0]["removed"] == {"invalid:json": 1, "length:too_short": 1, "dedup_exact:duplicate": 1}

    point = 0
    while True:
        point += 1
        out = tmp_path / f"killed_at_{point}"
        p = pipeline(tmp_path, inputs, out, f"p{point}.yaml")
        r = Run(p)
        r.prepare(force=False)
        r.execute(progress=False)
        calls = {"n": 0}

        def dying(fn):
            def call(*args, **kwargs):
                calls["n"] += 1
                if calls["n"] == point:
                    raise Killed(f"killed before file operation {point}")
                return fn(*args, **kwargs)
            return call

        with monkeypatch.context() as mp:  # every file operation finalization makes is a place it can die
            for module, name in ((os, "replace"), (os, "remove"), (os, "makedirs"), (shutil, "rmtree")):
                mp.setattr(module, name, dying(getattr(module, name)))
            try:
                r.finalize()
                finished = True
            except Killed:
                finished = False
        r.lock.release()
        died_after_manifest = not finished and (out / "manifest.json").exists()
        state, _ = run(p, progress=False)  # the rerun a user makes
        assert state == ("complete" if finished or died_after_manifest else "resume")
        assert comparable(out) == reference, f"killed at file operation {point}"
        assert not (out / "work").exists()
        if finished:
            break
    assert point >= 6  # journal, moves of data/ and removed/, manifest, cleanup: each was a place to die


def test_force_deletes_only_run_folders_that_hold_no_input(tmp_path):
    inputs = write_inputs(tmp_path / "in")
    thesis = tmp_path / "thesis"
    thesis.mkdir()
    (thesis / "chapter1.tex").write_text("years of work")
    with pytest.raises(ConfigError, match="not a curate run folder"):
        run(pipeline(tmp_path, inputs, thesis), force=True, progress=False)
    assert [x.name for x in thesis.iterdir()] == ["chapter1.tex"]  # untouched: not even a lock file was added
    # the input folder itself, and a run folder that holds inputs (a run reading an earlier run's shards)
    with pytest.raises(ConfigError, match="not a curate run folder"):
        run(pipeline(tmp_path, inputs, tmp_path / "in", "q.yaml"), force=True, progress=False)
    earlier = tmp_path / "earlier"
    run(pipeline(tmp_path, inputs, earlier, "e.yaml"), progress=False)
    shards = sorted((earlier / "data").glob("*.parquet"))
    with pytest.raises(ConfigError, match="holds input files"):
        run(pipeline(tmp_path, shards, earlier, "e2.yaml"), force=True, progress=False)
    assert all(p.exists() for p in inputs + shards)
    # a run folder: --force starts it over
    out = tmp_path / "run"
    p = pipeline(tmp_path, inputs, out, "r.yaml")
    run(p, progress=False)
    (out / "data" / "stray.txt").write_text("x")
    state, m = run(p, force=True, progress=False)
    assert state == "new" and m["documents_kept"] == 30 and not (out / "data" / "stray.txt").exists()


def test_two_runs_cannot_share_a_run_folder(tmp_path):
    inputs = write_inputs(tmp_path / "in")
    p = pipeline(tmp_path, inputs, tmp_path / "run")
    first = Run(p)
    first.prepare(force=False)
    with pytest.raises(ConfigError, match=rf"in use by another curate run \(pid {os.getpid()}\)"):
        run(p, progress=False)
    with pytest.raises(ConfigError, match="in use"):  # not even --force may take it
        run(p, force=True, progress=False)
    first.lock.release()
    state, m = run(p, progress=False)
    assert state == "resume" and m["documents_kept"] == 30


def test_one_file_commands_count_invalid_lines_and_write_whole_files(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join([json.dumps({"id": "a", "text": "mail jane.roe@example.org about gardens"}),
                              '{"id": "cut", "text": "call 010-2345-6789 no end',
                              json.dumps({"id": "b", "text": "mail jane.roe@example.org about gardens"}),
                              json.dumps({"id": "c", "body": "no text field"})]) + "\n")
    out, removed = tmp_path / "out.jsonl", tmp_path / "removed.jsonl"
    cmd = [sys.executable, "-m", "curate.cli"]
    r = subprocess.run(cmd + ["dedup", str(src), "-o", str(out), "--removed", str(removed)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "2 invalid lines" in r.stderr
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == ["a"]
    rem = [json.loads(x) for x in removed.read_text().splitlines()]
    assert sorted(x["removed_reason"] for x in rem) == ["dedup_exact:duplicate", "invalid:json", "invalid:missing_text"]
    rejects = tmp_path / "rejects.jsonl"
    r = subprocess.run(cmd + ["scrub", str(src), "-o", str(out), "--rejects", str(rejects)], capture_output=True,
                       text=True)
    assert r.returncode == 0 and "1 invalid lines" in r.stderr
    assert "jane.roe@example.org" not in out.read_text() and len(out.read_text().splitlines()) == 3
    reject = json.loads(rejects.read_text())
    assert reject["line"] == 2 and reject["reason"] == "invalid:json" and "010-2345-6789" not in reject["raw"]
    # an output appears whole or not at all
    target = tmp_path / "partial.jsonl"
    with pytest.raises(RuntimeError), AtomicOutput(str(target)) as f:
        f.write("half of it\n")
        raise RuntimeError("the command failed")
    assert not target.exists() and not list(tmp_path.glob(".partial.jsonl.*"))
