"""`curate retune`: re-deciding a run from its stored scores gives what a rerun with the new thresholds gives."""

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from conftest import REPO, write_pipeline
from curate.cli import cli
from curate.retune import RetuneError, retune
from curate.runner import run

SCORED_ONLY = """
name: scored
inputs:
  - {{name: web-en, paths: [{en}], license: CC-BY-4.0}}
  - {{name: web-ko, paths: [{ko}], license: CC-BY-4.0}}
steps:
  - {{type: language, name: lang, languages: [en, ko]}}
  - type: gopher_repetition
    dup_line_frac: {dup_line_frac}
    top_n_grams: {top_n_grams}
  - {{type: gopher_quality, min_stop_words: {min_stop_words},
     per_language: {{ko: {{min_avg_word_length: 1, stop_words: ["이", "가", "은", "는", "을", "를", "의", "에"]}}}}}}
  - {{type: c4_quality, filter_no_terminal_punct: false, min_num_sentences: {sentences}, apply_to: {{languages: [en]}}}}
  - {{type: fineweb_quality, char_duplicates_ratio: {char_dup}}}
output: {{dir: {out}}}
"""
STRICT = dict(dup_line_frac=0.2, top_n_grams="[[2, 0.15], [3, 0.12], [4, 0.1]]", min_stop_words=3, char_dup=0.01,
              sentences=12)
LOOSE = dict(dup_line_frac=0.6, top_n_grams="[[2, 0.4], [3, 0.4], [4, 0.4]]", min_stop_words=1, char_dup=0.05,
             sentences=3)
LOOSE_SETTINGS = ["gopher_repetition.dup_line_frac=0.6", "gopher_repetition.top_n_grams=[[2, 0.4], [3, 0.4], [4, 0.4]]",
                  "gopher_quality.min_stop_words=1", "fineweb_quality.char_duplicates_ratio=0.05",
                  "c4_quality.min_num_sentences=3"]


def _pipeline(tmp_path: Path, name: str, params: dict) -> Path:
    data = REPO / "pipelines" / "demo_data"
    body = SCORED_ONLY.format(en=data / "web_en.jsonl.gz", ko=data / "web_ko.jsonl", out=tmp_path / name, **params)
    return write_pipeline(tmp_path / f"{name}.yaml", body)


def _outcome(run_dir: Path) -> dict[str, str]:
    outcome = {}
    for path in sorted(run_dir.glob("data/*.parquet")):
        outcome.update((i, "kept") for i in pl.read_parquet(path)["id"])
    for path in sorted(run_dir.glob("removed/**/*.parquet")):
        removed = pl.read_parquet(path)
        outcome.update(zip(removed["id"], removed["removed_reason"]))
    return outcome


@pytest.fixture(scope="module")
def strict_run(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("retune")
    state, _ = run(str(_pipeline(tmp, "strict", STRICT)), progress=False)
    assert state == "new"
    return tmp / "strict"


def test_retune_equals_a_rerun_with_the_new_thresholds(strict_run, tmp_path):
    # documents the strict run removed early were never measured by the later steps: retune measures them from
    # their stored text, so the result is the one a rerun gives, document for document
    outcome = retune(str(strict_run), LOOSE_SETTINGS, output=str(tmp_path / "retuned"))
    state, rerun_manifest = run(str(_pipeline(tmp_path, "loose", LOOSE)), progress=False)
    assert _outcome(tmp_path / "retuned") == _outcome(tmp_path / "loose")
    m = outcome.manifest
    assert m["documents_in"] == m["documents_kept"] + sum(m["removed"].values())
    assert m["removed"] == rerun_manifest["removed"] and m["documents_kept"] == rerun_manifest["documents_kept"]
    strict = json.loads((strict_run / "manifest.json").read_text())
    assert m["documents_kept"] > strict["documents_kept"] and strict["removed"].get("c4_quality:too_few_sentences")
    assert m["retune"]["settings"] == LOOSE_SETTINGS and m["retune"]["unchecked"] == {}
    assert m["config"]["steps"] == rerun_manifest["config"]["steps"]  # the new config is the loose pipeline's
    # texts rewritten by C4 in the rerun are rewritten in the retune too
    rerun_text = dict(pl.read_parquet(tmp_path / "loose" / "data" / "*.parquet").select("id", "text").iter_rows())
    retuned_text = dict(pl.read_parquet(tmp_path / "retuned" / "data" / "*.parquet").select("id", "text").iter_rows())
    assert retuned_text == rerun_text


def test_unchanged_thresholds_reproduce_the_run(strict_run, tmp_path):
    out = tmp_path / "same"
    outcome = retune(str(strict_run), ["gopher_quality.min_stop_words=3", "c4_quality.min_num_sentences=12"],
                     output=str(out))
    assert outcome.changes == {}
    assert _outcome(out) == _outcome(strict_run)
    original = pl.read_parquet(strict_run / "data" / "*.parquet")
    again = pl.read_parquet(out / "data" / "*.parquet")
    assert again.columns == original.columns and again.sort("id").equals(original.sort("id"))


def test_dry_run_writes_nothing_and_reports_the_change(strict_run):
    before = sorted(p.name for p in strict_run.rglob("*"))
    outcome = retune(str(strict_run), ["lang.threshold=0.99"])
    assert sorted(p.name for p in strict_run.rglob("*")) == before
    assert outcome.changes.get("lang:below_threshold", 0) > 0 and outcome.changes["kept"] < 0
    assert sum(outcome.changes.values()) == 0  # documents move between outcomes, none appear or vanish


def test_retune_refuses_what_it_cannot_redecide(strict_run):
    with pytest.raises(RetuneError, match="no step named"):
        retune(str(strict_run), ["gopher_qualty.min_stop_words=1"])
    with pytest.raises(RetuneError, match="not a threshold"):
        retune(str(strict_run), ["gopher_quality.stop_words=[a, b]"])
    with pytest.raises(RetuneError, match="unknown parameter"):
        retune(str(strict_run), ["gopher_quality.min_stopwords=1"])
    with pytest.raises(RetuneError, match="STEP.PARAM=VALUE"):
        retune(str(strict_run), ["min_stop_words=1"])
    with pytest.raises(RetuneError, match="gopher_quality.min_stop_words"):
        retune(str(strict_run), ["gopher_quality.min_stop_words=many"])


def test_retune_of_the_demo_keeps_other_steps_decisions_and_counts_what_they_never_saw(demo_run, tmp_path):
    # the demo's language step removes pages in other languages before dedup, toxicity and the license policy:
    # letting every language through brings them back, and those steps never saw them
    result = CliRunner().invoke(cli, ["retune", str(demo_run), "--set", "lang.languages=null", "--set",
                                      "lang.threshold=0", "-o", str(tmp_path / "demo2")])
    assert result.exit_code == 0, result.output
    m = json.loads((tmp_path / "demo2" / "manifest.json").read_text())
    original = json.loads((demo_run / "manifest.json").read_text())
    assert m["documents_in"] == original["documents_in"] == m["documents_kept"] + sum(m["removed"].values())
    for reason in ("dedup_exact:duplicate", "url_filter:domain", "invalid:json", "license:CC-BY-NC-4.0"):
        assert m["removed"].get(reason) == original["removed"].get(reason)  # recorded decisions stand
    assert not any(r.startswith("lang:") for r in m["removed"])
    freed = original["removed"]["lang:language_not_allowed"]
    assert m["retune"]["unchecked"]["dedup_exact"] == m["retune"]["unchecked"]["license"] == freed
    assert "pii" not in m["retune"]["unchecked"]  # the run's PII step scrubbed removed documents too
    assert "passed dedup_exact unchecked" in result.output
    kept = pl.read_parquet(tmp_path / "demo2" / "data" / "*.parquet")
    assert set(kept["lang"].drop_nulls()) - {"en", "ko"}  # the other languages are back, with their stored lang
    report = CliRunner().invoke(cli, ["report", str(tmp_path / "demo2")])
    assert report.exit_code == 0, report.output


def test_a_document_c4_removed_and_now_keeps_is_rewritten_as_a_rerun_rewrites_it(tmp_path):
    sentences = " ".join(f"This is sentence number {n} of a short page about gardens." for n in range(6))
    records = [{"id": f"d{i}", "text": f"Menu\nHome | Shop\n{sentences}\nSee more\n{sentences}"} for i in range(3)]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")

    def pipeline(name: str, sentences_needed: int) -> Path:
        return write_pipeline(tmp_path / f"{name}.yaml", (
            f"name: c4\ninputs: [{{name: t, paths: [{tmp_path / 'in.jsonl'}]}}]\nsteps:\n"
            f"  - {{type: c4_quality, filter_no_terminal_punct: false, min_num_sentences: {sentences_needed}}}\n"
            f"output: {{dir: {tmp_path / name}}}\n"))

    run(str(pipeline("strict", 50)), progress=False)
    assert _outcome(tmp_path / "strict") == {f"d{i}": "c4_quality:too_few_sentences" for i in range(3)}
    retune(str(tmp_path / "strict"), ["c4_quality.min_num_sentences=5"], output=str(tmp_path / "retuned"))
    run(str(pipeline("loose", 5)), progress=False)
    texts = {name: dict(pl.read_parquet(tmp_path / name / "data" / "*.parquet").select("id", "text").iter_rows())
             for name in ("retuned", "loose")}
    assert texts["retuned"] == texts["loose"] and len(texts["loose"]) == 3
    assert all("Menu" not in t and "See more" not in t for t in texts["retuned"].values())  # C4 dropped them
