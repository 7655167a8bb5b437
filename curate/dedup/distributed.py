"""Multi-stage MinHash dedup for corpora that do not fit one task (`dedup_minhash` with `mode: distributed`).

The runner splits the pipeline at the step (see `stage_pipelines`), each stage one datatrove executor with its own
completions folder (so a crashed run resumes stage by stage):

  stage_1   tasks=N   reader, steps before dedup, SignatureWriter, sink -> RUN/work/stage_1/ (kept docs as Parquet,
                      removed docs and accounting as usual) and RUN/work/dedup/<step>/sigs/<rank>/
  buckets   tasks=B   BucketStage: per LSH band, all tasks' band keys sorted once -> star edges to the bucket anchor,
                      verified against the signatures (memory-mapped) -> edges/<band>.npy
  cluster   tasks=1   ClusterStage: connected components of all edges with scipy (C, not a Python union-find), keep
                      policy, similarity to the survivor -> decisions/<rank>.parquet, report section, RUN/index/
  stage_2   tasks=N   StageReader (the rank's stage-1 shards), the dedup step applying the decisions, the remaining
                      steps, the final sink.

Clusters are computed with the same functions as single mode (curate.dedup.clusters), so both modes agree.
"""

from __future__ import annotations

import glob
import json
import os
import shutil

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from curate.dedup import report as dedup_report
from curate.dedup.clusters import bucket_edges, cluster, cluster_id, dedupe_edges, survivor_similarity, verify_edges
from curate.dedup.steps import CLUSTER_ID, CLUSTER_SIZE, DUPLICATE_OF, SIMILARITY, MinHashDedup
from curate.dedup.store import RowStore, write_index
from curate.util import atomic_write_json, read_json


def dedup_dir(run_dir: str, step: str, *parts: str) -> str:
    return os.path.join(run_dir, "work", "dedup", step, *parts)


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
        folder = dedup_dir(step.ctx.run_dir, step.step_name, "sigs", f"{rank:05d}")
        shutil.rmtree(folder, ignore_errors=True)
        sigs = RowStore(os.path.join(folder, "sigs.bin"), p.num_perm)
        bands, valid, meta = [], [], {"id": [], "length": [], "quality": [], "weight": []}
        batch: list[Document] = []

        def flush():
            s, v = step.hasher.signatures([d.text for d in batch])
            sigs.add(s)
            bands.append(step.hasher.band_keys(s))
            valid.append(v)
            batch.clear()

        for doc in data:
            if step.applies(doc):
                meta["id"].append(doc.id)
                meta["length"].append(len(doc.text))
                meta["quality"].append(step.quality_of(doc))
                meta["weight"].append(step.weight_of(doc))
                batch.append(doc)
                if len(batch) >= 512:
                    flush()
            yield doc
        if batch:
            flush()
        sigs.array()
        np.save(os.path.join(folder, "bands.npy"),
                np.concatenate(bands) if bands else np.zeros((0, step.hasher.bands), np.uint64))
        np.save(os.path.join(folder, "valid.npy"), np.concatenate(valid) if valid else np.zeros(0, bool))
        pq.write_table(pa.table(meta, schema=pa.schema([("id", pa.string()), ("length", pa.int64()),
                                                        ("quality", pa.float64()), ("weight", pa.int64())])),
                       os.path.join(folder, "meta.parquet"))
        atomic_write_json(os.path.join(folder, "done.json"), {"documents": len(meta["id"])})


class SigTables:
    """All tasks' signature files (memory-mapped) behind global row numbers; reference index rows come first."""

    def __init__(self, step: MinHashDedup):
        self.step = step
        root = dedup_dir(step.ctx.run_dir, step.step_name, "sigs")
        self.parts = sorted(glob.glob(os.path.join(root, "*", "done.json")))
        self.ranks = [int(os.path.basename(os.path.dirname(x))) for x in self.parts]
        self.counts = [read_json(x)["documents"] for x in self.parts]
        self.ref_ids, self.ref_keys, self.ref_sigs = step.load_references()
        self.n_ref = len(self.ref_ids)
        self.offsets = np.concatenate([[self.n_ref], self.n_ref + np.cumsum(self.counts)]).astype(np.int64)
        self.n = int(self.offsets[-1])

    def folder(self, i: int) -> str:
        return os.path.dirname(self.parts[i])

    def sig_part(self, i: int) -> np.ndarray:
        if self.counts[i] == 0:
            return np.zeros((0, self.step.params.num_perm), np.uint32)
        return np.memmap(os.path.join(self.folder(i), "sigs.bin"), dtype=np.uint32, mode="r",
                         shape=(self.counts[i], self.step.params.num_perm))

    def band_column(self, b: int) -> tuple[np.ndarray, np.ndarray]:
        keys = [] if self.ref_keys is None else [self.ref_keys[:, b]]
        valid = [np.ones(self.n_ref, dtype=bool)]
        for i in range(len(self.parts)):
            keys.append(np.load(os.path.join(self.folder(i), "bands.npy"), mmap_mode="r")[:, b])
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

    def meta(self) -> dict[str, np.ndarray | list]:
        ids = list(self.ref_ids)
        cols: dict[str, list] = {"length": [np.zeros(self.n_ref, np.int64)],
                                 "quality": [np.full(self.n_ref, np.nan)], "weight": [np.zeros(self.n_ref, np.int64)]}
        for i in range(len(self.parts)):
            t = pq.read_table(os.path.join(self.folder(i), "meta.parquet"))
            ids += t.column("id").to_pylist()
            cols["length"].append(t.column("length").to_numpy())
            cols["quality"].append(t.column("quality").to_numpy(zero_copy_only=False).astype(np.float64))
            cols["weight"].append(t.column("weight").to_numpy())
        return {"id": ids, **{k: np.concatenate(v) for k, v in cols.items()}}


class BucketStage(DedupStage):
    """Stage 'buckets': task r handles bands r, r+T, ...; writes the verified star edges of each band."""

    name = "minhash buckets"

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        step = self.step
        tables = SigTables(step)
        order = np.arange(tables.n, dtype=np.int64)
        out = dedup_dir(step.ctx.run_dir, step.step_name, "edges")
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
    """Stage 'cluster' (one task, vectorised): components, survivors, decisions per source task, index, report."""

    name = "minhash cluster"

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        step, p = self.step, self.step.params
        tables = SigTables(step)
        edges = [np.load(f) for f in sorted(glob.glob(dedup_dir(step.ctx.run_dir, step.step_name, "edges", "[0-9]*.npy")))]
        src = np.concatenate([e[0] for e in edges]) if edges else np.zeros(0, np.int64)
        dst = np.concatenate([e[1] for e in edges]) if edges else np.zeros(0, np.int64)
        src, dst = dedupe_edges(src, dst)
        meta = tables.meta()
        n_ref, ids = tables.n_ref, meta["id"]
        order = np.arange(tables.n, dtype=np.int64)
        result = cluster(tables.n, src, dst, order, policy=p.keep, length=meta["length"], quality=meta["quality"],
                         is_reference=order < n_ref, weight=meta["weight"])
        sim = survivor_similarity(result, tables)
        removed = result.removed
        out = dedup_dir(step.ctx.run_dir, step.step_name, "decisions")
        os.makedirs(out, exist_ok=True)
        for i, r in enumerate(tables.ranks):
            lo, hi = int(tables.offsets[i]), int(tables.offsets[i + 1])
            g = np.arange(lo, hi)
            multi = result.members[g] > 1
            surv = result.survivor[g]
            pq.write_table(pa.table({
                "id": pa.array(ids[lo:hi], pa.string()),
                CLUSTER_SIZE: pa.array(result.size[g], pa.int64()),
                CLUSTER_ID: pa.array([cluster_id(ids[s]) if m else None for s, m in zip(surv, multi)], pa.string()),
                DUPLICATE_OF: pa.array([ids[s] if d else None for s, d in zip(surv, removed[g])], pa.string()),
                SIMILARITY: pa.array(np.where(multi, np.round(sim[g], 4), np.nan), pa.float64()),
                "reason": pa.array([("reference_duplicate" if s < n_ref else "duplicate") if d else None
                                    for s, d in zip(surv, removed[g])], pa.string()),
            }), os.path.join(out, f"{r:05d}.parquet"))
            if p.write_index:
                kept = np.flatnonzero(~removed[g] & np.load(os.path.join(tables.folder(i), "valid.npy")))
                write_index(os.path.join(step.ctx.run_dir, "index", step.step_name, f"{r:05d}"),
                            step.index_meta() | {"kind": step.kind}, [ids[lo + k] for k in kept],
                            np.load(os.path.join(tables.folder(i), "bands.npy"))[kept], tables.sig_part(i)[kept])
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
            top.append({"cluster_id": cluster_id(ids[surv]), "size": int(result.size[rows[0]]), "kept_id": ids[surv],
                        "kept_preview": None,  # texts are not read in the cluster stage (they may be terabytes)
                        "members": [{"id": ids[m], "similarity": round(float(sim[m]), 3), "preview": None}
                                    for m in members]})
        removed = result.removed[new]
        ref_dup = removed & (result.survivor[new] < n_ref)
        dedup_report.write_task_part(step.ctx.run_dir, step.step_name, 0, {
            "kind": step.kind, "documents": len(new), "cluster_sizes": sizes.tolist(), "top_n": p.report_top,
            "duplicates": int((removed & ~ref_dup).sum()), "reference_duplicates": int(ref_dup.sum()),
            "top_clusters": top, "params": p.model_dump(mode="json") | {"stages": "distributed"}})


def apply_decisions(step: MinHashDedup, data: DocumentsPipeline, rank: int) -> DocumentsPipeline:
    """Stage 2: the cluster stage's decisions for this task's documents, in the order stage 1 saw them."""
    path = os.path.join(step.decisions_dir, f"{rank:05d}.parquet")
    rows = pq.read_table(path).to_pylist() if os.path.exists(path) else []
    i = 0
    for doc in data:
        if not step.applies(doc):
            yield doc
            continue
        d = rows[i]
        i += 1
        if d["id"] != doc.id:
            raise RuntimeError(f"{step.step_name}: stage-2 document {i} of task {rank} is {doc.id!r}, the cluster "
                               f"stage decided on {d['id']!r} (stage-1 shards changed?)")
        step.documents_in += 1
        doc.metadata[CLUSTER_SIZE] = d[CLUSTER_SIZE]
        if d[CLUSTER_ID]:
            doc.metadata[CLUSTER_ID] = d[CLUSTER_ID]
            doc.metadata[SIMILARITY] = d[SIMILARITY]
        if d["reason"]:
            doc.metadata[DUPLICATE_OF] = d[DUPLICATE_OF]
            step.count(d["reason"])
            step.remove(doc, d["reason"])
        yield doc
    if i != len(rows):
        raise RuntimeError(f"{step.step_name}: task {rank} read {i} documents in stage 2, stage 1 had {len(rows)}")


class StageReader(PipelineStep):
    """Stage 2's reader: the kept documents that stage 1 of the same rank wrote, metadata restored from columns."""

    name = "stage reader"
    type = "📖 - READER"

    def __init__(self, data_dir: str, accounting_dir: str, stage_accounting_dir: str):
        super().__init__()
        self.data_dir, self.accounting_dir, self.stage_accounting_dir = data_dir, accounting_dir, stage_accounting_dir

    def run(self, data=None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        n = 0
        for path in sorted(glob.glob(os.path.join(self.data_dir, f"*_{rank:05d}.parquet"))):
            for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):
                for row in batch.to_pylist():
                    meta = {k: v for k, v in row.items() if k not in ("id", "text", "extra") and v is not None}
                    if row.get("extra"):
                        meta.update(json.loads(row["extra"]))
                    n += 1
                    yield Document(text=row["text"], id=row["id"], metadata=meta)
        # the run's documents_in is what stage 1 read: its reader accounting becomes this task's
        stage = read_json(os.path.join(self.stage_accounting_dir, f"{rank:05d}.reader.json"))
        sink = read_json(os.path.join(self.stage_accounting_dir, f"{rank:05d}.sink.json"))
        if sink["documents_kept"] != n:
            raise RuntimeError(f"stage 2 task {rank} read {n} documents, stage 1 kept {sink['documents_kept']}")
        atomic_write_json(os.path.join(self.accounting_dir, f"{rank:05d}.reader.json"), stage)


# -- the plan the runner executes ----------------------------------------------------------------------------------

def split_index(steps: list) -> int | None:
    for i, s in enumerate(steps):
        if isinstance(s, MinHashDedup) and s.params.mode == "distributed":
            return i
    return None


def stage_pipelines(run) -> list[tuple[str, int, list, str]] | None:
    """[(stage name, tasks, pipeline, datatrove logging dir)], or None when no step asks for distributed mode."""
    from curate.readers import InputReader
    from curate.runner import build_steps, step_columns
    from curate.steps import RunContext
    from curate.writers import ShardSink

    p, cfg = run.paths, run.cfg
    ctx = RunContext(run_dir=p.root, pipeline_name=cfg.name)
    steps = build_steps(cfg, ctx)
    k = split_index(steps)
    if k is None:
        return None
    for step in steps:  # as Run.pipeline does
        step.prepare(run.files)
    if any(isinstance(s, MinHashDedup) and s.params.mode == "distributed" for s in steps[k + 1:]):
        raise ValueError("only one dedup_minhash step per pipeline may use mode: distributed")
    dedup, before, after = steps[k], steps[:k], steps[k + 1:]
    dedup.decisions_dir = dedup_dir(p.root, dedup.step_name, "decisions")
    s1 = os.path.join(p.root, "work", "stage_1")
    s1_acc = os.path.join(p.accounting, "stage_1")
    size = cfg.output.shard_size_mb * 2**20
    reader = InputReader(run.files, accounting_dir=s1_acc, progress_dir=p.progress,
                         max_document_bytes=cfg.limits.max_document_bytes, strict=run.strict)
    sink1 = ShardSink(os.path.join(s1, "data"), os.path.join(s1, "removed"), s1_acc, step_columns(steps), before,
                      max_file_size=size, keep_removed=cfg.output.keep_removed)
    sink2 = ShardSink(p.work_data, p.work_removed, p.accounting, step_columns(steps), [dedup, *after],
                      max_file_size=size, keep_removed=cfg.output.keep_removed, tokenizer=cfg.output.tokenizer)
    tasks = cfg.executor.tasks
    bucket_tasks = dedup.params.bucket_tasks or dedup.hasher.bands
    logs = lambda name: os.path.join(p.logs, "stages", name)  # noqa: E731
    return [("stage_1", tasks, [reader, *before, SignatureWriter(dedup), sink1], logs("stage_1")),
            ("buckets", min(bucket_tasks, dedup.hasher.bands), [BucketStage(dedup)], logs("buckets")),
            ("cluster", 1, [ClusterStage(dedup)], logs("cluster")),
            ("stage_2", tasks, [StageReader(os.path.join(s1, "data"), p.accounting, s1_acc), dedup, *after, sink2],
             p.logs)]


def clean_unfinished_stage_1(run) -> None:
    """Stage 1's outputs of tasks without a completion mark are deleted before they run again."""
    p = run.paths
    done_dir = os.path.join(p.logs, "stages", "stage_1", "completions")
    done = set(os.listdir(done_dir)) if os.path.isdir(done_dir) else set()
    s1 = os.path.join(p.root, "work", "stage_1")
    for rank in range(run.cfg.executor.tasks):
        if f"{rank:05d}" in done:
            continue
        for pattern in (os.path.join(s1, "data", f"*_{rank:05d}.parquet"),
                        os.path.join(s1, "removed", "*", f"*_{rank:05d}.parquet"),
                        os.path.join(p.accounting, "stage_1", f"{rank:05d}.*.json")):
            for path in glob.glob(pattern):
                os.remove(path)
        for folder in glob.glob(os.path.join(p.root, "work", "dedup", "*", "sigs", f"{rank:05d}")):
            shutil.rmtree(folder)


def finish_stages(run) -> None:
    """Before the manifest: stage 1's removed shards join removed/; the intermediate files go."""
    p = run.paths
    s1_removed = os.path.join(p.root, "work", "stage_1", "removed")
    for path in glob.glob(os.path.join(s1_removed, "*", "*.parquet")):
        step = os.path.basename(os.path.dirname(path))
        os.makedirs(os.path.join(p.work_removed, step), exist_ok=True)
        os.replace(path, os.path.join(p.work_removed, step, os.path.basename(path)))


def cleanup_intermediates(run) -> None:
    for sub in ("stage_1", "dedup", "tmp"):
        shutil.rmtree(os.path.join(run.paths.root, "work", sub), ignore_errors=True)

