import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DEMO_PIPELINE = REPO / "pipelines" / "demo.yaml"


def demo_generator():
    """pipelines/demo_data/generate.py (a script beside the data it makes, not a module of the package)."""
    import importlib.util
    import sys

    if "demo_generate" not in sys.modules:
        spec = importlib.util.spec_from_file_location("demo_generate", REPO / "pipelines" / "demo_data" / "generate.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["demo_generate"] = module
        spec.loader.exec_module(module)
    return sys.modules["demo_generate"]


def shared_path(*parts: str) -> Path:
    """A file under ../shared, or skip the test: a user's clone has no ../shared."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs {path} (../shared is not present)")
    return path


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> Path:
    """The demo pipeline, run once per test session into a temporary folder."""
    from curate.runner import run

    out = tmp_path_factory.mktemp("demo") / "run"
    state, manifest = run(str(DEMO_PIPELINE), output=str(out), progress=False)
    assert state == "new" and manifest is not None
    return out


def write_pipeline(path: Path, body: str) -> Path:
    path.write_text(body, encoding="utf-8")
    return path


@pytest.fixture
def copy_demo_data(tmp_path) -> Path:
    dst = tmp_path / "demo_data"
    shutil.copytree(REPO / "pipelines" / "demo_data", dst)
    return dst


def run_outcome(run_dir: Path) -> dict:
    """What two runs of one pipeline on different executors must agree on: the kept ids, every removed document
    with its reason and `duplicate_of`, and the manifest's totals (per reason, per step, per license/language/source,
    the shards)."""
    import json

    import polars as pl

    def rows(sub: str, columns: list[str]) -> list[tuple]:
        files = sorted((run_dir / sub).glob("**/*.parquet"))
        frames = [pl.read_parquet(f) for f in files]
        return sorted(tuple(r) for f in frames for r in f.select([c for c in columns if c in f.columns]).rows())

    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    totals = {k: manifest[k] for k in ("documents_in", "documents_kept", "bytes_in", "bytes_kept", "removed",
                                       "removed_bytes", "duplicate_ids", "licenses", "languages", "sources",
                                       "outputs", "removed_outputs")}
    totals["steps"] = [(s["name"], s["documents_in"], s["removed"], s["counters"]) for s in manifest["steps"]]
    return {"kept": [r[0] for r in rows("data", ["id"])],
            "removed": rows("removed", ["id", "removed_reason", "duplicate_of"]), "totals": totals}


def archive_record(kind: str, url: str, body: bytes, ctype: str | None = "text/html; charset=utf-8",
                   headers: dict | None = None) -> bytes:
    """One WARC record of any type as its own gzip member; a response or revisit carries HTTP headers."""
    import io

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    w = WARCWriter(buf, gzip=True)
    http = None
    if kind in ("response", "revisit"):
        http = StatusAndHeaders("200 OK", [("Content-Type", ctype)] if ctype else [], protocol="HTTP/1.1")
    warc_headers = dict(headers or {})
    if kind in ("resource", "conversion") and ctype:
        warc_headers["Content-Type"] = ctype
    w.write_record(w.create_warc_record(url, kind, payload=io.BytesIO(body), http_headers=http,
                                        warc_headers_dict=warc_headers))
    return buf.getvalue()
