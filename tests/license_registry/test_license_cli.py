"""CLI: show / search / check / audit (all formats), audit of a run folder, model card and SPDX files."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from spdx_checks import bindings_errors, shacl_errors

from license_registry.cli import main

REQUEST = """\
use: commercial
distribution: weights
model_name: Acme-Chat-1B
monthly_active_users: 1000000
organization_region: US
application: customer-support chatbot
base_model: {name: meta-llama/Llama-3.2-1B, license: llama3.2, modality: text}
data:
  - {name: c4, license: ODC-BY-1.0, tokens: 1000000000}
  - {name: alpaca, license: CC-BY-NC-4.0, generated_by: {name: text-davinci-003, terms: openai}}
"""


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def request_file(tmp_path):
    p = tmp_path / "request.yaml"
    p.write_text(REQUEST)
    return p


def make_run(tmp_path):
    """A minimal curate run folder per docs/formats.md."""
    run = tmp_path / "run"
    (run / "data").mkdir(parents=True)
    manifest = {
        "format_version": 1, "run_dir": str(run), "documents_in": 12, "documents_kept": 10,
        "removed": {"invalid:json": 2}, "bytes_in": 1500, "bytes_kept": 1000,
        "inputs": [], "outputs": [{"path": "data/00000_000.parquet", "documents": 10, "bytes": 1000}],
        "removed_outputs": [], "steps": [],
        "licenses": {"CC-BY-4.0": {"documents": 5, "bytes": 600},
                     "CC-BY-NC-4.0": {"documents": 3, "bytes": 300},
                     "NOASSERTION": {"documents": 2, "bytes": 100}},
        "sources": {"wiki-news": {"documents": 5, "bytes": 600, "license": "CC-BY-4.0"},
                    "forum": {"documents": 3, "bytes": 300, "license": "CC-BY-NC-4.0"},
                    "web": {"documents": 2, "bytes": 100, "license": "NOASSERTION"}},
        "languages": {"en": {"documents": 10, "bytes": 1000}},
        "config": {}, "config_hash": "sha256:x", "versions": {"curate": "0.1.0"},
        "started_at": "2026-11-29T17:00:00Z", "finished_at": "2026-11-29T17:01:00Z",
    }
    (run / "manifest.json").write_text(json.dumps(manifest))
    return run


def test_show_ml_entry(runner):
    r = runner.invoke(main, ["show", "llama3.2"])
    assert r.exit_code == 0, r.output
    assert "Built with Llama" in r.output and "700,000,000" in r.output and "1.b.i" in r.output


def test_show_scancode_only_and_json(runner):
    r = runner.invoke(main, ["show", "Zlib"])
    assert r.exit_code == 0 and "Permissive" in r.output and "no ML-specific entry" in r.output
    j = json.loads(runner.invoke(main, ["show", "CC BY-NC 4.0", "--json"]).output)
    assert j["id"] == "CC-BY-NC-4.0" and j["restrictions"][0]["type"] == "non_commercial"


def test_show_unknown_fails(runner):
    r = runner.invoke(main, ["show", "no-such-license-xyz"])
    assert r.exit_code != 0 and "not a single known license" in r.output


def test_search(runner):
    r = runner.invoke(main, ["search", "openrail"])
    assert r.exit_code == 0 and "LicenseRef-OpenRAIL-plus-plus" in r.output
    rows = json.loads(runner.invoke(main, ["search", "gemma", "--json"]).output)
    assert rows[0]["id"] == "LicenseRef-scancode-gemma-tou-2024-04-01" and rows[0]["ml_entry"]
    assert runner.invoke(main, ["search", "zzzz-nothing"]).exit_code == 1


def test_check(runner):
    r = runner.invoke(main, ["check", "mit or gpl-2.0-only", "--policy", "commercial-safe"])
    assert r.exit_code == 0 and "normalized: MIT OR GPL-2.0-only" in r.output and "choosing MIT" in r.output
    j = json.loads(runner.invoke(main, ["check", "Apache-2.0 AND CC-BY-4.0", "--json"]).output)
    assert j["expression"] == "Apache-2.0 AND CC-BY-4.0" and j["known"]
    bad = runner.invoke(main, ["check", "MIT AND Foo-Bar"])
    assert bad.exit_code == 1 and "unknown:    Foo-Bar" in bad.output


def test_detect(runner, tmp_path):
    refs = Path(__file__).resolve().parents[2] / "license_registry" / "reference_texts"
    (tmp_path / "LICENSE").write_text("This project is licensed under the MIT License.\n\n"
                                      + (refs / "MIT.txt").read_text())
    (tmp_path / "main.c").write_text("// SPDX-License-Identifier: Apache-2.0\nint main(void) { return 0; }\n")
    (tmp_path / "copyright").write_text("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
                                        "\n\nFiles: *\nLicense: GPL-2+\n\nFiles: debian/*\nLicense: Expat\n")
    (tmp_path / "notes.txt").write_text("Nothing about licenses here.\n")
    files = [str(tmp_path / n) for n in ("LICENSE", "main.c", "copyright")]
    r = runner.invoke(main, ["detect", *files, "--engine", "builtin"])
    assert r.exit_code == 0, r.output
    assert f"{files[0]}: MIT  confidence" in r.output and f"{files[1]}: Apache-2.0  confidence" in r.output
    assert f"{files[2]}: GPL-2.0-or-later AND MIT (first stated: GPL-2.0-or-later)  confidence 1.00" in r.output
    rows = [json.loads(line) for line in runner.invoke(
        main, ["detect", files[2], str(tmp_path / "notes.txt"), "--json", "--engine", "builtin"]).output.splitlines()]
    assert rows[0]["primary"] == "GPL-2.0-or-later" and rows[1]["expression"] is None
    assert runner.invoke(main, ["detect", str(tmp_path / "notes.txt")]).exit_code == 1


def test_audit_json(runner, request_file):
    r = runner.invoke(main, ["audit", str(request_file), "--format", "json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["verdict"] == "blocked"
    assert {"severity", "subject", "license", "clause", "message"} <= set(data["findings"][0])
    built = [o for o in data["obligations"] if o["type"] == "display_attribution"]
    assert built[0]["text"] == "Built with Llama" and built[0]["clause"] == "1.b.i"


@pytest.mark.parametrize("fmt,marker", [("md", "# License audit: **blocked**"), ("html", "<html"),
                                        ("text", "VERDICT: BLOCKED")])
def test_audit_human_formats(runner, request_file, fmt, marker):
    r = runner.invoke(main, ["audit", str(request_file), "--format", fmt])
    assert r.exit_code == 0, r.output
    assert marker in r.output and "2(a)(1)(A), 1(i)" in r.output and "Built with Llama" in r.output
    assert "License share (by tokens)" in r.output and "100.0%" in r.output


def test_audit_writes_model_card_and_spdx(runner, request_file, tmp_path):
    out, card, spdx = tmp_path / "r.json", tmp_path / "README.md", tmp_path / "bom.spdx.json"
    r = runner.invoke(main, ["audit", str(request_file), "--format", "json", "-o", str(out),
                             "--model-card", str(card), "--spdx", str(spdx), "--fail-on", "block"])
    assert r.exit_code == 2 and "verdict: blocked" in r.output
    assert json.loads(out.read_text())["verdict"] == "blocked"
    assert card.read_text().startswith("---\nlicense: llama3.2\n")
    doc = json.loads(spdx.read_text())
    assert any(n["type"] == "ai_AIPackage" for n in doc["@graph"]) and bindings_errors(doc) == []


def test_audit_flags_override_request(runner, request_file):
    r = runner.invoke(main, ["audit", str(request_file), "--format", "json", "--use", "research",
                             "--model-name", "Llama-Acme"])
    data = json.loads(r.output)
    assert data["request"]["use"] == "research" and data["request"]["model_name"] == "Llama-Acme"


def test_audit_invalid_request_names_key(runner, tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("use: sometimes\n")
    r = runner.invoke(main, ["audit", str(p)])
    assert r.exit_code == 1 and "'use'" in r.output and "'commercial'" in r.output


def test_audit_run_folder(runner, tmp_path):
    run = make_run(tmp_path)
    r = runner.invoke(main, ["audit", str(run), "--use", "commercial", "--base-model", "llama3.2",
                             "--model-name", "Llama-Acme", "--format", "json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["verdict"] == "blocked" and data["share_basis"] == "bytes"
    shares = {s["license"]: s["share"] for s in data["license_shares"]}
    assert shares == {"CC-BY-4.0": 0.6, "CC-BY-NC-4.0": 0.3, "NOASSERTION": 0.1}
    block = [f for f in data["findings"] if f["severity"] == "block"]
    assert block[0]["subject"] == "data forum" and block[0]["clause"] == "2(a)(1)(A), 1(i)"
    review = [f for f in data["findings"] if f["rule"] == "unknown_license"]
    assert review[0]["subject"] == "data web"
    assert any(o["type"] == "name_prefix" and o["satisfied"] for o in data["obligations"])


def test_audit_run_folder_spdx(runner, tmp_path):
    """The datasets of a run folder are its sources, found at the run's shards (a file URI); the document is valid."""
    run, spdx = make_run(tmp_path), tmp_path / "bom.spdx.json"
    r = runner.invoke(main, ["audit", str(run), "--use", "research", "--model-name", "Acme-Research",
                             "--format", "json", "--spdx", str(spdx)])
    assert r.exit_code == 0, r.output
    doc = json.loads(spdx.read_text())
    datasets = {n["name"]: n for n in doc["@graph"] if n["type"] == "dataset_DatasetPackage"}
    assert set(datasets) == {"wiki-news", "forum", "web"}
    assert {d["software_downloadLocation"] for d in datasets.values()} == {(run / "data").resolve().as_uri()}
    assert shacl_errors(doc) == [] and bindings_errors(doc) == []  # the JSON schema: test_spdx3.py


def test_audit_run_folder_markdown_and_model_card(runner, tmp_path):
    run = make_run(tmp_path)
    card = tmp_path / "card.md"
    r = runner.invoke(main, ["audit", str(run), "--use", "research", "--distribution", "none",
                             "--format", "md", "--model-card", str(card)])
    assert r.exit_code == 0, r.output
    assert "**review**" in r.output and "60.0%" in r.output  # NOASSERTION source still needs a human
    assert "- wiki-news" in card.read_text()


def test_audit_run_folder_needs_use_and_manifest(runner, tmp_path):
    run = make_run(tmp_path)
    assert "--use" in runner.invoke(main, ["audit", str(run)]).output
    empty = tmp_path / "empty"
    empty.mkdir()
    r = runner.invoke(main, ["audit", str(empty), "--use", "research"])
    assert r.exit_code == 1 and "no manifest.json" in r.output
