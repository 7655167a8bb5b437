"""MinHash dedup over every task's documents (`dedup_minhash` with `mode: distributed`), as a global step of the stage
plan (curate.plan; the plan cuts the pipeline at the step):

  collector  N tasks   SignatureWriter, at the end of the segment before the step: signatures, band keys (stored
                       band by band) and (id, global order, length, quality, weight) of the live documents, in
                       stream order -> work/global/<step>/collect/<rank>/
  buckets    B tasks   BucketStage: per LSH band, all tasks' band keys sorted once -> star edges to the bucket anchor,
                       verified against the signatures (memory-mapped) -> edges/<band>.npy. A task holds one band's
                       keys, the documents' order and the sort's temporaries (~130 bytes per document, measured by
                       benchmarks/dedup_memory.py), not the ids or the other bands
  cluster    1 task    ClusterStage: connected components of all edges with scipy (C, not a Python union-find), keep
                       policy, similarity to the survivor -> decisions/<rank>.parquet, report section
  the step   N tasks   at the start of the next segment: applies each task's decisions (`apply_decisions`) and
                       writes the task's part of RUN/index/ (`IndexPart`)

Ties are broken by the documents' place in the whole input (file, record), not by task, so the decisions do not
depend on the number of tasks. Clusters are computed with the same functions as single mode (curate.dedup.clusters),
so both modes agree.
"""

from __future__ import annotations

import glob
import os
import shutil
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from curate.dedup import report as dedup_report
from curate.dedup.clusters import bucket_edges, cluster, cluster_id, dedupe_edges, survivor_similarity, verify_edges
from curate.dedup.decisions import write_decisions
from curate.dedup.store import INDEX_IDS, ColumnSpill, RowStore, finish_index_part, start_index_part
from curate.document import ORDER
from curate.util import atomic_write_json, read_json

if TYPE_CHECKING:
    from curate.steps.dedup import MinHashDedup

# the band keys of a task's documents, band by band: (bands, documents) uint64
BAND_COLUMNS = "band_columns.npy"
# what the keep policy needs of each document, in stream order (work/global/<step>/collect/<rank>/meta.parquet)
META_SCHEMA = pa.schema([("id", pa.string()), ("order", pa.int64()), ("length", pa.int64()),
                         ("quality", pa.float64()), ("weight", pa.int64())])


class DedupStage(PipelineStep):
    """A stage of the plan: a datatrove step working for the `dedup_minhash` step it was split from."""

    type = "🫂 - DEDUP"

    def __init__(self, step: MinHashDedup):
        super().__init__()
        self.step = step


class SignatureWriter(DedupStage):
    """Stage 1: signatures, band keys and (id, length, quality, weight) of the live documents, in stream order."""

    name = "minhash signatures"

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        step, p = self.step, self.step.params
        folder = step.work_dir("collect", f"{rank:05d}")
        shutil.rmtree(folder, ignore_errors=True)
        # per document, only the validity flag (1 byte) stays in memory: signatures, band keys and the columns the
        # keep policy needs go to disk as they are made, so a task's memory does not grow with its documents
        sigs = RowStore(os.path.join(folder, "sigs.bin"), p.num_perm)
        bands = RowStore(os.path.join(folder, "bands.bin"), step.hasher.bands, np.uint64)
        meta = ColumnSpill(os.path.join(folder, "meta.parquet"), META_SCHEMA)
        valid: list[np.ndarray] = []
        batch: list[Document] = []

        def flush():
            s, v = step.hasher.signatures([d.text for d in batch])
            sigs.add(s)
            bands.add(step.hasher.band_keys(s))
            valid.append(v)
            batch.clear()

        for doc in data:
            if step.applies(doc):
                meta.add(doc.id, doc.metadata[ORDER], len(doc.text), step.quality_of(doc), step.weight_of(doc))
                batch.append(doc)
                if len(batch) >= 512:
                    flush()
            yield doc
        if batch:
            flush()
        sigs.array()
        bands.save_columns_npy(os.path.join(folder, BAND_COLUMNS))
        np.save(os.path.join(folder, "valid.npy"), np.concatenate(valid) if valid else np.zeros(0, bool))
        meta.close()
        atomic_write_json(os.path.join(folder, "done.json"), {"documents": meta.rows})


def collected_signatures(folder: str, documents: int, num_perm: int) -> np.ndarray:
    """A collector folder's signatures, memory-mapped."""
    if documents == 0:
        return np.zeros((0, num_perm), np.uint32)
    return np.memmap(os.path.join(folder, "sigs.bin"), dtype=np.uint32, mode="r", shape=(documents, num_perm))


class SigTables:
    """All tasks' signature files (memory-mapped) behind global row numbers; reference index rows come first."""

    def __init__(self, step: MinHashDedup):
        self.step = step
        root = step.work_dir("collect")
        self.parts = sorted(glob.glob(os.path.join(root, "*", "done.json")))
        self.ranks = [int(os.path.basename(os.path.dirname(x))) for x in self.parts]
        self.counts = [read_json(x)["documents"] for x in self.parts]
        self.ref_ids, self.ref_keys, self.ref_sigs = step.load_references()
        self.n_ref = len(self.ref_ids)
        self.offsets = np.concatenate([[self.n_ref], self.n_ref + np.cumsum(self.counts)]).astype(np.int64)
        self.n = int(self.offsets[-1])
        self._maps: dict[int, np.ndarray] = {}

    def folder(self, i: int) -> str:
        return os.path.dirname(self.parts[i])

    def sig_part(self, i: int) -> np.ndarray:
        """Part i's signatures, memory-mapped once: a new mapping per read faults in every page it touches again
        (the cluster stage reads survivors and members round after round: 2.5x slower)."""
        if i not in self._maps:
            self._maps[i] = collected_signatures(self.folder(i), self.counts[i], self.step.params.num_perm)
        return self._maps[i]

    def band_column(self, b: int) -> tuple[np.ndarray, np.ndarray]:
        keys = [] if self.ref_keys is None else [self.ref_keys[:, b]]
        valid = [np.ones(self.n_ref, dtype=bool)]
        for i in range(len(self.parts)):
            # a copy of one contiguous row of the file: mapping it whole would keep every band's pages resident
            keys.append(np.array(np.load(os.path.join(self.folder(i), BAND_COLUMNS), mmap_mode="r")[b]))
            valid.append(np.load(os.path.join(self.folder(i), "valid.npy")))
        return (np.concatenate(keys) if keys else np.zeros(0, np.uint64)), np.concatenate(valid)

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows)
        out = np.empty((len(rows), self.step.params.num_perm), dtype=np.uint32)
        ref = rows < self.n_ref
        if ref.any():
            out[ref] = self.ref_sigs[rows[ref]]
        part = np.searchsorted(self.offsets, rows, side="right") - 1
        for i in np.unique(part[~ref]):
            m = (part == i) & ~ref
            out[m] = self.sig_part(int(i))[rows[m] - self.offsets[i]]
        return out

    def order(self) -> np.ndarray:
        """The documents' global order (references first), without the ids and columns the buckets do not need."""
        parts = [np.arange(-self.n_ref, 0, dtype=np.int64)]
        parts += [pq.read_table(os.path.join(self.folder(i), "meta.parquet"), columns=["order"]).column("order")
                  .to_numpy() for i in range(len(self.parts))]
        return np.concatenate(parts)

    def meta(self) -> dict[str, np.ndarray | list]:
        ids = list(self.ref_ids)
        cols: dict[str, list] = {"order": [np.arange(-self.n_ref, 0, dtype=np.int64)],  # references come first
                                 "length": [np.zeros(self.n_ref, np.int64)],
                                 "quality": [np.full(self.n_ref, np.nan)], "weight": [np.zeros(self.n_ref, np.int64)]}
        for i in range(len(self.parts)):
            t = pq.read_table(os.path.join(self.folder(i), "meta.parquet"))
            ids += t.column("id").to_pylist()
            cols["order"].append(t.column("order").to_numpy())
            cols["length"].append(t.column("length").to_numpy())
            cols["quality"].append(t.column("quality").to_numpy(zero_copy_only=False).astype(np.float64))
            cols["weight"].append(t.column("weight").to_numpy())
        return {"id": ids, **{k: np.concatenate(v) for k, v in cols.items()}}


class BandRows:
    """A collector folder's band keys by document rows (`rows` its local row numbers -> (len(rows), bands)), read
    band by band from the file that stores them band by band."""

    def __init__(self, folder: str):
        self.path = os.path.join(folder, BAND_COLUMNS)

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        columns = np.load(self.path, mmap_mode="r")
        return np.stack([np.asarray(columns[b][rows]) for b in range(columns.shape[0])], axis=1)


class BucketStage(DedupStage):
    """Stage 'buckets': task r handles bands r, r+T, ...; writes the verified star edges of each band."""

    name = "minhash buckets"

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        step = self.step
        tables = SigTables(step)
        order = tables.order()
        out = step.work_dir("edges")
        os.makedirs(out, exist_ok=True)
        for b in range(rank, step.hasher.bands, world_size):
            keys, valid = tables.band_column(b)
            rows = np.flatnonzero(valid)
            src, dst = bucket_edges(keys[rows], order[rows], rows)
            if step.params.verify and len(src):
                m = verify_edges(src, dst, tables, step.params.threshold)
                src, dst = src[m], dst[m]
            self.stat_update("edges", value=len(src))
            np.save(os.path.join(out, f"{b:03d}.tmp.npy"), np.stack([src, dst]))
            os.replace(os.path.join(out, f"{b:03d}.tmp.npy"), os.path.join(out, f"{b:03d}.npy"))
        return
        yield


class ClusterStage(DedupStage):
    """Stage 'cluster' (one task, vectorised): components, survivors, decisions per source task, report. The index
    is written by the tasks that apply the decisions (`IndexPart`): its ids are scrubbed as every id the run writes,
    which in this one process took 39 s of the stage's 74 s at a million documents."""

    name = "minhash cluster"

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        step, p = self.step, self.step.params
        tables = SigTables(step)
        edges = [np.load(f) for f in sorted(glob.glob(step.work_dir("edges", "[0-9]*.npy")))]
        src = np.concatenate([e[0] for e in edges]) if edges else np.zeros(0, np.int64)
        dst = np.concatenate([e[1] for e in edges]) if edges else np.zeros(0, np.int64)
        src, dst = dedupe_edges(src, dst)
        meta = tables.meta()
        n_ref, ids, order = tables.n_ref, meta["id"], meta["order"]
        result = cluster(tables.n, src, dst, order, policy=p.keep, length=meta["length"], quality=meta["quality"],
                         is_reference=np.arange(tables.n) < n_ref, weight=meta["weight"], sigs=tables,
                         threshold=p.threshold if p.verify else None)
        sim = survivor_similarity(result, tables)
        for i, r in enumerate(tables.ranks):
            lo, hi = int(tables.offsets[i]), int(tables.offsets[i + 1])
            write_decisions(step.work_dir("decisions", f"{r:05d}.parquet"), np.arange(hi - lo), np.arange(lo, hi),
                            ids, result, sim, n_ref)
        self._report(result, sim, ids, n_ref)
        return
        yield

    def _report(self, result, sim, ids, n_ref):
        step, p = self.step, self.step.params
        new = np.arange(n_ref, len(ids))
        multi = new[result.members[new] > 1]
        labels, first = np.unique(result.labels[multi], return_index=True)
        sizes = result.size[multi][first]
        top = []
        for lab in labels[np.argsort(-sizes, kind="stable")[: p.report_top]]:
            rows = multi[result.labels[multi] == lab]
            surv = int(result.survivor[rows[0]])
            members = [r for r in rows if r != surv][:3]
            top.append({"cluster_id": cluster_id(ids[surv]), "size": int(result.size[rows[0]]),
                        "kept_id": step.redactor.id(ids[surv]),
                        "kept_preview": None,  # texts are not read in the cluster stage (they may be terabytes)
                        "members": [{"id": step.redactor.id(ids[m]), "similarity": round(float(sim[m]), 3),
                                     "preview": None} for m in members]})
        removed = result.removed[new]
        ref_dup = removed & (result.survivor[new] < n_ref)
        dedup_report.write_task_part(step.ctx.run_dir, step.step_name, 0, {
            "kind": step.kind, "documents": len(new), "cluster_sizes": sizes.tolist(), "top_n": p.report_top,
            "duplicates": int((removed & ~ref_dup).sum()), "reference_duplicates": int(ref_dup.sum()),
            "top_clusters": top, "params": p.model_dump(mode="json") | {"stages": "distributed"}})


class IndexPart:
    """Task `rank`'s part of the persisted index (RUN/index/<step>/<rank>/), written as the task applies its
    decisions: the ids of the documents it keeps, scrubbed, go to ids.parquet a batch at a time; at the end their
    band keys and signatures are copied from the task's collector folder, a chunk of rows at a time."""

    def __init__(self, step: MinHashDedup, rank: int, world_size: int):
        self.step = step
        self.collect = step.work_dir("collect", f"{rank:05d}")
        self.folder = os.path.join(step.ctx.run_dir, "index", step.step_name, f"{rank:05d}")
        self.meta = step.index_meta() | {"kind": step.kind, "parts": world_size}
        self.valid = np.load(os.path.join(self.collect, "valid.npy"))  # documents with shingles (1 byte each)
        self.kept = np.zeros(len(self.valid), bool)
        start_index_part(self.folder)
        self.ids = ColumnSpill(os.path.join(self.folder, INDEX_IDS), pa.schema([("id", pa.string())]))

    def add(self, pos: int, doc_id: str) -> None:
        """The document at task position `pos` is kept."""
        if self.valid[pos]:
            self.kept[pos] = True
            self.ids.add(self.step.redactor.id(doc_id))

    def close(self) -> None:
        self.ids.close()
        rows = np.flatnonzero(self.kept)
        sigs = collected_signatures(self.collect, len(self.valid), self.step.params.num_perm)
        finish_index_part(self.folder, self.meta, len(rows), BandRows(self.collect), sigs, rows=rows)
