"""`quality_classifier`: keep documents a trained model scores as good (DCLM's fastText classifier, FineWeb-Edu's
regression head on embeddings), the score stored in `<step>_score` like every other measure.

Keep by `threshold` (the score to reach), or by `keep_top_fraction`: the best fraction of the crawl, where the
score that fraction starts at is read from `reference`, a sample of the input (JSONL, Parquet, or an earlier run's
folder) scored once when the run starts; a streaming run cannot wait for every score. Both are retunable.
"""

from __future__ import annotations

import os
from typing import Any, Literal, Mapping

import numpy as np
import pyarrow as pa
from datatrove.data import Document
from pydantic import Field, model_validator

from curate.steps.scored import ScoredParams, ScoredStep


class QualityClassifierParams(ScoredParams):
    backend: Literal["fasttext", "embedding"] = "fasttext"  # fastText classifier, or a head on a local encoder
    model_path: str  # fastText .bin/.ftz, or a folder from `curate train-classifier --task quality --encoder DIR`
    label: str = "hq"  # fastText: the label whose probability is the score
    threshold: float | None = 0.5  # keep a document scoring at least this
    keep_top_fraction: float | None = Field(None, gt=0, le=1)  # keep the best fraction instead (needs `reference`)
    reference: str | None = None  # a sample of the input, scored to turn keep_top_fraction into a threshold
    max_chars: int = Field(20_000, gt=0)  # fastText reads this many first characters (a head keeps its own)
    batch_size: int = Field(64, ge=1)  # documents embedded at once (embedding backend)

    @model_validator(mode="after")
    def _keep_rule(self):
        if self.keep_top_fraction is not None and not self.reference:
            raise ValueError("keep_top_fraction needs `reference`: a sample of the input to rank the documents in")
        if self.keep_top_fraction is None and self.threshold is None:
            raise ValueError("set threshold or keep_top_fraction")
        return self


class QualityClassifier(ScoredStep):
    """Score every document with a quality model (fastText or a head on a local encoder); keep the good ones."""
    summary = (
        "a trained quality model: fastText (DCLM) or a regression head on a local encoder's embeddings "
        "(FineWeb-Edu); keep by threshold or top fraction"
    )

    type_name = "quality_classifier"
    doc = "docs/quality.md"
    tests = ("tests/test_quality_classifier.py",)
    Params = QualityClassifierParams
    measures = {"score": pa.float64()}
    retunable = frozenset({"threshold", "keep_top_fraction"})
    measure_limits = {"score": ("threshold",)}

    def __init__(self, params: QualityClassifierParams, ctx, name=None):
        for key in ("model_path", "reference"):
            value = getattr(params, key)
            if value and not os.path.isabs(value):
                setattr(params, key, os.path.abspath(value))
        super().__init__(params, ctx, name)
        self.batch_size = params.batch_size
        self._scorer = None
        self._reference_scores: np.ndarray | None = None
        self.model()  # fail early: a missing model or an unknown label is a config error, not a task crash

    def __getstate__(self):
        state = super().__getstate__()
        state["_scorer"] = None
        return state

    def model(self):
        if self._scorer is None:
            from curate.quality_model import scorer

            p = self.params
            self._scorer = scorer(p.backend, p.model_path, p.label, p.max_chars, p.batch_size)
        return self._scorer

    def reference_scores(self) -> np.ndarray:
        if self._reference_scores is None:
            from curate.quality_model import read_texts

            texts = [text for text, _ in read_texts(self.params.reference)]
            if not texts:
                raise ValueError(f"{self.step_name}: reference {self.params.reference} holds no documents")
            self._reference_scores = np.sort(self.model().score(texts))
        return self._reference_scores

    def prepare(self, files: list[dict[str, Any]]) -> None:
        if self.params.keep_top_fraction is not None:
            self.reference_scores()  # once, in the main process: every task gets the same threshold

    def effective_threshold(self) -> float:
        p = self.params
        if p.keep_top_fraction is None:
            return p.threshold
        return float(np.quantile(self.reference_scores(), 1 - p.keep_top_fraction))

    def measure(self, doc: Document) -> dict[str, Any]:
        return {"score": float(self.model().score([doc.text])[0])}

    def decide(self, v: Mapping[str, Any], lang: str | None) -> str | None:
        return None if v["score"] >= self.effective_threshold() else "low_quality"

    def process_batch(self, docs: list[Document]) -> list[str | None]:
        scores = self.model().score([d.text for d in docs])
        reasons = []
        for doc, score in zip(docs, scores):
            doc.metadata[self.column("score")] = float(score)
            reasons.append(self.decide({"score": float(score)}, None))
        return reasons
