"""What a global dedup step decided for each document, per task: written by its global stages (MinHash's cluster
stage, exact dedup's partition stage), applied by the step itself at the start of the next segment of the plan.

Files: work/global/<step>/decisions/<rank>[.<part>].parquet, each sorted by `pos` (the document's place in its
task's stream, as the collector saw it); a task's parts are merged by `pos` while streaming, so no task holds more
than a batch of decisions in memory.
"""

from __future__ import annotations

import glob
import heapq
import os
from typing import TYPE_CHECKING, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from datatrove.data import DocumentsPipeline

from curate.dedup.clusters import ClusterResult, cluster_id
from curate.dedup.columns import CLUSTER_ID, CLUSTER_SIZE, DUPLICATE_OF, SIMILARITY

if TYPE_CHECKING:
    from curate.steps.dedup import ClusterDedupStep


DECISIONS_SCHEMA = pa.schema([("pos", pa.int64()), ("id", pa.string()), (CLUSTER_SIZE, pa.int64()),
                              (CLUSTER_ID, pa.string()), (DUPLICATE_OF, pa.string()), (SIMILARITY, pa.float64()),
                              ("reason", pa.string())])


def write_decisions(path: str, pos: np.ndarray, rows: np.ndarray, ids: list[str], result: ClusterResult,
                    sim: np.ndarray, n_ref: int, chunk: int = 65536) -> None:
    """Decisions for the documents at global rows `rows` (whose task positions are `pos`, ascending), a row group
    of `chunk` documents at a time: a task's decisions as Python strings would cost ~200 bytes per document."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with pq.ParquetWriter(path + ".tmp", DECISIONS_SCHEMA) as writer:
        for c in range(0, max(len(rows), 1), chunk):
            r, multi = rows[c:c + chunk], result.members[rows[c:c + chunk]] > 1
            surv, removed = result.survivor[r], result.removed[r]
            writer.write_table(pa.table({
                "pos": pa.array(pos[c:c + chunk], pa.int64()),
                "id": pa.array([ids[i] for i in r], pa.string()),
                CLUSTER_SIZE: pa.array(result.size[r], pa.int64()),
                CLUSTER_ID: pa.array([cluster_id(ids[s]) if m else None for s, m in zip(surv, multi)], pa.string()),
                DUPLICATE_OF: pa.array([ids[s] if d else None for s, d in zip(surv, removed)], pa.string()),
                SIMILARITY: pa.array(np.where(multi, np.round(sim[r], 4), np.nan), pa.float64()),
                "reason": pa.array([("reference_duplicate" if s < n_ref else "duplicate") if d else None
                                    for s, d in zip(surv, removed)], pa.string()),
            }, schema=DECISIONS_SCHEMA))
    os.replace(path + ".tmp", path)


def _rows(path: str) -> Iterator[tuple[int, dict]]:
    for batch in pq.ParquetFile(path, pre_buffer=False).iter_batches(batch_size=4096):  # one batch in memory
        for row in batch.to_pylist():
            yield row["pos"], row


def read_decisions(step: ClusterDedupStep, rank: int) -> Iterator[dict]:
    parts = sorted(glob.glob(step.work_dir("decisions", f"{rank:05d}.parquet")) +
                   glob.glob(step.work_dir("decisions", f"{rank:05d}.*.parquet")))
    for _, row in heapq.merge(*(_rows(p) for p in parts), key=lambda x: x[0]):
        yield row


def apply_decisions(step: ClusterDedupStep, data: DocumentsPipeline, rank: int, index=None) -> DocumentsPipeline:
    """The decisions for this task's documents, in the order the collector saw them (the same documents: they
    come from the previous segment's shards of the same rank). `index`, where the step has one, is told every
    document kept (its task position and id) and closed at the end: it writes the task's part of the index."""
    decisions = read_decisions(step, rank)
    i = 0
    for doc in data:
        if not step.applies(doc):
            yield doc
            continue
        d = next(decisions, None)
        if d is None or d["pos"] != i or d["id"] != doc.id:
            raise RuntimeError(f"{step.step_name}: task {rank}'s document {i} is {doc.id!r}, but the decisions say "
                               f"{d and d['id']!r} (were the intermediate shards changed?)")
        i += 1
        step.documents_in += 1
        doc.metadata[CLUSTER_SIZE] = d[CLUSTER_SIZE]
        if d[CLUSTER_ID]:
            doc.metadata[CLUSTER_ID] = d[CLUSTER_ID]
            doc.metadata[SIMILARITY] = d[SIMILARITY]
        if d["reason"]:
            doc.metadata[DUPLICATE_OF] = d[DUPLICATE_OF]
            step.count(d["reason"])
            step.remove(doc, d["reason"])
        elif index is not None:
            index.add(i - 1, doc.id)
        yield doc
    if next(decisions, None) is not None:
        raise RuntimeError(f"{step.step_name}: task {rank} read {i} documents, but there are decisions for more")
    if index is not None:
        index.close()
