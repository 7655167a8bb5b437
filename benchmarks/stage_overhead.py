"""The fixed cost of a multi-stage run, and what curate cuts of it (issue: cheap stages).

A pipeline with distributed dedup runs as several stages (segments, MinHash buckets and cluster, exact-dedup
partitions). datatrove's LocalPipelineExecutor starts a Manager process and a fresh pool per stage, whose workers
import datatrove, pyarrow and the steps again. curate runs every stage of a run in one pool, forked from a
forkserver that has imported the plan's modules once. Printed, on the same small input and the same plan:

  - wall time of the whole run: datatrove's executor per stage vs curate's shared pool (ratio);
  - the time to import Presidio with torch/transformers visible vs hidden (curate.scrub.import_presidio), which every
    worker of a pipeline with a `pii` step pays;
  - the time `curate run` takes to answer that a finished run is complete (in process, and the whole command).

    python benchmarks/stage_overhead.py [--docs 400] [--tasks 2]
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def write_pipeline(tmp: Path, docs: int, tasks: int) -> Path:
    lines = gzip.decompress((REPO / "pipelines/demo_data/web_en.jsonl.gz").read_bytes()).splitlines()
    records = [json.loads(x) for x in lines]
    files = []
    for f in range(tasks * 2):
        path = tmp / f"in{f}.jsonl"
        path.write_text("".join(json.dumps({"id": f"{f}-{i}", "text": records[i % len(records)]["text"]}) + "\n"
                                for i in range(f, docs, tasks * 2)))
        files.append(str(path))
    p = tmp / "p.yaml"
    p.write_text(f"""name: overhead
inputs: [{{name: web, paths: {json.dumps(files)}}}]
steps:
  - {{type: length, min_chars: 50}}
  - {{type: dedup_exact, mode: distributed, bucket_tasks: 4}}
  - {{type: dedup_minhash, mode: distributed, bucket_tasks: 8}}
  - {{type: pii}}
executor: {{tasks: {tasks}}}
""")
    return p


def run_with(pipeline: Path, out: Path, shared_pool: bool) -> float:
    from curate.executors import run_stage
    from curate.runner import Run

    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    r = Run(str(pipeline), output=str(out))
    r.prepare(force=False)
    if shared_pool:
        r.execute(progress=False)
    else:  # datatrove's own LocalPipelineExecutor.run for every stage (a Manager and a pool each)
        for stage, executor in zip(r.plan.stages, r.executors(shared=None)):
            run_stage(executor, stage)
    r.finalize()
    r.lock.release()
    return time.perf_counter() - started


def import_seconds(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=400)
    ap.add_argument("--tasks", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds per side; the fastest is reported")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        pipeline = write_pipeline(tmp, args.docs, args.tasks)
        from curate.runner import Run

        stages = len(Run(str(pipeline)).plan.stages)
        ours, theirs = [], []
        for _ in range(args.rounds):  # alternating, so that a load swing on a shared machine hits both sides
            theirs.append(run_with(pipeline, tmp / "theirs", shared_pool=False))
            ours.append(run_with(pipeline, tmp / "ours", shared_pool=True))
        print(f"run of {args.docs} documents, {args.tasks} tasks, {stages} stages:")
        print(f"  datatrove executor per stage  {min(theirs):7.1f} s")
        print(f"  curate shared pool            {min(ours):7.1f} s   ({min(theirs) / min(ours):.2f}x faster)")

        visible = min(import_seconds("import presidio_analyzer") for _ in range(args.rounds))
        hidden = min(import_seconds("from curate.scrub import import_presidio; import_presidio()")
                     for _ in range(args.rounds))
        print("import of Presidio in a fresh process (each worker of a pipeline with a pii step):")
        print(f"  torch/transformers visible    {visible:7.2f} s")
        print(f"  hidden (curate)               {hidden:7.2f} s   ({visible / hidden:.2f}x faster)")

        from curate.runner import run

        started = time.perf_counter()
        state, _ = run(str(pipeline), output=str(tmp / "ours"), progress=False)
        in_process = time.perf_counter() - started
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "curate.cli", "run", str(pipeline), "-o", str(tmp / "ours"),
                        "--no-progress"], check=True, capture_output=True)
        command = time.perf_counter() - started
        assert state == "complete"
        print("answering that a finished run is complete:")
        print(f"  in process                    {in_process:7.3f} s")
        print(f"  whole command (interpreter included) {command:.2f} s")


if __name__ == "__main__":
    main()
