"""MinHash signatures and LSH band keys, computed for many documents at once.

The permutations are datasketch's own ("affine32" scheme: h -> a*fmix32(h) + b mod 2^32, parameters drawn by
`datasketch.MinHash(num_perm, seed)`), so a signature here equals `datasketch.MinHash(num_perm, seed,
hashfunc=int).update_batch(shingles)` bit for bit (tested) — only computed for a whole batch of documents with a few
numpy operations instead of one `update()` per shingle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from datasketch import MinHash
from datasketch.lsh import _optimal_param

from curate.dedup.text import Shingler, fmix64

_F1, _F2 = np.uint32(0x85EBCA6B), np.uint32(0xC2B2AE35)
EMPTY = np.uint32(0xFFFFFFFF)  # datasketch's initial value: a document without shingles keeps it everywhere


def fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint32(16))
    h = h * _F1
    h = h ^ (h >> np.uint32(13))
    h = h * _F2
    return h ^ (h >> np.uint32(16))


@lru_cache(maxsize=32)
def lsh_params(threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5) -> tuple[int, int]:
    """(bands, rows) minimising the weighted false positive/negative areas, exactly as datasketch's MinHashLSH."""
    return _optimal_param(threshold, num_perm, fp_weight, fn_weight)


@dataclass
class MinHasher:
    """Signatures (uint32, num_perm per document) and band keys (uint64, one per band) for batches of texts."""

    num_perm: int = 128
    bands: int = 14
    rows: int = 8
    seed: int = 1
    shingler: Shingler = field(default_factory=Shingler)
    chunk: int = 8192  # shingles per (chunk x num_perm) matrix: bounds the temporary memory to ~4 MB

    def __post_init__(self):
        if self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands*rows = {self.bands * self.rows} > num_perm = {self.num_perm}")
        a, b = MinHash(num_perm=self.num_perm, seed=self.seed, scheme="affine32").permutations
        self.a, self.b = a.astype(np.uint32)[None, :], b.astype(np.uint32)[None, :]
        salts = np.arange(1, self.bands + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        self._band_salt = fmix64(salts)[None, :]

    def signatures(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(signatures [n, num_perm] uint32, has_shingles [n] bool) for a batch of texts."""
        shingles = [self.shingler.shingles(t) for t in texts]
        return self.signatures_from_shingles(shingles), np.array([len(s) > 0 for s in shingles], dtype=bool)

    def signatures_from_shingles(self, shingles: list[np.ndarray]) -> np.ndarray:
        out = np.full((len(shingles), self.num_perm), EMPTY, dtype=np.uint32)
        counts = np.array([len(s) for s in shingles], dtype=np.int64)
        # documents are packed into chunks of ~`chunk` shingles; each chunk is one matrix and one minimum.reduceat
        i = 0
        while i < len(shingles):
            j, total = i, 0
            while j < len(shingles) and (total == 0 or total + counts[j] <= self.chunk):
                total += counts[j]
                j += 1
            rows = [k for k in range(i, j) if counts[k]]
            if rows:
                if len(rows) == 1 and counts[rows[0]] > self.chunk:  # one long document: min over sub-chunks
                    s = shingles[rows[0]]
                    for c in range(0, len(s), self.chunk):
                        out[rows[0]] = np.minimum(out[rows[0]], self._permuted(s[c:c + self.chunk]).min(axis=0))
                else:
                    flat = np.concatenate([shingles[k] for k in rows])
                    starts = np.concatenate([[0], np.cumsum(counts[rows])[:-1]])
                    out[rows] = np.minimum.reduceat(self._permuted(flat), starts, axis=0)
            i = j
        return out

    def _permuted(self, shingles: np.ndarray) -> np.ndarray:
        hv = fmix32(shingles.astype(np.uint32))[:, None]
        return hv * self.a + self.b  # uint32 wraps: the affine permutation mod 2^32

    def band_keys(self, sigs: np.ndarray) -> np.ndarray:
        """[n, bands] uint64: one hash per band of `rows` signature values (salted per band)."""
        n = len(sigs)
        v = sigs[:, : self.bands * self.rows].reshape(n, self.bands, self.rows).astype(np.uint64)
        h = np.zeros((n, self.bands), dtype=np.uint64)
        for r in range(self.rows):
            h = fmix64(h * np.uint64(0x100000001B3) + v[:, :, r])
        return fmix64(h ^ self._band_salt)


def estimated_jaccard(sa: np.ndarray, sb: np.ndarray) -> np.ndarray:
    """Row-wise share of equal signature values: the MinHash estimate of Jaccard similarity."""
    return (sa == sb).mean(axis=-1)
