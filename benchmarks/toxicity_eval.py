"""Toxicity: precision/recall/F1 and docs/s per backend and language on held-out splits of ../shared/eval/toxicity
(skipped when absent; nothing is copied into the repository).

  en  Davidson tweets (MIT): toxic = class in {0 hate, 1 offensive}; stratified 80/20 split (seed 0)
  ko  2runo curse data (MIT): toxic = label 1; stratified 80/20 split (seed 0)
  ko  BEEP! Korean hate speech (CC BY-SA 4.0): toxic = hate != none; train -> dev
Korean candidates: the word list shipped before (ko.txt), korcen and nerv-filter when installed (offline keyword
filters from PyPI; not dependencies: `pip install korcen nerv-filter` to compare), the Korean default before
(fastText on the MIT curse data's train split, trained here), the shipped Korean default
(curate/scrub/models/ko_toxicity.json.gz: character n-grams + logistic regression on the same curse labels and
documentation paragraphs as clean examples, read as shipped), fastText models trained here on BEEP!'s train split
(CC BY-SA: measured, never shipped), and flagging everything.
"ko docs flagged" is the share of real Korean documentation pages (../shared/corpora/web_en_ko.jsonl.gz, the half
never trained on nor used to choose a threshold) a backend flags as a whole document: what the step would remove
from clean text.

Run: python benchmarks/toxicity_eval.py [--slow]     (--slow adds nerv-filter: ~6 minutes)
     python benchmarks/toxicity_eval.py --train-korean-default    (re-trains the shipped model and its threshold)
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from curate.scrub.char_ngram import CharNgramBackend, train_char_ngram  # noqa: E402
from curate.scrub.toxicity import (  # noqa: E402
    KOREAN_DEFAULT_MODEL,
    FastTextBackend,
    ProfanityCheckBackend,
    WordListBackend,
    korean_default_backend,
    korean_default_config,
    train_fasttext,
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
TOX = SHARED / "eval" / "toxicity"
# the shipped model's recipe: fastText on the curse data's train split (seed-0 80/20 split, as evaluated below)
KOREAN_TRAINING = dict(ngram_range=(1, 4), min_df=2, c=4.0)
# the fastText recipe of the Korean default before (kept as a row of the comparison)
FASTTEXT_KOREAN = dict(epoch=25, lr=0.25, word_ngrams=2, dim=16, minn=1, maxn=5, bucket=50_000, quantize=True)
GOALS = {"curse": 0.75, "hate": 0.60}  # issue 16: F1 of the shipped default on the curse set and on BEEP!
MAX_DOCS_FLAGGED = 0.005  # the threshold may flag at most this share of the selection half of Korean documentation


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
    if LIMIT:  # a sample of every label (unlimited, the order stays as the figures in the docs were measured)
        rng.shuffle(train)
        rng.shuffle(test)
    return cap(train), cap(test)


LIMIT: int | None = None  # --limit: at most this many examples per split (a smoke run)


def cap(rows: list) -> list:
    return rows[:LIMIT] if LIMIT else rows


def davidson():
    with open(TOX / "en_davidson_labeled.csv", encoding="utf-8", newline="") as f:
        rows = [(r["tweet"], "toxic" if r["class"] in ("0", "1") else "non_toxic") for r in csv.DictReader(f)]
    return split(rows)


def ko_hate():
    def read(name):
        with open(TOX / name, encoding="utf-8") as f:
            next(f)
            return [(c, "toxic" if h != "none" else "non_toxic")
                    for c, _, _, h in (line.rstrip("\n").split("\t") for line in f if line.strip())]
    return cap(read("ko_hate_train.tsv")), cap(read("ko_hate_dev.tsv"))


def ko_curse():
    with open(TOX / "ko_curse.txt", encoding="utf-8") as f:
        rows = [(t, "toxic" if y.strip() == "1" else "non_toxic")
                for t, y in (line.rstrip("\r\n").rsplit("|", 1) for line in f if "|" in line)]
    return split(rows)


def ko_pages() -> tuple[list[dict], list[dict]]:
    """Korean documentation pages (records with text, source, license), in two halves by a hash of their id:
    (select, report)."""
    select, report = [], []
    with gzip.open(SHARED / "corpora" / "web_en_ko.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            if d["lang"] == "ko":
                (select if hashlib.sha1(d["id"].encode()).digest()[0] % 2 else report).append(d)
    return cap(select), cap(report)


def ko_docs() -> tuple[list[str], list[str]]:
    select, report = ko_pages()
    return [d["text"] for d in select], [d["text"] for d in report]


def documentation_negatives(pages: list[str], limit: int = 3000) -> list[tuple[str, str]]:
    """Paragraphs of Korean documentation pages as non-toxic examples (from the selection half only: the report
    half, on which "docs flagged" is measured, is never trained on)."""
    out = [(" ".join(p.split()), "non_toxic") for page in pages for p in page.split("\n\n") if len(p.strip()) > 20]
    random.Random(0).shuffle(out)
    return out[:limit]


def prf(flags, test):
    truth = [y == "toxic" for _, y in test]
    tp = sum(p and t for p, t in zip(flags, truth))
    fp = sum(p and not t for p, t in zip(flags, truth))
    fn = sum(t and not p for p, t in zip(flags, truth))
    prec, rec = tp / max(1, tp + fp), tp / max(1, tp + fn)
    return prec, rec, 2 * prec * rec / max(1e-9, prec + rec)


def evaluate(name, predict, test, docs=None):
    """predict(texts) -> flags."""
    t0 = time.process_time()
    flags = predict([t for t, _ in test])
    dt = time.process_time() - t0
    prec, rec, f1 = prf(flags, test)
    flagged = f"{sum(predict(docs)) / len(docs):12.3f}" if docs else f"{'-':>12}"
    print(f"{name:<58} {len(test):6d} {prec:9.3f} {rec:7.3f} {f1:6.3f} {len(test) / max(dt, 1e-9):10,.0f} {flagged}")


def scored(backend, flag):
    return lambda texts: [flag(s, lab) for s, lab in backend.score(texts)]


def train_korean_default(out_dir: Path) -> None:
    """Re-train the shipped Korean model (a character n-gram linear model, curate/scrub/char_ngram.py).

    Weights are learned from the MIT curse data's train split and, as clean examples, paragraphs of one quarter of
    the Korean documentation pages (selection half, even pages). The threshold is chosen with a probe model trained
    on 85% of that curse split (seed 1): among thresholds that flag at most MAX_DOCS_FLAGGED of the other selection
    quarter as whole documents, the one whose worst margin over the goals (F1 on the remaining 15% of the curse
    split, F1 on BEEP!'s train split) is largest. BEEP! (CC BY-SA) is only scored to choose that one number, never
    learned from. Neither the curse test split, BEEP!'s dev set nor the report half of the documentation is read."""
    train, _ = ko_curse()
    fit, val = split(train, seed=1, frac=0.85)
    hate_train, _ = ko_hate()
    pages, _ = ko_pages()
    negatives = documentation_negatives([d["text"] for d in pages[0::2]])
    check_docs = [d["text"] for d in pages[1::2]]
    with tempfile.TemporaryDirectory() as tmp:
        probe = os.path.join(tmp, "probe.json.gz")
        train_char_ngram(fit + negatives, probe, **KOREAN_TRAINING)
        backend = CharNgramBackend(probe)
        val_p = backend.probabilities([t for t, _ in val])
        hate_p = backend.probabilities([t for t, _ in hate_train])
        doc_p = backend.probabilities(check_docs)
    best = None
    for th in [x / 1000 for x in range(300, 701, 25)]:
        f_curse, f_hate = prf(val_p >= th, val)[2], prf(hate_p >= th, hate_train)[2]
        flagged = float((doc_p >= th).mean())
        margin = min(f_curse - GOALS["curse"], f_hate - GOALS["hate"])
        print(f"  threshold {th:.3f}: F1 curse validation {f_curse:.3f}, BEEP! train {f_hate:.3f} "
              f"(worst margin {margin:+.3f}); selection docs flagged {flagged:.4f}")
        if flagged <= MAX_DOCS_FLAGGED and (best is None or margin > best[1]):
            best = (th, margin, f_curse, f_hate)
    if best is None:
        raise SystemExit("no threshold flags few enough documentation pages")
    th, _, f_curse, f_hate = best
    info = {"selection": {"curse_validation_f1": round(f_curse, 4), "beep_train_f1": round(f_hate, 4),
                          "rule": "largest worst margin over the goals (curse F1 0.75, hate-speech F1 0.6) among "
                                  f"thresholds flagging <= {MAX_DOCS_FLAGGED:.1%} of held-out documentation pages"},
            "data": ["2runo/Curse-detection-data dataset.txt (MIT): seed-0 80% stratified train split",
                     f"{len(negatives)} paragraphs of Korean documentation pages, as clean examples "
                     "(../shared/corpora/web_en_ko.jsonl.gz; see ko_toxicity.md for their sources and licenses)"]}
    out = out_dir / "ko_toxicity.json.gz"
    trained = train_char_ngram(train + negatives, str(out), threshold=th, info=info, **KOREAN_TRAINING)
    print(f"wrote {out} (threshold {th:.3f}; {trained['examples']} examples)")
    sources: dict[tuple[str, str], int] = {}
    for page in pages[0::2]:
        sources[(page["source"], page["license"])] = sources.get((page["source"], page["license"]), 0) + 1
    for (source, lic), n in sorted(sources.items()):
        print(f"  clean examples drawn from {n} pages of {source} ({lic})")


def korean(slow: bool) -> None:
    curse_train, curse_test = ko_curse()
    hate_train, hate_dev = ko_hate()
    select, docs = ko_docs()
    wordlist = WordListBackend(["ko.txt"])
    shipped = korean_default_backend()
    with tempfile.TemporaryDirectory() as tmp:
        before = os.path.join(tmp, "before.ftz")  # the Korean default before: fastText on the same curse labels
        train_fasttext(curse_train, before, **FASTTEXT_KOREAN)
        before_backend = FastTextBackend(before, {"toxic": 0.35})
        beep = os.path.join(tmp, "beep.ftz")
        train_fasttext(hate_train, beep, **FASTTEXT_KOREAN)
        beep_backend = FastTextBackend(beep, {"toxic": 0.35})
        # BEEP!'s clean examples are all celebrity-news comments: trained on them alone, every other register reads
        # as toxic; documentation paragraphs as negatives remove that (and what stays in the way is below)
        beep_docs = os.path.join(tmp, "beep_docs.ftz")
        train_fasttext(hate_train + documentation_negatives(select), beep_docs, **FASTTEXT_KOREAN)
        beep_docs_backend = FastTextBackend(beep_docs, {"toxic": 0.35})
        candidates = [("wordlist ko.txt (the default before)", scored(wordlist, lambda s, lab: s >= 0.5))]
        try:
            from korcen import korcen

            candidates.append(("korcen 1.0.3 (keywords, Apache-2.0)", lambda ts: [korcen.check(t) for t in ts]))
        except ImportError:
            print("  (korcen not installed: pip install korcen to compare)")
        if slow:
            try:
                from nerv_filter import ModerationAction, NervFilter

                nerv = NervFilter()
                candidates.append(("nerv-filter 0.1.0 (Kiwi + keywords, MIT)",
                                   lambda ts: [nerv.analyze(t).action != ModerationAction.NORMAL for t in ts]))
            except ImportError:
                print("  (nerv-filter not installed: pip install nerv-filter to compare)")
        candidates += [
            ("fastText, curse train split (MIT; the default before)", scored(before_backend, lambda s, lab: lab is not None)),
            (f"SHIPPED char n-grams, curse train split (MIT) th {korean_default_config()['threshold']:.3f}",
             scored(shipped, lambda s, lab: lab is not None)),
            ("fastText, BEEP! train split (CC BY-SA, not shipped)", scored(beep_backend, lambda s, lab: lab is not None)),
            ("fastText, BEEP! train + doc paragraphs (not shipped)",
             scored(beep_docs_backend, lambda s, lab: lab is not None)),
            ("flag everything", lambda ts: [True] * len(ts)),
        ]
        for title, test in (("2runo curse, test split", curse_test), ("BEEP! hate speech, dev", hate_dev)):
            print(f"-- {title}")
            for name, predict in candidates:
                evaluate(name, predict, test, docs if title.startswith("2runo") else None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--slow", action="store_true", help="also nerv-filter (~6 minutes on 2 cores)")
    ap.add_argument("--train-korean-default", action="store_true", help="re-train the shipped Korean model")
    ap.add_argument("--limit", type=int, default=None, help="at most N examples per split (a smoke run)")
    a = ap.parse_args()
    global LIMIT
    LIMIT = a.limit
    if not TOX.exists():
        print(f"{TOX} absent: skipped")
        return
    if a.train_korean_default:
        train_korean_default(Path(KOREAN_DEFAULT_MODEL).parent)
        return
    print(f"{'backend / data (held-out)':<58} {'n':>6} {'precision':>9} {'recall':>7} {'F1':>6} {'docs/s':>10} "
          f"{'ko docs flagged':>12}")
    korean(a.slow)
    print("-- English: Davidson tweets, test split")
    train, test = davidson()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "en.bin")
        train_fasttext(train, path)
        evaluate("fastText trained on the train split", scored(FastTextBackend(path, {"toxic": 0.5}),
                                                                lambda s, lab: lab is not None), test)
    evaluate("profanity_check (offline default)", scored(ProfanityCheckBackend(), lambda s, lab: s >= 0.5), test)
    evaluate("wordlist en.txt", scored(WordListBackend(["en.txt"]), lambda s, lab: s >= 0.5), test)


if __name__ == "__main__":
    main()
