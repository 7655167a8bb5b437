"""MinHash signatures per second on the same real documents, same num_perm, in one process:
ours (curate.dedup.minhash.MinHasher: regex tokens, numpy-hashed shingles, one matrix per batch)
vs a plain datasketch loop (MinHash(num_perm) + update() per shingle)
vs datatrove's signature stage (MinhashDedupSignature.get_shingles + get_signature, its own tokenizer and hashing).

    python benchmarks/dedup_speed.py [--docs 1000] [--num-perm 128]
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path

from datasketch import MinHash
from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature

from curate.dedup.minhash import MinHasher
from curate.dedup.text import Shingler

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"


def timed(fn, docs):
    t0 = time.perf_counter()
    fn(docs)
    return len(docs) / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=1000)
    ap.add_argument("--num-perm", type=int, default=112)  # datatrove's 14 buckets x 8 hashes
    ap.add_argument("--ngram", type=int, default=5)  # datatrove's default n-gram
    args = ap.parse_args()
    all_docs = [json.loads(x)["text"] for x in gzip.open(SHARED / "web_en_ko.jsonl.gz", "rt", encoding="utf-8")]
    docs = all_docs[:: max(1, len(all_docs) // args.docs)][: args.docs]
    words = sum(len(d.split()) for d in docs)
    print(f"{len(docs)} documents (en+ko), {sum(map(len, docs)) / 1e6:.1f}M chars, {words:,} whitespace words, "
          f"num_perm={args.num_perm}, ngram={args.ngram}\n")

    sh = Shingler(ngram=args.ngram)
    ours = MinHasher(num_perm=args.num_perm, bands=14, rows=args.num_perm // 14, shingler=sh)

    def run_ours(ds):
        for i in range(0, len(ds), 512):  # the step's batch size
            ours.signatures(ds[i:i + 512])

    def run_datasketch(ds):
        for d in ds:  # the usual loop: same shingles (as bytes), one update() each
            m = MinHash(num_perm=args.num_perm)
            for s in sh.shingles(d):
                m.update(int(s).to_bytes(4, "little"))

    dt = MinhashDedupSignature(output_folder="/tmp/curate-bench-unused",
                               config=MinhashConfig(n_grams=args.ngram, num_buckets=14,
                                                    hashes_per_bucket=args.num_perm // 14))

    def run_datatrove(ds):
        for d in ds:
            shingles = dt.get_shingles(d)
            if shingles.size:
                dt.get_signature(shingles)

    run_ours(docs[:20]); run_datatrove(docs[:20])  # warm-up: tokenizer models, caches
    sub = docs[: max(50, len(docs) // 10)]  # the plain loop is slow: timed on a tenth of the documents
    rates = {"ours": timed(run_ours, docs), "datasketch loop": timed(run_datasketch, sub),
             "datatrove signature stage": timed(run_datatrove, docs)}
    for name, r in rates.items():
        print(f"{name:<28} {r:>10,.0f} docs/s")
    print(f"\nours / datasketch loop:  {rates['ours'] / rates['datasketch loop']:6.1f}x  (target >= 20x)")
    print(f"ours / datatrove:        {rates['ours'] / rates['datatrove signature stage']:6.1f}x  (target >= 1x)")


if __name__ == "__main__":
    main()
