"""Deduplication steps: exact (normalised text or URL) and MinHash near-duplicates, with traceability.

Both need to see a task's documents before they can decide (the survivor of a cluster may come last with keep
`longest`/`quality`, and a kept document carries the size of its cluster), so they run in two passes: pass 1 writes
each document to a spill file on disk and keeps only hashes/signatures in memory, clusters are computed with array
operations, and pass 2 reads the spill back and marks the duplicates. Every document is yielded; duplicates are marked
`<step>:duplicate` (or `<step>:reference_duplicate` when an earlier run already has it) with `duplicate_of`,
`cluster_id`, `cluster_size` and `similarity`.

Single mode deduplicates within each task (use `executor.tasks: 1`, or `mode: distributed` for the whole corpus).
"""

from __future__ import annotations

import math
import os
import time
from typing import Any, ClassVar, Literal

import numpy as np
import pyarrow as pa
from datatrove.data import Document, DocumentsPipeline
from pydantic import Field, field_validator, model_validator

from curate.dedup import report as dedup_report
from curate.dedup.clusters import (
    ClusterResult,
    KeepPolicy,
    all_edges,
    bucket_edges,
    cluster,
    cluster_id,
    survivor_similarity,
)
from curate.dedup.minhash import MinHasher, lsh_params
from curate.dedup.store import DocSpill, RowStore, load_index, resolve_index, write_index
from curate.dedup.text import NormConfig, Shingler, text_hash, url_hash
from curate.document import URL, field
from curate.steps.base import GlobalStep, StepParams

from curate.dedup.columns import CLUSTER_ID, CLUSTER_SIZE, DEDUP_COLUMNS, DUPLICATE_OF, SIMILARITY  # noqa: F401


class DedupParams(StepParams):
    mode: Literal["single", "distributed"] = "single"  # distributed: over all tasks, as stages (docs/dedup.md)
    keep: KeepPolicy = "first"  # which member of a cluster survives: first seen, longest text, best quality score
    quality_key: str | None = None  # metadata key written by an earlier step (keep: quality); higher is better
    reference_index: list[str] = []  # earlier run folders (or index folders): their documents count as already kept
    write_index: bool = True  # persist RUN/index/<step>/ so that later runs can use this one as reference
    report_top: int = Field(10, ge=0)  # clusters shown (with samples) in the report section
    # distributed: parallel tasks of the global stage (MinHash: bands, default one task per band; exact: hash
    # partitions, default 4)
    bucket_tasks: int | None = Field(None, ge=1)

    @field_validator("reference_index", mode="before")
    @classmethod
    def _one_or_many(cls, v):
        return [v] if isinstance(v, str) else v

    @model_validator(mode="after")
    def _quality_needs_key(self):
        if self.keep == "quality" and not self.quality_key:
            raise ValueError("keep: quality needs quality_key (the metadata key of an earlier step's score)")
        return self


class Stacked:
    """Rows of the reference index followed by this task's rows, indexable by global row without copying."""

    def __init__(self, head: np.ndarray | None, tail: np.ndarray):
        self.head, self.tail = head, tail
        self.n_head = 0 if head is None else len(head)

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows)
        if self.n_head == 0:
            return np.asarray(self.tail[rows])
        out = np.empty((len(rows), self.tail.shape[1]), dtype=self.tail.dtype)
        h = rows < self.n_head
        out[h] = self.head[rows[h]]
        out[~h] = self.tail[rows[~h] - self.n_head]
        return out


class ClusterDedupStep(GlobalStep):
    """Two-pass clustering dedup; subclasses say how documents become keys (and signatures) and how keys link.
    With `mode: distributed` it is a global step: subclasses give the collector and global stages, and the step
    applies the decisions they wrote (`apply_decisions`)."""

    Params: ClassVar[type[DedupParams]] = DedupParams
    columns = DEDUP_COLUMNS
    kind: ClassVar[str]

    # -- what subclasses provide ---------------------------------------------------------------------------------
    def index_meta(self) -> dict[str, Any]:
        raise NotImplementedError

    def start_task(self, rank: int) -> None:
        raise NotImplementedError

    def add_batch(self, docs: list[Document]) -> None:
        raise NotImplementedError

    def decide(self, n_ref: int, ref_keys, ref_sigs, order: np.ndarray, length, quality, weight
               ) -> tuple[ClusterResult, np.ndarray]:
        raise NotImplementedError

    def kept_index(self, kept_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(rows to persist, their keys, their signatures) among the documents this step kept."""
        raise NotImplementedError

    def end_task(self) -> None:
        pass

    def index_part(self, rank: int, world_size: int):
        """Distributed mode: what writes this task's part of the index as it applies its decisions (see
        `apply_decisions`), or None where a global stage writes the index."""
        return None

    def is_global(self) -> bool:
        return self.params.mode == "distributed"

    # -- the two passes --------------------------------------------------------------------------------------------
    def _tmp(self, rank: int, suffix: str) -> str:
        return os.path.join(self.ctx.run_dir, "work", "tmp", self.step_name, f"{rank:05d}.{suffix}")

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if self.is_global():
            from curate.dedup.decisions import apply_decisions

            yield from apply_decisions(self, data, rank, self.index_part(rank, world_size))
            return
        p: DedupParams = self.params
        self.start_task(rank)
        spill = DocSpill(self._tmp(rank, "spill"))
        ids: list[str] = []
        length: list[int] = []
        quality: list[float] = []
        weight: list[int] = []
        batch: list[Document] = []
        for doc in data:
            if not self.applies(doc):
                yield doc  # removed upstream or outside apply_to: not a candidate, passes straight on
                continue
            spill.add(doc)
            ids.append(doc.id)
            length.append(len(doc.text))
            quality.append(self.quality_of(doc))
            weight.append(self.weight_of(doc))
            batch.append(doc)
            if len(batch) >= 512:
                self._timed(self.add_batch, batch)
                batch = []
        if batch:
            self._timed(self.add_batch, batch)
        n = len(ids)
        self.documents_in += n
        started = time.perf_counter()
        ref_ids, ref_keys, ref_sigs = self.load_references()
        n_ref = len(ref_ids)
        order = np.arange(n_ref + n, dtype=np.int64)
        pad = lambda a, fill, dt: np.concatenate([np.full(n_ref, fill, dtype=dt), np.asarray(a, dtype=dt)])  # noqa
        result, sim = self.decide(n_ref, ref_keys, ref_sigs, order, pad(length, 0, np.int64),
                                  pad(quality, np.nan, np.float64), pad(weight, 0, np.int64))
        all_ids = ref_ids + ids
        removed = result.removed
        # the clusters shown in the report: the biggest ones with at least one document of this task
        multi = np.flatnonzero(result.members[n_ref:] > 1) + n_ref
        labels, first = np.unique(result.labels[multi], return_index=True)
        sizes = result.size[multi][first]
        top = set(labels[np.argsort(-sizes, kind="stable")[: p.report_top]].tolist())
        samples: dict[int, dict[str, Any]] = {}
        self.seconds += time.perf_counter() - started

        for i, doc in enumerate(spill):
            g = n_ref + i
            t0 = time.perf_counter()
            doc.metadata[CLUSTER_SIZE] = int(result.size[g])
            if result.members[g] > 1:
                surv = int(result.survivor[g])
                doc.metadata[CLUSTER_ID] = cluster_id(all_ids[surv])
                doc.metadata[SIMILARITY] = round(float(sim[g]), 4)
                if removed[g]:
                    doc.metadata[DUPLICATE_OF] = all_ids[surv]
                    reason = "reference_duplicate" if surv < n_ref else "duplicate"
                    self.count(reason)
                    self.remove(doc, reason)
                label = int(result.labels[g])
                if label in top:
                    c = samples.setdefault(label, {"cluster_id": doc.metadata[CLUSTER_ID], "size": int(result.size[g]),
                                                   "kept_id": self.redactor.id(all_ids[surv]),
                                                   "kept_preview": "(reference index)" if surv < n_ref else None,
                                                   "members": []})
                    if not removed[g]:
                        c["kept_preview"] = self.redactor.preview(doc.text)
                    elif len(c["members"]) < 3:
                        c["members"].append({"id": self.redactor.id(doc.id), "similarity": round(float(sim[g]), 3),
                                             "preview": self.redactor.preview(doc.text)})
            self.seconds += time.perf_counter() - t0
            yield doc

        kept_rows = np.flatnonzero(~removed[n_ref:])
        self.count("clusters", len(labels))
        if p.write_index:
            rows, keys, sigs = self.kept_index(kept_rows)
            write_index(os.path.join(self.ctx.run_dir, "index", self.step_name, f"{rank:05d}"),
                        self.index_meta() | {"kind": self.kind, "parts": world_size},
                        [self.redactor.id(ids[i]) for i in rows], keys, sigs)
        self.end_task()
        dedup_report.write_task_part(self.ctx.run_dir, self.step_name, rank, {
            "kind": self.kind, "documents": n, "cluster_sizes": sizes.tolist(), "top_n": p.report_top,
            "duplicates": int(self.counters.get("duplicate", 0)),
            "reference_duplicates": int(self.counters.get("reference_duplicate", 0)),
            "top_clusters": sorted(samples.values(), key=lambda c: -c["size"]),
            "params": self.params.model_dump(mode="json")})

    def quality_of(self, doc: Document) -> float:
        """The score `keep: quality` ranks by (a step's column, else an input field of that name); NaN when the
        document has none (it then loses to scored ones)."""
        key = self.params.quality_key
        q = field(doc, key) if key else None
        return float(q) if isinstance(q, (int, float)) else math.nan

    @staticmethod
    def weight_of(doc: Document) -> int:
        """A document that stands for earlier exact copies weighs as many documents in cluster sizes."""
        return int(doc.metadata.get(CLUSTER_SIZE) or 1)

    def _timed(self, fn, *args):
        t0 = time.perf_counter()
        fn(*args)
        self.seconds += time.perf_counter() - t0

    def load_references(self) -> tuple[list[str], np.ndarray | None, np.ndarray | None]:
        """(ids, keys, signatures) of every `reference_index`, in the order given; ([], None, None) without."""
        ids: list[str] = []
        keys, sigs = [], []
        for path in self.params.reference_index:
            folder = resolve_index(path, self.step_name, self.kind)
            i, k, s = load_index(folder, self.index_meta() | {"kind": self.kind})
            ids += i
            keys.append(k)
            if s is not None:
                sigs.append(s)
        if not keys:
            return [], None, None
        return ids, np.concatenate(keys), (np.concatenate(sigs) if sigs else None)


# -- exact ---------------------------------------------------------------------------------------------------------

class ExactDedupParams(DedupParams):
    key: Literal["text", "url"] = "text"  # the normalised text, or the normalised URL (documents without one pass)
    normalization: NormConfig = NormConfig()  # how text is normalised before hashing


class ExactDedup(ClusterDedupStep):
    """Exact duplicates of the normalised text (or URL): one survivor per group, the others point to it."""
    summary = (
        "exact duplicates of the normalised text or of the URL (hashes only in memory); `mode: distributed` "
        "across all tasks"
    )

    type_name = "dedup_exact"
    doc = "docs/dedup.md"
    tests = ("tests/test_dedup.py", "tests/test_dedup_global.py")
    Params = ExactDedupParams
    kind = "exact"

    def index_meta(self):
        p = self.params
        return {"key": p.key, "normalization": p.normalization.model_dump()}

    def start_task(self, rank):
        self._hashes: list[int] = []
        self._has_key: list[bool] = []

    def key_of(self, doc: Document) -> tuple[int, bool]:
        """(hash of the normalised text or URL, whether the document has one): one C-level hash, nothing per token."""
        if self.params.key == "url":
            url = doc.metadata.get(URL)
            if not url:
                self.count("no_url")
            return (url_hash(url), True) if url else (0, False)
        return text_hash(doc.text, self.params.normalization), True

    def add_batch(self, docs):
        for doc in docs:
            key, has = self.key_of(doc)
            self._hashes.append(key)
            self._has_key.append(has)

    def decide(self, n_ref, ref_keys, ref_sigs, order, length, quality, weight):
        self._keys = np.array(self._hashes, dtype=np.uint64)
        keys = self._keys if ref_keys is None else np.concatenate([ref_keys.reshape(-1), self._keys])
        valid = np.concatenate([np.ones(n_ref, dtype=bool), np.array(self._has_key, dtype=bool)])
        rows = np.flatnonzero(valid)
        src, dst = bucket_edges(keys[rows], order[rows], rows)
        result = cluster(len(keys), src, dst, order, policy=self.params.keep, length=length, quality=quality,
                         is_reference=order < n_ref, weight=weight)
        return result, np.ones(len(keys))

    def kept_index(self, kept_rows):
        rows = kept_rows[np.array(self._has_key, dtype=bool)[kept_rows]]
        return rows, self._keys[rows], None

    # -- distributed mode (curate.dedup.distributed_exact) --------------------------------------------------------------
    def collector(self):
        from curate.dedup.distributed_exact import KeyWriter

        return KeyWriter(self)

    def global_stages(self):
        from curate.dedup.distributed_exact import PartitionStage

        return [("partitions", self.params.bucket_tasks or 4, [PartitionStage(self)])]


# -- MinHash -------------------------------------------------------------------------------------------------------

class MinHashDedupParams(DedupParams):
    ngram: int = Field(3, ge=1)  # words per shingle (each Hangul/CJK character counts as a word)
    num_perm: int = Field(128, ge=8)  # MinHash permutations (signature length)
    threshold: float = Field(0.5, gt=0, lt=1)  # Jaccard similarity at which two documents are duplicates (benchmarks/dedup_quality.py)
    bands: int | None = None  # explicit LSH banding; default: datasketch's optimum for threshold and num_perm
    rows: int | None = None  # rows per LSH band (with `bands`)
    verify: bool = True  # keep a candidate pair only if its estimated Jaccard reaches `threshold`
    seed: int = 1  # seed of the MinHash permutations (same seed: comparable signatures across runs)
    normalization: NormConfig = NormConfig(whitespace=False)  # how text is normalised before shingling

    @model_validator(mode="after")
    def _banding(self):
        if (self.bands is None) != (self.rows is None):
            raise ValueError("give both bands and rows, or neither (then they follow from threshold and num_perm)")
        if self.bands is not None and self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands*rows = {self.bands * self.rows} exceeds num_perm = {self.num_perm}")
        return self

    def banding(self) -> tuple[int, int]:
        return (self.bands, self.rows) if self.bands is not None else lsh_params(self.threshold, self.num_perm)

    def hasher(self) -> MinHasher:
        b, r = self.banding()
        return MinHasher(num_perm=self.num_perm, bands=b, rows=r, seed=self.seed,
                         shingler=Shingler(ngram=self.ngram, norm=self.normalization))


class MinHashDedup(ClusterDedupStep):
    """MinHash LSH near-duplicates (word n-gram shingles, datasketch permutations), clustered, one survivor each."""
    summary = (
        "near duplicates: vectorised MinHash signatures (bit-identical to datasketch), LSH, clusters without "
        "chains (every removed document is a near duplicate of the one it points to); keep "
        "`first`/`longest`/`quality`; `mode: distributed` runs datatrove-style signature → bucket → cluster → "
        "filter stages over many tasks; `reference_index` dedups a new crawl against an earlier run"
    )

    type_name = "dedup_minhash"
    doc = "docs/dedup.md"
    tests = ("tests/test_dedup.py", "tests/test_dedup_global.py", "tests/test_dedup_distributed.py")
    Params = MinHashDedupParams
    kind = "minhash"

    def __init__(self, params, ctx, name=None):
        super().__init__(params, ctx, name)
        self.hasher = params.hasher()

    def index_meta(self):
        p = self.params
        b, r = p.banding()
        return {"ngram": p.ngram, "num_perm": p.num_perm, "bands": b, "rows": r, "seed": p.seed,
                "normalization": p.normalization.model_dump()}

    def start_task(self, rank):
        self._sigs = RowStore(self._tmp(rank, "sigs"), self.params.num_perm)
        self._bands: list[np.ndarray] = []
        self._valid: list[np.ndarray] = []

    def add_batch(self, docs):
        sigs, valid = self.hasher.signatures([d.text for d in docs])
        self._sigs.add(sigs)
        self._bands.append(self.hasher.band_keys(sigs))
        self._valid.append(valid)
        self.count("documents_without_shingles", int((~valid).sum()))

    def decide(self, n_ref, ref_keys, ref_sigs, order, length, quality, weight):
        b = self.hasher.bands
        self._band_arr = np.concatenate(self._bands) if self._bands else np.zeros((0, b), np.uint64)
        self._sig_arr = self._sigs.array()
        self._valid_arr = np.concatenate(self._valid) if self._valid else np.zeros(0, bool)
        bands = self._band_arr if ref_keys is None else np.concatenate([ref_keys, self._band_arr])
        sigs = Stacked(ref_sigs, self._sig_arr)
        valid = np.concatenate([np.ones(n_ref, dtype=bool), self._valid_arr])
        p = self.params
        src, dst = all_edges(bands, order, valid, sigs, p.threshold if p.verify else None)
        self.count("linked_pairs", len(src))
        result = cluster(len(order), src, dst, order, policy=p.keep, length=length, quality=quality,
                         is_reference=order < n_ref, weight=weight, sigs=sigs,
                         threshold=p.threshold if p.verify else None)
        return result, survivor_similarity(result, sigs)

    def kept_index(self, kept_rows):
        rows = kept_rows[self._valid_arr[kept_rows]]
        return rows, self._band_arr[rows], np.asarray(self._sig_arr[rows])

    def end_task(self):
        self._sigs.remove()

    # -- distributed mode (curate.dedup.distributed) ------------------------------------------------------------------
    def collector(self):
        from curate.dedup.distributed import SignatureWriter

        return SignatureWriter(self)

    def global_stages(self):
        from curate.dedup.distributed import BucketStage, ClusterStage

        bands = self.hasher.bands
        return [("buckets", min(self.params.bucket_tasks or bands, bands), [BucketStage(self)]),
                ("cluster", 1, [ClusterStage(self)])]

    def index_part(self, rank, world_size):
        from curate.dedup.distributed import IndexPart

        return IndexPart(self, rank, world_size) if self.params.write_index else None
