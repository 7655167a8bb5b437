"""A binary linear classifier on character n-grams: TF-IDF over n-grams inside word boundaries (scikit-learn's
`char_wb`) and logistic regression. The Korean default of the `toxicity` step is one (models/ko_toxicity.md).

Why character n-grams: Korean glues particles and endings to words (씨발놈아, 병신같은) and writes abuse with
spacing and spelling tricks; n-grams of 1-4 characters see the stem wherever it is glued. On the labeled Korean data
in ../shared/eval/toxicity it beats fastText trained on the same labels (benchmarks/toxicity_eval.py).

A model is saved as gzipped JSON (vocabulary, idf, weights, threshold and how it was trained), never as a pickle: a
model file is data, and loading it runs no code of its author's.
"""

from __future__ import annotations

import gzip
import json
import os
from typing import Iterable, Sequence

FORMAT = "curate-char-ngram-1"


def _preprocess(text: str) -> str:
    from curate.scrub.toxicity import preprocess

    return preprocess(text)


def _vectorizer(ngram_range: tuple[int, int], min_df: int = 1, vocabulary: dict[str, int] | None = None):
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    # texts are NFKC-normalised and lower-cased by _preprocess (as for fastText), so sklearn's own lower-casing is off
    return TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(ngram_range), min_df=min_df, sublinear_tf=True,
                           lowercase=False, vocabulary=vocabulary, dtype=np.float64)


def train_char_ngram(records: Iterable[tuple[str, str]], output: str, *, positive: str = "toxic",
                     threshold: float = 0.5, ngram_range: tuple[int, int] = (1, 4), min_df: int = 2, c: float = 4.0,
                     info: dict | None = None) -> dict:
    """Train on (text, label) pairs: `positive` against every other label, classes weighted to balance. Saves the
    model to `output` (.json.gz) with `threshold` and `info` (free-form: data, selection) inside. Deterministic
    (lbfgs). Returns {examples, labels}."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    texts, y, labels = [], [], {}
    for text, label in records:
        text = _preprocess(text)
        if not text:
            continue
        label = str(label).strip()
        texts.append(text)
        y.append(label == positive)
        labels[label] = labels.get(label, 0) + 1
    if positive not in labels or len(labels) < 2:
        raise ValueError(f"a classifier needs examples of {positive!r} and of another label; got {sorted(labels)}")
    vec = _vectorizer(ngram_range, min_df)
    x = vec.fit_transform(texts)
    model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced").fit(x, np.array(y))
    vocabulary = [""] * len(vec.vocabulary_)
    for gram, i in vec.vocabulary_.items():
        vocabulary[i] = gram
    saved = {
        "format": FORMAT, "label": positive, "threshold": threshold, "ngram_range": list(ngram_range),
        "training": {"examples": len(texts), "labels": labels, "min_df": min_df, "C": c,
                     "model": "TF-IDF (char_wb, sublinear tf) + logistic regression (class_weight balanced)"},
        **(info or {}),
        "intercept": float(model.intercept_[0]),
        # 7 significant digits: float32 precision, a third of the file's size
        "vocabulary": vocabulary, "idf": [float(f"{v:.7g}") for v in vec.idf_],
        "coef": [float(f"{v:.7g}") for v in model.coef_[0]],
    }
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    tmp = output + ".tmp"
    # no name, mtime 0: the same training data give the same bytes
    with open(tmp, "wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", compresslevel=9, mtime=0) as f:
        f.write(json.dumps(saved, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    os.replace(tmp, output)
    return {"examples": len(texts), "labels": labels}


def read_model_info(path: str) -> dict:
    """Everything in a model file but its weights (label, threshold, training, data)."""
    return {k: v for k, v in _read(path).items() if k not in ("vocabulary", "idf", "coef")}


def _read(path: str) -> dict:
    if not os.path.isfile(path):
        raise FileNotFoundError(f"character n-gram model {path} not found")
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            saved = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"{path} is not a character n-gram model (.json.gz): {e}") from None
    if saved.get("format") != FORMAT:
        raise ValueError(f"{path}: format {saved.get('format')!r}, expected {FORMAT!r}")
    return saved


def char_wb_ngrams(word: str, ngram_range: tuple[int, int]) -> list[str]:
    """The n-grams scikit-learn's `char_wb` analyzer takes from one word: the word padded with a space each side,
    every n in the range, and a word shorter than n counted once, not again for larger n."""
    padded, (lo, hi) = f" {word} ", ngram_range
    out = []
    for n in range(lo, hi + 1):
        if len(padded) <= n:
            out.append(padded)
            break
        out += [padded[i:i + n] for i in range(len(padded) - n + 1)]
    return out


class CharNgramBackend:
    """Scores texts with a saved model: (probability of the model's label, that label when the probability reaches
    the threshold, else None). `threshold` overrides the one saved with the model.

    Scoring does what scikit-learn's TfidfVectorizer + logistic regression would (a test checks it to 1e-9), in
    numpy and with the n-gram features of each distinct word cached: a documentation page repeats its words, and
    n-gram extraction in Python is what costs."""

    WORD_CACHE = 200_000  # distinct words remembered; cleared when full
    has_own_threshold = True  # score() returns the label only when it is flagged

    def __init__(self, model_path: str, threshold: float | None = None):
        import numpy as np

        saved = _read(model_path)
        self.label = saved["label"]
        self.threshold = saved["threshold"] if threshold is None else threshold
        self.ngram_range = tuple(saved["ngram_range"])
        self._index = {g: i for i, g in enumerate(saved["vocabulary"])}
        self._idf = np.asarray(saved["idf"], dtype="float64")
        self._coef = np.asarray(saved["coef"], dtype="float64")
        self._intercept = float(saved["intercept"])
        self._words: dict[str, object] = {}

    def _features(self, word: str):
        import numpy as np

        feats = self._words.get(word)
        if feats is None:
            if len(self._words) >= self.WORD_CACHE:
                self._words.clear()
            found = map(self._index.get, char_wb_ngrams(word, self.ngram_range))
            feats = np.array([i for i in found if i is not None], dtype=np.int64)
            self._words[word] = feats
        return feats

    def probabilities(self, texts: Sequence[str]):
        """P(label) per text, the whole batch in a few numpy calls (one per text costs more than the maths)."""
        import numpy as np

        parts, rows, counts = [], [], []
        for k, text in enumerate(texts):
            words: dict[str, int] = {}
            for w in _preprocess(text).split():
                words[w] = words.get(w, 0) + 1
            for w, n in words.items():
                parts.append(self._features(w))
                rows.append(k)
                counts.append(n)
        z = np.full(len(texts), self._intercept)
        if parts:
            sizes = [len(p) for p in parts]
            idx = np.concatenate(parts)
            if idx.size:
                vocab = len(self._idf)
                keys = np.repeat(np.asarray(rows, dtype=np.int64), sizes) * vocab + idx
                keys, inverse = np.unique(keys, return_inverse=True)  # (text, feature) pairs
                tf = np.bincount(inverse, weights=np.repeat(np.asarray(counts, dtype="float64"), sizes))
                row, feat = keys // vocab, keys % vocab
                x = (1.0 + np.log(tf)) * self._idf[feat]  # sublinear tf times idf
                dot = np.bincount(row, weights=x * self._coef[feat], minlength=len(texts))
                norm = np.sqrt(np.bincount(row, weights=x * x, minlength=len(texts)))
                has = norm > 0
                z[has] += dot[has] / norm[has]  # the L2-normalised row, as sklearn's transform gives it
        return 1.0 / (1.0 + np.exp(-z))

    def score(self, texts: Sequence[str]) -> list[tuple[float, str | None]]:
        if not texts:
            return []
        return [(float(p), self.label if p >= self.threshold else None) for p in self.probabilities(texts)]
