"""PII throughput, MB/s per core: our gated PII step vs plain Presidio `AnalyzerEngine` with the same recognizers
(same phone regions, same Korean recognizers) on the same documents, in one process; with the recall of each.

Corpora:
  web:   web-like documents generated offline with Faker (tests/fixtures/pii_synth.py): 1-8 KB of prose; 1 in 4 carries
         1-2 PII items, most carry dates/prices/ids;
  dense: the PII evaluation corpus (every document has 1-4 PII items and 1-3 hard negatives);
  real:  real documents from ../shared/corpora/web_en_ko.jsonl.gz (English/Korean documentation pages, much code),
         when that folder is there. No labels: recall there is the share of Presidio's findings we also find.
Comparisons:
  structured: the structured entities (no SECRET) vs Presidio (a) on a blank spaCy pipeline (tokens for its context
              enhancer, as in the issue) and (b) on its NoOpNlpEngine;
  full:       the full default step (structured + SECRET via detect-secrets' plugins) vs the same recognizers
              ungated: (b) + every detect-secrets plugin on every line.
Timing: several rounds, each on documents no scrubber has seen (no per-candidate cache carries over); within a round
every side runs on the same documents, in alternating order, so a load swing on a shared machine hits both alike;
each side's fastest of 2 (baselines) or 3 (ours: a fresh scrubber each) passes counts.
Printed: the median over rounds of each side's MB/s and of the per-round ratio (CPU seconds).
Run: python benchmarks/pii_throughput.py [--docs 200] [--rounds 5] [--real-docs 100]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))  # fixtures/

from curate.scrub.pii import PiiParams, PiiScrubber  # noqa: E402
from fixtures.pii_synth import PiiGenerator, SynthDoc, score  # noqa: E402

REAL = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "web_en_ko.jsonl.gz"


def web_corpus(n: int, seed: int = 11):
    g = PiiGenerator(seed)
    docs = []
    for i in range(n):
        r = g.rng
        d = g.document(lang=r.choice(["en", "en", "ko", "mixed"]), n_pii=(r.randint(1, 2) if r.random() < 0.25 else 0),
                       n_neg=r.randint(0, 2))
        # pad with more prose to web-page length
        extra = " ".join((g.ko if d.lang == "ko" else g.en).paragraph(nb_sentences=8) for _ in range(r.randint(2, 12)))
        d.text = d.text + "\n\n" + extra
        docs.append(d)
    return docs


def real_corpus(n: int, rounds: int) -> list[list[SynthDoc]]:
    """`rounds` disjoint slices of `n` real documents (no labels)."""
    out: list[list[SynthDoc]] = [[]]
    with gzip.open(REAL, "rt", encoding="utf-8") as f:
        for line in f:
            if len(out[-1]) == n:
                if len(out) == rounds:
                    break
                out.append([])
            out[-1].append(SynthDoc(text=json.loads(line)["text"], lang="?"))
    return out


def timed_rounds(sides: dict, rounds: list[list[SynthDoc]]) -> tuple[dict, list, dict]:
    """Per side (name -> list of analyze functions, one pass each per round): the CPU seconds of its fastest pass
    per round, and its findings over all rounds; the MB of each round. A warm-up pass each over other documents
    first (regex caches, lazy imports). Several passes per round keep a scheduler hiccup in a short pass (ours take
    ~40 ms) out of the figure; the gated sides get a separate scrubber per pass, so no pass finds the documents'
    candidates in a cache a previous pass filled."""
    warmup = [d.text for d in PiiGenerator(99).corpus(20)]
    for fns in sides.values():
        for analyze in fns:
            for text in warmup:
                analyze(text)
    secs: dict = {k: [] for k in sides}
    found: dict = {k: [] for k in sides}
    mbs = []
    order = list(sides)
    for i, docs in enumerate(rounds):
        texts = [d.text for d in docs]
        mbs.append(sum(len(t.encode("utf-8")) for t in texts) / 1e6)
        for k in (order if i % 2 == 0 else order[::-1]):
            best = float("inf")
            for j, analyze in enumerate(sides[k]):
                t = time.process_time()
                results = [analyze(text) for text in texts]
                best = min(best, time.process_time() - t)
                if j == 0:
                    found[k].extend(results)
            secs[k].append(best)
    return secs, mbs, found


def mb_per_s(secs: list, mbs: list) -> float:
    return statistics.median(mb / s for mb, s in zip(mbs, secs))


def ratio(base: list, ours: list) -> float:
    return statistics.median(b / o for b, o in zip(base, ours))


def recall(docs, found) -> float:
    stats = score(docs, found)
    tp = sum(v["tp"] for k, v in stats.items() if not k.startswith("_"))
    fn = sum(v["fn"] for k, v in stats.items() if not k.startswith("_"))
    return tp / max(1, tp + fn)


def agreement(base: list, ours: list) -> float:
    """The share of the baseline's findings (start, end, type) that ours has too."""
    want = [(i, f.start, f.end, f.entity) for i, fs in enumerate(base) for f in fs]
    have = {(i, f.start, f.end, f.entity) for i, fs in enumerate(ours) for f in fs}
    return sum(w in have for w in want) / max(1, len(want))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=200, help="synthetic documents per round")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--real-docs", type=int, default=100, help="real documents per round (../shared)")
    args = ap.parse_args()
    entities = [e for e in PiiParams().entities if e not in ("SECRET", "PERSON", "LOCATION")]
    ours = [PiiScrubber(PiiParams(entities=entities)) for _ in range(3)]
    plain = PiiScrubber(PiiParams(entities=entities, gate=False))
    spacy_plain = PiiScrubber(PiiParams(entities=entities, gate=False, presidio_nlp="blank_spacy"))
    full = [PiiScrubber(PiiParams(entities=entities + ["SECRET"])) for _ in range(3)]  # the default step (no NER)
    full_plain = PiiScrubber(PiiParams(entities=entities + ["SECRET"], gate=False))
    # the ungated baselines hold no per-document caches: two passes of one scrubber each
    sides = {"a": [spacy_plain.analyze] * 2, "b": [plain.analyze] * 2, "ours": [o.analyze for o in ours],
             "full_b": [full_plain.analyze] * 2, "full": [f.analyze for f in full]}

    corpora = {"web": [web_corpus(args.docs, seed=11 + i) for i in range(args.rounds)],
               "dense": [PiiGenerator(5 + i).corpus(args.docs) for i in range(args.rounds)]}
    if REAL.exists():
        corpora["real"] = real_corpus(args.real_docs, args.rounds)
    else:
        print(f"(no {REAL}: the real-document rows are left out)")
    print(f"phone regions: {ours[0].params.phone_regions}; entities: {', '.join(entities)}")
    print(f"{args.rounds} rounds per corpus, each on new documents, the fastest of 2-3 passes per side and round; "
          "medians over rounds (CPU seconds)\n")
    print("structured entities: ours vs Presidio AnalyzerEngine over whole documents, (a) blank spaCy pipeline, "
          "(b) NoOpNlpEngine; same recognizers and acceptance rules")
    print(f"{'corpus':<6} {'MB':>5} {'(a) MB/s':>9} {'(b) MB/s':>9} {'ours MB/s':>10} {'vs (a)':>7} {'vs (b)':>7} "
          f"{'recall (a)':>10} {'recall (b)':>10} {'recall ours':>11}")
    full_rows = []
    for name, rounds in corpora.items():
        docs = [d for r in rounds for d in r]
        structured = [SynthDoc(d.text, d.lang, [s for s in d.spans if s.entity != "SECRET"]) for d in docs]
        secs, mbs, f = timed_rounds(sides, rounds)
        if name == "real":  # no labels: agreement with the ungated baselines
            r_a, r_b, r_ours = 1.0, agreement(f["a"], f["b"]), agreement(f["b"], f["ours"])
            r_full = agreement(f["full_b"], f["full"])
        else:
            r_a, r_b, r_ours = (recall(structured, f[k]) for k in ("a", "b", "ours"))
            r_full = recall(docs, f["full"])
        print(f"{name:<6} {statistics.median(mbs):5.2f} {mb_per_s(secs['a'], mbs):9.3f} "
              f"{mb_per_s(secs['b'], mbs):9.3f} {mb_per_s(secs['ours'], mbs):10.2f} "
              f"{ratio(secs['a'], secs['ours']):6.1f}x {ratio(secs['b'], secs['ours']):6.1f}x "
              f"{r_a:10.4f} {r_b:10.4f} {r_ours:11.4f}")
        full_rows.append(f"{name:<6} {mb_per_s(secs['full_b'], mbs):12.3f} {mb_per_s(secs['full'], mbs):10.2f} "
                         f"{ratio(secs['full_b'], secs['full']):6.1f}x {r_full:11.4f}")
    print("\nfull default step (structured + SECRET via detect-secrets) vs the same recognizers ungated: (b) + every "
          "detect-secrets plugin on every line")
    print(f"{'corpus':<6} {'(b)+ds MB/s':>12} {'ours MB/s':>10} {'ratio':>7} {'recall ours':>11}")
    print("\n".join(full_rows))
    print("(real: no labels; its recall columns are the share of the ungated baseline's findings found: (b) of (a)'s, "
          "ours of (b)'s)")


if __name__ == "__main__":
    main()
