"""End to end: the demo pipeline, the run folder contract, the accounting law, resume after kill -9."""

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from conftest import DEMO_PIPELINE, REPO, shared_path
from curate.runner import run


def manifest_of(run_dir) -> dict:
    return json.loads((run_dir / "manifest.json").read_text())


def test_demo_run_obeys_the_accounting_law(demo_run):
    """Every document read is kept or removed for one reason: documents_in = kept + removed."""
    m = manifest_of(demo_run)
    assert m["documents_kept"] > 0 and m["removed"]
    assert m["documents_in"] == m["documents_kept"] + sum(m["removed"].values())


def test_documents_in_are_the_documents_of_the_inputs(demo_run):
    m = manifest_of(demo_run)
    assert m["documents_in"] == sum(i["documents"] for i in m["inputs"])


def test_each_step_removed_what_its_reasons_count(demo_run):
    """A step's `removed` is the sum of its `step:reason` counts; unreadable records go to `invalid:*` before any step."""
    m = manifest_of(demo_run)
    by_step = Counter()
    for reason, n in m["removed"].items():
        by_step[reason.split(":")[0]] += n
    assert {s["name"]: s["removed"] for s in m["steps"] if s["removed"]} == \
        {step: n for step, n in by_step.items() if step != "invalid"}


def test_the_demo_corpus_gives_each_filter_work(demo_run):
    """The demo corpus plants spam URLs, other languages, repetitive pages, copies and non-commercial licenses: each
    of those filtering steps removes some. (gopher_quality, on the prose view, finds nothing left to remove after
    them on this corpus: its junk is measured on real pages and generated junk in benchmarks/quality_eval.py.)"""
    m = manifest_of(demo_run)
    steps = {r.split(":")[0] for r in m["removed"]}
    assert {"url_filter", "lang", "gopher_repetition", "dedup_exact", "dedup_minhash", "license"} <= steps


def test_every_kind_of_broken_record_is_counted_by_reason(demo_run):
    """demo_data/broken.jsonl and truncated.jsonl.gz hold one of each kind of bad record."""
    assert {"invalid:json", "invalid:utf8", "invalid:not_object", "invalid:missing_text", "invalid:empty_text",
            "invalid:oversize", "invalid:truncated_stream"} <= set(manifest_of(demo_run)["removed"])


def test_the_manifest_lists_the_configured_steps_in_order(demo_run):
    m = manifest_of(demo_run)
    assert [s["name"] for s in m["steps"]] == [s["name"] or s["type"] for s in m["config"]["steps"]]


def test_the_output_shards_hold_exactly_the_kept_documents(demo_run):
    m = manifest_of(demo_run)
    assert sorted(o["path"] for o in m["outputs"]) == \
        sorted(str(f.relative_to(demo_run)) for f in (demo_run / "data").glob("*.parquet"))
    for o in m["outputs"]:
        assert pl.read_parquet(demo_run / o["path"]).height == o["documents"]
    assert sum(o["documents"] for o in m["outputs"]) == m["documents_kept"]


def test_each_input_file_is_recorded_with_its_size_and_hash(demo_run):
    m = manifest_of(demo_run)
    assert {Path(i["path"]).name for i in m["inputs"]} == {"web_en.jsonl.gz", "web_ko.jsonl", "forum.jsonl",
                                                           "code.jsonl", "crawl.warc.gz", "broken.jsonl",
                                                           "truncated.jsonl.gz"}
    for i in m["inputs"]:
        data = Path(i["path"]).read_bytes()
        assert (i["size"], i["sha256"]) == (len(data), hashlib.sha256(data).hexdigest()), i["path"]


def test_the_manifest_records_config_versions_and_times(demo_run):
    from importlib.metadata import version

    m = manifest_of(demo_run)
    assert re.fullmatch(r"[0-9a-f]{64}", m["config_hash"]) and m["config"]["name"] == "demo"
    assert m["versions"]["datatrove"] == version("datatrove") and m["versions"]["polars"] == pl.__version__
    assert m["started_at"] <= m["finished_at"]


def test_kept_documents_and_bytes_are_counted_per_license_language_and_source(demo_run):
    """The manifest's breakdowns are those of the kept shards (a document without a language counts as unknown)."""
    m = manifest_of(demo_run)
    kept = pl.read_parquet(demo_run / "data" / "*.parquet").with_columns(
        pl.col("lang").fill_null("unknown"), pl.col("text").str.len_bytes().alias("bytes"))
    assert kept["bytes"].sum() == m["bytes_kept"]
    for key, column in (("licenses", "license"), ("languages", "lang"), ("sources", "source")):
        counted = {r[column]: (r["len"], r["bytes"])
                   for r in kept.group_by(column).agg(pl.len(), pl.col("bytes").sum()).iter_rows(named=True)}
        assert counted == {k: (v["documents"], v["bytes"]) for k, v in m[key].items()}, key


def test_shards_have_the_contract_columns_and_load_in_polars_and_datasets(demo_run):
    df = pl.read_parquet(demo_run / "data" / "*.parquet")
    for col in ("id", "text", "source", "url", "lang", "lang_score", "license", "license_source",
                "license_confidence", "file", "line", "extra"):
        assert col in df.columns
    assert set(df["lang"].drop_nulls()) <= {"en", "ko"}
    assert df.filter(pl.col("source") == "web-ko")["lang"].unique().to_list() == ["ko"]
    forum = df.filter(pl.col("source") == "forum")
    assert set(forum["license_source"]) == {"record"}  # per-record licenses win over the (absent) declared one
    import datasets

    ds = datasets.load_dataset("parquet", data_files=str(demo_run / "data" / "*.parquet"), split="train")
    assert len(ds) == len(df)


def test_removed_documents_are_kept_by_reason(demo_run):
    removed = pl.read_parquet(demo_run / "removed" / "**" / "*.parquet")
    m = json.loads((demo_run / "manifest.json").read_text())
    counts = dict(removed.group_by("removed_reason").len().iter_rows())
    assert counts == m["removed"]
    spam = removed.filter(pl.col("url").str.contains("cheap-casino-offers"))
    assert spam["removed_reason"].unique().to_list() == ["url_filter:domain"]


def test_warc_pages_are_extracted_to_text(demo_run):
    df = pl.read_parquet(demo_run / "data" / "*.parquet").filter(pl.col("source") == "crawl")
    assert len(df) >= 4
    assert not df["text"].str.contains("<p>").any() and not df["text"].str.contains("All rights reserved").any()
    assert df["url"].str.starts_with("https://www.demo-site.example/").all()


def test_report_summarises_the_run(demo_run):
    from curate.report import write_report

    rep = write_report(str(demo_run))
    md = (demo_run / "report.md").read_text()
    assert "## Removed, by reason" in md and "invalid:json" in md
    steps = {s["step"]: s for s in rep["steps"]}
    assert steps["input"]["documents_in"] == rep["documents_in"]
    last = rep["steps"][-1]
    assert last["documents_out"] == rep["documents_kept"]
    assert {r["lang"] for r in rep["languages"]} >= {"en", "ko"}
    assert json.loads((demo_run / "report.json").read_text())["documents_kept"] == rep["documents_kept"]


def test_rerun_of_a_complete_run_does_nothing(demo_run):
    before = sorted(p.name for p in (demo_run / "data").iterdir())
    state, m = run(str(DEMO_PIPELINE), output=str(demo_run), progress=False)
    assert state == "complete" and sorted(p.name for p in (demo_run / "data").iterdir()) == before


def summary_rows(output: str) -> dict[str, tuple[str, str, str]]:
    """The rows of the table `curate run` prints: {label: (documents, %, MB)} as shown."""
    rows = (re.fullmatch(r"\s*(\S.*?)\s+([\d,]+)\s+([\d.]+)\s+([\d,.]+)\s*", line) for line in output.splitlines())
    return {m[1]: (m[2], m[3], m[4]) for m in rows if m}


def test_cli_run_with_input_and_output_overrides(tmp_path):
    """`--input`/`--output` replace the YAML's; the printed summary shows the manifest's numbers."""
    from click.testing import CliRunner

    from curate.cli import cli

    src = tmp_path / "in.jsonl"
    short = [{"id": f"d{i}", "text": f"Document number {i} is long enough."} for i in range(5)]
    bodies = ["def area(width, height):\n    return width * height\n",
              "class Stack:\n    def __init__(self):\n        self.items = []\n",
              "import sys\n\nfor line in sys.stdin:\n    print(line.upper(), end='')\n"]
    code = [{"id": f"c{i}", "path": f"src/m{i}.py", "text": f"# SPDX-License-Identifier: MIT\n{body}"}
            for i, body in enumerate(bodies)]
    src.write_text("".join(json.dumps(r) + "\n" for r in short + code))
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["run", str(REPO / "pipelines" / "code.yaml"), "--input", str(src),
                                   "--output", str(out), "--tasks", "1", "--no-progress"])
    assert res.exit_code == 0, res.output
    m = json.loads((out / "manifest.json").read_text())
    assert m["run_dir"] == str(out) and [i["path"] for i in m["inputs"]] == [str(src)]
    assert m["documents_in"] == 8 and m["documents_kept"] == 3 and m["removed"] == {"length:too_short": 5}
    assert set(pl.read_parquet(out / "data" / "*.parquet")["id"]) == {"c0", "c1", "c2"}
    rows = summary_rows(res.output)
    assert rows["in"] == ("8", "100.0", f"{m['bytes_in'] / 1e6:,.2f}")
    assert rows["kept"] == ("3", "37.5", f"{m['bytes_kept'] / 1e6:,.2f}")
    assert rows["length:too_short"] == ("5", "62.5", f"{m['removed_bytes']['length:too_short'] / 1e6:,.2f}")
    assert f"runfolder:{out}" in "".join(res.output.split())  # the caption may wrap, even inside the path
    res = CliRunner().invoke(cli, ["report", str(out)])
    assert res.exit_code == 0, res.output
    assert "8 documents in" in res.output and "3 kept (37.5%" in res.output
    assert f"| length:too_short | 5 | {m['removed_bytes']['length:too_short']} |" in res.output


def _make_big_input(folder, files=6, docs=1500):
    os.makedirs(folder, exist_ok=True)
    for f in range(files):
        with open(os.path.join(folder, f"part{f}.jsonl"), "w") as fh:
            for i in range(docs):
                words = " ".join(f"w{(i * 7 + j * 13 + f) % 997}" for j in range(40 + i % 30))
                fh.write(json.dumps({"id": f"{f}-{i}", "text": words + "."}) + "\n")


def _pipeline(tmp_path, input_dir, out):
    p = tmp_path / f"{out.name}.yaml"
    p.write_text(f"name: crash\ninputs: [{{name: s, paths: ['{input_dir}/*.jsonl']}}]\n"
                 "steps:\n  - {type: length, min_chars: 300}\n  - {type: gopher_repetition}\n"
                 f"output: {{dir: {out}, shard_size_mb: 1}}\nexecutor: {{tasks: 6, workers: 1}}\n")
    return p


def _contents(run_dir):
    df = pl.read_parquet(run_dir / "data" / "*.parquet")
    return sorted(zip(df["id"], df["text"]))


def test_kill_minus_nine_then_rerun_equals_an_uninterrupted_run(tmp_path):
    _make_big_input(tmp_path / "in")
    crashed, clean = tmp_path / "crashed", tmp_path / "clean"
    cmd = [sys.executable, "-m", "curate.cli", "run", str(_pipeline(tmp_path, tmp_path / "in", crashed)),
           "--no-progress"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    completions = crashed / "logs" / "datatrove" / "completions"
    deadline = time.time() + 300
    while time.time() < deadline and not (completions.is_dir() and len(os.listdir(completions)) >= 2):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (crashed / "manifest.json").exists(), "the run finished before it could be killed"
    done = len(os.listdir(completions))
    assert done < 6
    # rerun the same command: it resumes and completes
    subprocess.run(cmd, cwd=tmp_path, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    m_crashed = json.loads((crashed / "manifest.json").read_text())
    run(str(_pipeline(tmp_path, tmp_path / "in", clean)), progress=False)
    m_clean = json.loads((clean / "manifest.json").read_text())
    for key in ("documents_in", "documents_kept", "removed", "bytes_in", "bytes_kept"):
        assert m_crashed[key] == m_clean[key], key
    assert _contents(crashed) == _contents(clean)  # same documents, none twice


def test_force_starts_over_and_a_changed_config_is_refused(tmp_path):
    from curate.config import ConfigError

    _make_big_input(tmp_path / "in", files=1, docs=50)
    out = tmp_path / "r"
    p = _pipeline(tmp_path, tmp_path / "in", out)
    run(str(p), progress=False)
    p.write_text(p.read_text().replace("min_chars: 300", "min_chars: 100"))
    with pytest.raises(ConfigError, match="different pipeline config"):
        run(str(p), progress=False)
    state, m = run(str(p), progress=False, force=True)
    assert state == "new" and m["documents_in"] == 50


@pytest.mark.slow
def test_shared_corpus_run(tmp_path):
    corpus = shared_path("corpora", "web_en_ko.jsonl.gz")
    p = tmp_path / "p.yaml"
    p.write_text(f"name: shared\ninputs: [{{name: docs, paths: ['{corpus}']}}]\n"
                 "steps:\n  - {type: language, name: lang, languages: [en, ko]}\n"
                 "  - {type: gopher_repetition, per_language: {ko: {dup_line_frac: 0.374}}}\n"
                 f"output: {{dir: {tmp_path / 'run'}}}\nexecutor: {{tasks: 1}}\n")
    _, m = run(str(p), progress=False)
    assert m["documents_in"] == 3923
    assert m["documents_in"] == m["documents_kept"] + sum(m["removed"].values())
    assert set(m["languages"]) <= {"en", "ko"} and m["licenses"]


def test_shared_korean_euc_kr_html_pages(tmp_path):
    pages = shared_path("corpora", "html_pages")
    p = tmp_path / "p.yaml"
    p.write_text(f"name: html\ninputs: [{{name: httpd, paths: ['{pages}/*.ko.html'], license: Apache-2.0}}]\n"
                 "steps:\n  - {type: html_extract}\n  - {type: language, name: lang, languages: [ko], threshold: 0.3}\n"
                 f"output: {{dir: {tmp_path / 'run'}}}\n")
    _, m = run(str(p), progress=False)
    assert m["documents_in"] == 10
    df = pl.read_parquet(tmp_path / "run" / "data" / "*.parquet")
    assert len(df) >= 8 and (df["lang"] == "ko").all()
    assert df["text"].str.contains("[가-힣]").all()  # EUC-KR decoded, not mojibake


def test_html_extract_extracts_html_and_passes_other_text_through(tmp_path):
    """A JSONL dump through html_extract: HTML pages and fragments are extracted; Markdown, plain text and a README
    that opens with a centred logo pass through unchanged (trafilatura would have emptied them); a WARC response is
    HTML by the reader's account even when, as text, it would not pass for HTML (no <html>, no closing tags)."""
    import io

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    para = "The filter compresses responses before they are sent to the client, which saves bandwidth."
    texts = {
        "markdown": f"# Compression\n\n{para}\n\n```\nSetOutputFilter DEFLATE\n```\n",
        "plain": f"{para} It costs some CPU time on the server.",
        "readme": f'<div align="center">\n  <img src="logo.png">\n</div>\n\n# Project\n\n{para}\n',
        "page": f"<!DOCTYPE html>\n<html><head><title>t</title></head><body><p>{para}</p></body></html>",
        "fragment": f"<div class='doc'><p>{para}</p><p>{para.replace('filter', 'module')}</p></div>\n",
    }
    (tmp_path / "dump.jsonl").write_text("".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in texts.items()))
    buf = io.BytesIO()
    w = WARCWriter(buf, gzip=True)
    body = f"<meta charset=utf-8><title>Compression</title><p>{para}<p>It costs some CPU time on the server."
    w.write_record(w.create_warc_record("https://example.com/a", "response", payload=io.BytesIO(body.encode()),
                                        http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html")],
                                                                      protocol="HTTP/1.1")))
    (tmp_path / "crawl.warc.gz").write_bytes(buf.getvalue())
    p = tmp_path / "p.yaml"
    p.write_text(f"name: t\ninputs:\n  - {{name: dump, paths: ['{tmp_path / 'dump.jsonl'}']}}\n"
                 f"  - {{name: crawl, paths: ['{tmp_path / 'crawl.warc.gz'}']}}\n"
                 f"steps: [{{type: html_extract}}]\noutput: {{dir: {tmp_path / 'run'}}}\n")
    _, m = run(str(p), progress=False)
    assert m["documents_kept"] == 6
    out = dict(pl.read_parquet(tmp_path / "run" / "data" / "*.parquet").select("id", "text").iter_rows())
    for name in ("markdown", "plain", "readme"):
        assert out[name] == texts[name]
    for name in ("page", "fragment"):
        assert para in out[name] and "<" not in out[name]
    (warc_id,) = set(out) - set(texts)
    assert para in out[warc_id] and "<html>" not in out[warc_id]
    report = (tmp_path / "run" / "report.md").read_text()
    assert "3 pages extracted; 3 documents passed through unchanged" in report

    # only_html: false is datatrove's behaviour: every document goes through trafilatura
    p.write_text(p.read_text().replace("{type: html_extract}", "{type: html_extract, only_html: false}"))
    _, m = run(str(p), output=str(tmp_path / "all"), progress=False)
    assert "6 pages extracted." in (tmp_path / "all" / "report.md").read_text()


def test_demo_dedups_scrubs_and_filters_toxic_lines(demo_run):
    m = json.loads((demo_run / "manifest.json").read_text())
    kept = pl.read_parquet(demo_run / "data" / "*.parquet")
    removed = pl.read_parquet(demo_run / "removed" / "**" / "*.parquet")
    # pipelines/demo_data/generate.py plants each copy of an article at the article's path on another host: English
    # 8 mirrors (exact) + 8 reposts (near), Korean 5 + 5. Each group of copies keeps one page, and every other copy is
    # removed by a dedup step naming it; no other web page is removed as a duplicate.
    columns = ["id", "source", "url", "removed_reason", "duplicate_of"]
    pages = pl.concat([kept.with_columns(removed_reason=pl.lit(None, pl.String)).select(columns),
                       removed.select(columns)]).filter(pl.col("source").str.starts_with("web-"))
    pages = pages.with_columns(path=pl.col("url").str.replace(r"^https://[^/]+", ""))
    copies = 0
    for group in pages.filter(pl.col("path").str.contains(r"^/\d{3}")).partition_by("source", "path"):
        by_dedup = group.filter(pl.col("removed_reason").fill_null("").str.starts_with("dedup_"))
        survivors = set(group["id"]) - set(by_dedup["id"])
        assert len(survivors) == 1, group
        assert set(by_dedup["duplicate_of"]) <= survivors
        copies += by_dedup.height
    assert copies == 8 + 8 + 5 + 5
    assert pages.filter(pl.col("removed_reason").fill_null("").str.starts_with("dedup_")).height == copies
    # the code source's copied files (two copies each of a GPL and a tagged file)
    assert sum(n for reason, n in m["removed"].items() if reason.startswith("dedup_")) == copies + 4
    # every removed copy names the kept document it duplicates
    dups = removed.filter(pl.col("removed_step").str.starts_with("dedup"))
    assert dups["duplicate_of"].null_count() == 0 and set(dups["duplicate_of"]) <= set(kept["id"])
    assert (kept["cluster_size"].fill_null(1) >= 1).all() and kept["cluster_size"].max() >= 2
    # personal data and secrets are gone, in kept and removed documents alike
    for df in (kept, removed):
        assert not df["text"].str.contains(r"jane\.doe\d+@example\.com|hong\d+@example\.kr|AKIAIOSFODNN7EXAMPLE").any()
    assert kept["text"].str.contains("<EMAIL>").sum() >= 5 and kept["text"].str.contains("<KR_RRN>").any()
    # toxic lines were cut out
    assert not kept["text"].str.contains("worthless idiot|stupid moron|멍청한 바보").any()


def test_the_same_yaml_builds_slurm_executors_with_chained_stages(tmp_path):
    """Nothing is submitted (no Slurm here): the pipeline is built for datatrove's Slurm executor, and the
    distributed dedup's stages depend on each other in order."""
    from datatrove.executor import SlurmPipelineExecutor

    from curate.runner import Run

    (tmp_path / "a.jsonl").write_text('{"text": "one document"}\n')
    p = tmp_path / "p.yaml"
    p.write_text(f"name: s\ninputs: [{{name: s, paths: ['{tmp_path / 'a.jsonl'}']}}]\n"
                 "steps: [{type: language}, {type: dedup_minhash, mode: distributed}, {type: pii}]\n"
                 f"output: {{dir: {tmp_path / 'run'}}}\n"
                 "executor: {type: slurm, tasks: 16, options: {time: '02:00:00', partition: cpu, cpus_per_task: 2}}\n")
    stages = Run(str(p)).executors()
    assert [type(e) for e in stages] == [SlurmPipelineExecutor] * 4
    assert stages[0].depends is None and all(b.depends is a for a, b in zip(stages, stages[1:]))
    assert stages[0].world_size == 16 and stages[2].world_size == 1  # the cluster stage is one task
    assert stages[0].partition == "cpu" and stages[0].time == "02:00:00"


@pytest.mark.skipif(not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None,
                    reason="glibc's malloc_trim")
def test_a_worker_gives_back_what_its_task_freed():
    """Workers are kept from stage to stage: what one task freed must not stay in the process for the next. In a
    fresh interpreter, ~200 MB of small objects (glibc's heap, under a live object allocated after them) are freed;
    the process still holds them until `release_memory`, which runs after every task."""
    script = """
import psutil
from curate.executors import release_memory
anon = lambda: (lambda m: (m.rss - m.shared) >> 20)(psutil.Process().memory_info())
held = [bytes(1000) for _ in range(200_000)]
on_top = [bytes(10) for _ in range(1000)]
del held
freed = anon()
release_memory()
print(freed, anon())
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    freed, released = map(int, out.stdout.split())
    assert freed - released >= 120, (freed, released)
