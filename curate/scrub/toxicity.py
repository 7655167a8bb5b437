"""Toxicity scoring backends: a fastText classifier (any supervised `.bin`/`.ftz`), a character n-gram linear model
(char_ngram.py; the shipped Korean default is one), alt-profanity-check's bundled English model (offline, no
training), and word lists loaded from files (Korean and other languages).

Every backend maps a list of texts to (score in [0, 1], label) pairs; the step compares the score with a threshold
(per label for fastText) and drops the document or only its offending lines.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from functools import lru_cache
from typing import Iterable, Sequence

WORDLIST_DIR = os.path.join(os.path.dirname(__file__), "wordlists")
MODEL_DIR = os.path.join(os.path.dirname(__file__), "models")
# The Korean default of the `toxicity` step: a character n-gram model trained on MIT-licensed labels, its threshold
# and recipe inside (models/ko_toxicity.md; benchmarks/toxicity_eval.py --train-korean-default).
KOREAN_DEFAULT_MODEL = os.path.join(MODEL_DIR, "ko_toxicity.json.gz")
_WS = re.compile(r"\s+")
_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")


def preprocess(text: str) -> str:
    """What the fastText backend sees, in training and prediction alike: NFKC, lower case, one line."""
    return _WS.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()


# -- fastText -----------------------------------------------------------------------------------------------------
def _train_worker(data_path: str, output: str, quantize: bool, kwargs: dict, errors) -> None:
    import fasttext

    try:
        model = fasttext.train_supervised(input=data_path, **kwargs)
        if quantize:
            model.quantize(input=data_path, retrain=False)
        model.save_model(output)
    except Exception as e:  # reported to the parent, which raises it
        errors.put(f"{type(e).__name__}: {e}")


def _train_in_clean_process(data_path: str, output: str, quantize: bool, kwargs: dict) -> None:
    """Train in a fresh interpreter. Once spaCy or Kiwi has been loaded into a process (as they are in any curation
    run), fastText's training there ends in "Encountered NaN" on inputs it learns fine elsewhere; a spawned process
    has neither loaded."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    errors = ctx.Queue()
    proc = ctx.Process(target=_train_worker, args=(data_path, output, quantize, kwargs, errors))
    proc.start()
    proc.join()
    if not errors.empty():
        raise RuntimeError(f"fastText training failed: {errors.get()}")
    if proc.exitcode != 0:
        raise RuntimeError(f"fastText training process exited with code {proc.exitcode}")



def _norm_label(label: str) -> str:
    return label[len("__label__"):] if label.startswith("__label__") else label


class FastTextBackend:
    """Any supervised fastText model. `thresholds` maps labels (with or without `__label__`) to the probability at
    which a text counts as that label; labels not listed never flag (e.g. `non_toxic`, `neither`)."""

    has_own_threshold = True  # score() returns a label only when it is flagged

    def __init__(self, model_path: str, thresholds: dict[str, float]):
        from curate.langid import load_fasttext

        if not os.path.isfile(model_path):
            raise FileNotFoundError(f"fastText model {model_path} not found")
        self.model = load_fasttext(os.path.abspath(model_path))
        self.thresholds = {_norm_label(k): v for k, v in thresholds.items()}
        labels = {_norm_label(x) for x in self.model.get_labels()}
        unknown = set(self.thresholds) - labels
        if unknown:
            raise ValueError(f"{model_path} has labels {sorted(labels)}; thresholds name unknown {sorted(unknown)}")

    def score(self, texts: Sequence[str]) -> list[tuple[float, str | None]]:
        """For each text, the flagged label with the largest margin over its threshold (or the best score of a
        watched label, unflagged, as label None)."""
        if not texts:
            return []
        labels, probs = self.model.predict([preprocess(t) for t in texts], k=-1, threshold=0.0)
        out = []
        for ls, ps in zip(labels, probs):
            best, best_label, best_margin = 0.0, None, -1.0
            for lab, p in zip(ls, ps):
                lab = _norm_label(lab)
                if lab in self.thresholds:
                    p = float(min(max(p, 0.0), 1.0))
                    margin = p - self.thresholds[lab]
                    if margin > best_margin:
                        best, best_label, best_margin = p, lab, margin
            out.append((best, best_label if best_margin >= 0 else None))
        return out


def train_fasttext(records: Iterable[tuple[str, str]], output: str, *, epoch: int = 25, lr: float = 0.25,
                   word_ngrams: int = 2, dim: int = 50, minn: int = 2, maxn: int = 4, bucket: int = 200_000,
                   min_count: int = 1, seed: int = 0, quantize: bool = False) -> dict:
    """Train a supervised fastText model on (text, label) pairs and save it (single-threaded, fixed seed; fastText
    is still not bit-for-bit repeatable, so two runs may differ slightly). Returns {examples, labels}."""
    from curate.langid import check_fasttext_can_train

    check_fasttext_can_train()
    n, labels = 0, {}
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
        for text, label in records:
            text = preprocess(text)
            label = re.sub(r"\s+", "_", str(label).strip())
            if not text or not label:
                continue
            f.write(f"__label__{label} {text}\n")
            n += 1
            labels[label] = labels.get(label, 0) + 1
        tmp = f.name
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    try:
        if n == 0:
            raise ValueError("no labelled examples")
        if len(labels) < 2:
            raise ValueError(f"a classifier needs two labels at least; got {sorted(labels)}")
        _train_in_clean_process(tmp, output, quantize, dict(
            epoch=epoch, lr=lr, wordNgrams=word_ngrams, dim=dim, minn=minn, maxn=maxn, bucket=bucket,
            minCount=min_count, thread=1, seed=seed, verbose=0, loss="softmax"))
    finally:
        os.unlink(tmp)
    from curate.langid import load_fasttext

    load_fasttext.cache_clear()
    return {"examples": n, "labels": labels}


@lru_cache(maxsize=1)
def korean_default_config() -> dict:
    """The shipped Korean model's label, threshold, training and data (its weights left out)."""
    from curate.scrub.char_ngram import read_model_info

    return read_model_info(KOREAN_DEFAULT_MODEL)


def korean_default_backend():
    """The shipped Korean model at its chosen threshold."""
    from curate.scrub.char_ngram import CharNgramBackend

    return CharNgramBackend(KOREAN_DEFAULT_MODEL)


# -- alt-profanity-check ------------------------------------------------------------------------------------------
class ProfanityCheckBackend:
    """alt-profanity-check's bundled English model (a linear SVM on a bag of words, calibrated probabilities)."""

    label = "profanity"

    def __init__(self):
        from profanity_check import predict_prob

        self._predict = predict_prob

    def score(self, texts: Sequence[str]) -> list[tuple[float, str | None]]:
        if not texts:
            return []
        return [(float(p), self.label) for p in self._predict(list(texts))]


# -- word lists ---------------------------------------------------------------------------------------------------
def read_wordlist(path: str) -> list[str]:
    """One term per line; `#` starts a comment; blank lines are skipped."""
    with open(path, encoding="utf-8") as f:
        terms = [line.split("#", 1)[0].strip() for line in f]
    return [unicodedata.normalize("NFKC", t).lower() for t in terms if t]


class WordListBackend:
    """Counts list terms in a text. Terms with Hangul match anywhere (Korean attaches particles and suffixes to
    words: 병신아, 씨발놈); other terms match whole words. score = min(1, hits / hits_for_full_score)."""

    label = "wordlist"

    def __init__(self, paths: Sequence[str], hits_for_full_score: int = 1):
        terms = []
        for p in paths:
            if not os.path.isabs(p) and not os.path.exists(p):
                p = os.path.join(WORDLIST_DIR, p)
            terms.extend(read_wordlist(p))
        if not terms:
            raise ValueError(f"word lists {list(paths)} hold no terms")
        ko = sorted({t for t in terms if _HANGUL.search(t)}, key=len, reverse=True)
        other = sorted({t for t in terms if not _HANGUL.search(t)}, key=len, reverse=True)
        parts = []
        if other:
            parts.append(r"(?<!\w)(?:" + "|".join(re.escape(t) for t in other) + r")(?!\w)")
        if ko:
            parts.append("(?:" + "|".join(re.escape(t) for t in ko) + ")")
        self.regex = re.compile("|".join(parts))
        self.hits_for_full_score = max(1, hits_for_full_score)
        self.size = len(ko) + len(other)

    def hits(self, text: str) -> int:
        return sum(1 for _ in self.regex.finditer(unicodedata.normalize("NFKC", text).lower()))

    def score(self, texts: Sequence[str]) -> list[tuple[float, str | None]]:
        return [(min(1.0, self.hits(t) / self.hits_for_full_score), self.label) for t in texts]


@lru_cache(maxsize=8)
def default_wordlists(lang: str | None) -> tuple[str, ...]:
    """The lists this package ships for a language (`<lang>.txt` in curate/scrub/wordlists/)."""
    names = sorted(os.listdir(WORDLIST_DIR))
    if lang:
        return tuple(n for n in names if n.startswith(f"{lang}.") or n.startswith(f"{lang}_"))
    return tuple(n for n in names if n.endswith(".txt"))
