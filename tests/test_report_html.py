"""The HTML run report and the audit page, rendered in a real browser (headless Chromium: every chart drawn, no
console error, nothing fetched), and the run's health checks and exit codes."""

import json
import re
import zlib

import pytest
from click.testing import CliRunner

from conftest import REPO, write_pipeline
from curate.browser_check import check_page, find_chromium
from curate.cli import cli
from curate.health import DOMINANT_REASON, EXIT_UNHEALTHY, assess

needs_chromium = pytest.mark.skipif(find_chromium() is None, reason="needs chromium (apt-get install chromium)")


def _report(n_in, kept, reasons, sources):
    """A report with the fields the health checks read: reasons {reason: {source: documents}}."""
    rows = [{"reason": r, "source": s, "documents": n, "sample_id": f"{s}-{r}-0"}
            for r, per in reasons.items() for s, n in per.items()]
    return {"documents_in": n_in, "documents_kept": kept,
            "removed_by_reason": [{"reason": r, "documents": sum(per.values())} for r, per in reasons.items()],
            "removed_by_reason_source": rows,
            "sources_in": [{"source": s, "documents_in": n} for s, n in sources.items()]}


def test_health_names_the_reason_and_a_sample_of_a_run_that_kept_nothing():
    h = assess(_report(40, 0, {"lang:below_threshold": {"web": 30}, "invalid:json": {"web": 10}}, {"web": 40}))
    checks = {w.check: w for w in h.warnings}
    assert set(checks) == {"kept_nothing", "reason_dominates_source"}
    assert "lang:below_threshold" in checks["kept_nothing"].message and "web-lang:below_threshold-0" in \
        checks["kept_nothing"].message
    assert checks["reason_dominates_source"].source == "web" and checks["reason_dominates_source"].share == 0.75
    assert not h.failed and h.kept_fraction == 0


def test_health_warns_over_95_percent_removed_and_one_reason_over_half_a_source():
    h = assess(_report(1000, 40, {"dedup:duplicate": {"a": 900}, "x:y": {"b": 60}}, {"a": 920, "b": 80}))
    assert [w.check for w in h.warnings] == ["removed_most", "reason_dominates_source", "reason_dominates_source"]
    assert "96.0%" in h.warnings[0].message
    # at the limit nothing is said: > 50% of a source, > 95% of the run
    h = assess(_report(100, 50, {"r:x": {"a": 25}}, {"a": 50, "b": 50}))
    assert h.warnings == [] and DOMINANT_REASON == 0.5
    # a tiny source is not judged (1 of 1 removed says nothing)
    assert assess(_report(100, 99, {"r:x": {"tiny": 1}}, {"tiny": 1, "big": 99})).warnings == []


def test_fail_if_kept_below_is_an_error_only_when_asked():
    rep = _report(100, 30, {"r:x": {"a": 70}}, {"a": 100})
    assert not assess(rep).failed
    assert not assess(rep, fail_if_kept_below=0.3).failed
    h = assess(rep, fail_if_kept_below=0.5)
    assert h.failed and h.errors[0].check == "kept_below" and "30.0%" in h.errors[0].message
    assert h.to_dict()["failed"] is True


@pytest.fixture
def english_only_run(tmp_path):
    """A pipeline that keeps only Korean, run on English documents: it keeps nothing."""
    src = tmp_path / "in.jsonl"
    text = "The weather in the valley was mild this spring, and the farmers planted early. " * 3
    src.write_text("".join(json.dumps({"id": f"d{i:02d}", "text": f"{text} Field {i}."}) + "\n" for i in range(12)))
    pipeline = write_pipeline(tmp_path / "p.yaml", f"""
name: only-korean
inputs: [{{name: web, paths: [{src}]}}]
steps: [{{type: language, languages: [ko]}}]
output: {{dir: {tmp_path / "run"}}}
""")
    return pipeline, tmp_path / "run"


def test_run_that_keeps_nothing_warns_and_fails_when_asked(english_only_run):
    pipeline, out = english_only_run
    res = CliRunner().invoke(cli, ["run", str(pipeline), "--no-progress"])
    assert res.exit_code == 0, res.output
    assert "warning: the run kept nothing of 12 documents" in res.output
    assert "language:language_not_allowed" in res.output and "'d00'" in res.output
    assert "removed 12 of the 12 documents of source 'web'" in res.output
    health = json.loads((out / "report.json").read_text())["health"]
    assert [w["check"] for w in health["warnings"]] == ["kept_nothing", "reason_dominates_source"]
    # the same (complete) run, now with a floor: exit code 3, recorded in report.json
    res = CliRunner().invoke(cli, ["run", str(pipeline), "--no-progress", "--fail-if-kept-below", "0.5"])
    assert res.exit_code == EXIT_UNHEALTHY, res.output
    assert "error: the run kept 0.0% of its documents, below the 50.0% required" in res.output
    health = json.loads((out / "report.json").read_text())["health"]
    assert health["failed"] and health["fail_if_kept_below"] == 0.5
    assert CliRunner().invoke(cli, ["run", str(pipeline), "--fail-if-kept-below", "1.5"]).exit_code == 2


def test_failed_run_exits_non_zero(tmp_path):
    bad = write_pipeline(tmp_path / "bad.yaml", "name: x\ninputs: [{name: a, paths: [nothing-here/*.jsonl]}]\n")
    res = CliRunner().invoke(cli, ["run", str(bad), "--no-progress"])
    assert res.exit_code == 1 and "matches no file" in res.output
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "text": "hello there"}\nnot json\n')
    strict = write_pipeline(tmp_path / "strict.yaml", f"name: s\ninputs: [{{name: a, paths: [{src}]}}]\n"
                                                       f"output: {{dir: {tmp_path / 'run'}}}\n")
    res = CliRunner().invoke(cli, ["run", str(strict), "--strict", "--no-progress"])
    assert res.exit_code == 1 and f"run failed: {src}:2: invalid record (json)" in res.output
    assert not (tmp_path / "run" / "manifest.json").exists()


def _pii_values_of_demo_input() -> set[str]:
    values = set()
    for path in (REPO / "pipelines" / "demo_data").iterdir():
        raw = path.read_bytes()
        if path.suffix == ".gz":  # truncated.jsonl.gz is cut on purpose: take what decompresses
            raw = zlib.decompressobj(wbits=31).decompress(raw)
        values |= set(re.findall(rb"[\w.-]+@[\w-]+\.[\w.]+", raw))
    return {v.decode() for v in values}


@needs_chromium
def test_html_report_of_the_demo_run_draws_every_chart(demo_run, tmp_path):
    res = CliRunner().invoke(cli, ["report", str(demo_run), "--html"])
    assert res.exit_code == 0, res.output
    page = demo_run / "report.html"
    html = page.read_text()
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/", "")
    rep = json.loads((demo_run / "report.json").read_text())
    scores = {d["column"] for d in rep["score_distributions"]}
    assert {"length", "lang_score", "toxicity_score", "similarity"} <= scores
    # the thresholds the config gave (defaults included) are drawn on their scores
    for label in ("lang.threshold = 0.65", "dedup_minhash.threshold = 0.7", "toxicity_en.threshold = 0.8"):
        assert label in html
    assert "gopher_repetition:dup_line_frac" in html and "invalid:json" in html  # heatmaps and samples
    emails = _pii_values_of_demo_input()
    assert emails and not [e for e in emails if e in html]  # removed/ was scrubbed; the input is never read

    shot = tmp_path / "report.png"
    check = check_page(str(page), screenshot=str(shot))
    dedup_steps = sum(1 for v in rep.values() if isinstance(v, dict) and "size_distribution" in (v.get("data") or {}))
    # funnel + 2 heatmaps + one per score + one per dedup step + licenses (documents, bytes) + PII
    assert len(check.charts) == 1 + 2 + len(scores) + dedup_steps + 2 + 1
    assert check.blank_charts == [] and check.console_errors == [] and check.network_requests == []
    assert check.title == "Curation report: demo"
    assert shot.stat().st_size > 50_000


@needs_chromium
def test_audit_html_in_the_browser(demo_run, tmp_path):
    from license_registry.cli import main as lr_cli

    page = tmp_path / "audit.html"
    res = CliRunner().invoke(lr_cli, ["audit", str(demo_run), "--use", "commercial", "--base-model", "llama3.2",
                                      "--model-name", "Llama-Demo-1B", "--format", "html", "-o", str(page)])
    assert res.exit_code in (0, 1), res.output
    html = page.read_text()
    assert "<script" not in html and "class='banner review'" in html and "REVIEW" in html
    check = check_page(str(page), screenshot=str(tmp_path / "audit.png"))
    assert len(check.charts) == 2  # findings by severity, license shares
    assert check.blank_charts == [] and check.console_errors == [] and check.network_requests == []
    assert (tmp_path / "audit.png").stat().st_size > 20_000


def test_run_summary_fits_an_80_column_terminal(demo_run):
    import io

    from rich.console import Console

    from curate.summary import print_summary

    m = json.loads((demo_run / "manifest.json").read_text())
    m["run_dir"] = "/home/someone/projects/a/rather/long/path/to/runs/web-crawl-2026-11-with-a-long-name"
    out = io.StringIO()
    print_summary(m, Console(file=out, width=80, force_terminal=False))
    lines = out.getvalue().splitlines()
    assert max(len(line) for line in lines) <= 80
    for reason, n in m["removed"].items():  # every reason with its count on one line, nothing cut off
        assert any(reason in line and re.search(rf"\s{n:,}\s", line) for line in lines), reason
    assert "".join(lines).replace(" ", "").count(m["run_dir"].replace(" ", "")) == 1


def test_ids_of_files_without_ids_are_relative_to_the_input_root(tmp_path, monkeypatch):
    """An HTML page (or a record without an id) is named by its path below the folder or glob the pipeline gives,
    the same wherever `curate run` is started from: no ../.. ."""
    import polars as pl

    pages = tmp_path / "site" / "docs"
    pages.mkdir(parents=True)
    for name in ("a.html", "b.html"):
        (pages / name).write_text(f"<html><body><p>Page {name} has a few sentences of text for the test.</p>"
                                  "</body></html>")
    pipeline = write_pipeline(tmp_path / "p.yaml", f"""
name: pages
inputs: [{{name: site, paths: [{tmp_path / "site"}], format: html}}]
output: {{dir: {tmp_path / "run"}}}
""")
    elsewhere = tmp_path / "deep" / "er"
    elsewhere.mkdir(parents=True)
    monkeypatch.chdir(elsewhere)
    res = CliRunner().invoke(cli, ["run", str(pipeline), "--no-progress"])
    assert res.exit_code == 0, res.output
    ids = sorted(pl.read_parquet(tmp_path / "run" / "data" / "*.parquet")["id"])
    assert [i.rsplit(":", 1)[0] for i in ids] == ["docs/a.html", "docs/b.html"]


def test_score_distributions_are_generic_over_stored_columns_and_find_their_thresholds():
    """Columns a filter stores as <step>_<measure> get a histogram and the step's limits on that measure: by name
    (min_/max_<measure>), per language, or as the step class declares them (`measure_limits`)."""
    import polars as pl

    from curate.report_scores import score_distributions

    class Words:  # a step class that says which parameters limit its `words` measure
        measure_limits = {"words": ("min_doc_words", "max_doc_words")}
        columns = {}

    steps = [{"name": "gq", "type": "gopher_quality", "cls": Words,
              "params": {"min_doc_words": 50, "max_doc_words": 100000, "min_avg_word_length": 3,
                         "max_avg_word_length": 10, "per_language": {"ko": {"min_avg_word_length": 1}}}}]
    kept = pl.LazyFrame({"text": ["a" * 100, "b" * 1000], "gq_avg_word_length": [4.0, 5.5], "gq_words": [60, 900],
                         "line": [1, 2]})
    removed = pl.LazyFrame({"text": ["c" * 10], "gq_avg_word_length": [1.5], "gq_words": [3], "line": [3]})
    dists = {d["column"]: d for d in score_distributions(steps, kept, removed)}
    assert set(dists) == {"length", "gq_avg_word_length", "gq_words"}  # `line` is bookkeeping, not a score
    avg = dists["gq_avg_word_length"]
    assert avg["steps"] == ["gq"] and avg["documents"] == 3
    assert {(t["parameter"], t["value"], t["language"]) for t in avg["thresholds"]} == {
        ("gq.min_avg_word_length", 3, None), ("gq.max_avg_word_length", 10, None),
        ("gq.per_language.ko.min_avg_word_length", 1, "ko")}
    assert sum(b["kept"] for b in avg["bins"]) == 2 and sum(b["removed"] for b in avg["bins"]) == 1
    assert [t["parameter"] for t in dists["gq_words"]["thresholds"]] == ["gq.min_doc_words", "gq.max_doc_words"]
    assert dists["length"]["log_scale"] and dists["length"]["thresholds"] == []
