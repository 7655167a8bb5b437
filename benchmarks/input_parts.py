"""One big input file and several tasks: read in parts (executor.split_mb) vs read whole by one task.

    python benchmarks/input_parts.py [--docs 20000] [--tasks 2] [--rounds 2]

One uncompressed JSONL file of N English documents (../shared/corpora/web_en_ko.jsonl.gz repeated, or the bundled
demo corpus when ../shared is absent) goes through per-document steps as in web.yaml (language ID, Gopher
repetition and quality, FineWeb quality) with `--tasks` tasks and as many workers, once with `split_mb: 0` (the file
is one task's work, the others idle) and once with parts of about a quarter of the file per task. The two alternate
`--rounds` times in one command; the best wall time of each is compared (the ratio is the figure, not the seconds).
Both must keep the same documents.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from pathlib import Path

import yaml

from pipeline_throughput import english_docs, write_jsonl

STEPS = [{"type": "language", "languages": ["en"]}, {"type": "gopher_repetition"}, {"type": "gopher_quality"},
         {"type": "fineweb_quality"}]


def run_once(tmp: Path, data: Path, tasks: int, split_mb: int, name: str) -> tuple[float, list[str], int]:
    from curate.runner import run

    cfg = {"name": "parts", "inputs": [{"name": "web", "paths": [str(data)]}], "steps": STEPS,
           "output": {"dir": str(tmp / name)}, "executor": {"tasks": tasks, "workers": tasks, "split_mb": split_mb}}
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    start = time.perf_counter()
    _, manifest = run(str(path), force=True, progress=False)
    seconds = time.perf_counter() - start
    import polars as pl

    kept = sorted(pl.read_parquet(str(tmp / name / "data" / "**" / "*.parquet"))["id"].to_list())
    parts = max((e.get("parts", 1) for e in manifest["inputs"]), default=1)
    return seconds, kept, parts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=20000)
    ap.add_argument("--tasks", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        data = tmp / "one_big_file.jsonl"
        write_jsonl(data, english_docs(args.docs))
        size_mb = data.stat().st_size / 2**20
        split_mb = max(1, math.floor(size_mb / (4 * args.tasks)))
        print(f"one file: {args.docs} documents, {size_mb:.1f} MB; {args.tasks} tasks; parts of {split_mb} MB")
        best = {"whole": math.inf, "parts": math.inf}
        kept = {}
        n_parts = 1
        for r in range(args.rounds):
            for name, split in (("whole", 0), ("parts", split_mb)):
                seconds, kept[name], parts = run_once(tmp, data, args.tasks, split, name)
                n_parts = max(n_parts, parts)
                best[name] = min(best[name], seconds)
                print(f"  round {r + 1} {name:5s}: {seconds:7.1f} s ({args.docs / seconds:,.0f} docs/s)")
        print(f"read whole by one task: {best['whole']:.1f} s; in {n_parts} parts over {args.tasks} tasks: "
              f"{best['parts']:.1f} s; speed-up {best['whole'] / best['parts']:.2f}x (best of {args.rounds})")
        print(f"same documents kept: {kept['whole'] == kept['parts']} ({len(kept['whole'])} of {args.docs})")
        print(json.dumps({"whole_s": round(best["whole"], 2), "parts_s": round(best["parts"], 2),
                          "speedup": round(best["whole"] / best["parts"], 3), "parts": n_parts}))


if __name__ == "__main__":
    main()
