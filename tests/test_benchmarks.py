"""Every script in benchmarks/ runs after the README's install command: each is run here at a tiny size, as a user
would run it (a fresh `python3 benchmarks/NAME.py`, offline), and must exit 0 and print its table. The figures at
this size mean nothing; what is tested is that the script, its imports and its data paths work. A new benchmark
must be added to TINY (the last test fails otherwise). Run with `pytest -m benchmarks` (.ci/run does; minutes)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import shared_path

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "benchmarks"

# script -> (arguments for a tiny run, what its output must contain)
TINY: dict[str, tuple[list[str], str]] = {
    "dedup_memory.py": (["--sizes", "2000", "--baseline", "1000", "--num-perm", "32"], "bytes"),
    "dedup_quality.py": (["--pairs", "4"], "recall"),
    "dedup_speed.py": (["--docs", "60"], "docs/s"),
    "input_parts.py": (["--docs", "60", "--rounds", "1"], "same documents kept: True"),
    "license_detect_eval.py": (["--engines", "builtin,cascade", "--throughput-docs", "40", "--raw-docs", "0"],
                               "httpd"),
    "license_files_eval.py": (["--limit", "10", "--engine", "builtin"], "as license_detect's inheritance"),
    "debian_copyright_eval.py": (["--limit", "15"], "short names mapped to known licenses"),
    "langid_calibration.py": ([], "thresholds"),
    "quality_eval.py": (["--pipeline", "web", "--variant", "after", "--limit", "3"], "junk removed"),
    "pii_eval.py": (["--docs", "20"], "EMAIL"),
    "pii_throughput.py": (["--docs", "10", "--rounds", "1", "--real-docs", "5"], "MB/s"),
    "pipeline_throughput.py": (["--docs", "60", "--scale", "1"], "docs/s"),
    "stage_overhead.py": (["--docs", "40", "--rounds", "1"], "stage"),
    "scale.py": (["--docs", "200", "--runs", "local2", "ray2"], "planted-pair recall"),
    "toxicity_eval.py": (["--limit", "150"], "F1"),
    "word_tokenizer.py": (["--docs", "40", "--rounds", "1"], "tokens identical: True"),
    "train_gpu.py": (["--steps", "2"], "MFU"),
    "train_span_corruption.py": (["--batch", "4", "--inputs-length", "64", "--iters", "2"], "/s"),
    "train_t5_recipe.py": (["--steps", "4", "--d-model", "32", "--batch", "2", "--every", "2"], "nanoT5"),
    "train_tokens_per_sec.py": (["--steps", "4", "--warmup", "2", "--batch", "2", "--seq-len", "32",
                                 "--repeats", "1"], "tokens/s"),
    # needs a Slurm cluster (tests/test_slurm.py brings one up); run by `pytest -m slurm`
    "slurm_vs_local.py": (["--tasks", "1", "--bucket-tasks", "1"], "Slurm"),
}
NEEDS_TORCH = {name for name in TINY if name.startswith("train_")}
# the real documents and labeled sets in ../shared are their data: skipped where that folder is absent
NEEDS_SHARED = {"dedup_quality.py", "dedup_speed.py", "langid_calibration.py", "quality_eval.py", "scale.py",
                "toxicity_eval.py"}


def run_benchmark(name: str, tmp_path: Path) -> str:
    args, expected = TINY[name]
    env = os.environ | {"HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, str(BENCH / name), *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert expected in proc.stdout, f"{name} printed no '{expected}':\n{proc.stdout[-3000:]}"
    return proc.stdout


@pytest.mark.benchmarks
@pytest.mark.parametrize("name", sorted(set(TINY) - {"slurm_vs_local.py"}))
def test_benchmark_runs_at_a_tiny_size(name, tmp_path):
    if name in NEEDS_TORCH:
        pytest.importorskip("torch")
    if name in NEEDS_SHARED:
        shared_path("corpora")
    if name == "debian_copyright_eval.py" and not glob.glob("/usr/share/doc/*/copyright"):
        pytest.skip("not a Debian/Ubuntu system: no copyright files in /usr/share/doc")
    run_benchmark(name, tmp_path)


@pytest.mark.slurm
def test_slurm_benchmark_runs(tmp_path):
    if shutil.which("sbatch") is None:
        pytest.skip("no sbatch")
    run_benchmark("slurm_vs_local.py", tmp_path)


def test_every_benchmark_is_exercised():
    scripts = {p.name for p in BENCH.glob("*.py") if not p.name.startswith("_")}
    assert scripts == set(TINY), f"add to TINY: {sorted(scripts - set(TINY))}; gone: {sorted(set(TINY) - scripts)}"
