"""Bad input never kills a run and never disappears: each bad record is counted under invalid:<reason> with its
file and line, and kept in removed/invalid/ where its bytes exist. --strict turns it into a failure."""

import gzip
import json

import polars as pl
import pytest
import zstandard

from curate.errors import InvalidRecordError
from curate.runner import run

GOOD = "A perfectly fine document about gardens. It has a few sentences. Nothing is wrong with it."


def pipeline(tmp_path, paths, extra=""):
    p = tmp_path / "p.yaml"
    p.write_text(f"name: bad\ninputs: [{{name: src, paths: {json.dumps([str(x) for x in paths])}, license: MIT}}]\n"
                 f"steps: [{{type: length, min_chars: 1}}]\noutput: {{dir: {tmp_path / 'run'}}}\n"
                 f"limits: {{max_document_bytes: 1000}}\n{extra}")
    return str(p)


def lines_file(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\n".join([
        json.dumps({"id": "ok1", "text": GOOD}).encode(),
        b'{"id": "cut", "text": "no end',
        b'{"id": "latin1", "text": "caf\xe9"}',
        json.dumps({"id": "nofield", "body": GOOD}).encode(),
        json.dumps({"id": "empty", "text": "  \n "}).encode(),
        json.dumps({"id": "big", "text": "x" * 5000}).encode(),
        b"",  # a blank line is not a record
        b"[1, 2, 3]",
        json.dumps({"id": "ok2", "text": GOOD, "topic": "garden"}).encode(),
    ]) + b"\n")
    return path


def test_each_bad_record_is_counted_with_file_and_line(tmp_path):
    path = lines_file(tmp_path)
    state, m = run(pipeline(tmp_path, [path]), progress=False)
    assert m["documents_in"] == 8 and m["documents_kept"] == 2
    assert m["removed"] == {"invalid:json": 1, "invalid:utf8": 1, "invalid:missing_text": 1,
                            "invalid:empty_text": 1, "invalid:oversize": 1, "invalid:not_object": 1}
    bad = pl.read_parquet(tmp_path / "run" / "removed" / "invalid" / "*.parquet").sort("line")
    assert bad["line"].to_list() == [2, 3, 4, 5, 6, 8]
    assert set(bad["file"]) == {str(path)}
    assert bad.filter(pl.col("removed_reason") == "invalid:utf8")["text"][0] == '{"id": "latin1", "text": "caf\\xe9"}'
    # the record whose text was missing is kept whole, so it can be recovered
    assert "the body" not in bad.filter(pl.col("removed_reason") == "invalid:missing_text")["text"][0]
    assert json.loads(bad.filter(pl.col("removed_reason") == "invalid:missing_text")["text"][0])["body"] == GOOD
    kept = pl.read_parquet(tmp_path / "run" / "data" / "*.parquet").sort("id")
    assert kept["id"].to_list() == ["ok1", "ok2"]
    assert json.loads(kept["extra"][1]) == {"topic": "garden"}  # unmapped fields are carried, not dropped
    assert kept["license"].to_list() == ["MIT", "MIT"] and kept["license_source"].to_list() == ["declared"] * 2


@pytest.mark.parametrize("codec", ["gzip", "zstd"])
def test_truncated_compressed_stream_keeps_what_was_readable(tmp_path, codec):
    docs = "\n".join(json.dumps({"id": f"d{i}", "text": GOOD + f" #{i}"}) for i in range(200)).encode() + b"\n"
    if codec == "gzip":
        blob, path = gzip.compress(docs), tmp_path / "in.jsonl.gz"
    else:  # a streaming writer flushes blocks as it goes, so the first half of the file is decodable
        cobj, parts = zstandard.ZstdCompressor().compressobj(), []
        for start in range(0, len(docs), 2000):
            parts += [cobj.compress(docs[start:start + 2000]), cobj.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)]
        blob, path = b"".join(parts) + cobj.flush(), tmp_path / "in.jsonl.zst"
    path.write_bytes(blob[: len(blob) // 2])
    _, m = run(pipeline(tmp_path, [path]), progress=False)
    assert m["removed"].get("invalid:truncated_stream") == 1
    assert 0 < m["documents_kept"] < 200
    assert m["documents_in"] == m["documents_kept"] + sum(m["removed"].values())


def test_parquet_input_and_a_damaged_parquet_file(tmp_path):
    good = tmp_path / "good.parquet"
    pl.DataFrame({"id": ["p1", "p2", "p3"], "text": [GOOD, "", GOOD], "url": ["u1", None, "u3"]}).write_parquet(good)
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(good.read_bytes()[:100])
    _, m = run(pipeline(tmp_path, [good, broken]), progress=False)
    assert m["documents_kept"] == 2
    assert m["removed"] == {"invalid:empty_text": 1, "invalid:parquet": 1}
    kept = pl.read_parquet(tmp_path / "run" / "data" / "*.parquet").sort("id")
    assert kept["url"].to_list() == ["u1", "u3"] and kept["line"].to_list() == [1, 3]


def test_strict_mode_fails_naming_file_and_line(tmp_path):
    path = lines_file(tmp_path)
    with pytest.raises(InvalidRecordError, match=rf"{path.name}:2: invalid record \(json\)"):
        run(pipeline(tmp_path, [path]), progress=False, strict=True)
    assert not (tmp_path / "run" / "manifest.json").exists()
    assert not (tmp_path / "run" / "data").exists()  # shards stay in work/ until the run is complete


def test_strict_mode_from_the_cli(tmp_path):
    from click.testing import CliRunner

    from curate.cli import cli

    path = lines_file(tmp_path)
    result = CliRunner().invoke(cli, ["run", pipeline(tmp_path, [path]), "--strict", "--no-progress"])
    assert result.exit_code != 0
    assert f"{path}:2" in str(result.exception) + result.output
