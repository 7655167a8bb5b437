"""The committed demo corpus is exactly what the generator makes (no hand edits, reproducible anywhere)."""

from conftest import REPO, demo_generator


def test_generator_reproduces_the_committed_demo_corpus(tmp_path):
    sizes = demo_generator().build(str(tmp_path))
    committed = REPO / "pipelines" / "demo_data"
    for name in sizes:
        assert (tmp_path / name).read_bytes() == (committed / name).read_bytes(), name
