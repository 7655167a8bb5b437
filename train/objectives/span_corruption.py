"""T5 span corruption ("random spans noise mask"), vectorized over the batch.

Exactly the T5 objective (Raffel et al. 2020; t5.data.preprocessors.span_corruption): from a chunk of
`tokens_length` raw tokens, `noise_density` of them are masked in spans of mean length
`mean_noise_span_length`; each masked span is replaced by one sentinel in the input and the target
lists the sentinels followed by the tokens they hide, both ending with EOS:

    tokens  : a b c d e f g h
    inputs  : a <X0> d e <X1> h </s>          X0 = <extra_id_0> = last vocabulary id, X1 the one before
    targets : <X0> b c <X1> f g </s>

All rows of a batch have the same number of noise tokens and spans, so the segmentation can be drawn
for the whole batch at once: choosing k-1 cut points among n-1 gaps uniformly without replacement is an
argpartition over one random matrix.  `reference_noise_mask` is the per-example Python version from
the Hugging Face Flax T5 example, kept for tests and the benchmark.
"""

from __future__ import annotations

import numpy as np
import torch


def _lengths(tokens_length: int, noise_density: float, mean_noise_span_length: float) -> tuple[int, int, int]:
    # At least one noise token and one kept token, as T5's random_spans_noise_mask clamps (32 tokens at density
    # 0.01 round to 0 noise tokens, which has no segmentation).
    num_noise_tokens = min(max(int(round(tokens_length * noise_density)), 1), tokens_length - 1)
    num_nonnoise_tokens = tokens_length - num_noise_tokens
    num_noise_spans = max(int(round(min(num_noise_tokens, num_nonnoise_tokens) / mean_noise_span_length)), 1)
    return num_noise_tokens, num_nonnoise_tokens, num_noise_spans


def compute_input_and_target_lengths(inputs_length: int, noise_density: float = 0.15,
                                     mean_noise_span_length: float = 3.0) -> tuple[int, int]:
    """Raw chunk length giving `inputs_length` after corruption (EOS included), and the target length.

    Same search as T5's `random_spans_helper`: (512, .15, 3) -> (568, 114).
    """

    def inputs_targets(tokens_length):
        noise, nonnoise, spans = _lengths(tokens_length, noise_density, mean_noise_span_length)
        return nonnoise + spans + 1, noise + spans + 1  # +1: EOS

    tokens_length = inputs_length
    while tokens_length > 2 and inputs_targets(tokens_length)[0] > inputs_length:  # tiny densities: 1 noise token
        tokens_length -= 1
    while inputs_targets(tokens_length + 1)[0] <= inputs_length:
        tokens_length += 1
    _, targets_length = inputs_targets(tokens_length)
    # Minor corner case kept from T5: at density 0.5 the target may exceed the input by one.
    if noise_density == 0.5 and targets_length > inputs_length:
        tokens_length -= 1
        targets_length -= 1
    return tokens_length, targets_length


def _random_segmentation(rng: np.random.Generator, batch: int, num_items: int, num_segments: int) -> np.ndarray:
    """(batch, num_segments) positive lengths summing to num_items, uniform over all segmentations."""
    if num_segments == 1:
        return np.full((batch, 1), num_items, dtype=np.int64)
    keys = rng.random((batch, num_items - 1))
    cuts = np.argpartition(keys, num_segments - 2, axis=1)[:, : num_segments - 1]  # k-1 random gaps
    cuts.sort(axis=1)
    bounds = np.concatenate([np.zeros((batch, 1), np.int64), cuts + 1, np.full((batch, 1), num_items)], axis=1)
    return np.diff(bounds, axis=1)


def random_spans_noise_mask(rng: np.random.Generator, batch: int, length: int, noise_density: float = 0.15,
                            mean_noise_span_length: float = 3.0) -> np.ndarray:
    """Boolean (batch, length) mask, True = noise; every row starts with a non-noise span."""
    num_noise, num_nonnoise, num_spans = _lengths(length, noise_density, mean_noise_span_length)
    noise = _random_segmentation(rng, batch, num_noise, num_spans)
    nonnoise = _random_segmentation(rng, batch, num_nonnoise, num_spans)
    interleaved = np.stack([nonnoise, noise], axis=2).reshape(batch, 2 * num_spans)
    starts = np.cumsum(interleaved, axis=1)[:, :-1]
    indicator = np.zeros((batch, length), dtype=np.int8)
    indicator[np.arange(batch)[:, None], starts] = 1
    return np.cumsum(indicator, axis=1) % 2 == 1


def reference_noise_mask(length: int, noise_density: float = 0.15, mean_noise_span_length: float = 3.0) -> np.ndarray:
    """The Hugging Face Flax T5 example's per-example `random_spans_noise_mask` (uses np.random)."""
    num_noise_tokens = int(np.round(length * noise_density))
    num_nonnoise_tokens = length - num_noise_tokens
    num_noise_spans = int(np.round(min(num_noise_tokens, num_nonnoise_tokens) / mean_noise_span_length))
    num_noise_spans = max(num_noise_spans, 1)

    def _random_segmentation(num_items, num_segments):
        mask_indices = np.arange(num_items - 1) < (num_segments - 1)
        np.random.shuffle(mask_indices)
        first_in_segment = np.pad(mask_indices, [[1, 0]])
        segment_id = np.cumsum(first_in_segment)
        _, segment_length = np.unique(segment_id, return_counts=True)
        return segment_length

    noise_span_lengths = _random_segmentation(num_noise_tokens, num_noise_spans)
    nonnoise_span_lengths = _random_segmentation(num_nonnoise_tokens, num_noise_spans)
    interleaved = np.reshape(np.stack([nonnoise_span_lengths, noise_span_lengths], axis=1), [num_noise_spans * 2])
    span_starts = np.cumsum(interleaved)[:-1]
    span_start_indicator = np.zeros((length,), dtype=np.int8)
    span_start_indicator[span_starts] = True
    span_num = np.cumsum(span_start_indicator)
    return np.equal(span_num % 2, 1)


def apply_sentinels(tokens: np.ndarray, mask: np.ndarray, sentinel_start_id: int, eos_id: int) -> np.ndarray:
    """Replace each run of True in `mask` by one sentinel (first run -> sentinel_start_id, then -1, ...),
    drop the other masked tokens and append EOS.  Every row keeps the same number of tokens."""
    batch = tokens.shape[0]
    prev = np.zeros_like(mask)
    prev[:, 1:] = mask[:, :-1]
    span_start = mask & ~prev
    span_index = np.cumsum(span_start, axis=1)  # 1 for the first span, 2 for the second...
    out = np.where(span_start, sentinel_start_id + 1 - span_index, tokens)
    keep = ~mask | span_start
    out = out[keep].reshape(batch, -1)
    return np.concatenate([out, np.full((batch, 1), eos_id, dtype=out.dtype)], axis=1)


class SpanCorruptionCollator:
    """Raw chunks (batch, tokens_length) -> T5 batch {input_ids, labels} as torch tensors."""

    def __init__(self, sentinel_start_id: int, eos_id: int, inputs_length: int = 512,
                 noise_density: float = 0.15, mean_noise_span_length: float = 3.0):
        self.sentinel_start_id, self.eos_id = sentinel_start_id, eos_id
        self.noise_density, self.mean_noise_span_length = noise_density, mean_noise_span_length
        self.inputs_length = inputs_length
        self.tokens_length, self.targets_length = compute_input_and_target_lengths(
            inputs_length, noise_density, mean_noise_span_length)

    def __call__(self, chunks: np.ndarray, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        chunks = np.asarray(chunks, dtype=np.int64)
        batch, length = chunks.shape
        assert length == self.tokens_length, f"chunks must be {self.tokens_length} tokens, got {length}"
        mask = random_spans_noise_mask(rng, batch, length, self.noise_density, self.mean_noise_span_length)
        inputs = apply_sentinels(chunks, mask, self.sentinel_start_id, self.eos_id)
        targets = apply_sentinels(chunks, ~mask, self.sentinel_start_id, self.eos_id)
        # T5ForConditionalGeneration builds decoder_input_ids by shifting labels right (start = pad = 0).
        return {"input_ids": torch.from_numpy(inputs), "labels": torch.from_numpy(targets)}
