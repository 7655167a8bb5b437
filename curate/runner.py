"""`curate run`: validate the config, build the stage plan, run it, and account for every document.

Run folder life cycle (see docs/formats.md):
  1. validate the config and resolve the inputs (errors here cost nothing: no work has started); take the run
     folder's lock (a second run on the same folder is refused, naming the holder);
  2. the plan's stages run; tasks write shards to RUN/work/ and their accounting to RUN/logs/accounting/;
  3. when every task is done, the manifest is computed (the accounting law is checked) and journaled in
     RUN/work/finalize.json; work/ is moved to data/ and removed/; manifest.json is written last. A run is complete
     iff manifest.json exists. Every finalization step is idempotent: a run killed at any point of it finishes on
     the next invocation from the journal.
Rerunning after a crash resumes: datatrove skips completed tasks, and the outputs of unfinished ones are deleted
before they run again, so the result equals an uninterrupted run.
"""

from __future__ import annotations

import fcntl
import json
import glob
import os
import shutil
import sys
import threading
import time
from typing import Any

from curate.config import ConfigError, PipelineConfig, expand_inputs, load_pipeline
from curate.run_folder import RunPaths
from curate.privacy import new_id_key
from curate.readers.formats import infer_format
from curate.slurm import SlurmJobs
from curate.util import atomic_write_json, read_json, utcnow


class RunLock:
    """An exclusive lock on a run folder (flock on RUN/.curate-lock, which holds the holder's PID), held for the
    whole life of one `curate run`. The lock file is never deleted, not even by --force: deleting it while held
    would let a second run lock a new file beside the first."""

    def __init__(self, path: str):
        self.path, self.fd = path, None

    def acquire(self) -> None:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise ConfigError(f"{os.path.dirname(self.path)} is in use by another curate run (pid {holder}); "
                              "wait for it to finish, or choose another --output") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing drops the flock
            self.fd = None


def resolve_config(pipeline_path: str, *, inputs: list[str] | None = None, output: str | None = None,
                   tasks: int | None = None, workers: int | None = None, executor: str | None = None,
                   ray_address: str | None = None, steps: bool = True) -> PipelineConfig:
    """The pipeline file with the command line's overrides applied, validated (`steps`: the steps' parameters too)."""
    cfg = load_pipeline(pipeline_path, steps=False)
    overrides: dict[str, Any] = {}
    if inputs:
        if len(cfg.inputs) != 1:
            raise ConfigError(f"{pipeline_path} has {len(cfg.inputs)} inputs; --input replaces the paths of exactly one")
        # files named on the command line are read as their names say (a .jsonl.gz given to a WARC pipeline is
        # JSONL); the pipeline's `format` stays the default for names that say nothing
        named = all(infer_format(g) for g in inputs)
        update = {"paths": list(inputs)} | ({"format": None} if named else {})
        overrides["inputs"] = [cfg.inputs[0].model_copy(update=update).model_dump()]
    if output:
        overrides["output"] = cfg.output.model_copy(update={"dir": output}).model_dump()
    changes = {k: v for k, v in {"tasks": tasks, "workers": workers, "type": executor, "address": ray_address}.items()
               if v}
    if changes:
        overrides["executor"] = cfg.executor.model_copy(update=changes).model_dump()
    return load_pipeline(pipeline_path, overrides, steps=steps)


def complete_run(pipeline_path: str, **overrides) -> dict[str, Any] | None:
    """The manifest, when the run this command describes is already complete (and published, for a URL output):
    found without importing a step, reading an input or taking the lock (a complete run folder never changes)."""
    cfg = resolve_config(pipeline_path, steps=False, **overrides)
    url = cfg.publish_url()
    if url is not None:
        from curate import fs

        try:  # the first time the output store is reached: before any work, and the error names it
            run_info, manifest = fs.read_text(f"{url}/logs/run.json"), fs.read_text(f"{url}/manifest.json")
        except Exception as e:  # noqa: BLE001 - credentials, network, bucket: fsspec backends vary
            raise ConfigError(f"output {url}: cannot read it ({type(e).__name__}: {e})") from None
        if run_info and manifest and json.loads(run_info).get("config_hash") == cfg.config_hash():
            return json.loads(manifest)
    paths = RunPaths(cfg.output_dir())
    if not (os.path.exists(paths.manifest) and os.path.exists(paths.run_json)) or os.path.exists(paths.work):
        return None  # not complete, or killed before it removed work/: the slow path cleans up, under the lock
    if url is not None:
        return None  # complete here, not yet published: the slow path publishes it
    return read_json(paths.manifest) if read_json(paths.run_json).get("config_hash") == cfg.config_hash() else None


class Run:
    """One run of one pipeline into one folder."""

    def __init__(self, pipeline_path: str, *, strict: bool = False, **overrides):
        self.pipeline_path = pipeline_path
        self.cfg = resolve_config(pipeline_path, **overrides)
        self.strict = strict
        self.files = expand_inputs(self.cfg, os.path.dirname(os.path.abspath(pipeline_path)))
        self.paths = RunPaths(self.cfg.output_dir())
        self.config_hash = self.cfg.config_hash()
        self.lock = RunLock(self.paths.lock)
        self._plan = None

    @property
    def plan(self):
        from curate.plan import Plan

        if self._plan is None:  # built once, and only for runs with work to do
            key = read_json(self.paths.run_json).get("id_key", "") if os.path.exists(self.paths.run_json) else ""
            self._plan = Plan(self.cfg, self.files, self.paths, strict=self.strict, id_key=key)
        return self._plan

    # -- lifecycle -----------------------------------------------------------------------------------------------
    def prepare(self, force: bool) -> str:
        """Lock the run folder; returns 'complete' (nothing to do), 'resume' or 'new'. A folder that is not a run
        folder of ours is refused before anything is written into it."""
        p = self.paths
        if os.path.isdir(p.root) and self._contents() and not os.path.exists(p.run_json):
            raise ConfigError(f"{p.root} exists and is not a curate run folder (it has no logs/run.json); "
                              + ("--force deletes only run folders; " if force else "") + "choose another --output")
        self.lock.acquire()
        # Slurm jobs outlive the `curate run` that submitted them (and its lock): while any of this run's jobs is
        # queued or running, neither resume's clean-up nor --force may touch the folder (curate/slurm.py). Asked
        # whatever the executor now is: a changed config with --force must not delete the folder under them either
        if SlurmJobs(p.root).still_queued(force):
            return "queued"
        if force:
            self._clear()
        if os.path.exists(p.run_json):
            previous = read_json(p.run_json)
            if previous.get("config_hash") != self.config_hash:
                raise ConfigError(f"{p.root} holds a run of a different pipeline config; use --force to start over "
                                  "or choose another --output")
            if os.path.exists(p.manifest):
                if os.path.exists(p.work):  # killed after the manifest, before the journal went
                    shutil.rmtree(p.work, ignore_errors=True)
                return "complete"
            if not os.path.exists(p.finalize_journal):
                self.plan.clean_unfinished()
            return "resume"
        atomic_write_json(p.run_json, {"config_hash": self.config_hash, "config": self.cfg.model_dump(mode="json"),
                                       "pipeline_file": os.path.abspath(self.pipeline_path), "started_at": utcnow(),
                                       "strict": self.strict, "id_key": new_id_key()})
        return "new"

    def _contents(self) -> list[str]:
        return [n for n in os.listdir(self.paths.root) if n != os.path.basename(self.paths.lock)]

    def _clear(self) -> None:
        """--force: empty the run folder (never one that holds any of the inputs); the lock file stays."""
        p = self.paths
        root = os.path.realpath(p.root)
        inside = [f["path"] for f in self.files if os.path.realpath(f["path"]).startswith(root + os.sep)]
        if inside:
            raise ConfigError(f"--force would delete {p.root}, which holds input files ({inside[0]}); refusing")
        for name in self._contents():
            path = os.path.join(p.root, name)
            shutil.rmtree(path) if os.path.isdir(path) and not os.path.islink(path) else os.remove(path)

    def executors(self, shared=None) -> list:
        """One datatrove executor per stage of the plan; on Slurm each depends on the one before it (locally and
        on Ray, the driver runs the stages one after the other)."""
        from curate.executors import make_executor

        executors: list = []
        for stage in self.plan.stages:
            depends = executors[-1] if executors and self.cfg.executor.type == "slurm" else None
            executors.append(make_executor(self.cfg, stage, depends=depends, shared=shared))
        return executors

    def execute(self, progress: bool = True) -> None:
        from curate.executors import RayCluster, SharedPool, run_stage

        if os.path.exists(self.paths.finalize_journal):
            return  # every task had finished: only finalization is left
        ex = self.cfg.executor
        with ProgressDisplay(self.paths.progress, ex.tasks, enabled=progress):
            if ex.type == "slurm":
                executors = self.executors()
                try:
                    executors[-1].run()  # submits the whole chain: each stage waits for the one before it
                finally:
                    SlurmJobs(self.paths.root).record(executors)
                return
            if ex.type == "ray":
                with RayCluster(ex.address, workers=ex.workers if ex.workers != -1 else None) as cluster:
                    for stage, executor in zip(self.plan.stages, self.executors()):
                        run_stage(executor, stage)
                        cluster.actors.after_stage(global_stage=stage.holds_a_share)
                return
            workers = min(ex.workers if ex.workers != -1 else ex.tasks, max(s.tasks for s in self.plan.stages))
            if workers == 1:  # datatrove runs the tasks in this process
                for stage, executor in zip(self.plan.stages, self.executors()):
                    run_stage(executor, stage)
                return
            with SharedPool(workers, preload=self.plan.modules()) as shared:
                for stage, executor in zip(self.plan.stages, self.executors(shared)):
                    run_stage(executor, stage)
                    shared.after_stage(global_stage=stage.holds_a_share)

    def all_tasks_done(self) -> bool:
        return os.path.exists(self.paths.finalize_journal) or self.plan.all_tasks_done()

    # -- finalize ---------------------------------------------------------------------------------------------------
    def finalize(self) -> dict[str, Any]:
        """Idempotent at every point (tests/test_run_folder.py kills it at each one): the journal holds the manifest
        computed before anything moved; each move is skipped once done."""
        from curate.manifest import build_manifest

        p = self.paths
        if os.path.exists(p.finalize_journal):
            manifest = read_json(p.finalize_journal)
        else:
            self.plan.gather_removed()
            manifest = build_manifest(self)
            atomic_write_json(p.finalize_journal, manifest)
        for work, final in ((p.work_data, p.data), (p.work_removed, p.removed)):
            if os.path.isdir(work):
                if os.path.exists(final):
                    shutil.rmtree(final)
                os.replace(work, final)
            else:
                os.makedirs(final, exist_ok=True)
        atomic_write_json(p.manifest, manifest)
        shutil.rmtree(p.work, ignore_errors=True)  # the journal, and what stages left in between
        return manifest


def run(pipeline_path: str, *, inputs=None, output=None, tasks=None, workers=None, strict=False, force=False,
        progress=True, executor=None, ray_address=None) -> tuple[str, dict[str, Any] | None]:
    """Run (or resume, or report an already complete) pipeline. Returns (state, manifest)."""
    overrides = dict(inputs=inputs, output=output, tasks=tasks, workers=workers, executor=executor,
                     ray_address=ray_address)
    if not force and (manifest := complete_run(pipeline_path, **overrides)) is not None:
        here = os.path.isdir(manifest["run_dir"])  # (not when answered from an object store, from elsewhere)
        if here and not os.path.exists(os.path.join(manifest["run_dir"], "report.json")):
            write_report(manifest["run_dir"])
        return "complete", manifest
    r = Run(pipeline_path, strict=strict, **overrides)
    try:
        state = r.prepare(force)
        if state == "queued":  # Slurm jobs of this run are still in the queue: nothing to do yet
            return state, None
        if state != "complete":
            r.execute(progress=progress)
            if not r.all_tasks_done():  # e.g. Slurm jobs submitted and still running
                return "submitted", None
            r.finalize()
        if not os.path.exists(os.path.join(r.paths.root, "report.json")):
            write_report(r.paths.root)
        if (url := r.cfg.publish_url()) is not None:
            from curate import fs

            fs.publish(r.paths.root, url, skip=(".curate-lock", "logs/progress"))
        return state, read_json(r.paths.manifest)
    finally:
        r.lock.release()


def write_report(run_dir: str) -> None:
    from curate.report import write_report as write  # polars: only when a report is written

    write(run_dir)


class ProgressDisplay:
    """Polls the per-task progress files and draws one bar: documents, bytes, rate, tasks finished."""

    def __init__(self, progress_dir: str, tasks: int, enabled: bool = True):
        self.progress_dir, self.tasks, self.enabled = progress_dir, tasks, enabled
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self):
        if self.enabled and sys.stderr.isatty():
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
                unit = "files"
                for path in glob.glob(os.path.join(self.progress_dir, "*.json")):
                    try:
                        st = read_json(path)
                    except (OSError, ValueError):
                        continue
                    docs += st["documents"]
                    nbytes += st["bytes"]
                    files_done += st["files_done"]
                    files += st["files"]
                    unit = st.get("unit", unit)
                rate = docs / max(time.monotonic() - started, 1e-6)
                bar.update(task, total=files or None, completed=files_done,
                           info=f"{docs:,} docs  {nbytes / 1e6:,.1f} MB  {rate:,.0f} docs/s  "
                                f"{unit} {files_done}/{files}")
                if stop:
                    break
