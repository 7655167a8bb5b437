"""Deterministic batches from memory-mapped token shards.

The token stream is cut into non-overlapping chunks; each epoch visits them in a permutation drawn
from (seed, epoch).  Sample number k of the run is therefore a pure function of k, so the data
position to restore on resume is just the step counter, and in distributed runs rank r of W reads
rows r::W of the same global batch (no sampler state, no duplicated or skipped samples).
"""

from __future__ import annotations

import numpy as np

from .shards import TokenShard


class ChunkSampler:
    def __init__(self, shard: TokenShard, chunk_len: int, seed: int = 0, shuffle: bool = True):
        self.shard, self.chunk_len, self.seed, self.shuffle = shard, chunk_len, seed, shuffle
        self.n_chunks = len(shard) // chunk_len
        if self.n_chunks == 0:
            raise ValueError(f"{len(shard)} tokens are fewer than one chunk of {chunk_len}")
        self._perm_epoch, self._perm = -1, None

    def _permutation(self, epoch: int) -> np.ndarray:
        if epoch != self._perm_epoch:
            self._perm = (np.random.default_rng([self.seed, epoch]).permutation(self.n_chunks)
                          if self.shuffle else np.arange(self.n_chunks))
            self._perm_epoch = epoch
        return self._perm

    def chunk_ids(self, start: int, count: int) -> np.ndarray:
        """Chunk indices of samples start .. start+count-1 of the run."""
        k = np.arange(start, start + count)
        epochs, pos = np.divmod(k, self.n_chunks)
        out = np.empty(count, dtype=np.int64)
        for e in np.unique(epochs):
            sel = epochs == e
            out[sel] = self._permutation(int(e))[pos[sel]]
        return out

    def chunks(self, start: int, count: int) -> np.ndarray:
        ids = self.chunk_ids(start, count)
        tokens = self.shard.tokens
        return np.stack([np.asarray(tokens[i * self.chunk_len:(i + 1) * self.chunk_len]) for i in ids])


class MixtureSampler:
    """Several token directories drawn in fixed proportions, still a pure function of the sample index.

    The weights become a pattern of `period` slots (largest remainder, spread evenly); sample k comes from source
    pattern[k % period], and is that source's j-th sample, j counted in closed form. Each source cycles through its
    own chunks in its own per-epoch permutations (a small source is repeated, a large one is subsampled).
    """

    def __init__(self, samplers: list[ChunkSampler], weights: list[float], period: int = 1000):
        if len(samplers) != len(weights) or not samplers:
            raise ValueError("a mixture needs one weight per token directory")
        self.samplers = samplers
        total = float(sum(weights))
        quota = [w / total * period for w in weights]
        counts = [int(q) for q in quota]
        for i in sorted(range(len(quota)), key=lambda i: counts[i] - quota[i])[: period - sum(counts)]:
            counts[i] += 1
        # Spread each source's slots evenly over the period (slot j of source s at position (j + 0.5) / count).
        slots = sorted((((j + 0.5) / c, s) for s, c in enumerate(counts) for j in range(c)))
        self.pattern = np.array([s for _, s in slots], dtype=np.int64)
        self.period, self.counts = period, np.array(counts, dtype=np.int64)
        # before[s][p]: samples of source s among pattern[:p]
        self.before = np.stack([np.concatenate([[0], np.cumsum(self.pattern == s)]) for s in range(len(samplers))])
        self.chunk_len = samplers[0].chunk_len
        self.n_chunks = sum(x.n_chunks for x in samplers)

    def source_counts(self, n_samples: int) -> list[int]:
        """How many of the first n_samples come from each source."""
        full, rest = divmod(n_samples, self.period)
        return [int(full * self.counts[s] + self.before[s][rest]) for s in range(len(self.samplers))]

    def chunks(self, start: int, count: int) -> np.ndarray:
        rows = []
        for k in range(start, start + count):
            s = int(self.pattern[k % self.period])
            j = (k // self.period) * int(self.counts[s]) + int(self.before[s][k % self.period])
            rows.append(self.samplers[s].chunks(j, 1)[0])
        return np.stack(rows)


class PretrainBatches:
    """`batches(step, micro, rank)` -> the micro-batch this process trains on at that point."""

    def __init__(self, sampler: ChunkSampler, collator, batch_size: int, grad_accum: int, world: int, seed: int):
        self.sampler, self.collator = sampler, collator
        self.batch_size, self.grad_accum, self.world, self.seed = batch_size, grad_accum, world, seed

    @property
    def global_batch(self) -> int:
        return self.batch_size * self.grad_accum * self.world

    def __call__(self, step: int, micro: int, rank: int) -> dict:
        start = step * self.global_batch + micro * self.batch_size * self.world + rank * self.batch_size
        chunks = self.sampler.chunks(start, self.batch_size)
        # Noise masks are seeded by the position in the run too, hence identical after a resume.
        rng = np.random.default_rng([self.seed, 1, step, micro, rank])
        return self.collator(chunks, rng)
