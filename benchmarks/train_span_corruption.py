"""Span-corruption collator throughput: batch-vectorized noise masks vs the per-example reference.

The reference is the Hugging Face Flax T5 example (run_t5_mlm_flax.py, FlaxDataCollatorForT5MLM):
one `random_spans_noise_mask` per example in a Python loop, then the batched sentinel filtering.
Both produce inputs (B, 512) and targets (B, 114) from (B, 568) raw tokens.  Target: ratio >= 2x.

    python benchmarks/train_span_corruption.py [--batch 128] [--iters 50]
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from train.objectives.span_corruption import (SpanCorruptionCollator, compute_input_and_target_lengths, reference_noise_mask)


class ReferenceCollator:
    """FlaxDataCollatorForT5MLM.__call__ minus tokenizer plumbing (same sentinel ids)."""

    def __init__(self, vocab_size, eos_id, inputs_length, noise_density=0.15, mean_noise_span_length=3.0):
        self.vocab_size, self.eos_id = vocab_size, eos_id
        self.noise_density, self.mean_noise_span_length = noise_density, mean_noise_span_length
        self.tokens_length, _ = compute_input_and_target_lengths(inputs_length, noise_density, mean_noise_span_length)

    def create_sentinel_ids(self, mask_indices):
        start_indices = mask_indices - np.roll(mask_indices, 1, axis=-1) * mask_indices
        start_indices[:, 0] = mask_indices[:, 0]
        sentinel_ids = np.where(start_indices != 0, np.cumsum(start_indices, axis=-1), start_indices)
        sentinel_ids = np.where(sentinel_ids != 0, (self.vocab_size - sentinel_ids), 0)
        sentinel_ids -= mask_indices - start_indices
        return sentinel_ids

    def filter_input_ids(self, input_ids, sentinel_ids):
        batch_size = input_ids.shape[0]
        input_ids_full = np.where(sentinel_ids != 0, sentinel_ids, input_ids)
        input_ids = input_ids_full[input_ids_full >= 0].reshape((batch_size, -1))
        return np.concatenate([input_ids, np.full((batch_size, 1), self.eos_id, dtype=np.int32)], axis=-1)

    def __call__(self, input_ids):
        batch_size, length = input_ids.shape
        mask_indices = np.asarray([reference_noise_mask(length, self.noise_density, self.mean_noise_span_length)
                                   for _ in range(batch_size)])
        labels_mask = ~mask_indices
        input_ids_sentinel = self.create_sentinel_ids(mask_indices.astype(np.int8))
        labels_sentinel = self.create_sentinel_ids(labels_mask.astype(np.int8))
        return {"input_ids": self.filter_input_ids(input_ids, input_ids_sentinel),
                "labels": self.filter_input_ids(input_ids, labels_sentinel)}


def bench(fn, iters):
    fn()  # warm up
    t = time.perf_counter()
    for _ in range(iters):
        fn()
    return (time.perf_counter() - t) / iters


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--inputs-length", type=int, default=512)
    ap.add_argument("--iters", type=int, default=50)
    args = ap.parse_args()
    vocab, eos = 32100, 1
    ours = SpanCorruptionCollator(vocab - 1, eos, args.inputs_length)
    ref = ReferenceCollator(vocab, eos, args.inputs_length)
    chunks = np.random.default_rng(0).integers(4, vocab - 100, size=(args.batch, ours.tokens_length))

    # Same algorithm, same output shapes and sentinel layout.
    a, b = ours(chunks, np.random.default_rng(0)), ref(chunks)
    assert tuple(a["input_ids"].shape) == b["input_ids"].shape and tuple(a["labels"].shape) == b["labels"].shape
    rng = np.random.default_rng(1)
    t_ours = bench(lambda: ours(chunks, rng), args.iters)
    t_ref = bench(lambda: ref(chunks), args.iters)
    ex = args.batch / t_ours, args.batch / t_ref
    print(f"span corruption, batch {args.batch}, inputs {args.inputs_length} (raw {ours.tokens_length}), "
          f"targets {ours.targets_length}")
    print(f"reference (per-example masks, HF Flax T5 example): {ex[1]:>10,.0f} examples/s  {1e3 * t_ref:7.2f} ms/batch")
    print(f"train (batch-vectorized masks):                     {ex[0]:>10,.0f} examples/s  {1e3 * t_ours:7.2f} ms/batch")
    print(f"ratio: {t_ref / t_ours:.2f}x (target >= 2x)")


if __name__ == "__main__":
    main()
