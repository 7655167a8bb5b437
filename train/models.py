"""Model presets (T5 v1.1-style encoder-decoders, Llama-style decoders) and checkpoint loading.

Sizes follow the published configs: t5-small/base = T5 v1.1 sizes (gated-GELU; transformers 5 ties the embeddings);
llama-125m/350m mirror GPT-3 small/medium widths with Llama blocks (RMSNorm, SwiGLU, RoPE);
llama-1b = Llama-3.2-1B shape.  The tiny presets exist for CPU tests.
"""

from __future__ import annotations

from pathlib import Path

import torch

PRESETS: dict[str, dict] = {
    "t5-tiny": dict(arch="t5", d_model=64, d_ff=128, d_kv=16, num_layers=2, num_decoder_layers=2, num_heads=4),
    "t5-small": dict(arch="t5", d_model=512, d_ff=1024, d_kv=64, num_layers=8, num_decoder_layers=8, num_heads=6),
    "t5-base": dict(arch="t5", d_model=768, d_ff=2048, d_kv=64, num_layers=12, num_decoder_layers=12, num_heads=12),
    "llama-tiny": dict(arch="llama", hidden_size=64, intermediate_size=176, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=2048),
    "llama-125m": dict(arch="llama", hidden_size=768, intermediate_size=2048, num_hidden_layers=12,
                       num_attention_heads=12, num_key_value_heads=12, max_position_embeddings=4096),
    "llama-350m": dict(arch="llama", hidden_size=1024, intermediate_size=2816, num_hidden_layers=24,
                       num_attention_heads=16, num_key_value_heads=16, max_position_embeddings=4096),
    "llama-1b": dict(arch="llama", hidden_size=2048, intermediate_size=8192, num_hidden_layers=16,
                     num_attention_heads=32, num_key_value_heads=8, max_position_embeddings=8192,
                     rope_theta=500000.0, tie_word_embeddings=True),
}


def is_seq2seq(model_or_config) -> bool:
    config = getattr(model_or_config, "config", model_or_config)
    return bool(getattr(config, "is_encoder_decoder", False))


def build_config(preset: str, tokenizer, overrides: dict | None = None, pad_vocab_multiple: int = 64):
    from transformers import LlamaConfig, T5Config

    if preset not in PRESETS:
        raise ValueError(f"unknown model preset {preset!r}; known: {', '.join(PRESETS)}")
    spec = dict(PRESETS[preset])
    spec.update(overrides or {})
    arch = spec.pop("arch")
    vocab = len(tokenizer)
    if pad_vocab_multiple:
        vocab = -(-vocab // pad_vocab_multiple) * pad_vocab_multiple
    ids = dict(pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
    if arch == "t5":
        # transformers 5 always ties T5's input and output embeddings; leaving tie_word_embeddings unset
        # keeps the d_model**-0.5 output scaling that tied embeddings need (initial loss ~ln(vocab)).
        return T5Config(vocab_size=vocab, feed_forward_proj="gated-gelu",
                        decoder_start_token_id=tokenizer.pad_token_id, dropout_rate=0.0, **ids, **spec)
    spec.setdefault("tie_word_embeddings", False)
    return LlamaConfig(vocab_size=vocab, bos_token_id=tokenizer.bos_token_id, **ids, **spec)


def _auto_class(config):
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM

    return AutoModelForSeq2SeqLM if is_seq2seq(config) else AutoModelForCausalLM


def load_pretrained(path: str | Path, attn: str = "sdpa", dtype=None, what: str = "model.checkpoint",
                    head: str = "lm", **kwargs):
    """The model saved in the local directory `path` (`what` names it in the error: offline, never a hub name).
    head: `lm` (seq2seq or causal LM) or `reward` (a scalar score per sequence: sequence classification, 1 label)."""
    from transformers import AutoConfig, AutoModelForSequenceClassification

    if not Path(path).is_dir():
        raise FileNotFoundError(f"{what} {path} is not a local directory (offline: no hub downloads)")
    config = AutoConfig.from_pretrained(path)
    if head == "reward":
        if is_seq2seq(config):
            raise ValueError(f"{what} {path}: reward models need a decoder-only model, not an encoder-decoder")
        return AutoModelForSequenceClassification.from_pretrained(path, num_labels=1, attn_implementation=attn,
                                                                  dtype=dtype, **kwargs)
    return _auto_class(config).from_pretrained(path, attn_implementation=attn, dtype=dtype, **kwargs)


def load_model(model_cfg: dict, tokenizer, dtype=None):
    """A fresh model from `model.preset`, or the weights in the local directory `model.checkpoint`."""
    attn = model_cfg.get("attn_implementation") or "sdpa"
    if model_cfg.get("checkpoint"):
        return load_pretrained(model_cfg["checkpoint"], attn, dtype)
    config = build_config(model_cfg["preset"], tokenizer, model_cfg.get("overrides"),
                          model_cfg.get("pad_vocab_multiple", 64))
    return _auto_class(config).from_config(config, attn_implementation=attn, dtype=dtype)


def count_params(model, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def _attention_width(cfg) -> int:
    """Width of q/k/v after projection (heads x head dim), which the attention matmuls run over."""
    if is_seq2seq(cfg):
        return cfg.num_heads * cfg.d_kv
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    return cfg.num_attention_heads * head_dim


def flops_per_sample(model, input_len: int, target_len: int = 0) -> float:
    """Matmul FLOPs of one training sample (forward + backward = 3 x forward), as FlopCounterMode counts them.

    Every nn.Linear (the lm-head included, tied or not) costs 6 x weight size per token it reads; embedding
    lookups cost nothing. Attention costs 2 matmuls of (len_q x len_k x width) forward per layer, i.e. 12 x len_q x
    len_k x width for forward + backward (causal masks are counted in full, as the kernels and PaLM's MFU do).
    Decoder-only: `input_len` tokens. T5: the encoder reads `input_len` tokens, the decoder `target_len`; the
    cross-attention k/v projections read the encoder's `input_len` outputs (counting encoder + decoder tokens
    times one per-token figure overstated T5 by ~1.9x).
    """
    cfg = model.config
    width = _attention_width(cfg)
    linear = {name: m.weight.numel() for name, m in model.named_modules() if isinstance(m, torch.nn.Linear)}
    if not is_seq2seq(cfg):
        n = sum(linear.values())
        return 6.0 * n * input_len + 12.0 * cfg.num_hidden_layers * input_len * input_len * width
    flops = 0.0
    for name, size in linear.items():
        reads_encoder = name.startswith("encoder.") or ("EncDecAttention." in name and name[-2:] in (".k", ".v"))
        flops += 6.0 * size * (input_len if reads_encoder else target_len)
    flops += 12.0 * width * (cfg.num_layers * input_len * input_len            # encoder self-attention
                             + cfg.num_decoder_layers * target_len * target_len  # decoder self-attention
                             + cfg.num_decoder_layers * target_len * input_len)  # cross-attention
    return flops
