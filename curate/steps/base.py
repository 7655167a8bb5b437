"""The base of every curate step: a datatrove `PipelineStep` with typed YAML parameters and a reason for every drop."""

from __future__ import annotations

import time
from typing import Any, ClassVar

import pyarrow as pa
from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from datatrove.utils.batching import batched
from datatrove.utils.stats import Stats
from pydantic import BaseModel, ConfigDict

from curate.document import FILE, LANG, LINE, SOURCE, is_removed, mark_removed
from curate.errors import StepFailed
from curate.privacy import Redactor


class ApplyTo(BaseModel):
    """Restrict a step to some documents; the others pass through untouched (e.g. no word heuristics on code)."""

    model_config = ConfigDict(extra="forbid")
    sources: list[str] | None = None  # source names from the pipeline's inputs
    languages: list[str] | None = None  # values of `lang` set by an earlier language step


class StepParams(BaseModel):
    """Parameters of a step as written in the pipeline YAML. Unknown keys are an error, not a silent no-op."""

    model_config = ConfigDict(extra="forbid")
    apply_to: ApplyTo = ApplyTo()  # run only on these sources and/or languages; other documents pass untouched


class RunContext(BaseModel):
    """What a step may need to know about the run it is part of (paths, never open handles: steps are pickled)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    run_dir: str
    pipeline_name: str = "pipeline"
    id_key: str = ""  # the run's key for ids that held PII (curate.privacy)
    strict: bool = False  # a step that fails on a document fails the run (else the document is set aside)


class CurateStep(PipelineStep):
    """A step that annotates, rewrites or removes documents.

    Subclasses set `type_name` (the YAML `type`), `Params` (a `StepParams` model) and implement `process`, which
    returns None to keep the document or a short reason to remove it. Removed documents are marked, not dropped,
    and later steps skip them. `columns` declares the metadata keys this step adds, so that shards get a fixed,
    typed schema. Steps that need the whole stream (dedup) override `run` instead.
    """

    type_name: ClassVar[str]
    # The README's table of step types is made of these three (python -m curate.steps.help --docs): what the step
    # does, in one line; the doc that explains it (its parameter table is generated there, between
    # `<!-- params:TYPE ... -->` and `<!-- /params -->`); the test files that specify it (paths or globs).
    summary: ClassVar[str] = ""
    doc: ClassVar[str] = ""
    tests: ClassVar[tuple[str, ...]] = ()
    Params: ClassVar[type[StepParams]] = StepParams
    columns: ClassVar[dict[str, pa.DataType]] = {}
    batch_size: int = 1  # >1: `process_batch` sees lists of documents (vectorised models)

    def __init__(self, params: StepParams, ctx: RunContext, name: str | None = None):
        super().__init__()
        self.params = params
        self.ctx = ctx
        self.step_name = name or self.type_name
        self.name = self.step_name
        self.type = self.type_name
        self.stats = Stats(str(self))  # datatrove named the stats before we knew the step's name
        self.documents_in = 0
        self.removed = 0
        self.seconds = 0.0
        self.counters: dict[str, int] = {}  # step-specific totals (e.g. PII found per entity), summed over tasks
        self.redactor = Redactor([])  # the plan sets the run's: it scrubs what this step writes into reports, indexes

    def count(self, key: str, n: int = 1) -> None:
        self.counters[key] = self.counters.get(key, 0) + n

    def remove(self, doc: Document, reason: str) -> None:
        """Mark `doc` removed by this step, with the step's removal count and datatrove stat."""
        self.removed += 1
        self.stat_update(f"removed_{reason}")
        mark_removed(doc, self.step_name, reason)

    def prepare(self, files: list[dict[str, Any]]) -> None:
        """Called once in the main process before the tasks start, with the resolved input files: for steps that
        need a look at the whole input first (e.g. LICENSE files that the other files of a repository inherit)."""

    def applies(self, doc: Document) -> bool:
        """Whether this step should look at `doc`: not removed already, and within `apply_to`."""
        if is_removed(doc):
            return False
        scope = self.params.apply_to
        if scope.sources is not None and doc.metadata.get(SOURCE) not in scope.sources:
            return False
        if scope.languages is not None and doc.metadata.get(LANG) not in scope.languages:
            return False
        return True

    def process(self, doc: Document) -> str | None:
        raise NotImplementedError

    def process_batch(self, docs: list[Document]) -> list[str | None]:
        return [self.process(doc) for doc in docs]

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        for batch in batched(data, self.batch_size):
            live = [doc for doc in batch if self.applies(doc)]
            if live:
                started = time.perf_counter()
                reasons = self._judge(live)
                self.seconds += time.perf_counter() - started
                self.documents_in += len(live)
                for doc, reason in zip(live, reasons):
                    if reason:
                        self.remove(doc, reason)
            yield from batch

    def _judge(self, docs: list[Document]) -> list[str | None]:
        """`process_batch`, except that a document the step fails on is removed as `<step>:error` (counted by
        exception type) instead of killing the run, unless the run is strict. The error names the document by id,
        file and line only: a traceback of a step can hold the document's text."""
        try:
            return self.process_batch(docs)
        except Exception as e:  # noqa: BLE001
            if len(docs) > 1:  # find the document(s) it fails on; the others are judged normally
                return [r for doc in docs for r in self._judge([doc])]
            doc = docs[0]
            where = f"document {doc.id!r} ({doc.metadata.get(FILE)}:{doc.metadata.get(LINE)})"
            if self.ctx.strict:
                raise StepFailed(f"{self.step_name} failed on {where}: {type(e).__name__}") from None
            self.count(f"error:{type(e).__name__}")
            from datatrove.utils.logging import logger

            logger.warning(f"{self.step_name}: {type(e).__name__} on {where}; set aside as {self.step_name}:error")
            return ["error"]

    def step_stats(self) -> dict[str, Any]:
        return {
            "name": self.step_name,
            "type": self.type_name,
            "documents_in": self.documents_in,
            "removed": self.removed,
            "seconds": round(self.seconds, 3),
            "counters": dict(self.counters),
        }


class GlobalStep(CurateStep):
    """A step that must see every task's documents before it can decide (deduplication over the whole corpus).

    When `is_global()`, the stage plan (curate.plan) ends a segment at the step: `collector()` runs as the last step
    of the segment before it (one per task: keys, signatures...), `global_stages()` run between the segments (over
    what all tasks collected), and the step itself starts the next segment, applying what was decided to each
    task's documents in the order the collector saw them. Otherwise it runs like any other step.
    """

    def is_global(self) -> bool:
        return False

    def work_dir(self, *parts: str) -> str:
        import os

        return os.path.join(self.ctx.run_dir, "work", "global", self.step_name, *parts)

    def collector(self) -> PipelineStep:
        raise NotImplementedError

    def global_stages(self) -> list[tuple[str, int, list[PipelineStep]]]:
        """[(stage name, tasks, datatrove steps)] run in order between the two segments."""
        raise NotImplementedError

    def clean_task(self, rank: int) -> None:
        """Delete what the collector of task `rank` wrote (it did not finish and runs again)."""
        import shutil

        shutil.rmtree(self.work_dir("collect", f"{rank:05d}"), ignore_errors=True)
