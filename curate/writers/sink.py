"""The last step of every pipeline: kept documents to `data/`, removed ones to `removed/<step>/`, and the task's
accounting (`curate.writers.accounting`: what it kept and removed, and why) to a JSON file the runner adds up into
the manifest."""

from __future__ import annotations

import glob
import json
import os
from functools import partial
from typing import Any

import pyarrow as pa
from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.writers import ParquetWriter

from curate import document as D
from curate.privacy import Redactor
from curate.steps.base import CurateStep
from curate.util import atomic_write_json
from curate.writers.accounting import TaskAccounting, TokenCounter

CORE_COLUMNS: dict[str, pa.DataType] = {key: getattr(pa, kind)() for key, kind in D.CORE_COLUMN_TYPES.items()}
REMOVED_COLUMNS: dict[str, pa.DataType] = {"removed_reason": pa.string(), "removed_step": pa.string()}
INTERNAL_COLUMN = "_internal"  # intermediate shards only (between two segments of a plan): the internal keys


def shard_schema(step_columns: dict[str, pa.DataType], removed: bool = False, intermediate: bool = False) -> pa.Schema:
    cols = CORE_COLUMNS | step_columns | {D.EXTRA: pa.string()}
    if removed:
        cols = cols | REMOVED_COLUMNS
    if intermediate and not removed:
        cols = cols | {INTERNAL_COLUMN: pa.string()}
    return pa.schema(list(cols.items()))


class ShardSink(PipelineStep):
    """Writes documents and counts them; a removed document is first scrubbed by the run's `Redactor`.

    `steps` are the curate steps whose `step_stats()` this task reports (the segment's own, the global step it
    collects for, the PII steps whose Redactor scrubs removed documents here)."""

    name = "sink"
    type = "💽 - WRITER"

    def __init__(self, data_dir: str, removed_dir: str, accounting_dir: str, step_columns: dict[str, pa.DataType],
                 steps: list[CurateStep], redactor: Redactor, max_file_size: int = 256 * 2**20,
                 keep_removed: bool = True, tokenizer: str | None = None, intermediate: bool = False):
        super().__init__()
        not_counted = [type(s).__name__ for s in steps if not isinstance(s, CurateStep)]
        if not_counted:  # datatrove's own steps (a global step's collector...) report through the step they serve
            raise TypeError(f"the sink reports the stats of curate steps only, not of {', '.join(not_counted)}")
        self.tokens = TokenCounter(tokenizer) if tokenizer is not None else None
        self.step_columns = step_columns
        self.steps = steps  # the same objects as in the pipeline: their counters are read at the end
        self.redactor = redactor
        self.intermediate = intermediate  # kept documents go on to the next segment: keep the internal keys
        self.accounting_dir = accounting_dir
        self.keep_removed = keep_removed
        self.kept_schema = shard_schema(step_columns, intermediate=intermediate)
        self._columns = [k for k in self.kept_schema.names if k not in ("id", "text", D.EXTRA, INTERNAL_COLUMN)]
        self._known = frozenset(self.kept_schema.names)  # metadata keys that are columns, not `extra`
        self.removed_schema = shard_schema(step_columns, removed=True)
        # datatrove calls adapter(writer, doc): the partials bind this sink in front
        self.kept_writer = ParquetWriter(data_dir, output_filename="${rank}.parquet", compression="zstd",
                                         adapter=partial(ShardSink._kept_row, self), schema=self.kept_schema,
                                         max_file_size=max_file_size)
        self.removed_writer = ParquetWriter(removed_dir, output_filename="${_removed_step}/${rank}.parquet",
                                            compression="zstd", adapter=partial(ShardSink._removed_row, self),
                                            schema=self.removed_schema, max_file_size=max_file_size)

    # -- Document -> row ------------------------------------------------------------------------------------------
    def _row(self, doc: Document) -> dict[str, Any]:
        meta = doc.metadata
        row: dict[str, Any] = {"id": doc.id, "text": doc.text}
        for key in self._columns:
            row[key] = meta.get(key)
        # the input's fields, and anything a step noted that is not a declared column
        extra = dict(meta.get(D.EXTRA) or {})
        extra.update((k, v) for k, v in meta.items() if k not in self._known and not D.is_internal(k))
        row[D.EXTRA] = json.dumps(extra, ensure_ascii=False, default=str) if extra else None
        return row

    def _kept_row(self, _writer, doc: Document) -> dict[str, Any]:
        row = self._row(doc)
        if self.intermediate:
            internal = {k: v for k, v in doc.metadata.items() if D.is_internal(k)}
            row[INTERNAL_COLUMN] = json.dumps(internal, ensure_ascii=False)
        return row

    def _removed_row(self, _writer, doc: Document) -> dict[str, Any]:
        row = self._row(doc)
        reason = D.removal_reason(doc)
        row["removed_reason"] = reason
        row["removed_step"] = reason.split(":", 1)[0]
        return row

    # -- the step ---------------------------------------------------------------------------------------------------
    def clean_task(self, rank: int) -> None:
        """Delete what an earlier attempt of this task wrote (a Ray retry, a rerun after a crash): a task's outputs
        are all written anew, so none of an interrupted attempt's files may survive beside them."""
        for pattern in (os.path.join(self.kept_writer.output_folder.path, f"*_{rank:05d}.parquet"),
                        os.path.join(self.removed_writer.output_folder.path, "*", f"*_{rank:05d}.parquet"),
                        os.path.join(self.accounting_dir, f"{rank:05d}.sink.json")):
            for path in glob.glob(pattern):
                os.remove(path)

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        self.clean_task(rank)  # runs before the first document is read: the pipeline is a chain of generators
        accounting = TaskAccounting(self.tokens)
        with self.kept_writer, self.removed_writer:
            for doc in data:
                reason = D.removal_reason(doc)
                if reason is None:
                    accounting.kept(doc)
                    self.kept_writer.write(doc, rank)
                else:
                    accounting.removed(doc, reason)  # its bytes as the step removed it, before the Redactor's
                    doc.metadata["_removed_step"] = reason.split(":", 1)[0]
                    if self.keep_removed:
                        self.redactor.document(doc)
                        self.removed_writer.write(doc, rank)
        atomic_write_json(os.path.join(self.accounting_dir, f"{rank:05d}.sink.json"),
                          accounting.as_json([step.step_stats() for step in self.steps]))
        return
        yield  # a generator that yields nothing: the sink is the end of the pipeline
