"""What the training loop minimises: a module around the model whose forward returns a SUM of per-item losses.

The loop divides the sum by the number of items (target tokens, preference pairs) of the whole optimizer step,
counted on the host before the step, over every micro-batch and every rank. So the loss and its gradient are
token-weighted whatever the gradient accumulation and the world size: `grad_accum=2, batch=4` is the same step
as `batch=8` even when the micro-batches hold different numbers of target tokens.

`LanguageModelLoss` has two paths that give the same value (tested):
- reference: the model's logits, then cross-entropy in fp32;
- chunked (CUDA by default): the decoder's last hidden states times the lm-head weight, `chunk_rows` rows at a
  time under activation checkpointing, so the (batch x seq x vocab) fp32 logits (4 GB for 32 x 1024 x 32k) never
  exist at once; backward recomputes one chunk's logits at a time.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

from .attention import document_causal_mask
from .models import is_seq2seq


def _ce_sum(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100,
                           reduction="sum")


def _chunk_ce_sum(hidden: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return _ce_sum(hidden @ weight.t(), targets)


def chunked_cross_entropy_sum(hidden: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor,
                              chunk_rows: int = 4096) -> torch.Tensor:
    """sum of CE(hidden @ weight.T, targets) over rows, one chunk of logits alive at a time."""
    hidden, targets = hidden.reshape(-1, hidden.shape[-1]), targets.reshape(-1)
    total = hidden.new_zeros((), dtype=torch.float32)
    for i in range(0, hidden.shape[0], chunk_rows):
        total = total + checkpoint(_chunk_ce_sum, hidden[i:i + chunk_rows], weight, targets[i:i + chunk_rows],
                                   use_reentrant=False)
    return total


def supports_chunked_loss(model) -> bool:
    """A plain transformers decoder whose logits are exactly `lm_head(model.model(...))` (no peft wrapper, no
    soft-capping or logit scaling)."""
    from transformers import PreTrainedModel

    cfg = model.config
    head = model.get_output_embeddings() if isinstance(model, PreTrainedModel) else None
    return (head is not None and not is_seq2seq(model) and isinstance(head, torch.nn.Linear) and head.bias is None
            and hasattr(model, "model") and not getattr(cfg, "final_logit_softcapping", None)
            and getattr(cfg, "logit_scale", None) is None and getattr(cfg, "logits_scaling", None) is None)


class LanguageModelLoss(torch.nn.Module):
    """forward(batch) -> (sum of target-token NLLs, {}) for causal LMs (labels shifted by one) and T5."""

    def __init__(self, model, chunked: bool = False, chunk_rows: int = 4096):
        super().__init__()
        self.model = model
        self.seq2seq = is_seq2seq(model)
        self.chunked = chunked and supports_chunked_loss(model)
        self.chunk_rows = chunk_rows

    def count(self, batch: dict) -> int:
        """Target tokens in a host batch."""
        labels = batch["labels"] if self.seq2seq else batch["labels"][:, 1:]
        return int((labels != -100).sum())

    def tokens(self, batch: dict) -> int:
        """Tokens the model reads in a host batch (padding excluded; T5: encoder + decoder tokens)."""
        n = int(batch["attention_mask"].sum()) if batch.get("attention_mask") is not None \
            else batch["input_ids"].numel()
        return n + (self.count(batch) if self.seq2seq else 0)

    def inputs(self, batch: dict) -> dict:
        """The model's keyword arguments: document ids become the attention mask."""
        batch = {k: v for k, v in batch.items() if k != "labels"}
        documents = batch.pop("document_ids", None)
        if documents is not None:
            impl = self.model.config._attn_implementation
            batch["attention_mask"] = document_causal_mask(documents, impl, self.model.dtype)
        return batch

    def forward(self, batch: dict):
        labels = batch["labels"]
        inputs = self.inputs(batch)
        if self.seq2seq:
            decoder_input_ids = self.model.prepare_decoder_input_ids_from_labels(labels=labels)
            logits = self.model(**inputs, decoder_input_ids=decoder_input_ids).logits
            return _ce_sum(logits, labels), {}
        if self.chunked:
            hidden = self.model.model(**inputs).last_hidden_state
            weight = self.model.get_output_embeddings().weight
            return chunked_cross_entropy_sum(hidden[:, :-1], weight, labels[:, 1:], self.chunk_rows), {}
        logits = self.model(**inputs).logits
        logits = logits[:, -labels.shape[1]:]  # prompt tuning prepends virtual-token positions
        return _ce_sum(logits[:, :-1], labels[:, 1:]), {}
