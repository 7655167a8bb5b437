"""Attribution that names the creators: reports and model cards list, per license that asks for credit, the upstream
sources (a record's own `source`, else its URL's repository or site) with their document counts."""

import gzip
import json
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from license_registry import audit, model_card_section, parse_request
from license_registry.audit.render import render
from license_registry.audit.run_folder import data_sources_from_run, upstream_sources
from license_registry.cli import main

# ../shared next to the repository (see tests/conftest.py); not imported from there: with tests/train/conftest.py also
# on the path, `import conftest` is whichever was imported first
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "web_en_ko.jsonl.gz"


def write_run(run, records):
    """A run folder per docs/formats.md: kept shards (the reader keeps a record's own `source` as
    extra.source) and a manifest whose `licenses` map counts them."""
    (run / "data").mkdir(parents=True)
    rows = [{"id": str(i), "text": r["text"], "source": "docs", "url": r.get("url"), "license": r["license"],
             "extra": json.dumps({"source": r["source"]} if r.get("source") else {})}
            for i, r in enumerate(records)]
    pq.write_table(pa.Table.from_pylist(rows), run / "data" / "00000_000.parquet")
    licenses = Counter(r["license"] for r in records)
    manifest = {"format_version": 1, "documents_kept": len(records),
                "licenses": {lic: {"documents": n, "bytes": 100 * n} for lic, n in licenses.items()},
                "sources": {"docs": {"documents": len(records), "bytes": 100 * len(records)}}}
    (run / "manifest.json").write_text(json.dumps(manifest))
    return run


RECORDS = [
    {"text": "a", "license": "CC-BY-4.0", "source": "github.com/tldr-pages/tldr@08e345f", "url": "https://x/1"},
    {"text": "b", "license": "CC-BY-4.0", "source": "github.com/tldr-pages/tldr@08e345f", "url": "https://x/2"},
    {"text": "c", "license": "CC-BY-4.0", "url": "https://github.com/reactjs/react.dev/blob/main/learn.md"},
    {"text": "d", "license": "CC-BY-4.0", "url": "https://glossary.cncf.io/cloud-native/"},
    {"text": "e", "license": "MIT", "source": "github.com/helm/helm-www@3c2b1a0"},
    {"text": "f", "license": "CC0-1.0"},
]


def test_upstream_sources_come_from_the_records_source_else_their_url(tmp_path):
    up = upstream_sources(write_run(tmp_path / "run", RECORDS))
    cc = {u.source: u.documents for u in up["CC-BY-4.0"]}
    assert cc == {"github.com/tldr-pages/tldr@08e345f": 2, "github.com/reactjs/react.dev": 1, "glossary.cncf.io": 1}
    assert up["CC-BY-4.0"][0].url == "https://x/1" and "CC0-1.0" not in up  # no source, no URL: nothing to name


def test_audit_report_and_model_card_name_the_creators_per_license(tmp_path):
    run = write_run(tmp_path / "run", RECORDS)
    report = audit(parse_request({"use": "commercial", "distribution": "weights", "run_dir": str(run)}))
    by_license = {a.license: a for a in report.attributions}
    assert set(by_license) == {"CC-BY-4.0"}  # MIT asks for its notice (a license copy), CC0 for nothing
    cc = by_license["CC-BY-4.0"]
    assert cc.clause == "3(a)(1)" and "Share the Licensed Material" in cc.clause_quote
    assert [u.source for u in cc.sources[0].upstream][:1] == ["github.com/tldr-pages/tldr@08e345f"]
    md = render(report, "md")
    assert "## Attribution" in md and "github.com/tldr-pages/tldr@08e345f (2)" in md
    data = [d.model_dump() for d in data_sources_from_run(run)]
    card = model_card_section(report, request=parse_request({"use": "commercial", "data": data}))
    assert "  - github.com/tldr-pages/tldr@08e345f, 2 documents - https://x/1" in card.markdown
    assert "glossary.cncf.io" in card.attribution_file()


def test_request_files_may_list_upstream_sources_by_hand():
    report = audit(parse_request({"use": "research", "distribution": "weights", "data": [
        {"name": "wiki", "license": "CC-BY-SA-4.0", "upstream": [{"source": "en.wikipedia.org", "documents": 10}]},
        {"name": "c4", "license": "ODC-By-1.0"}]}))
    credited = {(a.license, s.data_source): [u.source for u in s.upstream] for a in report.attributions
                for s in a.sources}
    assert credited[("CC-BY-SA-4.0", "wiki")] == ["en.wikipedia.org"]
    assert credited[("ODC-By-1.0", "c4")] == []  # the source itself is the creator to name
    assert "en.wikipedia.org (10)" in render(report, "text")


def test_cli_writes_the_attribution_file(tmp_path):
    run = write_run(tmp_path / "run", RECORDS)
    out = tmp_path / "ATTRIBUTION"
    r = CliRunner().invoke(main, ["audit", str(run), "--use", "research", "--attribution", str(out)])
    assert r.exit_code == 0, r.output
    text = out.read_text()
    assert ("- documents licensed CC-BY-4.0: licensed under CC-BY-4.0 (If You Share the Licensed Material (including in "
            "modified form), You must - §3(a)(1))") in text
    assert "  - github.com/reactjs/react.dev, 1 document - https://github.com/reactjs/react.dev/blob/main/learn.md" in text


def test_real_documentation_corpus_credits_its_repositories(tmp_path):
    """The shared corpus of real documentation pages: every CC BY record carries its repository as `source`."""
    if not CORPUS.is_file():
        pytest.skip(f"needs {CORPUS} (../shared is not present)")
    with gzip.open(CORPUS, "rt", encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh]
    run = write_run(tmp_path / "run", records)
    report = audit(parse_request({"use": "commercial", "distribution": "weights", "run_dir": str(run)}))
    cc = next(a for a in report.attributions if a.license == "CC-BY-4.0")
    upstream = {u.source.split("@")[0]: u.documents for s in cc.sources for u in s.upstream}
    expected = Counter(r["source"].split("@")[0] for r in records if r["license"] == "CC-BY-4.0")
    assert upstream == dict(expected)
    assert set(upstream) == {"github.com/tldr-pages/tldr", "github.com/reactjs/react.dev",
                             "github.com/reactjs/ko.react.dev", "github.com/cncf/glossary"}
    apache = next(a for a in report.attributions if a.license == "Apache-2.0")
    assert [u.source.split("@")[0] for s in apache.sources for u in s.upstream] == ["github.com/tensorflow/docs-l10n"]
