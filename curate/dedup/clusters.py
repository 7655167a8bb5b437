"""From band keys to clusters, as array operations — the same code in single-node and distributed mode.

Definition (what both modes compute, so they agree by construction):
  * in each band, documents with the same band key form a bucket; its *anchor* is the bucket member that comes first
    in the global order (reference-index documents come before all new ones);
  * every other member gets an edge to the anchor — if `verify_threshold` is set, only when the estimated Jaccard of
    the two signatures reaches it (LSH false positives are dropped here);
  * clusters are the connected components of those edges (scipy's C implementation, not a Python union-find);
  * one member per cluster survives, by the keep policy; reference documents always win (they are already kept);
  * with signatures and a threshold (MinHash, verified), a member is removed as a duplicate of the survivor only if
    its estimated Jaccard with the survivor reaches the threshold. Components chain: A~B and B~C put A and C in one
    component however little they share (on 20,000 documents made of windows of the same real pages, half of the
    documents removed by chance overlap were below 0.5 with their survivor, some at 0.18, in components of 300).
    The members too far from their survivor are clustered again among themselves (their edges to each other), and
    so on until every member is settled: each round settles at least every component's survivor.

Star edges to the anchor connect the same documents as all pairs of a bucket, without the quadratic blow-up on big
buckets (boilerplate pages), and the anchor of a bucket can be found by one stable sort per band.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import xxhash
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from curate.dedup.minhash import estimated_jaccard

KeepPolicy = Literal["first", "longest", "quality"]


def bucket_edges(keys: np.ndarray, order: np.ndarray, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Edges (anchor, member) of one band. `keys[i]`, `order[i]` belong to document `rows[i]` (default: i)."""
    if rows is None:
        rows = np.arange(len(keys), dtype=np.int64)
    if len(keys) < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    idx = np.lexsort((order, keys))  # by key, then by order: the first row of each run is the anchor
    k = keys[idx]
    new = np.ones(len(k), dtype=bool)
    new[1:] = k[1:] != k[:-1]
    anchor_pos = np.maximum.accumulate(np.where(new, np.arange(len(k)), 0))
    members = ~new
    return rows[idx[anchor_pos[members]]], rows[idx[members]]


def verify_edges(src: np.ndarray, dst: np.ndarray, sigs, threshold: float, chunk: int = 65536) -> np.ndarray:
    """Mask of edges whose estimated Jaccard reaches `threshold` (signatures may be a memmap: read by rows)."""
    return similarity(src, dst, sigs, chunk) >= threshold


def all_edges(bands: np.ndarray, order: np.ndarray, valid: np.ndarray, sigs=None,
              verify_threshold: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Edges over every band, for documents held in memory (single-node mode)."""
    rows = np.flatnonzero(valid)
    srcs, dsts = [], []
    for b in range(bands.shape[1]):
        s, d = bucket_edges(bands[rows, b], order[rows], rows)
        srcs.append(s)
        dsts.append(d)
    src, dst = dedupe_edges(np.concatenate(srcs) if srcs else np.zeros(0, np.int64),
                            np.concatenate(dsts) if dsts else np.zeros(0, np.int64))
    if verify_threshold is not None and len(src):
        m = verify_edges(src, dst, sigs, verify_threshold)
        src, dst = src[m], dst[m]
    return src, dst


def dedupe_edges(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same pair is usually found in several bands; verify it once."""
    if not len(src):
        return src, dst
    pairs = np.unique(np.stack([src, dst], axis=1), axis=0)
    return pairs[:, 0], pairs[:, 1]


@dataclass
class ClusterResult:
    """Per document: its cluster (named by its survivor's row), the survivor, cluster size (weighted)."""

    labels: np.ndarray  # int64 [n]: the cluster, i.e. the row of its survivor
    survivor: np.ndarray  # int64 [n]: row of the surviving document of the cluster
    size: np.ndarray  # int64 [n]: number of (weighted) documents in the cluster, reference documents excluded
    members: np.ndarray  # int64 [n]: number of rows in the cluster (reference rows included)
    # float64 [n]: estimated Jaccard with the survivor (1.0 for survivors), when clustering measured it
    similarity: np.ndarray | None = None

    @property
    def removed(self) -> np.ndarray:
        return self.survivor != np.arange(len(self.survivor))


def cluster(n: int, src: np.ndarray, dst: np.ndarray, order: np.ndarray, *, policy: KeepPolicy = "first",
            length: np.ndarray | None = None, quality: np.ndarray | None = None,
            is_reference: np.ndarray | None = None, weight: np.ndarray | None = None,
            sigs=None, threshold: float | None = None) -> ClusterResult:
    """Connected components of the edges, then one survivor per component by the keep policy; with `sigs` and
    `threshold`, members below the threshold with their survivor are clustered again among themselves."""
    ref = is_reference if is_reference is not None else np.zeros(n, dtype=bool)
    keys: list[np.ndarray] = [order]  # np.lexsort: last key is the primary one
    if policy == "longest":
        keys.append(-np.asarray(length, dtype=np.int64))
    elif policy == "quality":
        q = np.asarray(quality, dtype=np.float64)
        keys.append(-np.where(np.isnan(q), -np.inf, q))  # documents without a score lose to scored ones
    keys.append(~ref)
    by_rank = np.lexsort(keys)  # rows in the keep policy's order: the first of a cluster survives
    rank = np.empty(n, dtype=np.int64)
    rank[by_rank] = np.arange(n)
    survivor = _survivors(_components(n, src, dst), rank, by_rank)
    sim = None
    if sigs is not None and threshold is not None and len(src):
        rows_n = np.arange(n, dtype=np.int64)
        active = np.ones(n, dtype=bool)
        final = rows_n.copy()
        sim = np.ones(n, dtype=np.float64)  # kept: the similarity each removed row was settled with
        while True:
            rows = np.flatnonzero(active & (survivor != rows_n))
            s = similarity(rows, survivor[rows], sigs)
            near = s >= threshold
            sim[rows[near]] = s[near]
            far = rows[~near]
            settled = active.copy()
            settled[far] = False
            if not settled.any():  # every component's survivor settles in its round: anything else would loop forever
                raise RuntimeError(f"MinHash clustering settled nothing in a round ({len(far)} rows left)")
            final[settled] = survivor[settled]
            active &= ~settled
            if not active.any():
                break
            keep = active[src] & active[dst]
            src, dst = src[keep], dst[keep]
            # the next round over the unsettled rows only: each round costs what is left, not the whole run (a
            # chained component of templated pages settles a little per round: 550 rounds at 1M documents)
            rows = np.flatnonzero(active)
            local = np.empty(n, dtype=np.int64)
            local[rows] = np.arange(len(rows))
            survivor = rows_n.copy()
            survivor[rows] = _survivors(_components(len(rows), local[src], local[dst]), rank[rows], by_rank)
        survivor = final
    w = np.ones(n, dtype=np.int64) if weight is None else np.asarray(weight, dtype=np.int64)
    size = np.bincount(survivor, weights=np.where(ref, 0, w), minlength=n).astype(np.int64)
    members = np.bincount(survivor, minlength=n).astype(np.int64)
    return ClusterResult(labels=survivor, survivor=survivor, size=size[survivor], members=members[survivor],
                         similarity=sim)


def _components(n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    if not len(src):
        return np.arange(n, dtype=np.int64)
    graph = coo_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n)).tocsr()
    return connected_components(graph, directed=False)[1].astype(np.int64)


def _survivors(labels: np.ndarray, rank: np.ndarray, by_rank: np.ndarray) -> np.ndarray:
    """Per row, the row of its component that the keep policy ranks first (`by_rank[rank[i]] == i`). `labels` and
    `rank` may be those of a subset of the rows (their rank among all rows)."""
    if not len(labels):
        return labels
    best = np.full(labels.max() + 1, len(by_rank), dtype=np.int64)
    np.minimum.at(best, labels, rank)
    return by_rank[best[labels]]


def similarity(a: np.ndarray, b: np.ndarray, sigs, chunk: int = 65536) -> np.ndarray:
    """Estimated Jaccard of rows a[i] and b[i] (signatures may be a memmap: read by rows, a chunk at a time)."""
    out = np.ones(len(a), dtype=np.float64)
    for c in range(0, len(a), chunk):
        out[c:c + chunk] = estimated_jaccard(np.asarray(sigs[a[c:c + chunk]]), np.asarray(sigs[b[c:c + chunk]]))
    return out


def cluster_id(survivor_id: str) -> str:
    """A cluster is named after its survivor, so the name is the same whichever mode or task count found it."""
    return f"{xxhash.xxh3_64_intdigest(survivor_id.encode('utf-8', 'surrogatepass')):016x}"


def survivor_similarity(result: ClusterResult, sigs, chunk: int = 65536) -> np.ndarray:
    """Estimated Jaccard of every document with its cluster's survivor (1.0 for survivors); what clustering
    measured already is not read again (the signatures of a million documents are read at random places)."""
    if result.similarity is not None:
        return result.similarity
    sim = np.ones(len(result.survivor), dtype=np.float64)
    rows = np.flatnonzero(result.removed)
    sim[rows] = similarity(rows, result.survivor[rows], sigs, chunk)
    return sim
