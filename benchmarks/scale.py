"""A scale run built from real documents: N documents (default 1M, ~2.8 GB of JSONL) made of the real en/ko
documentation pages in ../shared/corpora/web_en_ko.jsonl.gz, with exact and near duplicates planted at known rates,
run through web.yaml-like stages (language ID, Gopher repetition, exact dedup and MinHash dedup both distributed,
PII) with --tasks 1 and --tasks 2 on the local executor and --tasks 2 on Ray (a local instance on 127.0.0.1).

Printed per run and stage: wall time, documents of the corpus per second of that stage, the peak RSS of the largest
worker process and its anonymous part (RSS less pages mapped from files; helpers such as the forkserver, Ray's
daemons and the driver are not workers, except that a local stage with one worker runs in the driver), and the
disk the run's intermediates (RUN/work) take once the stage is done; "(then fresh workers)" marks a stage after which
the local pool renewed its workers or Ray replaced actors (curate/executors.py, curate/ray_actors.py: a global stage
left them more than 64 MB larger). Per run: the recall on the planted pairs (a pair counts when one of its two
documents is removed as a duplicate, among pairs whose both documents reached the dedup steps) and the number of
other documents removed as duplicates. Then the 1 -> 2 task speed-up and the local/Ray ratio.

How the corpus is made (seeded): a document is three windows of 4-14 consecutive paragraphs from three real pages of
one language, so two documents share a page's text only by chance; 3% of documents are then exact copies of an
earlier document (a new id), 3% near copies (2% of words replaced by other words of the corpus, and one sentence
appended). The real pages carry their own near duplicates (tldr pages of one command in several languages are
not one language; translated docs are not near duplicates at 5-grams), counted as "other duplicates".

    python benchmarks/scale.py                      # 1M documents: hours on 2 cores
    python benchmarks/scale.py --docs 20000 --runs local1 local2 ray2
    python benchmarks/scale.py --docs 10000 --runs local1 local2 ray2 --rss-sizes 2500   # + RSS at 2,500 vs 10,000
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import polars as pl
import psutil

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CURATE_SHARED", REPO.parent / "shared"))
RAY_DAEMONS = ("raylet", "gcs_server", "dashboard", "log_monitor", "monitor.py", "runtime_env", "ray_client_server")


# -- the corpus ---------------------------------------------------------------------------------------------------
def build_corpus(out: Path, docs: int, files: int, seed: int = 0) -> dict[str, str]:
    """Writes `files` JSONL files; returns the planted pairs {copy id: original id}."""
    rng = random.Random(seed)
    pages: dict[str, list[list[str]]] = {"en": [], "ko": []}
    with gzip.open(SHARED / "corpora" / "web_en_ko.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            paragraphs = [p for p in r["text"].split("\n\n") if p.strip()]
            if paragraphs:
                pages[r["lang"]].append(paragraphs)
    vocab = [w for ps in pages["en"][:300] for p in ps for w in p.split() if w.isalpha()]
    out.mkdir(parents=True, exist_ok=True)
    handles = [open(out / f"part-{i:03d}.jsonl", "w", encoding="utf-8") for i in range(files)]
    planted: dict[str, str] = {}
    recent: list[tuple[str, str, str]] = []  # (id, lang, text) of documents a copy may be made of
    for i in range(docs):
        doc_id = f"scale-{i:08d}"
        roll = rng.random()
        if roll < 0.06 and recent:
            orig_id, lang, text = rng.choice(recent)
            if roll < 0.03:
                copy = text
            else:
                words = text.split(" ")
                for k in rng.sample(range(len(words)), max(1, len(words) // 50)):
                    words[k] = rng.choice(vocab)
                copy = " ".join(words) + " " + rng.choice(vocab).capitalize() + " " + rng.choice(vocab) + "."
            planted[doc_id] = orig_id
            text, lang = copy, lang
        else:
            lang = "en" if rng.random() < 0.51 else "ko"
            parts = []
            for page in rng.sample(pages[lang], 3):
                start = rng.randrange(len(page))
                parts += page[start:start + rng.randint(4, 14)]
            text = "\n\n".join(parts)
            if len(recent) < 5000:
                recent.append((doc_id, lang, text))
            else:
                recent[rng.randrange(5000)] = (doc_id, lang, text)
        handles[i % files].write(json.dumps({"id": doc_id, "text": text, "lang": lang}, ensure_ascii=False) + "\n")
    for h in handles:
        h.close()
    return planted


STEPS = {
    "language": "{type: language, name: lang, languages: [en, ko], threshold: 0.5}",
    "gopher_repetition": "{type: gopher_repetition}",
    "dedup_exact": "{type: dedup_exact, mode: distributed, bucket_tasks: BUCKET_TASKS}",
    "dedup_minhash": "{type: dedup_minhash, mode: distributed, keep: longest}",
    "pii": "{type: pii}",
}


def write_pipeline(tmp: Path, data: Path, tasks: int, engine: str, without: tuple[str, ...] = ()) -> Path:
    p = tmp / f"scale-{engine}{tasks}.yaml"
    steps = "\n".join(f"  - {spec.replace('BUCKET_TASKS', str(2 * tasks))}"
                       for name, spec in STEPS.items() if name not in without)
    p.write_text(f"""name: scale
inputs: [{{name: docs, paths: ['{data}/*.jsonl']}}]
steps:
{steps}
output: {{dir: {tmp / f'run-{engine}{tasks}'}, shard_size_mb: 256}}
executor: {{type: {engine}, tasks: {tasks}, workers: {tasks}}}
""")
    return p


# -- measuring stages ---------------------------------------------------------------------------------------------
class PeakWorkerRss(threading.Thread):
    """Polls the process tree under this process every 0.2 s: the largest RSS of one worker process (this process's
    own when the stage ran its tasks here: one worker), and the largest anonymous part of it (RSS less the pages
    mapped from files: the memory the process itself holds). The difference is page cache: memory-mapped signatures
    and band keys, which the kernel maps in large folios (up to ~1 MB per page touched, measured on Linux 6.18), so
    that reading rows at random places shows most of the file in RSS; those pages are shared and reclaimable.

    Helpers are not workers: the forkserver, and the processes this one forks (the Manager datatrove's rank queue
    needs, multiprocess's resource tracker), whose RSS is this process's memory at the time of the fork; counting
    them made a small run measured after a big one report the big one's driver."""

    def __init__(self, here: bool = False):
        super().__init__(daemon=True)
        self.here = here  # the stage runs its tasks in this process (local executor, one worker for the stage)
        self.me = psutil.Process()
        self.peak = self.own = self.peak_anon = self.own_anon = 0
        self._stop_event = threading.Event()

    def workers(self) -> list[psutil.Process]:
        out = []
        for child in self.me.children(recursive=True):
            try:
                cmd = " ".join(child.cmdline())
                if any(d in cmd for d in RAY_DAEMONS) or child.ppid() == self.me.pid and (
                        "forkserver" in cmd or "resource_tracker" in cmd or cmd == self.my_cmd):
                    continue
                out.append(child)
            except psutil.Error:
                pass
        return out

    def run(self):
        self.my_cmd = " ".join(self.me.cmdline())
        while not self._stop_event.wait(0.2):
            mine = self.me.memory_info()
            self.own, self.own_anon = max(self.own, mine.rss), max(self.own_anon, mine.rss - mine.shared)
            for child in self.workers():
                try:
                    m = child.memory_info()
                    self.peak, self.peak_anon = max(self.peak, m.rss), max(self.peak_anon, m.rss - m.shared)
                except psutil.Error:
                    pass

    def stop(self) -> tuple[int, int]:
        """(peak RSS, peak anonymous RSS) of the largest worker, bytes."""
        self._stop_event.set()
        self.join()
        return (self.own, self.own_anon) if self.here or not self.peak else (self.peak, self.peak_anon)


def disk_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0


def run_once(pipeline: Path, engine: str, docs: int) -> tuple[list[dict], float, Path]:
    import curate.executors as executors
    from curate import ray_actors
    from curate.runner import Run

    stages: list[dict] = []
    original = executors.run_stage

    def measured(executor, stage):  # what Run.execute calls for every stage
        # a local stage with one worker (e.g. the one cluster task) runs in this process, not in the pool
        rss = PeakWorkerRss(here=engine == "local" and (getattr(executor, "shared", None) is None
                                                         or executor.workers == 1))
        rss.start()
        started = time.perf_counter()
        original(executor, stage)
        seconds = time.perf_counter() - started
        peak, anon = rss.stop()
        stages.append({"stage": stage.name, "seconds": seconds, "docs_per_s": docs / seconds,
                       "peak_worker_rss_mb": peak / 2**20, "peak_worker_anon_mb": anon / 2**20,
                       "work_mb": disk_bytes(Path(r.paths.work)) / 2**20})

    after_stage = executors.SharedPool.after_stage

    def noted(shared, global_stage):  # whether the pool renewed its workers after the stage just measured
        stages[-1]["fresh_workers_after"] = after_stage(shared, global_stage)
        return stages[-1]["fresh_workers_after"]

    actors_after_stage = ray_actors.ActorPool.after_stage

    def actors_noted(pool, global_stage):  # how many actors Ray replaced after the stage just measured
        stages[-1]["fresh_workers_after"] = actors_after_stage(pool, global_stage)
        return stages[-1]["fresh_workers_after"]

    executors.run_stage, executors.SharedPool.after_stage = measured, noted
    ray_actors.ActorPool.after_stage = actors_noted
    started = time.perf_counter()
    try:
        r = Run(str(pipeline))
        r.prepare(force=False)
        r.execute(progress=False)
        r.finalize()
        r.lock.release()
    finally:
        executors.run_stage, executors.SharedPool.after_stage = original, after_stage
        ray_actors.ActorPool.after_stage = actors_after_stage
    return stages, time.perf_counter() - started, Path(r.paths.root)


def recall(run_dir: Path, planted: dict[str, str]) -> tuple[float, int, int]:
    """(recall on planted pairs that reached dedup, pairs counted, other documents removed as duplicates)."""
    removed = pl.concat([pl.read_parquet(f, columns=["id", "removed_reason"])
                         for f in sorted((run_dir / "removed").rglob("*.parquet"))])
    reasons = dict(zip(removed["id"], removed["removed_reason"]))
    is_dup = {i for i, why in reasons.items() if why.startswith("dedup")}
    counted = found = 0
    for copy, orig in planted.items():
        before = [reasons.get(x) for x in (copy, orig)]
        if any(why is not None and not why.startswith("dedup") for why in before):
            continue  # one of the two never reached the dedup steps
        counted += 1
        found += copy in is_dup or orig in is_dup
    other = len(is_dup - set(planted) - set(planted.values()))
    return (found / counted if counted else float("nan")), counted, other


def other_duplicates_checked(run_dir: Path, planted: dict[str, str], sample: int = 400) -> str:
    """The documents MinHash removed that were not planted are near duplicates the generator made by chance (a
    finite pool of real pages, windows of the same pages): measured on a sample, the exact Jaccard similarity of
    their shingle sets (the step's shingles: word 3-grams, a Hangul character a word) with the document each points
    to (`duplicate_of`, its cluster's survivor: transitively similar, so it may be below the step's threshold)."""
    from curate.dedup.text import NormConfig, word_ngrams

    removed = pl.concat([pl.read_parquet(f, columns=["id", "text", "removed_reason", "duplicate_of"])
                         for f in sorted((run_dir / "removed").rglob("*.parquet"))])
    planted_ids = set(planted) | set(planted.values())
    other = removed.filter(pl.col("removed_reason").str.starts_with("dedup_minhash")
                           & ~pl.col("id").is_in(list(planted_ids)))
    if other.height == 0:
        return "no other MinHash duplicates"
    other = other.sample(min(sample, other.height), seed=0)
    survivors = set(other["duplicate_of"])
    texts: dict[str, str] = {}
    for f in sorted((run_dir / "data").rglob("*.parquet")) + sorted((run_dir / "removed").rglob("*.parquet")):
        t = pl.read_parquet(f, columns=["id", "text"]).filter(pl.col("id").is_in(list(survivors)))
        texts.update(zip(t["id"], t["text"]))
    norm = NormConfig(whitespace=False)
    sims = []
    for text, of in zip(other["text"], other["duplicate_of"]):
        a, b = set(word_ngrams(text, 3, norm).tolist()), set(word_ngrams(texts.get(of, ""), 3, norm).tolist())
        sims.append(len(a & b) / len(a | b) if a | b else 0.0)
    sims.sort()
    share = sum(x >= 0.5 for x in sims) / len(sims)
    return (f"{len(sims)} of them checked: exact Jaccard with the document kept, median {sims[len(sims) // 2]:.2f}, "
            f"{share:.0%} >= 0.5 (the step's threshold), lowest {sims[0]:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=1_000_000)
    ap.add_argument("--files", type=int, default=8, help="input files (tasks read whole files)")
    ap.add_argument("--runs", nargs="+", default=["local1", "local2", "ray2"],
                    help="engine + tasks: local1, local2, ray2, ...")
    ap.add_argument("--rss-sizes", type=int, nargs="*", default=[],
                    help="also run local2 at these corpus sizes and print the per-stage peak worker RSS side by side "
                         "(with the local2 run at --docs)")
    ap.add_argument("--without", nargs="*", default=[], choices=sorted(STEPS),
                    help="leave these steps out (e.g. gopher_repetition, whose word tokenizers (spaCy, Kiwi) take ~90%% "
                         "of the time, to measure the dedup and shard stages at 1M documents in under an hour)")
    ap.add_argument("--workdir", default=None, help="keep the corpus and runs here (default: a temporary folder)")
    a = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # a long run prints as it goes, also into a file
    if not (SHARED / "corpora" / "web_en_ko.jsonl.gz").exists():
        print(f"{SHARED}/corpora/web_en_ko.jsonl.gz absent: skipped")
        return
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    tmp = Path(a.workdir or tempfile.mkdtemp(prefix="curate-scale-"))
    try:
        by_size: dict[int, dict[str, tuple[float, float]]] = {}  # size -> stage -> peak worker RSS, anon (MB), local2
        # the other sizes first (smallest first): the stages a local run's driver runs itself (one-task stages)
        # would otherwise count what a bigger run left in this process
        for n in sorted(set(a.rss_sizes) - {a.docs}):
            data = tmp / f"data-{n}"
            build_corpus(data, n, a.files)
            stages, _, run_dir = run_once(write_pipeline(tmp, data, 2, "local", tuple(a.without)), "local", n)
            by_size[n] = {s["stage"]: (s["peak_worker_rss_mb"], s["peak_worker_anon_mb"]) for s in stages}
            print(f"(local2 at {n:,} documents for the RSS comparison: done)")
            shutil.rmtree(run_dir, ignore_errors=True)
            shutil.rmtree(data, ignore_errors=True)
        started = time.perf_counter()
        planted = build_corpus(tmp / "data", a.docs, a.files)
        if a.without:
            print(f"steps left out: {', '.join(a.without)}")
        print(f"corpus: {a.docs:,} documents, {disk_bytes(tmp / 'data') / 2**30:.2f} GiB in {a.files} files, "
              f"{len(planted):,} planted copies, built in {time.perf_counter() - started:.0f} s")
        totals: dict[str, float] = {}
        print(f"{'run':<8} {'stage':<26} {'wall s':>8} {'docs/s':>9} {'worker RSS MB':>14} {'anon MB':>8} "
              f"{'work/ MB':>9}")
        for name in a.runs:
            engine, tasks = name.rstrip("0123456789"), int(name[len(name.rstrip('0123456789')):])
            pipeline = write_pipeline(tmp, tmp / "data", tasks, engine, tuple(a.without))
            stages, total, run_dir = run_once(pipeline, engine, a.docs)
            totals[name] = total
            if name == "local2":
                by_size[a.docs] = {s["stage"]: (s["peak_worker_rss_mb"], s["peak_worker_anon_mb"]) for s in stages}
            for s in stages:
                print(f"{name:<8} {s['stage']:<26} {s['seconds']:>8.1f} {s['docs_per_s']:>9.0f} "
                      f"{s['peak_worker_rss_mb']:>14.0f} {s['peak_worker_anon_mb']:>8.0f} {s['work_mb']:>9.0f}"
                      + ("   (then fresh workers)" if s.get("fresh_workers_after") else ""))
            rec, counted, other = recall(run_dir, planted)
            manifest = json.loads((run_dir / "manifest.json").read_text())
            print(f"{name:<8} {'whole run':<26} {total:>8.1f} {a.docs / total:>9.0f}   kept "
                  f"{manifest['documents_kept']:,}; planted-pair recall {rec:.4f} ({counted:,} pairs); "
                  f"{other:,} other documents removed as duplicates")
            if other:
                print(f"{'':<8} {'':<26} other duplicates: {other_duplicates_checked(run_dir, planted)}")
            shutil.rmtree(run_dir, ignore_errors=True)
        if "local1" in totals and "local2" in totals:
            print(f"speed-up 1 -> 2 tasks (local): {totals['local1'] / totals['local2']:.2f}x")
        if "local2" in totals and "ray2" in totals:
            print(f"Ray / local at 2 tasks (throughput): {totals['local2'] / totals['ray2']:.2f}x")
        if len(by_size) > 1:
            print("peak worker RSS / anonymous RSS (MB) per stage, local2, by corpus size")
            sizes = sorted(by_size)
            first, last = sizes[0], sizes[-1]
            print(f"  {'stage':<26} " + " ".join(f"{n:>13,}" for n in sizes) + "   RSS ratio  anon ratio")
            for stage in by_size[first]:
                (rss0, anon0), (rss1, anon1) = by_size[first][stage], by_size[last].get(stage, (0, 0))
                print(f"  {stage:<26} " + " ".join(f"{by_size[n].get(stage, (0, 0))[0]:>6.0f} /{by_size[n].get(stage, (0, 0))[1]:>5.0f}"
                                                   for n in sizes)
                      + f"   x{rss1 / max(rss0, 1):.2f}      x{anon1 / max(anon0, 1):.2f}")
    finally:
        if a.workdir is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
