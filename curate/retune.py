"""`curate retune RUN --set step.param=value`: re-decide a finished run's kept/removed from its stored scores.

Every scored step (language ID, the Gopher/C4/FineWeb heuristics, length, quality_classifier) stored what it
measured as columns of the shards, and decides from those values alone (curate/steps/scored.py). Retune reads the
rows of data/ and removed/, replays the pipeline's steps in order with the new thresholds, and writes a new run
folder with the same accounting law (documents_in == kept + sum(removed)) and a complete manifest:

* a scored step decides again from the values it stored; a document it never measured (an earlier step removed
  it, and first removal wins) is measured now from its stored text, as it would have been in a rerun. That text is
  the one the document had when it was removed, scrubbed by the PII step if the pipeline has one (scrub_removed),
  so a re-measured score may differ slightly from a rerun's where personal data was replaced.
* every other step (extraction, URL and license filters, dedup, PII, toxicity...) keeps its recorded decision:
  a document it removed stays removed by it (unless a retuned step before it now removes it first). A document that
  retune brings back and that such a step never saw (it was removed before reaching it) passes it unchecked; the
  manifest counts these per step under `retune.unchecked`. Deduplication in particular is not recomputed: rerun
  the pipeline when those counts matter.

Only thresholds are retunable (each step lists them in `retunable`); a parameter that changes what is measured (a
stop word list, the text view, a model) needs a rerun. Without `--output` nothing is written: the new accounting
is printed. Retune holds the rows' columns in memory (texts only while a shard is written or re-measured).
"""

from __future__ import annotations

import glob
import json
import os
import shutil
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from datatrove.data import Document
from pydantic import ValidationError

from curate.config import PipelineConfig
from curate import document as D
from curate.document import is_removed, mark_removed, removal_reason
from curate.steps import STEP_TYPES, CurateStep, RunContext, StepParams, step_class
from curate.steps.scored import ScoredStep
from curate.writers.sink import CORE_COLUMNS, REMOVED_COLUMNS
from curate.util import atomic_write_json, read_json

SKIP_COLUMNS = ("text", "extra", "removed_reason", "removed_step")


class RetuneError(ValueError):
    """A retune that cannot be done (unknown step or parameter, a parameter that is not a threshold...)."""


@dataclass
class Setting:
    step: str
    path: list[str]  # ["min_stop_words"] or ["per_language", "ko", "min_stop_words"]
    value: Any

    @classmethod
    def parse(cls, text: str) -> "Setting":
        key, sep, raw = text.partition("=")
        parts = key.strip().split(".")
        if not sep or len(parts) < 2 or not all(parts):
            raise RetuneError(f"--set {text!r}: expected STEP.PARAM=VALUE (or STEP.per_language.LANG.PARAM=VALUE)")
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError as e:
            raise RetuneError(f"--set {text!r}: the value is not valid YAML: {e}") from None
        return cls(parts[0], parts[1:], value)


@dataclass
class Outcome:
    manifest: dict[str, Any]
    changes: dict[str, int]  # reason (or "kept") -> change in documents
    unchecked: dict[str, int] = field(default_factory=dict)


class RecordedStep(CurateStep):
    """A step retune does not redo (extraction, URL and license filters, dedup, PII, toxicity...): its recorded
    decisions stand, its columns are copied, its manifest entry is the run's. Built without importing the step's
    module (PII and toxicity load model libraries: seconds that a retune does not need)."""

    type_name = "recorded"

    def __init__(self, spec, ctx: RunContext, recorded: dict[str, Any], columns: dict):
        params = spec.params()
        super().__init__(StepParams(apply_to=params.get("apply_to") or {}), ctx, name=spec.name or spec.type)
        self.type_name = self.type = spec.type
        self.scrubs_removed = spec.type == "pii" and params.get("scrub_removed", True)
        self.columns = columns
        self.counters = dict(recorded.get("counters", {}))
        self.seconds = recorded.get("seconds", 0.0)


def _is_scored(type_name: str) -> bool:
    """Scored steps live in curate/steps/ (cheap to import); the modules of the others are not imported."""
    if not STEP_TYPES[type_name].startswith("curate.steps."):
        return False
    return issubclass(step_class(type_name), ScoredStep)


def _build_steps(cfg: PipelineConfig, run_dir: str, manifest: dict[str, Any], schema: pa.Schema) -> list[CurateStep]:
    ctx = RunContext(run_dir=run_dir, pipeline_name=cfg.name)
    recorded = {s["name"]: s for s in manifest.get("steps", [])}
    steps: list[CurateStep] = []
    for spec in cfg.steps:
        name = spec.name or spec.type
        if _is_scored(spec.type):
            cls = step_class(spec.type)
            steps.append(cls(cls.Params.model_validate(spec.params()), ctx, name=name))
        else:
            steps.append(RecordedStep(spec, ctx, recorded.get(name, {}), {}))
    # the recorded steps' columns, typed as the run wrote them
    known = set(CORE_COLUMNS) | set(REMOVED_COLUMNS) | {"id", "text", D.EXTRA}
    for step in steps:
        known |= set(step.columns)
    others = {f.name: f.type for f in schema if f.name not in known}
    recorded_steps = [s for s in steps if isinstance(s, RecordedStep)]
    if recorded_steps:
        recorded_steps[0].columns = others
    return steps


def apply_settings(cfg: PipelineConfig, steps: list[CurateStep], settings: list[Setting]) -> PipelineConfig:
    """Validate the settings against each step's retunable thresholds, switch the steps to their new parameters,
    and return the pipeline config that records them."""
    by_name = {s.step_name: s for s in steps}
    raw_steps = [spec.model_dump(exclude_none=True) for spec in cfg.steps]
    index = {(spec.name or spec.type): i for i, spec in enumerate(cfg.steps)}
    for setting in settings:
        step = by_name.get(setting.step)
        if step is None:
            raise RetuneError(f"no step named {setting.step!r}; steps: {', '.join(by_name)}")
        if not isinstance(step, ScoredStep):
            raise RetuneError(f"{setting.step} ({step.type_name}) stores no scores to re-decide from; rerun instead")
        param = setting.path[-1]
        per_language = setting.path[0] == "per_language" and len(setting.path) == 3
        if len(setting.path) != 1 and not per_language:
            raise RetuneError(f"{setting.step}.{'.'.join(setting.path)}: expected PARAM or per_language.LANG.PARAM")
        if param not in step.retunable:
            what = "unknown parameter" if param not in step.Params.model_fields else "not a threshold"
            raise RetuneError(f"{setting.step}.{param}: {what}; retunable: {', '.join(sorted(step.retunable))} "
                              "(anything else changes what is measured: rerun the pipeline)")
        raw = raw_steps[index[setting.step]]
        if per_language:
            raw.setdefault("per_language", {}).setdefault(setting.path[1], {})[param] = setting.value
        else:
            raw[param] = setting.value
        params = {k: v for k, v in raw.items() if k not in ("type", "name")}
        try:
            step.retuned(step.Params.model_validate(params))
        except ValidationError as e:
            raise RetuneError(f"{setting.step}.{'.'.join(setting.path)}={setting.value!r}: {e.errors()[0]['msg']}") \
                from None
    return cfg.model_copy(update={"steps": [type(cfg.steps[0]).model_validate(r) for r in raw_steps]}) \
        if cfg.steps else cfg


class StoredRows:
    """The rows of a run's shards: every column but the text in memory, texts read from the shard when needed."""

    def __init__(self, run_dir: str):
        self.shards = sorted(glob.glob(os.path.join(run_dir, "data", "*.parquet"))) + sorted(
            glob.glob(os.path.join(run_dir, "removed", "**", "*.parquet"), recursive=True))
        self.docs: list[Document] = []
        self.where: list[tuple[int, int]] = []  # (shard, row) of each document
        self.original: list[str | None] = []  # the run's removal reason
        for s, path in enumerate(self.shards):
            columns = [c for c in pq.ParquetFile(path).schema_arrow.names if c != "text"]
            table = pq.read_table(path, columns=columns)
            for r, row in enumerate(table.to_pylist()):
                self.docs.append(self._document(row))
                self.where.append((s, r))
                self.original.append(row.get("removed_reason"))
        self._texts: tuple[int, list[str]] | None = None

    @staticmethod
    def _document(row: dict[str, Any]) -> Document:
        meta = {k: v for k, v in row.items() if k not in SKIP_COLUMNS and k != "id"}
        meta[D.EXTRA] = json.loads(row[D.EXTRA]) if row.get(D.EXTRA) else {}
        return Document(text="", id=row["id"], metadata=meta)

    def text(self, i: int) -> str:
        shard, row = self.where[i]
        if self._texts is None or self._texts[0] != shard:
            self._texts = (shard, pq.read_table(self.shards[shard], columns=["text"]).column("text").to_pylist())
        return self._texts[1][row]

    def with_text(self, indices: list[int]) -> None:
        for i in indices:
            if not self.docs[i].text:
                self.docs[i].text = self.text(i)


def replay(rows: StoredRows, steps: list[CurateStep]) -> dict[str, int]:
    """Decide every document again, step by step; returns the documents passed unchecked per step."""
    names = [s.step_name for s in steps]
    position = {name: i for i, name in enumerate(names)}
    original_step = [position.get(reason.split(":", 1)[0]) if reason else None for reason in rows.original]
    for doc, reason, step_at in zip(rows.docs, rows.original, original_step):
        if reason and step_at is None:  # removed before the steps (invalid input) or by a stage no step stands for
            mark_removed(doc, *reason.split(":", 1))
    unchecked: Counter = Counter()
    for i, step in enumerate(steps):
        live = [j for j, doc in enumerate(rows.docs) if not is_removed(doc) and step.applies(doc)]
        step.documents_in += len(live)
        if isinstance(step, ScoredStep):
            unmeasured = [j for j in live if step.stored(rows.docs[j].metadata) is None]
            rows.with_text(unmeasured)  # measured now from the stored text
            for j, reason in zip(live, step.rejudge([rows.docs[j] for j in live])):
                if reason:
                    step.remove(rows.docs[j], reason)
                elif step.rewrites_text and original_step[j] == i:
                    # kept now, removed by this step in the run: its stored text is the one before the rewrite
                    rows.with_text([j])
                    step.process(rows.docs[j])
            continue
        for j in live:
            seen_by_step = original_step[j] is None or original_step[j] >= i
            if original_step[j] == i:
                step.removed += 1
                mark_removed(rows.docs[j], *rows.original[j].split(":", 1))
            elif not seen_by_step and not _scrubbed_when_removed(step):
                unchecked[step.step_name] += 1
    return dict(unchecked)


def _scrubbed_when_removed(step: CurateStep) -> bool:
    """A PII step also scrubs the documents that other steps removed (the run's Redactor): it has seen them."""
    return getattr(step, "scrubs_removed", False)


def _write_run(rows: StoredRows, steps: list[CurateStep], cfg: PipelineConfig, source: dict[str, Any],
               run_dir: str, output: str, unchecked: dict[str, int], settings: list[str],
               schema: pa.Schema) -> dict[str, Any]:
    """The new run folder, through the same sink and manifest code as `curate run` (one task)."""
    from curate.manifest import build_manifest, utcnow
    from curate.plan import RunPaths, step_columns
    from curate.privacy import Redactor
    from curate.report import write_report
    from curate.writers import ShardSink

    if os.path.exists(output) and os.listdir(output):
        raise RetuneError(f"{output} exists and is not empty; choose another --output")
    paths = RunPaths(output)
    previous = read_json(os.path.join(run_dir, "logs", "run.json"))
    atomic_write_json(paths.run_json, {"config_hash": cfg.config_hash(), "config": cfg.model_dump(mode="json"),
                                       "id_key": previous.get("id_key", ""), "retuned_from": source["run_dir"],
                                       "started_at": utcnow()})
    atomic_write_json(os.path.join(paths.accounting, "00000.reader.json"), {
        "documents_in": source["documents_in"], "bytes_in": source["bytes_in"], "inputs": source["inputs"]})
    # stored texts were scrubbed in the run (kept ones by the PII steps, removed ones by its Redactor): no rescrub
    columns = step_columns(steps)
    order = {name: i for i, name in enumerate(schema.names)}  # the run's column order, new columns last
    columns = dict(sorted(columns.items(), key=lambda kv: order.get(kv[0], len(order))))
    sink = ShardSink(paths.work_data, paths.work_removed, paths.accounting, columns, steps, Redactor([]),
                     max_file_size=cfg.output.shard_size_mb * 2**20, keep_removed=True, tokenizer=cfg.output.tokenizer)
    def documents():
        for i, doc in enumerate(rows.docs):
            if not doc.text:
                doc.text = rows.text(i)
            yield doc

    for _ in sink.run(documents(), rank=0):
        pass

    class OneTask:  # what build_manifest reads of a run: its config (one task), paths and plan's accounting
        def __init__(self):
            self.cfg = cfg.model_copy(update={"executor": cfg.executor.model_copy(update={"tasks": 1})})
            self.config_hash, self.paths = cfg.config_hash(), paths
            self.plan = self
            self.reader_accounting, self.accounting_dirs = paths.accounting, [paths.accounting]

    manifest = build_manifest(OneTask())
    for work, final in ((paths.work_data, paths.data), (paths.work_removed, paths.removed)):
        if os.path.isdir(work):
            os.replace(work, final)
        else:
            os.makedirs(final, exist_ok=True)
    shutil.rmtree(paths.work, ignore_errors=True)
    manifest["config"] = cfg.model_dump(mode="json")
    manifest["duplicate_ids"] = source.get("duplicate_ids", 0)
    manifest["retune"] = {"from": source["run_dir"], "from_config_hash": source["config_hash"], "settings": settings,
                          "unchecked": unchecked}
    atomic_write_json(paths.manifest, manifest)
    write_report(paths.root)
    return manifest


def _accounting(rows: StoredRows) -> Counter:
    return Counter(removal_reason(doc) or "kept" for doc in rows.docs)


def retune(run_dir: str, settings: list[str], output: str | None = None) -> Outcome:
    """Re-decide RUN with the thresholds in `settings` ("step.param=value"); write a new run folder to `output`
    (None: compute and return the new accounting only)."""
    manifest_path = os.path.join(run_dir, "manifest.json")
    if not os.path.exists(manifest_path):
        raise RetuneError(f"{run_dir} has no manifest.json: not a complete run")
    manifest = read_json(manifest_path)
    try:
        cfg = PipelineConfig.model_validate(manifest["config"])
    except ValidationError as e:
        raise RetuneError(f"{manifest_path}: its config no longer validates: {e}") from None
    if not cfg.output.keep_removed:
        raise RetuneError(f"{run_dir} was run with output.keep_removed: false; its removed documents are gone")
    parsed = [Setting.parse(s) for s in settings]
    if not parsed:
        raise RetuneError("nothing to retune: give at least one --set STEP.PARAM=VALUE")
    rows = StoredRows(run_dir)
    if not rows.shards:
        raise RetuneError(f"{run_dir} has no shards in data/ or removed/")
    schema = pa.unify_schemas([pq.read_schema(path) for path in rows.shards])
    try:
        steps = _build_steps(cfg, os.path.abspath(output or run_dir), manifest, schema)
    except (FileNotFoundError, ValueError) as e:  # e.g. a model the run used is no longer where it was
        raise RetuneError(f"cannot rebuild the run's steps: {e}") from None
    new_cfg = apply_settings(cfg, steps, parsed)
    before = Counter({"kept": manifest["documents_kept"]} | manifest["removed"])
    unchecked = replay(rows, steps)
    after = _accounting(rows)
    changes = {k: after.get(k, 0) - before.get(k, 0) for k in sorted(set(before) | set(after))
               if after.get(k, 0) != before.get(k, 0)}
    if output is None:
        new = {"documents_in": manifest["documents_in"], "documents_kept": after.get("kept", 0),
               "removed": {k: v for k, v in after.items() if k != "kept"}}
        return Outcome(new, changes, unchecked)
    new_cfg = new_cfg.model_copy(update={"output": new_cfg.output.model_copy(update={"dir": os.path.abspath(output)})})
    new_manifest = _write_run(rows, steps, new_cfg, manifest, run_dir, output, unchecked, settings, schema)
    return Outcome(new_manifest, changes, unchecked)


__all__ = ["RetuneError", "retune", "Outcome"]
