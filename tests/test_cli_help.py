"""`curate steps TYPE` explains every parameter; -h works on every command; near misses in a pipeline get a
"did you mean"."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import write_pipeline
from curate.cli import cli
from curate.config import ConfigError, load_pipeline
from curate.steps import STEP_TYPES, step_class
from curate.steps.help import format_parameters, parameter_rows, type_in_words



def test_type_in_words():
    from typing import Literal

    assert type_in_words(int | None) == "integer, or null"
    assert type_in_words(list[tuple[int, float]]) == "list of [integer, number]"
    assert type_in_words(dict[str, float]) == "mapping of text to number"
    assert type_in_words(Literal["a", "b"]) == "one of a, b"
    assert type_in_words(bool) == "true/false"


def test_steps_prints_type_default_and_description_of_each_parameter():
    res = CliRunner().invoke(cli, ["steps", "dedup_minhash"])
    assert res.exit_code == 0, res.output
    out = res.output
    assert "  threshold: number (> 0, < 1); default 0.5\n      Jaccard similarity at which two documents are" in out
    assert "  keep: one of first, longest, quality; default first\n      which member of a cluster survives" in out
    assert "  apply_to: mapping with sources, languages; default {sources: null, languages: null}" in out
    assert "  num_perm: integer (>= 8); default 128\n      MinHash permutations" in out
    assert "typing." not in out and "<class" not in out


@pytest.mark.parametrize("step_type", sorted(STEP_TYPES))
def test_every_parameter_has_a_description(step_type):
    params = step_class(step_type).Params
    lines = format_parameters(params, width=80)
    assert all(len(line) <= 80 for line in lines if line.startswith("      "))  # descriptions wrap
    missing = [name for name, _, _, description in parameter_rows(params) if not description]
    assert missing == []


def test_unknown_step_type_on_the_command_line_suggests_the_nearest():
    res = CliRunner().invoke(cli, ["steps", "gopher_qualty"])
    assert res.exit_code == 2 and "did you mean 'gopher_quality'?" in res.output


@pytest.mark.parametrize("command", [[], ["run"], ["report"], ["steps"], ["dedup"], ["scrub"], ["train-classifier"]])
def test_short_help_option_everywhere(command):
    res = CliRunner().invoke(cli, [*command, "-h"])
    assert res.exit_code == 0 and "Usage:" in res.output


def test_did_you_mean_for_unknown_keys_and_step_types(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "text": "x"}\n')
    bad = write_pipeline(tmp_path / "p.yaml", f"""
name: x
inputs: [{{name: a, paths: [{src}], text_feild: body}}]
ouptut: {{dir: out}}
""")
    with pytest.raises(ConfigError) as e:
        load_pipeline(str(bad))
    assert "inputs.0.text_feild: unknown key (did you mean 'text_field'?)" in str(e.value)
    assert "ouptut: unknown key (did you mean 'output'?)" in str(e.value)
    bad.write_text(f"""
name: x
inputs: [{{name: a, paths: [{src}]}}]
steps:
  - {{type: gopher_qualty}}
""")
    with pytest.raises(ConfigError, match=r"unknown step type 'gopher_qualty' \(did you mean 'gopher_quality'\?\)"):
        load_pipeline(str(bad))
    bad.write_text(f"""
name: x
inputs: [{{name: a, paths: [{src}]}}]
steps:
  - {{type: dedup_minhash, treshold: 0.7, normalization: {{lowercas: true}}, apply_to: {{source: [a]}}}}
  - {{type: language, zzz: 1}}
""")
    with pytest.raises(ConfigError) as e:
        load_pipeline(str(bad))
    msg = str(e.value)
    assert "steps[0] (dedup_minhash).treshold: unknown key (did you mean 'threshold'?)" in msg
    assert ".normalization.lowercas: unknown key (did you mean 'lowercase'?)" in msg
    assert ".apply_to.source: unknown key (did you mean 'sources'?)" in msg


@pytest.mark.parametrize("step_type", list(STEP_TYPES))
def test_every_step_names_what_it_does_its_doc_and_its_tests(step_type):
    """From a YAML `type` to its code, doc and tests in one hop: the README's table, made of these."""
    import re

    cls, repo = step_class(step_type), Path(__file__).resolve().parents[1]
    assert cls.summary and cls.doc and cls.tests
    assert (repo / cls.doc).is_file()
    # a test file of the step names it (test_html_extract_... too) or its class
    mentions = re.compile(rf"(?<![A-Za-z])({step_type}|{cls.__name__})(?![A-Za-z])")
    for pattern in cls.tests:
        files = sorted(repo.glob(pattern))
        assert files, f"{cls.__name__}.tests: {pattern} matches no file"
        assert any(mentions.search(path.read_text(encoding="utf-8")) for path in files), (pattern, step_type)


def test_the_committed_step_and_parameter_tables_are_current():
    from curate.steps.help import GENERATE, REPO, generated

    stale = [str(path.relative_to(REPO)) for path, (now, current) in generated().items() if now != current]
    assert stale == [], f"generated tables out of date in {stale}; run: {GENERATE}"
    # and no doc keeps the block of a step whose class now names another doc
    import re

    blocks = {(f"docs/{path.name}", name) for path in (REPO / "docs").glob("*.md")
              for name in re.findall(r"<!-- params:(\w+) ", path.read_text(encoding="utf-8"))}
    assert blocks == {(step_class(name).doc, name) for name in STEP_TYPES}


def test_a_stale_parameter_table_is_found_and_rewritten():
    from curate.steps.help import GENERATE, doc_with_tables, params_begin

    doc = (Path(__file__).resolve().parents[1] / "docs" / "dedup.md").read_text(encoding="utf-8")
    row = "| `threshold` | number (> 0, < 1) | `0.5` |"
    assert doc.count(row) == 1  # the MinHash threshold's row, as generated
    stale = doc.replace(row, "| `threshold` | number | `0.7` |")
    types = ["dedup_exact", "dedup_minhash", "decontaminate"]
    assert doc_with_tables("docs/dedup.md", stale, types) == doc
    # a step whose class names this doc but has no block in it is an error that says what to add
    no_block = stale.replace(params_begin("decontaminate"), "")
    with pytest.raises(ValueError, match=r"docs/dedup.md: no parameter block for \['decontaminate'\]"):
        doc_with_tables("docs/dedup.md", no_block, types)
    assert GENERATE in params_begin("x")
