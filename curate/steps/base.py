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

from curate.document import LANG, SOURCE, is_removed, mark_removed


class ApplyTo(BaseModel):
    """Restrict a step to some documents; the others pass through untouched (e.g. no word heuristics on code)."""

    model_config = ConfigDict(extra="forbid")
    sources: list[str] | None = None  # source names from the pipeline's inputs
    languages: list[str] | None = None  # values of `lang` set by an earlier language step


class StepParams(BaseModel):
    """Parameters of a step as written in the pipeline YAML. Unknown keys are an error, not a silent no-op."""

    model_config = ConfigDict(extra="forbid")
    apply_to: ApplyTo = ApplyTo()


class RunContext(BaseModel):
    """What a step may need to know about the run it is part of (paths, never open handles: steps are pickled)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    run_dir: str
    pipeline_name: str = "pipeline"


class CurateStep(PipelineStep):
    """A step that annotates, rewrites or removes documents.

    Subclasses set `type_name` (the YAML `type`), `Params` (a `StepParams` model) and implement `process`, which
    returns None to keep the document or a short reason to remove it. Removed documents are marked, not dropped,
    and later steps skip them. `columns` declares the metadata keys this step adds, so that shards get a fixed,
    typed schema. Steps that need the whole stream (dedup) override `run` instead.
    """

    type_name: ClassVar[str]
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
                reasons = self.process_batch(live)
                self.seconds += time.perf_counter() - started
                self.documents_in += len(live)
                for doc, reason in zip(live, reasons):
                    if reason:
                        self.remove(doc, reason)
            yield from batch

    def step_stats(self) -> dict[str, Any]:
        return {
            "name": self.step_name,
            "type": self.type_name,
            "documents_in": self.documents_in,
            "removed": self.removed,
            "seconds": round(self.seconds, 3),
            "counters": dict(self.counters),
        }
