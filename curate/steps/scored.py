"""Steps that measure first and decide second, so that every measured value is stored and can be re-decided.

A `ScoredStep` splits the usual `process` in two: `measure(doc)` computes the step's values (alpha ratio, duplicate
fractions, a model score...), which are written to typed columns `<step name>_<measure>`; `decide(values, lang)`
compares them with the thresholds in the step's parameters and returns a removal reason or None. `decide` reads
only stored values and the parameters listed in `retunable`, which is what lets `curate retune` re-decide a run
from its shards without reading the input again (see curate/retune.py). Parameters that change what is measured
(stop word lists, the text view, a model) are not retunable: changing them needs a rerun.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Mapping

import pyarrow as pa
from datatrove.data import Document

from curate.document import LANG
from curate.steps.base import CurateStep, StepParams


class ScoredParams(StepParams):
    per_language: dict[str, dict[str, Any]] = {}  # parameter overrides by document language


class ScoredStep(CurateStep):
    """A step whose decision is a function of stored measurements and retunable thresholds."""

    Params: ClassVar[type[ScoredParams]] = ScoredParams
    measures: ClassVar[dict[str, pa.DataType]] = {}  # measure name -> column type
    retunable: ClassVar[frozenset[str]] = frozenset()  # parameters that `decide` reads and `measure` does not
    rewrites_text: ClassVar[bool] = False  # `process` changes the text of the documents it keeps (C4 drops lines)

    def __init__(self, params: ScoredParams, ctx, name=None):
        super().__init__(params, ctx, name)
        unknown = {lang: set(over) - set(params.model_fields) - {"apply_to", "per_language"}
                   for lang, over in params.per_language.items()}
        unknown = {lang: keys for lang, keys in unknown.items() if keys}
        if unknown:
            raise ValueError(f"{self.step_name}: per_language has unknown parameters {unknown}")
        self.columns = {self.column(m): t for m, t in self.measures.items()}
        self._params_by_lang: dict[str | None, ScoredParams] = {}

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_params_by_lang"] = {}
        return state

    def column(self, measure: str) -> str:
        return f"{self.step_name}_{measure}"

    def params_for(self, lang: str | None) -> ScoredParams:
        """The step's parameters with the `per_language` overrides of `lang` applied (validated once per language)."""
        if lang not in self._params_by_lang:
            over = self.params.per_language.get(lang or "", {})
            self._params_by_lang[lang] = (self.Params.model_validate(self.params.model_dump() | over)
                                          if over else self.params)
        return self._params_by_lang[lang]

    def measure(self, doc: Document) -> dict[str, Any]:
        raise NotImplementedError

    def decide(self, values: Mapping[str, Any], lang: str | None) -> str | None:
        raise NotImplementedError

    def process(self, doc: Document) -> str | None:
        values = self.measure(doc)
        for measure, value in values.items():
            doc.metadata[self.column(measure)] = _storable(value)
        return self.decide({m: _storable(v) for m, v in values.items()}, doc.metadata.get(LANG))

    def stored(self, row: Mapping[str, Any]) -> dict[str, Any] | None:
        """The values this step stored for a shard row; None when it never measured the document."""
        values = {m: row.get(self.column(m)) for m in self.measures}
        return values if any(v is not None for v in values.values()) else None

    def retuned(self, params: ScoredParams) -> None:
        """Switch to new (validated) parameters for `curate retune`."""
        self.params = params
        self._params_by_lang = {}

    def rejudge(self, docs: list[Document]) -> list[str | None]:
        """Decide again (`curate retune`): from the stored values, or, for a document this step never measured
        (an earlier step removed it in the run), by measuring it now from its stored text."""
        out = []
        for doc in docs:
            values = self.stored(doc.metadata)
            out.append(self.process(doc) if values is None else self.decide(values, doc.metadata.get(LANG)))
        return out


def _storable(value: Any) -> Any:
    """NaN becomes null (a mean over no words); everything else is stored as measured, unrounded, so that a
    retune with unchanged thresholds reproduces the run's decisions exactly."""
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def over(value: float | None, limit: float | None) -> bool:
    """`value > limit`, with a falsy limit meaning "rule off" (datatrove's convention) and a missing value passing."""
    return bool(limit) and value is not None and value > limit


def under(value: float | None, limit: float | None) -> bool:
    return bool(limit) and value is not None and value < limit
