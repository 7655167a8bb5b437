import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DEMO_PIPELINE = REPO / "pipelines" / "demo.yaml"


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
