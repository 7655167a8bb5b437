"""Word segmentation speed: datatrove's spaCy tokenizer against curate's, which keeps the first documents' words.

    python benchmarks/word_tokenizer.py [--docs 2000] [--rounds 2]

The quality steps segment every English document's prose into words (Gopher, FineWeb, Gopher repetition) and every
kept line into sentences (C4), with datatrove's spaCy tokenizer. datatrove runs it inside spaCy's `memory_zone` so
that memory stays flat, which makes every word of every document a new lexeme again; curate's
`WarmVocabSpaCyTokenizer` (curate/steps/quality.py) also tokenizes the first documents outside the zone, until its
vocabulary has grown by a bounded number of strings, so that the corpus's common words are looked up afterwards.

Input: the prose (curate/steps/prose.py) of English documents from ../shared/corpora/web_en_ko.jsonl.gz, or of the
bundled demo corpus when ../shared is absent, cycled to --docs documents. Each round builds both tokenizers fresh
(so the warm-up is paid inside the timing) and runs words + sentences over every document, alternating; printed:
the best docs/s of each, the ratio, the strings each vocabulary holds at the end and the process RSS they add, and
whether the tokens were identical (they must be).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared" / "corpora" / "web_en_ko.jsonl.gz"
DEMO = REPO / "pipelines" / "demo_data" / "web_en.jsonl.gz"


def english_prose(n: int) -> tuple[list[str], str]:
    from curate.steps.prose import prose_view

    path = SHARED if SHARED.exists() else DEMO
    with gzip.open(path, "rt", encoding="utf-8") as f:
        records = [json.loads(line) for line in f]
    texts = [r["text"] for r in records if r.get("lang", "en") == "en" and isinstance(r.get("text"), str)]
    prose = [p for p in (prose_view(t).text for t in texts) if p.strip()]
    return [prose[i % len(prose)] for i in range(n)], path.name


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def run(tokenizer, docs: list[str]) -> tuple[float, list[int], float]:
    """Words and sentences of every document; returns (seconds, a token checksum per document, RSS added)."""
    tokenizer.word_tokenize("probe")  # spaCy loads lazily: not part of the timing
    before = rss_mb()
    sums = []
    start = time.perf_counter()
    for text in docs:
        words = tokenizer.word_tokenize(text)
        spans = tokenizer.span_tokenize(text)
        sums.append(hash((tuple(words), tuple(spans))))
    return time.perf_counter() - start, sums, rss_mb() - before


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()

    from datatrove.utils.word_tokenizers import SpaCyTokenizer

    from curate.steps.quality import WarmVocabSpaCyTokenizer

    docs, source = english_prose(args.docs)
    print(f"{len(docs)} English documents' prose from {source}, {sum(map(len, docs)) / 1e6:.1f} M characters")
    best = {"datatrove": float("inf"), "curate": float("inf")}
    final = {}
    for _ in range(args.rounds):
        for name, cls in (("datatrove", SpaCyTokenizer), ("curate", WarmVocabSpaCyTokenizer)):
            tokenizer = cls("en")
            seconds, sums, added = run(tokenizer, docs)
            best[name] = min(best[name], seconds)
            final[name] = (sums, len(tokenizer.tokenizer.vocab.strings), added)
    same = final["datatrove"][0] == final["curate"][0]
    for name in best:
        print(f"{name:10s} {len(docs) / best[name]:8.1f} docs/s   vocabulary strings at the end "
              f"{final[name][1]:7,d}   RSS added {final[name][2]:6.1f} MB")
    print(f"curate / datatrove docs/s: {best['datatrove'] / best['curate']:.2f}x   tokens identical: {same}")
    if not same:
        sys.exit("the two tokenizers gave different tokens")


if __name__ == "__main__":
    main()
