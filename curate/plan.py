"""The stage plan: a validated pipeline -> the datatrove stages that run it, and what the runner needs to resume,
finish and account for them. The runner drives a plan; the manifest adds up the plan's accounting.

A pipeline without global steps is one stage: reader -> steps -> sink. A global step (one that must see every
task's documents before it decides, e.g. `dedup_minhash` / `dedup_exact` with `mode: distributed`; see
`curate.steps.base.GlobalStep`) cuts the pipeline into segments:

  segment_0   N tasks   reader, steps before G1, G1's collector, sink -> work/segments/0/{data,removed}
  G1's global stages    e.g. buckets (B tasks), cluster (1 task), over what every task collected
  segment_1   N tasks   SegmentReader (segment_0's kept documents of the same rank), G1 (applies the decisions),
                        steps before G2, G2's collector, sink -> work/segments/1/
  ...
  last        N tasks   SegmentReader, G_k, the remaining steps, the final sink -> work/data, work/removed

Steps, readers and sinks are built once here; every stage has its own datatrove logging folder and completions, so
a crashed run resumes stage by stage. Every sink gets the run's Redactor (curate.privacy): no writer can emit a
removed document that has not passed the pipeline's scrubbers, wherever the cuts fall.
"""

from __future__ import annotations

import glob
import json
import os
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from curate import document as D
from curate.config import ConfigError, PipelineConfig
from curate.privacy import Redactor
from curate.readers.parts import split_into_parts
from curate.readers.records import InputReader
from curate.run_folder import RunPaths
from curate.steps import CurateStep, RunContext, step_class
from curate.steps.base import GlobalStep
from curate.util import atomic_write_json, read_json
from curate.writers import ShardSink
from curate.writers.sink import INTERNAL_COLUMN


@dataclass
class Stage:
    name: str
    tasks: int
    pipeline: list
    logging_dir: str
    holds_a_share: bool = False  # a global stage: each task holds something of every document of its share

    def completed(self) -> set[int]:
        folder = os.path.join(self.logging_dir, "completions")
        return {int(x) for x in os.listdir(folder) if x.isdigit()} if os.path.isdir(folder) else set()


def build_steps(cfg: PipelineConfig, ctx: RunContext) -> list[CurateStep]:
    steps = []
    for spec in cfg.steps:
        cls = step_class(spec.type)
        steps.append(cls(cls.Params.model_validate(spec.params()), ctx, name=spec.name or spec.type))
    return steps


def step_columns(steps: list[CurateStep]) -> dict[str, pa.DataType]:
    cols: dict[str, pa.DataType] = {}
    for s in steps:
        for name, dtype in s.columns.items():
            if name in cols and cols[name] != dtype:
                raise ConfigError(f"steps declare column {name!r} with two types: {cols[name]} and {dtype}")
            cols[name] = dtype
    return cols


class SegmentReader(PipelineStep):
    """The reader of segment k > 0: the documents segment k-1 kept for the same rank, metadata restored from the
    columns, `extra` and the internal column, in the order segment k-1 wrote them."""

    name = "segment reader"
    type = "📖 - READER"

    def __init__(self, data_dir: str, accounting_dir: str):
        super().__init__()
        self.data_dir, self.accounting_dir = data_dir, accounting_dir

    def run(self, data=None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        n = 0
        for path in sorted(glob.glob(os.path.join(self.data_dir, f"*_{rank:05d}.parquet"))):
            # pre_buffer off: pyarrow would otherwise keep every row group it has read, growing a worker by the
            # whole shard (up to shard_size_mb: +250 MB at 500,000 documents per task)
            for batch in pq.ParquetFile(path, pre_buffer=False).iter_batches(batch_size=1024):
                for row in batch.to_pylist():
                    meta = {k: v for k, v in row.items()
                            if k not in ("id", "text", D.EXTRA, INTERNAL_COLUMN) and v is not None}
                    meta[D.EXTRA] = json.loads(row[D.EXTRA]) if row.get(D.EXTRA) else {}
                    meta.update(json.loads(row[INTERNAL_COLUMN] or "{}"))
                    n += 1
                    yield Document(text=row["text"], id=row["id"], metadata=meta)
        kept = read_json(os.path.join(self.accounting_dir, f"{rank:05d}.sink.json"))["documents_kept"]
        if kept != n:
            raise RuntimeError(f"segment reader, task {rank}: read {n} documents, the previous segment kept {kept}")


class Plan:
    """The stages of one run, built once from the config."""

    def __init__(self, cfg: PipelineConfig, files: list[dict[str, Any]], paths: RunPaths, *, strict: bool = False,
                 id_key: str = ""):
        self.cfg, self.files, self.paths = cfg, files, paths
        # what the tasks read: large files cut into parts so that several tasks read them (one task: no point)
        split = cfg.executor.split_mb * 2**20 if cfg.executor.tasks > 1 else 0
        self.parts = split_into_parts(files, split)
        ctx = RunContext(run_dir=paths.root, pipeline_name=cfg.name, id_key=id_key, strict=strict)
        steps = build_steps(cfg, ctx)
        for step in steps:
            step.prepare(files)
        self.redactor = Redactor([s for s in steps if s.type_name == "pii"])
        for step in steps:
            step.redactor = self.redactor
        columns = step_columns(steps)
        cuts = [i for i, s in enumerate(steps) if isinstance(s, GlobalStep) and s.is_global()]
        bounds = [0, *cuts, len(steps)]
        last = len(cuts)
        tasks = cfg.executor.tasks
        size = cfg.output.shard_size_mb * 2**20
        self.stages: list[Stage] = []
        self.segments: list[Stage] = []
        self.accounting_dirs: list[str] = []  # one per segment, the last one is paths.accounting
        self.global_steps: list[GlobalStep] = [steps[i] for i in cuts]  # type: ignore[misc]
        for k in range(last + 1):
            acc = paths.accounting if k == last else os.path.join(paths.accounting, f"segment_{k}")
            own = steps[bounds[k]:bounds[k + 1]]
            if k == 0:
                first: PipelineStep = InputReader(self.parts, accounting_dir=acc, progress_dir=paths.progress,
                                                  max_document_bytes=cfg.limits.max_document_bytes, strict=strict)
            else:
                first = SegmentReader(paths.segment(k - 1, "data"), self.accounting_dirs[-1])
            collector = [self.global_steps[k].collector()] if k < last else []
            # counters also of the steps that only collect here, or only scrub removed documents here
            counted = own + self.global_steps[k:k + 1] + self.redactor.steps
            stats_steps = [s for i, s in enumerate(counted) if s not in counted[:i]]
            if k == last:
                sink = ShardSink(paths.work_data, paths.work_removed, acc, columns, stats_steps, self.redactor,
                                 max_file_size=size, keep_removed=cfg.output.keep_removed,
                                 tokenizer=cfg.output.tokenizer)
                logging_dir = paths.logs
            else:
                sink = ShardSink(paths.segment(k, "data"), paths.segment(k, "removed"), acc, columns, stats_steps,
                                 self.redactor, max_file_size=size, keep_removed=cfg.output.keep_removed,
                                 intermediate=True)
                logging_dir = os.path.join(paths.stage_logs, f"segment_{k}")
            segment = Stage("main" if last == 0 else f"segment_{k}", tasks, [first, *own, *collector, sink],
                            logging_dir)
            self.accounting_dirs.append(acc)
            self.segments.append(segment)
            self.stages.append(segment)
            if k < last:
                g = self.global_steps[k]
                for name, n, pipeline in g.global_stages():
                    self.stages.append(Stage(f"{g.step_name}:{name}", n, pipeline,
                                             os.path.join(paths.stage_logs, f"{g.step_name}_{name}"),
                                             holds_a_share=True))

    def modules(self) -> list[str]:
        """The modules the stages' steps live in: what worker processes should have imported before they start."""
        return ["curate.plan"] + sorted({type(step).__module__ for stage in self.stages for step in stage.pipeline})

    @property
    def reader_accounting(self) -> str:
        return self.accounting_dirs[0]

    def all_tasks_done(self) -> bool:
        n = self.cfg.executor.tasks
        return all(os.path.exists(os.path.join(self.paths.accounting, f"{r:05d}.sink.json")) and
                   os.path.exists(os.path.join(self.reader_accounting, f"{r:05d}.reader.json")) for r in range(n))

    # -- resume ----------------------------------------------------------------------------------------------------
    def clean_unfinished(self) -> None:
        """Delete what unfinished tasks left behind, so that their rerun cannot leave duplicates."""
        p = self.paths
        for k, segment in enumerate(self.segments):
            done = segment.completed()
            last = k == len(self.segments) - 1
            data_dir, removed_dir = (p.work_data, p.work_removed) if last else (p.segment(k, "data"),
                                                                                 p.segment(k, "removed"))
            for rank in range(segment.tasks):
                if rank in done:
                    continue
                for pattern in (os.path.join(data_dir, f"*_{rank:05d}.parquet"),
                                os.path.join(removed_dir, "*", f"*_{rank:05d}.parquet"),
                                os.path.join(self.accounting_dirs[k], f"{rank:05d}.*")):
                    for path in glob.glob(pattern):
                        os.remove(path)
                if not last:
                    self.global_steps[k].clean_task(rank)

    # -- finish ----------------------------------------------------------------------------------------------------
    def gather_removed(self) -> None:
        """The removed shards of earlier segments join work/removed/ (idempotent: a rerun moves what is left)."""
        for k in range(len(self.segments) - 1):
            for path in glob.glob(os.path.join(self.paths.segment(k, "removed"), "*", "*.parquet")):
                step = os.path.basename(os.path.dirname(path))
                target = os.path.join(self.paths.work_removed, step, f"s{k}-{os.path.basename(path)}")
                os.makedirs(os.path.dirname(target), exist_ok=True)
                os.replace(path, target)
