"""The GPU fast paths give the reference path's loss and gradients (checked on CPU)."""

import numpy as np
import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from train.losses import LanguageModelLoss, chunked_cross_entropy_sum
from train.models import build_config
from train.objectives.causal_lm import CausalLMCollator
from train.shards import TokenShard
from train.data import ChunkSampler


def _batch(tokens_dir, document_attention=True):
    shard = TokenShard(tokens_dir)
    return CausalLMCollator(shard.eos_id, 64, document_attention)(ChunkSampler(shard, 64).chunks(0, 4))


@pytest.mark.parametrize("tie", [False, True])
def test_chunked_loss_equals_reference(tokens_dir, tie):
    tok = AutoTokenizer.from_pretrained(TokenShard(tokens_dir).tokenizer_dir)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(build_config("llama-tiny", tok, {"tie_word_embeddings": tie}))
    batch = _batch(tokens_dir)
    results = []
    for chunked in (False, True):
        model.zero_grad()
        loss = LanguageModelLoss(model, chunked=chunked, chunk_rows=50)  # 4 x 63 rows: 6 chunks, the last short
        assert loss.chunked == chunked
        value, _ = loss(batch)
        value.backward()
        results.append((value.detach(), {n: p.grad.clone() for n, p in model.named_parameters()}))
    (ref, ref_grads), (fast, fast_grads) = results
    torch.testing.assert_close(fast, ref, rtol=1e-6, atol=1e-5)
    for name in ref_grads:
        torch.testing.assert_close(fast_grads[name], ref_grads[name], rtol=1e-4, atol=1e-6)


def test_chunked_cross_entropy_ignores_masked_rows():
    torch.manual_seed(0)
    h, w = torch.randn(10, 8), torch.randn(30, 8)
    t = torch.randint(0, 30, (10,))
    t[::3] = -100
    ref = torch.nn.functional.cross_entropy(h @ w.t(), t, ignore_index=-100, reduction="sum")
    torch.testing.assert_close(chunked_cross_entropy_sum(h, w, t, chunk_rows=3), ref)


@pytest.mark.slow
def test_flex_attention_block_mask_equals_dense_mask(tokens_dir):
    """FlexAttention with the document BlockMask == SDPA with the dense mask (forward: flex has no CPU backward;
    on GPUs it trains). Slow on CPU: torch.compile builds the flex kernel (~30 s)."""
    tok = AutoTokenizer.from_pretrained(TokenShard(tokens_dir).tokenizer_dir)
    batch = _batch(tokens_dir)
    out = {}
    for impl in ("sdpa", "flex_attention"):
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_config(build_config("llama-tiny", tok), attn_implementation=impl).eval()
        with torch.no_grad():
            out[impl] = LanguageModelLoss(model)(batch)[0]
    torch.testing.assert_close(out["flex_attention"], out["sdpa"], rtol=1e-5, atol=1e-4)
