"""Precision, recall and F1 of near-duplicate detection on labeled pairs built from real documents.

Positives: real pages (../shared/corpora/web_en_ko.jsonl.gz, English and Korean) with controlled edits — words
replaced, sentences deleted or inserted, boilerplate added, paragraphs reordered — at several strengths, plus the
natural same-page-two-versions pairs of near_dups_natural.jsonl.gz. Negatives: the natural different-page pairs
(easy), and hard ones: different pages of the same template (tldr pages, Helm command references, which share
headings and flag lists) and different pages wrapped in the same long boilerplate (nav + footer).

A pair is predicted duplicate exactly as the `dedup_minhash` step decides: some LSH band key equal and (verify on)
estimated Jaccard >= threshold.

    python benchmarks/dedup_quality.py [--threshold 0.7] [--ngram 5] [--num-perm 128] [--pairs 150]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
from collections import defaultdict
from pathlib import Path

import numpy as np

from curate.steps.dedup import MinHashDedupParams

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"
SENT_RE = re.compile(r"(?<=[.!?。다요])\s+|\n+")


def sentences(text: str) -> list[str]:
    return [s for s in SENT_RE.split(text) if s.strip()]


def replace_words(text, frac, rng, vocab):
    w = text.split(" ")
    for i in rng.sample(range(len(w)), max(1, int(len(w) * frac))):
        w[i] = rng.choice(vocab)
    return " ".join(w)


def delete_sentences(text, frac, rng, _):
    s = sentences(text)
    drop = set(rng.sample(range(len(s)), max(1, int(len(s) * frac)))) if len(s) > 2 else set()
    return "\n".join(x for i, x in enumerate(s) if i not in drop)


def insert_sentences(text, frac, rng, pool):
    s = sentences(text)
    for _ in range(max(1, int(len(s) * frac))):
        s.insert(rng.randrange(len(s) + 1), rng.choice(pool))
    return "\n".join(s)


def add_boilerplate(text, frac, rng, pool):
    # navigation before and a footer after, about `frac` of the document's length
    n = len(text) * frac
    head, tail = [], []
    while sum(map(len, head + tail)) < n:
        (head if rng.random() < 0.5 else tail).append(rng.choice(pool))
    return "\n".join(head + [text] + tail)


def reorder_paragraphs(text, frac, rng, _):
    p = [x for x in text.split("\n\n") if x.strip()]
    k = max(2, int(len(p) * frac))
    idx = rng.sample(range(len(p)), min(k, len(p)))
    moved = [p[i] for i in idx]
    rng.shuffle(moved)
    for i, x in zip(sorted(idx), moved):
        p[i] = x
    return "\n\n".join(p)


EDITS = {"replace_words": (replace_words, [0.01, 0.03, 0.06]),
         "delete_sentences": (delete_sentences, [0.05, 0.1, 0.2]),
         "insert_sentences": (insert_sentences, [0.05, 0.1, 0.2]),
         "add_boilerplate": (add_boilerplate, [0.1, 0.2, 0.35]),
         "reorder_paragraphs": (reorder_paragraphs, [0.2, 0.5, 1.0])}


def load():
    docs = [json.loads(x) for x in gzip.open(SHARED / "web_en_ko.jsonl.gz", "rt", encoding="utf-8")]
    pairs = [json.loads(x) for x in gzip.open(SHARED / "near_dups_natural.jsonl.gz", "rt", encoding="utf-8")]
    return docs, pairs


def build_pairs(docs, natural, n_per_level: int, seed: int = 0):
    rng = random.Random(seed)
    long_docs = [d for d in docs if len(d["text"]) >= 800]
    pool = [s for d in rng.sample(docs, 400) for s in sentences(d["text"]) if 30 < len(s) < 200]
    vocab = [w for s in pool for w in s.split()]
    out = []  # (group, level, text_a, text_b, label)
    for name, (fn, levels) in EDITS.items():
        for level in levels:
            for d in rng.sample(long_docs, n_per_level):
                out.append((name, level, d["text"], fn(d["text"], level, rng, pool if "words" not in name else vocab), 1))
    for p in natural:
        out.append(("natural_" + ("dup" if p["dup"] else "nondup"), p["relation"][:40], p["text_a"], p["text_b"],
                    int(p["dup"])))
    # hard negatives 1: different pages sharing a template (same source tree and language)
    for prefix in ("tldr:pages/", "tldr:pages.ko/", "helm-www:docs/helm/helm_",
                   "helm-www:i18n/ko/docusaurus-plugin-content-docs/version-3/helm/helm_"):
        group = [d for d in docs if d["id"].startswith(prefix)]
        for _ in range(n_per_level):
            a, b = rng.sample(group, 2)
            out.append(("hard_template", prefix.split(":")[1][:30], a["text"], b["text"], 0))
    # hard negatives 2: different pages inside the same long boilerplate (about as long as the page)
    for _ in range(n_per_level):
        a, b = rng.sample(long_docs, 2)
        nav = "\n".join(rng.sample(pool, 6))
        foot = "\n".join(rng.sample(pool, 6))
        out.append(("hard_boilerplate", "shared nav+footer", f"{nav}\n{a['text']}\n{foot}", f"{nav}\n{b['text']}\n{foot}", 0))
    return out


def true_jaccard(hasher, a, b):
    sa, sb = set(hasher.shingler.shingles(a).tolist()), set(hasher.shingler.shingles(b).tolist())
    return len(sa & sb) / max(1, len(sa | sb))


def predict(params: MinHashDedupParams, pairs):
    hasher = params.hasher()
    texts = [t for p in pairs for t in (p[2], p[3])]
    sigs, valid = hasher.signatures(texts)
    bands = hasher.band_keys(sigs)
    a, b = sigs[0::2], sigs[1::2]
    candidate = (bands[0::2] == bands[1::2]).any(axis=1) & valid[0::2] & valid[1::2]
    est = (a == b).mean(axis=1)
    pred = candidate & (est >= params.threshold) if params.verify else candidate
    return pred, est, hasher


def prf(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threshold", type=float, default=MinHashDedupParams().threshold)
    ap.add_argument("--ngram", type=int, default=MinHashDedupParams().ngram)
    ap.add_argument("--num-perm", type=int, default=MinHashDedupParams().num_perm)
    ap.add_argument("--pairs", type=int, default=150, help="pairs per edit level / hard-negative group")
    ap.add_argument("--no-verify", action="store_true")
    args = ap.parse_args()
    params = MinHashDedupParams(threshold=args.threshold, ngram=args.ngram, num_perm=args.num_perm,
                                verify=not args.no_verify)
    docs, natural = load()
    pairs = build_pairs(docs, natural, args.pairs)
    pred, est, hasher = predict(params, pairs)
    b, r = params.banding()
    print(f"threshold={params.threshold} ngram={params.ngram} num_perm={params.num_perm} bands={b} rows={r} "
          f"verify={params.verify}; {len(pairs)} labeled pairs\n")
    rows = defaultdict(lambda: [0, 0, 0, []])  # n, label-positive, predicted-positive, true jaccards
    for (g, level, ta, tb, label), p in zip(pairs, pred):
        key = (g, str(level))
        rows[key][0] += 1
        rows[key][1] += label
        rows[key][2] += int(p)
        if len(rows[key][3]) < 60:
            rows[key][3].append(true_jaccard(hasher, ta, tb))
    print(f"{'group':<20} {'level':<42} {'pairs':>5} {'label':>6} {'pred dup':>8} {'rate':>6} {'median J':>8}")
    for (g, level), (n, pos, pp, js) in rows.items():
        print(f"{g:<20} {level:<42} {n:>5} {'dup' if pos else 'not':>6} {pp:>8} {pp / n:>6.3f} {np.median(js):>8.2f}")
    labels = np.array([p[4] for p in pairs], dtype=bool)

    def report(mask, title):
        tp = int((pred & labels & mask).sum())
        fp = int((pred & ~labels & mask).sum())
        fn = int((~pred & labels & mask).sum())
        p, r, f = prf(tp, fp, fn)
        print(f"{title:<58} precision {p:.3f}  recall {r:.3f}  F1 {f:.3f}  (tp {tp}, fp {fp}, fn {fn})")
        return f

    print()
    groups = np.array([p[0] for p in pairs])
    nat = np.char.startswith(groups.astype(str), "natural")
    report(~nat, "controlled edits + hard negatives")
    report(nat, "natural pairs (near_dups_natural)")
    f1 = report(np.ones(len(pairs), dtype=bool), "all labeled pairs")
    print(f"\nF1 at the default threshold: {f1:.3f} (target >= 0.95)")


if __name__ == "__main__":
    main()
