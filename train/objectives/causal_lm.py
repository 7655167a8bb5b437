"""Packed causal LM batches: documents concatenated with EOS between them, cut into fixed windows.

Every document ends with EOS, so the token after an EOS starts a new document: its label is masked (-100), since
nothing in document A predicts the first token of document B. With `document_attention=True` the batch also carries
`document_ids` (0, 1, 2... per row) and position ids that restart at every document; `train.attention` turns the
document ids into the attention mask (a block-diagonal causal mask, a flex-attention BlockMask on GPUs), so no token
attends across documents, whatever the transformers version.
"""

from __future__ import annotations

import numpy as np
import torch


def document_starts(tokens: np.ndarray, eos_id: int) -> np.ndarray:
    """True where a document starts: position 0 and every token after an EOS."""
    is_start = np.zeros(tokens.shape, dtype=bool)
    is_start[:, 0] = True
    is_start[:, 1:] = tokens[:, :-1] == eos_id
    return is_start


def document_position_ids(tokens: np.ndarray, eos_id: int) -> np.ndarray:
    """Positions counting from 0 at the start of every document (the token after each EOS)."""
    batch, length = tokens.shape
    idx = np.broadcast_to(np.arange(length), (batch, length))
    start = np.maximum.accumulate(np.where(document_starts(tokens, eos_id), idx, 0), axis=1)
    return idx - start


def boundary_masked_labels(tokens: np.ndarray, eos_id: int) -> np.ndarray:
    """Labels = tokens, except the first token of each document after the first (-100: not predicted from the
    previous document's EOS). Position 0 is never a target anyway (the model shifts labels by one)."""
    labels = tokens.copy()
    after_eos = np.zeros(tokens.shape, dtype=bool)
    after_eos[:, 1:] = tokens[:, :-1] == eos_id
    labels[after_eos] = -100
    return labels


class CausalLMCollator:
    def __init__(self, eos_id: int, seq_len: int, document_attention: bool = False):
        self.eos_id, self.seq_len, self.document_attention = eos_id, seq_len, document_attention
        self.tokens_length = seq_len

    def __call__(self, chunks: np.ndarray, rng: np.random.Generator | None = None) -> dict[str, torch.Tensor]:
        chunks = np.asarray(chunks, dtype=np.int64)
        batch = {"input_ids": torch.from_numpy(chunks),
                 "labels": torch.from_numpy(boundary_masked_labels(chunks, self.eos_id))}
        if self.document_attention:
            batch["position_ids"] = torch.from_numpy(document_position_ids(chunks, self.eos_id))
            batch["document_ids"] = torch.from_numpy(np.cumsum(document_starts(chunks, self.eos_id), axis=1) - 1)
        return batch
