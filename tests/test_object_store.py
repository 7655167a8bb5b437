"""Object stores: inputs, outputs and reference indexes given as fsspec URLs, with the same accounting and resume as
local paths. An S3-compatible server (moto's, on 127.0.0.1) is started by the test; `memory://` needs none."""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl
import pytest

from curate.config import ConfigError
from curate.runner import run

moto_server = pytest.importorskip("moto.server")
pytest.importorskip("s3fs")
REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "pipelines" / "demo_data"


@pytest.fixture(scope="module")
def s3():
    """A local S3 with the demo's web pages in s3://inputs/web/; the AWS settings every client reads from the
    environment point at it (tasks run in this process: a forkserver started earlier would not see them)."""
    import boto3

    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION",
                                            "AWS_ENDPOINT_URL")}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1",
                      AWS_ENDPOINT_URL=f"http://127.0.0.1:{server._server.server_port}")
    client = boto3.client("s3")
    for bucket in ("inputs", "runs"):
        client.create_bucket(Bucket=bucket)
    for name in ("web_en.jsonl.gz", "web_ko.jsonl"):
        client.upload_file(str(DEMO / name), "inputs", f"web/{name}")
    import fsspec

    fsspec.filesystem("s3").invalidate_cache()
    yield client
    server.stop()
    for k, v in saved.items():
        os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


def pipeline(tmp_path: Path, paths: list[str], out: str, extra_step: str = "", name: str = "p.yaml") -> str:
    p = tmp_path / name
    p.write_text(f"""name: store
inputs: [{{name: web, paths: {json.dumps(paths)}, license: CC-BY-4.0}}]
steps:
  - {{type: length, min_chars: 200}}
  - {{type: dedup_exact{extra_step}}}
output: {{dir: '{out}', stage_dir: '{tmp_path / (name + '.stage')}'}}
""")
    return str(p)


def rows(frame: pl.DataFrame) -> list[tuple]:
    return sorted(frame.select("id", "text", "source", "license").iter_rows())


def test_s3_inputs_and_output_equal_a_local_run_and_resume_from_the_store(s3, tmp_path):
    import fsspec

    local_run = pipeline(tmp_path, [str(DEMO / "web_en.jsonl.gz"), str(DEMO / "web_ko.jsonl")],
                         str(tmp_path / "local"), name="local.yaml")
    _, m_local = run(local_run, progress=False)
    on_s3 = pipeline(tmp_path, ["s3://inputs/web/*"], "s3://runs/web-1")
    state, m = run(on_s3, progress=False)
    assert state == "new"
    for key in ("documents_in", "documents_kept", "removed", "bytes_kept", "licenses"):
        assert m[key] == m_local[key], key
    assert m["output_url"] == "s3://runs/web-1" and all(i["path"].startswith("s3://inputs/web/") for i in m["inputs"])
    fs = fsspec.filesystem("s3")
    remote = json.loads(fs.cat("s3://runs/web-1/manifest.json"))
    assert remote["documents_kept"] == m_local["documents_kept"]
    for shard in remote["outputs"] + remote["removed_outputs"]:  # everything the manifest lists was published
        assert fs.size(f"s3://runs/web-1/{shard['path']}") == shard["bytes"]
    kept = pl.read_parquet(fs.open(f"s3://runs/web-1/{remote['outputs'][0]['path']}").read())
    assert rows(kept) == rows(pl.read_parquet(tmp_path / "local" / "data" / "*.parquet"))
    # the same command again: complete, answered from the store (even with the local stage gone)
    import shutil

    shutil.rmtree(tmp_path / "p.yaml.stage")
    assert run(on_s3, progress=False)[0] == "complete"


def test_reference_index_on_s3(s3, tmp_path):
    first = pipeline(tmp_path, ["s3://inputs/web/web_en.jsonl.gz"], "s3://runs/ref-1", name="first.yaml")
    run(first, progress=False)
    again = pipeline(tmp_path, ["s3://inputs/web/web_en.jsonl.gz"], str(tmp_path / "again"),
                     extra_step=", reference_index: 's3://runs/ref-1'", name="again.yaml")
    _, m = run(again, progress=False)
    # every document the first run kept is already in its index: nothing new survives
    assert m["documents_kept"] == 0 and m["removed"]["dedup_exact:reference_duplicate"] > 50


def test_an_unreachable_store_is_an_error_naming_the_url_before_any_work(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    p = pipeline(tmp_path, ["s3://inputs/web/*.jsonl"], str(tmp_path / "out"))
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()  # a client made earlier would still point at the test's server
    with pytest.raises(ConfigError, match=r"s3://inputs/web/\*\.jsonl: cannot list it"):
        run(p, progress=False)
    assert not (tmp_path / "out").exists()
    s3fs.S3FileSystem.clear_instance_cache()


def test_memory_urls_for_inputs(tmp_path):
    import fsspec

    fs = fsspec.filesystem("memory")
    fs.pipe("memory://crawl/a.jsonl", (DEMO / "web_ko.jsonl").read_bytes())
    _, m = run(pipeline(tmp_path, ["memory://crawl/"], str(tmp_path / "out")), progress=False)
    local_run = pipeline(tmp_path, [str(DEMO / "web_ko.jsonl")], str(tmp_path / "local"), name="l.yaml")
    _, m_local = run(local_run, progress=False)
    assert m["documents_kept"] == m_local["documents_kept"] > 0 and m["removed"] == m_local["removed"]
    assert pl.read_parquet(tmp_path / "out" / "data" / "*.parquet")["id"].to_list()[0]
