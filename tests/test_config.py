"""A pipeline file is validated before any work starts, and its mistakes are named."""

import pytest

from curate.config import ConfigError, load_pipeline
from curate.runner import Run


def write(tmp_path, text):
    p = tmp_path / "p.yaml"
    p.write_text(text)
    return str(p)


BASE = """
name: t
inputs: [{name: a, paths: ["%s"]}]
"""


def test_unknown_step_type_lists_the_allowed_ones(tmp_path):
    (tmp_path / "in.jsonl").write_text('{"text": "hi"}\n')
    path = write(tmp_path, BASE % (tmp_path / "in.jsonl") + "steps: [{type: gopher_qualty}]\n")
    with pytest.raises(ConfigError) as e:
        load_pipeline(path)
    assert "steps[0].type" in str(e.value) and "gopher_quality" in str(e.value)


def test_unknown_step_parameter_is_named(tmp_path):
    path = write(tmp_path, BASE % "x" + "steps: [{type: gopher_quality, min_doc_word: 3}]\n")
    with pytest.raises(ConfigError) as e:
        load_pipeline(path)
    assert "min_doc_word" in str(e.value) and "unknown key" in str(e.value)


def test_bad_literal_names_allowed_values(tmp_path):
    path = write(tmp_path, BASE % "x" + "executor: {type: kubernetes}\n")
    with pytest.raises(ConfigError) as e:
        load_pipeline(path)
    assert "executor.type" in str(e.value) and "'local'" in str(e.value) and "'slurm'" in str(e.value)


def test_per_language_override_of_unknown_parameter_fails_when_built(tmp_path):
    (tmp_path / "in.jsonl").write_text('{"text": "hi"}\n')
    path = write(tmp_path, BASE % (tmp_path / "in.jsonl") +
                 "steps: [{type: gopher_repetition, per_language: {ko: {dup_lin_frac: 0.3}}}]\n"
                 f"output: {{dir: {tmp_path / 'run'}}}\n")
    with pytest.raises(ValueError, match="dup_lin_frac"):
        Run(path).plan


def test_yaml_never_executes_code(tmp_path):
    path = write(tmp_path, "name: !!python/object/apply:os.system ['echo pwned']\ninputs: []\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_pipeline(path)


def test_missing_input_is_an_error_before_work_starts(tmp_path):
    path = write(tmp_path, BASE % (tmp_path / "nope" / "*.jsonl") + f"output: {{dir: {tmp_path / 'run'}}}\n")
    with pytest.raises(ConfigError, match="matches no file"):
        Run(path)
    assert not (tmp_path / "run").exists()


def test_duplicate_step_names_are_rejected(tmp_path):
    path = write(tmp_path, BASE % "x" + "steps: [{type: length}, {type: length}]\n")
    with pytest.raises(ConfigError, match="used twice"):
        load_pipeline(path)


def test_every_shipped_pipeline_validates():
    from conftest import REPO

    pipelines = sorted((REPO / "pipelines").glob("*.yaml"))
    assert len(pipelines) >= 4
    for p in pipelines:
        cfg = load_pipeline(str(p))
        assert cfg.steps, p
        assert p.read_text().lstrip().startswith("#"), f"{p} needs a comment header saying what it is for"
