"""Wall time of the demo pipeline on Slurm against the local executor, on the same config and the same tasks.

    .ci/slurm/slurm-local.sh install && .ci/slurm/slurm-local.sh up     # or any cluster that answers sinfo
    python benchmarks/slurm_vs_local.py [--tasks 2] [--bucket-tasks 2]

The demo pipeline (pipelines/demo.yaml) with both dedups distributed is run twice with the `curate run` command a
user types: once with `executor: {type: local}`, once with `executor: {type: slurm}` (submit, wait until the jobs
have left `squeue`, run again to write the manifest). Printed: each wall time, the Slurm/local ratio, how many
processes Slurm started (one per task of every stage, plus datatrove's merge_stats job per stage) and what one of
them pays before its first document (a fresh Python unpickling a stage's executor: datatrove, our steps and their
models are imported again in every task). tests/test_slurm.py checks that both runs give the same result.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
DEMO_PIPELINE = REPO / "pipelines" / "demo.yaml"


def demo_pipeline(folder: Path, executor: dict, bucket_tasks: int = 2) -> Path:
    """pipelines/demo.yaml with absolute input paths, both dedups distributed (`bucket_tasks` tasks in each global
    stage: an execution setting, the decisions do not depend on it) and the given executor."""
    raw = yaml.safe_load(DEMO_PIPELINE.read_text(encoding="utf-8"))
    for spec in raw["inputs"]:
        spec["paths"] = [str(DEMO_PIPELINE.parent / p) for p in spec["paths"]]
    for step in raw["steps"]:
        if step["type"] in ("dedup_exact", "dedup_minhash"):
            step |= {"mode": "distributed", "bucket_tasks": bucket_tasks}
    raw["executor"] = executor
    path = folder / f"demo_{executor['type']}.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def default_partition() -> str:
    out = subprocess.run(["sinfo", "-h", "-o", "%P"], capture_output=True, text=True, check=True).stdout.split()
    return next((p.rstrip("*") for p in out if p.endswith("*")), out[0])


def curate_run(pipeline: Path, out: Path) -> tuple[float, str]:
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "curate.cli", "run", str(pipeline), "--output", str(out),
                           "--no-progress"], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"curate run {pipeline} failed:\n{done.stdout}\n{done.stderr}")
    return time.perf_counter() - t, done.stdout


def wait_for_jobs(out: Path) -> float:
    from curate.slurm import SlurmJobs

    t, jobs = time.perf_counter(), SlurmJobs(str(out))
    while jobs.queued():
        time.sleep(1)
    return time.perf_counter() - t


def task_start_seconds(out: Path) -> float:
    """A fresh Python loading one stage's pickled executor: what every Slurm task pays before it reads anything."""
    pik = out / "logs" / "datatrove" / "executor.pik"
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import dill; dill.load(open({str(pik)!r}, 'rb'))"], check=True)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=2)
    ap.add_argument("--bucket-tasks", type=int, default=2)
    ap.add_argument("--keep", metavar="DIR", help="Keep the two run folders here (default: a temporary folder).")
    args = ap.parse_args()
    if shutil.which("sbatch") is None:
        raise SystemExit("sbatch not found: install Slurm and start a cluster (.ci/slurm/slurm-local.sh install && "
                         ".ci/slurm/slurm-local.sh up)")
    # the jobs get this environment (datatrove submits with --export=ALL): this checkout, this Python, offline
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]])
    os.environ["HF_HUB_OFFLINE"] = "1"
    folder = Path(args.keep or tempfile.mkdtemp(prefix="slurm_vs_local_"))
    folder.mkdir(parents=True, exist_ok=True)

    local_yaml = demo_pipeline(folder, {"type": "local", "tasks": args.tasks}, args.bucket_tasks)
    options = {"partition": default_partition(), "time": "00:30:00", "cpus_per_task": 1, "mem_per_cpu_gb": 2}
    slurm_yaml = demo_pipeline(folder, {"type": "slurm", "tasks": args.tasks, "options": options}, args.bucket_tasks)
    local_out, slurm_out = folder / "local", folder / "slurm"
    for out in (local_out, slurm_out):
        shutil.rmtree(out, ignore_errors=True)

    local_s, _ = curate_run(local_yaml, local_out)
    submit_s, said = curate_run(slurm_yaml, slurm_out)
    assert "submitted" in said, said
    queue_s = wait_for_jobs(slurm_out)
    finalize_s, _ = curate_run(slurm_yaml, slurm_out)
    slurm_s = submit_s + queue_s + finalize_s

    manifests = [json.loads((out / "manifest.json").read_text()) for out in (local_out, slurm_out)]
    assert manifests[0]["documents_kept"] == manifests[1]["documents_kept"], "the two runs kept different documents"
    stages = sorted(p.parent.parent.name for p in slurm_out.glob("logs/**/slurm_logs/*.out"))
    processes = len(stages)
    print(f"demo pipeline, {manifests[0]['documents_in']} documents, {args.tasks} tasks, dedups distributed "
          f"({len(set(stages))} stages); {os.cpu_count()} CPUs")
    print(f"local  curate run:                            {local_s:7.1f} s")
    print(f"slurm  submit {submit_s:5.1f} s + jobs {queue_s:6.1f} s + finalize {finalize_s:5.1f} s = {slurm_s:7.1f} s")
    print(f"slurm / local wall time:                      {slurm_s / local_s:7.2f}x")
    print(f"Slurm started {processes} processes (tasks + merge_stats jobs); one task's start-up "
          f"(fresh Python loading its stage): {task_start_seconds(slurm_out):.1f} s")
    print(f"run folders: {folder}")


if __name__ == "__main__":
    main()
