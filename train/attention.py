"""Document masking: `document_ids` (batch, seq) -> the attention mask the model's attention implementation takes.

- `flex_attention` (GPUs): a `BlockMask` (causal AND same document). Blocks that cross documents are skipped, so
  packed rows cost about what their documents cost alone, with FlexAttention's fused kernel.
- `sdpa` / `eager` (CPU, or a GPU without flex): a dense (batch, 1, seq, seq) boolean / additive mask. Correct
  everywhere, but SDPA cannot use its FlashAttention kernel with a dense mask.
- `flash_attention_2`: no mask; transformers (>= 4.56) turns the restarted position ids into varlen sequences.

A 4-D mask is taken as-is by transformers, so the masking does not depend on its packed-sequence detection.
"""

from __future__ import annotations

import torch

# The first transformers release that reads packed position ids as separate sequences (flash-attention varlen).
PACKED_POSITION_IDS_SINCE = (4, 56)


def _version_tuple(version: str) -> tuple[int, int]:
    major, minor = (version.split(".") + ["0"])[:2]
    return int(major), int("".join(ch for ch in minor if ch.isdigit()) or 0)


def check_document_attention(attn_implementation: str, transformers_version: str | None = None) -> None:
    """Fail loudly where document masking would silently attend across documents."""
    if transformers_version is None:
        import transformers
        transformers_version = transformers.__version__
    if attn_implementation == "flash_attention_2" and \
            _version_tuple(transformers_version) < PACKED_POSITION_IDS_SINCE:
        raise RuntimeError(f"causal_lm.document_attention with flash_attention_2 needs transformers >= "
                           f"{'.'.join(map(str, PACKED_POSITION_IDS_SINCE))} (found {transformers_version}): older "
                           f"versions ignore the restarted position ids and attend across documents")


def document_causal_mask(document_ids: torch.Tensor, attn_implementation: str, dtype: torch.dtype = torch.float32):
    """The mask for `model(..., attention_mask=...)`: token q sees token k iff k <= q and both are in one document."""
    batch, seq = document_ids.shape
    if attn_implementation == "flash_attention_2":
        return None
    if attn_implementation == "flex_attention":
        from torch.nn.attention.flex_attention import create_block_mask

        def same_document_causal(b, h, q, k):
            return (k <= q) & (document_ids[b, q] == document_ids[b, k])

        return create_block_mask(same_document_causal, batch, None, seq, seq, device=document_ids.device,
                                 _compile=document_ids.is_cuda)  # compiled: no (batch, seq, seq) tensor on GPUs
    causal = torch.ones(seq, seq, dtype=torch.bool, device=document_ids.device).tril()
    allowed = (document_ids[:, :, None] == document_ids[:, None, :]) & causal
    if attn_implementation == "eager":  # eager adds the mask to the scores
        return torch.zeros(allowed.shape, dtype=dtype, device=allowed.device).masked_fill_(
            ~allowed, torch.finfo(dtype).min)[:, None]
    return allowed[:, None]
