"""Bytes per document of the LSH index and peak RSS at 100k and 1M documents (synthetic signatures).

Ours: band keys as one uint64 array [n, bands] (+ int64 order), clustered with one sort per band and scipy's
connected components; signatures stay in a memory-mapped file (verification reads only candidate rows).
Baseline: datasketch's MinHashLSH (in-memory dict storage) with LeanMinHash inserts, at 100k documents.
Each measurement runs in a fresh child process so that peak RSS is its own.

Then the two global stages of distributed MinHash (`buckets`, `cluster`) on collector folders written as two
tasks' SignatureWriter would (same files, synthetic signatures), per size: seconds, peak RSS and its anonymous part
(RSS less pages mapped from files: memory-mapped signatures are page cache, which the kernel maps in large folios,
so that rows read at random places show most of the file in RSS), and the ratio between the largest and smallest
size. A stage whose memory is flat in N holds the same anonymous memory at both.

    python benchmarks/dedup_memory.py [--sizes 100000 1000000] [--baseline 100000] [--no-stages]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import tempfile
import time

import numpy as np


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic(n: int, num_perm: int, dup_rate: float = 0.1, seed: int = 0) -> np.ndarray:
    """Random signatures; `dup_rate` of the documents copy another one's signature with 20% of values changed."""
    rng = np.random.default_rng(seed)
    sigs = rng.integers(0, 2**32, size=(n, num_perm), dtype=np.uint32)
    dups = rng.choice(n, int(n * dup_rate), replace=False)
    src = rng.integers(0, n, len(dups))
    sigs[dups] = sigs[src]
    noise = rng.random((len(dups), num_perm)) < 0.2
    sigs[dups] = np.where(noise, rng.integers(0, 2**32, size=(len(dups), num_perm), dtype=np.uint32), sigs[dups])
    return sigs


def ours(n: int, num_perm: int, q):
    from curate.dedup.clusters import all_edges, cluster
    from curate.dedup.minhash import MinHasher, lsh_params

    b, r = lsh_params(0.5, num_perm)
    hasher = MinHasher(num_perm=num_perm, bands=b, rows=r)
    with tempfile.TemporaryDirectory() as tmp:
        # signatures go to disk as the step's RowStore does; the index is the band keys
        path = os.path.join(tmp, "sigs.bin")
        keys = np.empty((n, b), dtype=np.uint64)
        with open(path, "wb") as f:
            for c in range(0, n, 100_000):
                s = synthetic(min(100_000, n - c), num_perm, seed=c)
                keys[c:c + len(s)] = hasher.band_keys(s)
                f.write(s.tobytes())
        base = rss_mb()
        sigs = np.memmap(path, dtype=np.uint32, mode="r", shape=(n, num_perm))
        t0 = time.perf_counter()
        order = np.arange(n, dtype=np.int64)
        src, dst = all_edges(keys, order, np.ones(n, bool), sigs, 0.5)
        res = cluster(n, src, dst, order)
        secs = time.perf_counter() - t0
        q.put({"impl": "curate (band keys + memmap signatures)", "documents": n, "bands": b,
               "index_bytes_per_doc": (keys.nbytes + order.nbytes) / n, "peak_rss_mb": rss_mb(),
               "rss_before_clustering_mb": base, "cluster_seconds": secs, "removed": int(res.removed.sum())})


def datasketch_lsh(n: int, num_perm: int, q):
    from datasketch import LeanMinHash, MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=0.5, num_perm=num_perm)
    template = MinHash(num_perm=num_perm)
    base = rss_mb()
    t0 = time.perf_counter()
    for c in range(0, n, 50_000):
        s = synthetic(min(50_000, n - c), num_perm, seed=c)
        for i, row in enumerate(s):
            m = LeanMinHash(seed=1, hashvalues=row, scheme=template.scheme)
            lsh.insert(c + i, m)
    q.put({"impl": "datasketch MinHashLSH (insert only, dict storage)", "documents": n, "bands": lsh.b,
           "index_bytes_per_doc": (rss_mb() - base) * 2**20 / n, "peak_rss_mb": rss_mb(),
           "insert_seconds": time.perf_counter() - t0})


def peak_rss_thread():
    """Samples /proc/self/status every 20 ms: peak (RSS, anonymous RSS) in MB, as a dict filled in the background."""
    import threading

    peak = {"rss": 0.0, "anon": 0.0}

    def poll():
        while True:
            st = {line.split(":")[0]: int(line.split()[1]) / 1024 for line in open("/proc/self/status")
                  if line.startswith(("VmRSS", "RssAnon"))}
            peak["rss"], peak["anon"] = max(peak["rss"], st["VmRSS"]), max(peak["anon"], st["RssAnon"])
            time.sleep(0.02)

    threading.Thread(target=poll, daemon=True).start()
    return peak


def write_collectors(run_dir: str, n: int, tasks: int = 2):
    """Collector folders of `tasks` tasks holding n documents (10% near copies), written with the collector's
    own stores; returns the step."""
    from curate.dedup.distributed import BAND_COLUMNS, META_SCHEMA
    from curate.dedup.store import ColumnSpill, RowStore
    from curate.steps.base import RunContext
    from curate.steps.dedup import MinHashDedup
    from curate.util import atomic_write_json

    step = MinHashDedup(MinHashDedup.Params(mode="distributed"), RunContext(run_dir=run_dir), name="dedup_minhash")
    per = -(-n // tasks)
    for t in range(tasks):
        lo, hi = t * per, min(n, (t + 1) * per)
        folder = step.work_dir("collect", f"{t:05d}")
        sigs = RowStore(os.path.join(folder, "sigs.bin"), step.params.num_perm)
        bands = RowStore(os.path.join(folder, "bands.bin"), step.hasher.bands, np.uint64)
        meta = ColumnSpill(os.path.join(folder, "meta.parquet"), META_SCHEMA)
        for c in range(lo, hi, 100_000):
            s = synthetic(min(100_000, hi - c), step.params.num_perm, seed=c)
            sigs.add(s)
            bands.add(step.hasher.band_keys(s))
            for i in range(c, c + len(s)):
                meta.add(f"doc-{i:09d}", i, 1000 + i % 5000, None, 1)
        sigs.array()
        bands.save_columns_npy(os.path.join(folder, BAND_COLUMNS))
        np.save(os.path.join(folder, "valid.npy"), np.ones(hi - lo, bool))
        meta.close()
        atomic_write_json(os.path.join(folder, "done.json"), {"documents": meta.rows})
    return step


def stage(name: str, run_dir: str, q):
    """One global stage in this (fresh) process, its tasks one after the other as one worker runs them."""
    from curate.dedup.distributed import BucketStage, ClusterStage
    from curate.steps.base import RunContext
    from curate.steps.dedup import MinHashDedup

    step = MinHashDedup(MinHashDedup.Params(mode="distributed"), RunContext(run_dir=run_dir), name="dedup_minhash")
    peak = peak_rss_thread()
    time.sleep(0.1)
    t0 = time.perf_counter()
    if name == "buckets":
        for rank in range(2):
            list(BucketStage(step).run(rank=rank, world_size=2) or [])
    else:
        list(ClusterStage(step).run() or [])
    secs = time.perf_counter() - t0
    time.sleep(0.1)
    q.put({"seconds": secs, **peak})


def distributed_stages(sizes: list[int]):
    print("\ndistributed MinHash global stages (2 collector tasks; peak RSS / anonymous MB)")
    by = {}
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            write_collectors(tmp, n)
            for name in ("buckets", "cluster"):
                by[name, n] = measure_stage(name, tmp)
                r = by[name, n]
                print(f"  {name:<8} {n:>10,} docs: {r['seconds']:6.1f} s   RSS {r['rss']:6.0f}   anon {r['anon']:6.0f}")
    lo, hi = min(sizes), max(sizes)
    if lo != hi:
        for name in ("buckets", "cluster"):
            a, b = by[name, lo], by[name, hi]
            print(f"  {name:<8} {hi // lo}x the documents: RSS x{b['rss'] / a['rss']:.2f}, anonymous x{b['anon'] / a['anon']:.2f}")


def measure_stage(name, run_dir):
    ctx = mp.get_context("spawn")  # a fresh interpreter: its peak is the stage's own
    q = ctx.Queue()
    p = ctx.Process(target=stage, args=(name, run_dir, q))
    p.start()
    out = q.get()
    p.join()
    return out


def measure(fn, n, num_perm):
    q = mp.get_context("fork").Queue()
    p = mp.get_context("fork").Process(target=fn, args=(n, num_perm, q))
    p.start()
    out = q.get()
    p.join()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--baseline", type=int, default=100_000, help="documents for the datasketch baseline (0: skip)")
    ap.add_argument("--num-perm", type=int, default=128)
    ap.add_argument("--no-stages", action="store_true", help="leave out the distributed stages")
    args = ap.parse_args()
    rows = [measure(ours, n, args.num_perm) for n in args.sizes]
    if args.baseline:
        rows.append(measure(datasketch_lsh, args.baseline, args.num_perm))
    for r in rows:
        print(json.dumps({k: (round(v, 2) if isinstance(v, float) else v) for k, v in r.items()}))
    if args.baseline:
        ours_100k = next((r for r in rows if r["documents"] == args.baseline and r["impl"].startswith("curate")), None)
        if ours_100k:
            print(f"\nindex bytes/doc at {args.baseline:,}: datasketch / ours = "
                  f"{rows[-1]['index_bytes_per_doc'] / ours_100k['index_bytes_per_doc']:.1f}x")
    if not args.no_stages:
        distributed_stages(args.sizes)


if __name__ == "__main__":
    main()
