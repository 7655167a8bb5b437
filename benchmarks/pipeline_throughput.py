"""Throughput and memory of `curate run` against plain datatrove running the same filter chain.

    python benchmarks/pipeline_throughput.py [--docs 2000] [--scale 10]

1. The same input (English documents from ../shared/corpora/web_en_ko.jsonl.gz, or the bundled demo corpus
   repeated when ../shared is absent) goes through language ID -> Gopher repetition -> Gopher quality -> FineWeb
   quality -> Parquet, once as a hand-built datatrove pipeline and once through `curate run` (YAML, accounting,
   removed/ shards, manifest). Both run in one task, in this process, twice each (alternating); the best
   docs/s of each is compared. Target: curate >= 0.95x plain datatrove.
2. Peak RSS of `curate run` (in a fresh subprocess) on N and on scale x N documents: memory must stay flat,
   because the pipeline streams.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "corpora" / "web_en_ko.jsonl.gz"


def english_docs(n: int) -> list[dict]:
    docs = []
    if SHARED.exists():
        with gzip.open(SHARED, "rt") as f:
            docs = [d for d in map(json.loads, f) if d["lang"] == "en"]
    else:
        with gzip.open(REPO / "pipelines" / "demo_data" / "web_en.jsonl.gz", "rt") as f:
            docs = list(map(json.loads, f))
    out = []
    while len(out) < n:
        for d in docs:
            out.append({"id": f"{d['id']}#{len(out)}", "text": d["text"], "url": d.get("url")})
            if len(out) == n:
                break
    return out


def write_jsonl(path: Path, docs: list[dict]) -> None:
    with open(path, "w") as f:
        for d in docs:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")


def plain_datatrove(input_dir: Path, out_dir: Path) -> float:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.filters import (FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter,
                                            LanguageFilter)
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import ParquetWriter

    from curate.langid import BundledFT176LID

    lang = LanguageFilter(languages=["en"], language_threshold=0.65)
    lang.model = BundledFT176LID(["en"], k=5)  # datatrove's own model would be downloaded
    pipeline = [JsonlReader(str(input_dir)), lang, GopherRepetitionFilter(), GopherQualityFilter(),
                FineWebQualityFilter(), ParquetWriter(str(out_dir / "data"), compression="zstd")]
    t = time.perf_counter()
    LocalPipelineExecutor(pipeline, tasks=1, workers=1, logging_dir=str(out_dir / "logs")).run()
    return time.perf_counter() - t


def curate_run(input_dir: Path, out_dir: Path) -> float:
    from curate.runner import run

    p = out_dir.with_suffix(".yaml")
    p.write_text(f"name: bench\ninputs: [{{name: s, paths: ['{input_dir}/*.jsonl']}}]\nsteps:\n"
                 "  - {type: language, name: lang, languages: [en], threshold: 0.65}\n"
                 "  - {type: gopher_repetition}\n  - {type: gopher_quality}\n  - {type: fineweb_quality}\n"
                 f"output: {{dir: {out_dir}}}\nexecutor: {{tasks: 1, workers: 1}}\n")
    t = time.perf_counter()
    run(str(p), progress=False, force=True)
    return time.perf_counter() - t


def peak_rss_mb(input_dir: Path, out_dir: Path) -> float:
    code = f"""
import resource
from curate.runner import run
from pathlib import Path
p = Path({str(out_dir)!r} + '.yaml')
p.write_text("name: mem\\ninputs: [{{name: s, paths: ['{input_dir}/*.jsonl']}}]\\nsteps:\\n  - {{type: gopher_repetition}}\\n  - {{type: fineweb_quality}}\\noutput: {{dir: {out_dir}}}\\nexecutor: {{tasks: 1, workers: 1}}\\n")
run(str(p), progress=False, force=True)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--scale", type=int, default=10)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from curate.logs import console_level

    console_level("ERROR")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "in").mkdir()
        docs = english_docs(args.docs)
        write_jsonl(tmp / "in" / "docs.jsonl", docs)
        mb = sum(len(d["text"].encode()) for d in docs) / 1e6
        # warm caches (spaCy, fastText) once so neither side pays the first load
        curate_run(tmp / "in", tmp / "warm")
        times = {"datatrove": [], "curate": []}
        for i in range(2):
            times["datatrove"].append(plain_datatrove(tmp / "in", tmp / f"dt{i}"))
            times["curate"].append(curate_run(tmp / "in", tmp / f"cu{i}"))
        dt, cu = min(times["datatrove"]), min(times["curate"])
        print(f"input: {len(docs):,} English documents, {mb:.1f} MB"
              f" ({'shared corpus' if SHARED.exists() else 'demo corpus'})")
        print(f"plain datatrove : {len(docs) / dt:8.1f} docs/s  {mb / dt:6.2f} MB/s")
        print(f"curate run      : {len(docs) / cu:8.1f} docs/s  {mb / cu:6.2f} MB/s")
        print(f"ratio curate/datatrove: {dt / cu:.3f}x (target >= 0.95x)")

        (tmp / "big").mkdir()
        write_jsonl(tmp / "big" / "docs.jsonl", english_docs(args.docs * args.scale))
        small, big = peak_rss_mb(tmp / "in", tmp / "m1"), peak_rss_mb(tmp / "big", tmp / "m10")
        print(f"peak RSS: {args.docs:,} docs {small:.0f} MB; {args.docs * args.scale:,} docs {big:.0f} MB "
              f"(ratio {big / small:.2f}x for {args.scale}x the input)")


if __name__ == "__main__":
    main()
