import numpy as np
import pytest

from train.objectives.span_corruption import (SpanCorruptionCollator, compute_input_and_target_lengths,
                                              random_spans_noise_mask, reference_noise_mask)


@pytest.mark.parametrize("inputs_length,expected", [(512, (568, 114)), (256, (284, 58)), (1024, (1137, 229)),
                                                    (64, (70, 14))])
def test_length_formula_known_values(inputs_length, expected):
    assert compute_input_and_target_lengths(inputs_length, 0.15, 3.0) == expected


def test_noise_mask_matches_reference_statistics():
    rng = np.random.default_rng(0)
    mask = random_spans_noise_mask(rng, 512, 568, 0.15, 3.0)
    np.random.seed(0)
    ref = np.stack([reference_noise_mask(568, 0.15, 3.0) for _ in range(512)])
    # Exactly the same number of noise tokens and spans in every row as the reference algorithm.
    assert (mask.sum(1) == 85).all() and (ref.sum(1) == 85).all()
    spans = lambda m: (m[:, 1:] & ~m[:, :-1]).sum(1) + m[:, 0]
    assert (spans(mask) == 28).all() and (spans(ref) == 28).all()
    assert not mask[:, 0].any()  # the first span is never noise, as in T5
    # Same distribution: noise frequency per position agrees with the reference.
    assert np.abs(mask.mean(0).reshape(8, -1).mean(1) - ref.mean(0).reshape(8, -1).mean(1)).max() < 0.03
    # Rows differ from each other.
    assert len({r.tobytes() for r in mask}) == 512


def test_noise_mask_reproducible_from_seed():
    a = random_spans_noise_mask(np.random.default_rng([7, 3]), 4, 100)
    b = random_spans_noise_mask(np.random.default_rng([7, 3]), 4, 100)
    c = random_spans_noise_mask(np.random.default_rng([7, 4]), 4, 100)
    assert (a == b).all() and not (a == c).all()


def test_inputs_and_targets_reconstruct_the_chunk():
    vocab, eos = 1000, 1
    col = SpanCorruptionCollator(sentinel_start_id=vocab - 1, eos_id=eos, inputs_length=64)
    chunks = np.random.default_rng(0).integers(4, 800, size=(16, col.tokens_length))
    batch = col(chunks, np.random.default_rng(1))
    inputs, targets = batch["input_ids"].numpy(), batch["labels"].numpy()
    assert inputs.shape == (16, 64) and targets.shape == (16, col.targets_length)
    assert (inputs[:, -1] == eos).all() and (targets[:, -1] == eos).all()
    for row in range(16):
        # Fill each sentinel of the input with the tokens that follow the same sentinel in the target.
        spans, cur = {}, None
        for t in targets[row, :-1]:
            if t >= 900:
                cur = t
                spans[cur] = []
            else:
                spans[cur].append(t)
        rebuilt = []
        for t in inputs[row, :-1]:
            rebuilt.extend(spans[t] if t >= 900 else [t])
        assert rebuilt == chunks[row].tolist()
        sentinels = [t for t in inputs[row] if t >= 900]
        assert sentinels == list(range(vocab - 1, vocab - 1 - len(sentinels), -1))  # <extra_id_0>, 1, ...


@pytest.mark.parametrize("length,density", [(32, 0.01), (10, 0.02)])
def test_noise_count_is_clamped_as_in_t5(length, density):
    # 32 tokens at density 0.01 round to 0 noise tokens: T5 clamps to at least one (and at most length - 1).
    mask = random_spans_noise_mask(np.random.default_rng(0), 4, length, density, 3.0)
    assert (mask.sum(1) >= 1).all() and (mask.sum(1) <= length - 1).all() and not mask[:, 0].any()
    col = SpanCorruptionCollator(sentinel_start_id=999, eos_id=1, inputs_length=length, noise_density=density)
    batch = col(np.random.default_rng(0).integers(4, 800, size=(4, col.tokens_length)), np.random.default_rng(1))
    assert batch["input_ids"].shape == (4, length) and (batch["labels"][:, 0] == 999).all()
