"""Exact dedup over every task's documents (`dedup_exact` with `mode: distributed`), as a global step of the stage
plan: hash per task -> shuffle by hash -> decide -> filter.

  collector   N tasks  KeyWriter, at the end of the segment before the step: each live document's key (hash of the
                       normalised text or URL) and (id, global order, length, quality, weight), in stream order ->
                       work/global/<step>/collect/<rank>/
  partitions  P tasks  PartitionStage: task p takes the keys with key % P == p from every task (and from the
                       reference index), groups equal keys, keeps one document per group by the keep policy ->
                       decisions/<rank>.<p>.parquet, index part, report part
  the step    N tasks  applies each task's decisions at the start of the next segment (curate.dedup.decisions).

A group never spans two partitions, so each partition decides alone; ties go to the document that comes first in
the whole input (file, record), so the result is the same for any number of tasks and partitions, and equals single
mode with one task.
"""

from __future__ import annotations

import glob
import os
import shutil
from array import array
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from curate.dedup import report as dedup_report
from curate.dedup.clusters import bucket_edges, cluster, cluster_id
from curate.dedup.decisions import write_decisions
from curate.dedup.store import ColumnSpill, write_index
from curate.document import ORDER
from curate.util import atomic_write_json

if TYPE_CHECKING:
    from curate.steps.dedup import ExactDedup

META_SCHEMA = pa.schema([("id", pa.string()), ("order", pa.int64()), ("length", pa.int64()),
                         ("quality", pa.float64()), ("weight", pa.int64())])


class KeyWriter(PipelineStep):
    """The collector: keys and what the keep policy needs, for the documents the step applies to."""

    name = "exact keys"
    type = "🫂 - DEDUP"

    def __init__(self, step: ExactDedup):
        super().__init__()
        self.step = step

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        step = self.step
        folder = step.work_dir("collect", f"{rank:05d}")
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
        keys, has = array("Q"), array("b")  # 9 bytes per document; the rest goes to disk a batch at a time
        meta = ColumnSpill(os.path.join(folder, "meta.parquet"), META_SCHEMA)
        for doc in data:
            if step.applies(doc):
                key, ok = step.key_of(doc)
                keys.append(key)
                has.append(ok)
                meta.add(doc.id, doc.metadata[ORDER], len(doc.text), step.quality_of(doc), step.weight_of(doc))
            yield doc
        np.save(os.path.join(folder, "keys.npy"), np.frombuffer(keys, np.uint64))
        np.save(os.path.join(folder, "has_key.npy"), np.frombuffer(has, np.int8).astype(bool))
        meta.close()
        atomic_write_json(os.path.join(folder, "done.json"), {"documents": meta.rows})


class PartitionStage(PipelineStep):
    """Task p of P: every key with key % P == p, from all tasks; one survivor per key."""

    name = "exact partitions"
    type = "🫂 - DEDUP"

    def __init__(self, step: ExactDedup):
        super().__init__()
        self.step = step

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        step, p = self.step, self.step.params
        ref_ids, ref_keys, _ = step.load_references()
        mine = np.zeros(0, np.int64) if ref_keys is None else np.flatnonzero(ref_keys.reshape(-1) % world_size == rank)
        n_ref = len(mine)
        ids = [ref_ids[i] for i in mine]
        keys = [np.zeros(0, np.uint64) if ref_keys is None else ref_keys.reshape(-1)[mine]]
        valid, order = [np.ones(n_ref, bool)], [np.arange(-n_ref, 0, dtype=np.int64)]  # references come first
        cols: dict[str, list] = {"length": [np.zeros(n_ref, np.int64)], "quality": [np.full(n_ref, np.nan)],
                                 "weight": [np.zeros(n_ref, np.int64)]}
        spans: list[tuple[int, np.ndarray, int]] = []  # (task rank, positions in its stream, first global row)
        for done in sorted(glob.glob(step.work_dir("collect", "*", "done.json"))):
            folder = os.path.dirname(done)
            k = np.load(os.path.join(folder, "keys.npy"))
            has = np.load(os.path.join(folder, "has_key.npy"))
            # documents without a key (no URL) are nobody's duplicate: partition 0 records them as singletons
            pos = np.flatnonzero((has & (k % world_size == rank)) | (~has if rank == 0 else False))
            t = pq.read_table(os.path.join(folder, "meta.parquet")).take(pa.array(pos))
            spans.append((int(os.path.basename(folder)), pos, len(ids)))
            ids += t.column("id").to_pylist()
            keys.append(k[pos])
            valid.append(has[pos])
            order.append(t.column("order").to_numpy())
            for name in cols:
                cols[name].append(t.column(name).to_numpy(zero_copy_only=False))
        keys_a, valid_a, order_a = np.concatenate(keys), np.concatenate(valid), np.concatenate(order)
        length, quality, weight = (np.concatenate(cols[c]) for c in ("length", "quality", "weight"))
        n = len(ids)
        rows = np.flatnonzero(valid_a)
        src, dst = bucket_edges(keys_a[rows], order_a[rows], rows)
        result = cluster(n, src, dst, order_a, policy=p.keep, length=length, quality=quality.astype(np.float64),
                         is_reference=np.arange(n) < n_ref, weight=weight)
        sim = np.ones(n)
        for task, pos, start in spans:
            write_decisions(step.work_dir("decisions", f"{task:05d}.{rank:04d}.parquet"), pos,
                            np.arange(start, start + len(pos)), ids, result, sim, n_ref)
        if p.write_index:
            kept = np.flatnonzero(~result.removed & valid_a & (np.arange(n) >= n_ref))
            write_index(os.path.join(step.ctx.run_dir, "index", step.step_name, f"p{rank:04d}"),
                        step.index_meta() | {"kind": step.kind, "parts": world_size},
                        [step.redactor.id(ids[i]) for i in kept],
                        keys_a[kept])
        self._report(result, ids, n_ref, rank)
        return
        yield

    def _report(self, result, ids, n_ref, rank):
        step, p = self.step, self.step.params
        new = np.arange(n_ref, len(ids))
        multi = new[result.members[new] > 1]
        labels, first = np.unique(result.labels[multi], return_index=True)
        sizes = result.size[multi][first]
        top = []
        for lab in labels[np.argsort(-sizes, kind="stable")[: p.report_top]]:
            rows = multi[result.labels[multi] == lab]
            surv = int(result.survivor[rows[0]])
            top.append({"cluster_id": cluster_id(ids[surv]), "size": int(result.size[rows[0]]),
                        "kept_id": step.redactor.id(ids[surv]), "kept_preview": None,
                        "members": [{"id": step.redactor.id(ids[m]), "similarity": 1.0, "preview": None}
                                    for m in rows if m != surv][:3]})
        removed = result.removed[new]
        ref_dup = removed & (result.survivor[new] < n_ref)
        dedup_report.write_task_part(step.ctx.run_dir, step.step_name, rank, {
            "kind": step.kind, "documents": len(new), "cluster_sizes": sizes.tolist(), "top_n": p.report_top,
            "duplicates": int((removed & ~ref_dup).sum()), "reference_duplicates": int(ref_dup.sum()),
            "top_clusters": top, "params": p.model_dump(mode="json")})

