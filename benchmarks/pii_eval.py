"""PII precision/recall per entity type.

1. The generated set (Faker en_US/ko_KR, planted PII at known offsets, hard negatives): curate.scrub.synth.
2. Presidio's synthetic set, ../shared/eval/pii/presidio_synth_dataset_v2.json (skipped when absent), beside the
   per-entity figures Presidio published for its default engine. Scoring there: a labelled span is found when a
   finding of the mapped type overlaps it; a finding is a false positive when it overlaps no labelled span of its
   type. IPs: private ranges are scrubbed too here (keep_private_ips: false), as the labels include them.
Run: python benchmarks/pii_eval.py [--docs 600]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from curate.scrub.pii import PiiParams, PiiScrubber  # noqa: E402
from curate.scrub.synth import PiiGenerator, score  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "pii" / "presidio_synth_dataset_v2.json"
# Presidio's published per-entity precision/recall for its default engine on this set (as quoted in the issue)
PUBLISHED = {"PHONE_NUMBER": (0.41, 0.25), "CREDIT_CARD": (1.00, 0.77), "IP_ADDRESS": (1.00, 0.93)}
LABEL_MAP = {"PHONE_NUMBER": "PHONE_NUMBER", "CREDIT_CARD": "CREDIT_CARD", "EMAIL_ADDRESS": "EMAIL_ADDRESS",
             "IBAN_CODE": "IBAN_CODE", "US_SSN": "US_SSN", "IP_ADDRESS": "IP_ADDRESS"}


def generated(n: int) -> None:
    docs = PiiGenerator(seed=2024).corpus(n)
    s = PiiScrubber()
    stats = score(docs, [s.analyze(d.text) for d in docs])
    print(f"== generated set: {n} documents (en/ko/mixed), {sum(len(d.positives) for d in docs)} planted items, "
          f"{stats['_negatives']['total']} hard negatives")
    print(f"{'entity':<20} {'n':>5} {'precision':>9} {'recall':>7} {'leaked':>6}")
    for e, v in sorted(stats.items()):
        if not e.startswith("_"):
            print(f"{e:<20} {v['tp'] + v['fn']:5d} {v['precision']:9.3f} {v['recall']:7.3f} {v['leaked']:6d}")
    print(f"hard negatives touched: {stats['_negatives']['touched']} of {stats['_negatives']['total']}")


def presidio_set(verbose: bool) -> None:
    if not SHARED.exists():
        print(f"== {SHARED} absent: skipped")
        return
    data = json.loads(SHARED.read_text(encoding="utf-8"))
    s = PiiScrubber(PiiParams(keep_private_ips=False))
    stats = {e: {"tp": 0, "fn": 0, "fp": 0} for e in LABEL_MAP.values()}
    for rec in data:
        found = [f for f in s.analyze(rec["full_text"]) if f.entity in stats]
        gold = [(sp["start_position"], sp["end_position"], LABEL_MAP[sp["entity_type"]]) for sp in rec["spans"]
                if sp["entity_type"] in LABEL_MAP]
        for a, b, e in gold:
            hit = any(f.entity == e and f.start < b and f.end > a for f in found)
            stats[e]["tp" if hit else "fn"] += 1
            if verbose and not hit:
                print("  FN", e, repr(rec["full_text"][max(0, a - 25):b + 10]))
        for f in found:
            if not any(f.entity == e and f.start < b and f.end > a for a, b, e in gold):
                stats[f.entity]["fp"] += 1
                if verbose:
                    print("  FP", f.entity, repr(rec["full_text"][max(0, f.start - 25):f.end + 10]))
    print(f"== Presidio synthetic set ({len(data)} samples); published = Presidio default engine")
    print(f"{'entity':<15} {'n':>4} {'precision':>9} {'recall':>7}   {'published P/R':>13}")
    for e, v in stats.items():
        p = v["tp"] / max(1, v["tp"] + v["fp"])
        r = v["tp"] / max(1, v["tp"] + v["fn"])
        pub = PUBLISHED.get(e)
        print(f"{e:<15} {v['tp'] + v['fn']:4d} {p:9.3f} {r:7.3f}   "
              f"{(f'{pub[0]:.2f}/{pub[1]:.2f}' if pub else '-'):>13}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=600)
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    generated(a.docs)
    presidio_set(a.verbose)
