"""Packed causal LM batches: documents concatenated with EOS between them, cut into fixed windows.

With `document_attention=True` the position ids restart after every EOS.  transformers (>= 4.56)
detects such packed position ids when no attention mask is passed and builds a block-diagonal causal
mask (sdpa/eager/flex) or varlen kernels (flash-attention), so tokens never attend across documents.
"""

from __future__ import annotations

import numpy as np
import torch


def document_position_ids(tokens: np.ndarray, eos_id: int) -> np.ndarray:
    """Positions counting from 0 at the start of every document (the token after each EOS)."""
    batch, length = tokens.shape
    is_start = np.zeros((batch, length), dtype=bool)
    is_start[:, 0] = True
    is_start[:, 1:] = tokens[:, :-1] == eos_id
    idx = np.broadcast_to(np.arange(length), (batch, length))
    start = np.maximum.accumulate(np.where(is_start, idx, 0), axis=1)
    return idx - start


class CausalLMCollator:
    def __init__(self, eos_id: int, seq_len: int, document_attention: bool = False):
        self.eos_id, self.seq_len, self.document_attention = eos_id, seq_len, document_attention
        self.tokens_length = seq_len

    def __call__(self, chunks: np.ndarray, rng: np.random.Generator | None = None) -> dict[str, torch.Tensor]:
        chunks = np.asarray(chunks, dtype=np.int64)
        batch = {"input_ids": torch.from_numpy(chunks), "labels": torch.from_numpy(chunks.copy())}
        if self.document_attention:
            batch["position_ids"] = torch.from_numpy(document_position_ids(chunks, self.eos_id))
        return batch
