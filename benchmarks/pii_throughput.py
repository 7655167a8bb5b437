"""PII throughput, MB/s per core: our gated PII step vs plain Presidio `AnalyzerEngine` with the same recognizers
(same phone regions, same Korean recognizers) on the same documents, in one process; with the recall of each.

Two corpora, both generated offline with Faker (curate.scrub.synth):
  web:   web-like documents (1-8 KB of prose); 1 in 4 carries 1-2 PII items, most carry dates/prices/ids;
  dense: the PII evaluation corpus (every document has 1-4 PII items and 1-3 hard negatives).
Run: python benchmarks/pii_throughput.py [--docs 300]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from curate.scrub.pii import PiiParams, PiiScrubber  # noqa: E402
from curate.scrub.synth import PiiGenerator, score  # noqa: E402


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


WARMUP = None


def run(scrubber: PiiScrubber, docs) -> tuple[float, list]:
    """CPU seconds for one pass, after a warm-up pass over other documents (regex caches, lazy imports)."""
    global WARMUP
    if WARMUP is None:
        WARMUP = [d.text for d in PiiGenerator(99).corpus(20)]
    for text in WARMUP:
        scrubber.analyze(text)
    t = time.process_time()
    found = [scrubber.analyze(d.text) for d in docs]
    return time.process_time() - t, found


def recall(stats: dict) -> float:
    tp = sum(v["tp"] for k, v in stats.items() if not k.startswith("_"))
    fn = sum(v["fn"] for k, v in stats.items() if not k.startswith("_"))
    return tp / max(1, tp + fn)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=300)
    args = ap.parse_args()
    # the same recognizers on both sides; secrets (detect-secrets) are not part of Presidio: compared without them
    entities = [e for e in PiiParams().entities if e not in ("SECRET", "PERSON", "LOCATION")]
    ours = PiiScrubber(PiiParams(entities=entities))
    plain = PiiScrubber(PiiParams(entities=entities, gate=False))
    spacy_plain = PiiScrubber(PiiParams(entities=entities, gate=False, presidio_nlp="blank_spacy"))
    g = PiiGenerator(5)
    corpora = {"web": web_corpus(args.docs), "dense": g.corpus(args.docs)}
    print(f"phone regions: {ours.params.phone_regions}; entities: {', '.join(entities)}")
    print("baselines: Presidio AnalyzerEngine over whole documents, (a) on a blank spaCy pipeline (tokens for its "
          "context enhancer, as in the issue), (b) on its NoOpNlpEngine; same recognizers and acceptance rules")
    print(f"{'corpus':<6} {'MB':>5} {'(a) MB/s':>9} {'(b) MB/s':>9} {'ours MB/s':>10} {'vs (a)':>7} {'vs (b)':>7} "
          f"{'recall (a)':>10} {'recall (b)':>10} {'recall ours':>11}")
    times = {}
    for name, docs in corpora.items():
        for d in docs:  # secrets are not in the comparison
            d.spans = [s for s in d.spans if s.entity != "SECRET"]
        mb = sum(len(d.text.encode("utf-8")) for d in docs) / 1e6
        t_a, f_a = run(spacy_plain, docs)
        t_b, f_b = run(plain, docs)
        t_ours, f_ours = run(ours, docs)
        r_a, r_b, r_ours = (recall(score(docs, f)) for f in (f_a, f_b, f_ours))
        times[name] = (t_a, t_b)
        print(f"{name:<6} {mb:5.2f} {mb / t_a:9.3f} {mb / t_b:9.3f} {mb / t_ours:10.2f} {t_a / t_ours:6.1f}x "
              f"{t_b / t_ours:6.1f}x {r_a:10.4f} {r_b:10.4f} {r_ours:11.4f}")
    # the full default step (secrets with detect-secrets included; PERSON/LOCATION only with a spaCy NER model)
    full = PiiScrubber()
    print("full default step (same structured entities + SECRET via detect-secrets), vs the Presidio baselines "
          "above (which have no secrets detector)")
    for name, docs in corpora.items():
        mb = sum(len(d.text.encode("utf-8")) for d in docs) / 1e6
        t_full, _ = run(full, docs)
        print(f"{name:<6} {mb / t_full:6.2f} MB/s per core   {times[name][0] / t_full:5.1f}x (a)   "
              f"{times[name][1] / t_full:5.1f}x (b)")


if __name__ == "__main__":
    main()
