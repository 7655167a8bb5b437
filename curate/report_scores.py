"""Distributions of the scores a run stored, with the thresholds its config applied to them.

Generic over the shards' numeric columns: whatever a step stores (`lang_score`, `toxicity_score`, a filter's
`<step>_<measure>` columns...) gets a histogram of kept and removed documents, plus `length` (characters). A
column's thresholds are found in the manifest's config, defaults included:
  * the owner of a column is the step whose name prefixes it (`gopher_quality_words` -> step `gopher_quality`,
    measure `words`), a step whose class declares it in `columns`, or the step type in `CORE_OWNERS`;
  * a step class may declare `measure_limits = {"words": ("min_doc_words", "max_doc_words")}`; otherwise the
    parameters named `<measure>`, `min_<measure>`, `max_<measure>` are the limits, and `threshold` is the limit of a
    column the step declares by its full name (`toxicity_score`, `similarity`, `lang_score`);
  * `per_language: {ko: {...}}` overrides and the language step's `thresholds: {ko: 0.5}` add a limit per language.
Histograms are computed lazily (one column at a time), so a run of any size costs one projection per column.
"""

from __future__ import annotations

import math
from typing import Any

import polars as pl

from curate.document import CORE_KEYS

BINS = 30
NOT_SCORES = {"line", "cluster_size", "toxic_lines_removed"}  # bookkeeping counts, not measurements
CORE_OWNERS = {"lang_score": {"language"}, "lang": {"language"},  # core columns -> the step types that set them
               "license": {"license_policy"}, "license_source": {"license_policy"}}
PER_KEY_LIMITS = {"language": "thresholds"}  # step type -> its {language: limit} parameter


def score_distributions(steps: list[dict[str, Any]], kept: pl.LazyFrame | None,
                        removed: pl.LazyFrame | None) -> list[dict[str, Any]]:
    frames = {status: lf for status, lf in (("kept", kept), ("removed", removed)) if lf is not None}
    if not frames:
        return []
    columns: list[str] = []
    for lf in frames.values():
        schema = lf.collect_schema()
        columns += [c for c, t in schema.items() if t.is_numeric() and c not in NOT_SCORES and c not in columns]
    out = []
    for column in ["length"] + columns:
        expr = pl.col("text").str.len_chars().alias(column) if column == "length" else pl.col(column)
        hist = _histogram({s: lf.select(expr.cast(pl.Float64)) for s, lf in frames.items()
                           if column == "length" or column in lf.collect_schema().names()}, column,
                          log=column == "length")
        if hist is None:
            continue
        owners = column_owners(column, steps)
        out.append({"column": column, "steps": [s["name"] for s, _ in owners], "log_scale": column == "length",
                    "thresholds": [t for owner in owners for t in _limits(column, owner)], **hist})
    return out


def _histogram(frames: dict[str, pl.LazyFrame], column: str, log: bool) -> dict[str, Any] | None:
    """Equal-width bins (of log10 for `log`) between the column's min and max, counted per status."""
    value = pl.col(column)
    if log:
        value = (value.clip(lower_bound=1)).log10()
    stats = [lf.select(value.min().alias("lo"), value.max().alias("hi"), value.count().alias("n")).collect().row(0)
             for lf in frames.values()]
    stats = [s for s in stats if s[2]]
    if not stats:
        return None
    lo, hi = min(s[0] for s in stats), max(s[1] for s in stats)
    width = (hi - lo) / BINS if hi > lo else 1.0
    edges = [lo + i * width for i in range(BINS + 1)]
    counts = {status: [0] * BINS for status in frames}
    for status, lf in frames.items():
        idx = ((value - lo) / width).floor().clip(0, BINS - 1).cast(pl.Int64).alias("bin")
        for b, n in lf.select(idx).drop_nulls().group_by("bin").len().collect().iter_rows():
            counts[status][b] += n
    scale = (lambda x: 10 ** x) if log else (lambda x: x)
    bins = [{"start": scale(edges[i]), "end": scale(edges[i + 1]), **{s: counts[s][i] for s in counts}}
            for i in range(BINS) if any(counts[s][i] for s in counts)]
    return {"documents": sum(s[2] for s in stats), "bins": bins}


def configured_steps(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The run's steps with their full parameters (defaults included) and classes; a step that cannot be loaded
    any more (renamed, its package gone) is listed with the parameters the config wrote."""
    from curate.steps import STEP_TYPES, step_class

    out = []
    for spec in manifest.get("config", {}).get("steps", []):
        params = {k: v for k, v in spec.items() if k not in ("type", "name")}
        cls = None
        if spec["type"] in STEP_TYPES:
            try:
                cls = step_class(spec["type"])
                params = cls.Params.model_validate(params).model_dump(mode="json")
            except Exception:  # noqa: BLE001 — a report of an old run still shows its histograms
                cls = None
        out.append({"name": spec.get("name") or spec["type"], "type": spec["type"], "cls": cls, "params": params})
    return out


def column_owners(column: str, steps: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
    """[(step, measure)] for a column: the steps that declare it by its full name (several may: two toxicity
    steps share `toxicity_score`), else the step whose name prefixes it; core columns are never taken by prefix
    (`lang_score` is not a measure `score` of a step named `lang`)."""
    declared = [(s, column) for s in steps if s["type"] in CORE_OWNERS.get(column, ())
                or (s["cls"] is not None and column in getattr(s["cls"], "columns", {}))]
    if declared or column in CORE_KEYS:
        return declared
    prefixed = [s for s in steps if column.startswith(s["name"] + "_")]
    if prefixed:
        step = max(prefixed, key=lambda s: len(s["name"]))
        return [(step, column[len(step["name"]) + 1:])]
    return []


def _limits(column: str, owner: tuple[dict[str, Any], str]) -> list[dict[str, Any]]:
    step, measure = owner
    params, cls = step["params"], step["cls"]
    declared = getattr(cls, "measure_limits", {}).get(measure) if cls is not None else None
    names = list(declared) if declared else [measure, f"min_{measure}", f"max_{measure}"]
    if not declared and measure == column:
        names.append("threshold")
    out = []
    for name in names:
        if _number(params.get(name)):
            out.append({"parameter": f"{step['name']}.{name}", "value": params[name], "language": None})
        for lang, over in (params.get("per_language") or {}).items():
            if _number(over.get(name)):
                out.append({"parameter": f"{step['name']}.per_language.{lang}.{name}", "value": over[name],
                            "language": lang})
    per_key = PER_KEY_LIMITS.get(step["type"])
    if per_key and "threshold" in names:
        for lang, value in (params.get(per_key) or {}).items():
            if _number(value):
                out.append({"parameter": f"{step['name']}.{per_key}.{lang}", "value": value, "language": lang})
    return out


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
