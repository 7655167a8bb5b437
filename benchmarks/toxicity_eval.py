"""Toxicity: precision/recall/F1 and docs/s per backend and language on held-out splits of ../shared/eval/toxicity
(skipped when absent; nothing is copied into the repository).

  en  Davidson tweets: toxic = class in {0 hate, 1 offensive}; stratified 80/20 split (seed 0)
  ko  BEEP! Korean hate speech: toxic = hate != none; train -> dev
  ko  2runo curse data: toxic = label 1; stratified 80/20 split (seed 0)
fastText is trained on each train split (curate.scrub.toxicity.train_fasttext, the code behind
`curate train-classifier`); the offline defaults (alt-profanity-check, shipped word lists) need no training.
Run: python benchmarks/toxicity_eval.py
"""

from __future__ import annotations

import csv
import os
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from curate.scrub.toxicity import FastTextBackend, ProfanityCheckBackend, WordListBackend, train_fasttext  # noqa

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "toxicity"


def split(rows, seed=0, frac=0.8):
    rng = random.Random(seed)
    by = {}
    for r in rows:
        by.setdefault(r[1], []).append(r)
    train, test = [], []
    for label, rs in sorted(by.items()):
        rng.shuffle(rs)
        k = int(len(rs) * frac)
        train += rs[:k]
        test += rs[k:]
    return train, test


def davidson():
    with open(SHARED / "en_davidson_labeled.csv", encoding="utf-8", newline="") as f:
        rows = [(r["tweet"], "toxic" if r["class"] in ("0", "1") else "non_toxic") for r in csv.DictReader(f)]
    return split(rows)


def ko_hate():
    def read(name):
        with open(SHARED / name, encoding="utf-8") as f:
            next(f)
            return [(c, "toxic" if h != "none" else "non_toxic")
                    for c, _, _, h in (line.rstrip("\n").split("\t") for line in f if line.strip())]
    return read("ko_hate_train.tsv"), read("ko_hate_dev.tsv")


def ko_curse():
    with open(SHARED / "ko_curse.txt", encoding="utf-8") as f:
        rows = [(t, "toxic" if y.strip() == "1" else "non_toxic")
                for t, y in (line.rstrip("\r\n").rsplit("|", 1) for line in f if "|" in line)]
    return split(rows)


def evaluate(name, backend, test, flag):
    texts = [t for t, _ in test]
    t0 = time.process_time()
    scores = backend.score(texts)
    dt = time.process_time() - t0
    pred = [flag(s, lab) for s, lab in scores]
    truth = [y == "toxic" for _, y in test]
    tp = sum(p and t for p, t in zip(pred, truth))
    fp = sum(p and not t for p, t in zip(pred, truth))
    fn = sum(t and not p for p, t in zip(pred, truth))
    prec, rec = tp / max(1, tp + fp), tp / max(1, tp + fn)
    f1 = 2 * prec * rec / max(1e-9, prec + rec)
    print(f"{name:<44} {len(test):6d} {prec:9.3f} {rec:7.3f} {f1:6.3f} {len(texts) / max(dt, 1e-9):10,.0f}")


def main():
    if not SHARED.exists():
        print(f"{SHARED} absent: skipped")
        return
    print(f"{'backend / data (held-out)':<44} {'n':>6} {'precision':>9} {'recall':>7} {'F1':>6} {'docs/s':>10}")
    ft_flag = lambda s, lab: lab is not None  # noqa: E731
    th = lambda s, lab: s >= 0.5  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp:
        for lang, name, (train, test) in (("en", "Davidson", davidson()), ("ko", "BEEP! hate (dev)", ko_hate()),
                                          ("ko", "2runo curse", ko_curse())):
            path = os.path.join(tmp, f"{lang}_{name.split()[0]}.bin")
            t0 = time.perf_counter()
            train_fasttext(train, path)
            print(f"  (fastText trained on {len(train):,} {lang} examples in {time.perf_counter() - t0:.1f}s)")
            evaluate(f"fasttext [{lang}] {name}", FastTextBackend(path, {"toxic": 0.5}), test, ft_flag)
            if lang == "en":
                evaluate(f"profanity_check (offline default) [en] {name}", ProfanityCheckBackend(), test, th)
                evaluate(f"wordlist en.txt (offline) [en] {name}", WordListBackend(["en.txt"]), test, th)
            else:
                evaluate(f"wordlist ko.txt (offline) [ko] {name}", WordListBackend(["ko.txt"]), test, th)


if __name__ == "__main__":
    main()
