"""License notices on real pages: the Apache httpd manual (../shared/corpora/html_pages), crawled as a WARC, through
the `license_detect` step as the shipped web pipeline runs it (before `html_extract`: on the HTML, links included)."""

import io
import json

import polars as pl
import pytest
from conftest import REPO, shared_path, write_pipeline


def httpd_warc(tmp_path):
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    folder = shared_path("corpora", "html_pages")
    pages = [json.loads(line) for line in (folder / "index.jsonl").open()]
    out = tmp_path / "httpd.warc.gz"
    with out.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for p in pages:
            http = StatusAndHeaders("200 OK", [("Content-Type", f"text/html; charset={p['charset']}")],
                                    protocol="HTTP/1.1")
            body = (folder / p["file"]).read_bytes()
            writer.write_record(writer.create_warc_record(p["url"], "response", payload=io.BytesIO(body),
                                                          http_headers=http))
    return out, pages


def licenses_of(run_dir):
    frames = [pl.read_parquet(f) for f in sorted(run_dir.glob("data/*.parquet")) + sorted(run_dir.glob("removed/*/*.parquet"))]
    return pl.concat(frames, how="diagonal_relaxed").select("url", "license", "license_source")


@pytest.mark.parametrize("engine", ["builtin", "auto"])
def test_httpd_pages_are_tagged_apache_through_the_step(tmp_path, engine):
    warc, pages = httpd_warc(tmp_path)
    p = write_pipeline(tmp_path / "p.yaml", f"""
name: httpd
inputs: [{{name: crawl, paths: ['{warc}'], format: warc, license: LicenseRef-web-crawl}}]
steps: [{{type: license_detect, engine: {engine}}}]
output: {{dir: {tmp_path / 'run'}}}
executor: {{type: local, tasks: 1, workers: 1}}
""")
    from curate.runner import run

    run(str(p), progress=False)
    df = licenses_of(tmp_path / "run")
    assert len(df) == len(pages)
    tagged = df.filter((pl.col("license") == "Apache-2.0") & (pl.col("license_source") == "detected"))
    assert len(tagged) / len(pages) >= 0.95, df.filter(pl.col("license") != "Apache-2.0")


@pytest.mark.slow
def test_httpd_pages_through_the_shipped_web_pipeline(tmp_path):
    from curate.runner import run

    warc, pages = httpd_warc(tmp_path)
    run(str(REPO / "pipelines" / "web.yaml"), inputs=[str(warc)], output=str(tmp_path / "run"), tasks=1, workers=1,
        progress=False)
    df = licenses_of(tmp_path / "run")
    assert len(df) == len(pages)  # kept or removed by a later step, every page carries its license
    assert (df["license"] == "Apache-2.0").sum() / len(pages) >= 0.95
