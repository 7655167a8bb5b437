"""`train pretrain CONFIG`: span corruption (T5) or packed causal LM (Llama-style) on token shards.

The data is one token directory (`data.tokens`) or a weighted mixture of several (`data.mixture`); the held-out
split of the first one gives the validation loss.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from accelerate.utils import set_seed

from .attention import check_document_attention
from .data import ChunkSampler, MixtureSampler, PretrainBatches
from .losses import LanguageModelLoss
from .loop import fit, make_accelerator, save_model
from .model_card import mixture_provenance, write_model_card
from .models import flops_per_sample, is_seq2seq, load_model
from .objectives.causal_lm import CausalLMCollator
from .objectives.span_corruption import SpanCorruptionCollator
from .shards import TokenShard

OBJECTIVES = ("span-corruption", "causal-lm")


def load_tokenizer(cfg: dict, shards: list[TokenShard]):
    from transformers import AutoTokenizer

    from .tokenizer import tokenizer_hash

    path = cfg["model"]["tokenizer"] or shards[0].tokenizer_dir
    tok = AutoTokenizer.from_pretrained(str(path))
    for shard in shards:
        if tokenizer_hash(path) != shard.meta["tokenizer_hash"]:
            raise ValueError(f"tokenizer {path} is not the one the token shards in {shard.dir} were made with")
    return tok


def make_collator(cfg: dict, tokenizer):
    objective = cfg["objective"]
    if objective == "span-corruption":
        sc = cfg["span_corruption"]
        sentinel = tokenizer.convert_tokens_to_ids("<extra_id_0>")
        if sentinel is None or sentinel == tokenizer.unk_token_id:
            raise ValueError("span corruption needs a tokenizer with <extra_id_N> sentinels (train tokenizer --sentinels 100)")
        return SpanCorruptionCollator(sentinel, tokenizer.eos_token_id, sc["inputs_length"], sc["noise_density"],
                                      sc["mean_noise_span_length"])
    cl = cfg["causal_lm"]
    return CausalLMCollator(tokenizer.eos_token_id, cl["seq_len"], cl["document_attention"])


def token_dirs(cfg: dict) -> list[tuple[str, float]]:
    """(token directory, weight) pairs: the mixture, or data.tokens alone."""
    data = cfg["data"]
    if data["mixture"]:
        return [(m["tokens"], m["weight"]) for m in data["mixture"]]
    if not data["tokens"]:
        raise ValueError("pretraining needs data.tokens (a `train tokenize` directory) or data.mixture")
    return [(data["tokens"], 1.0)]


def validation_batches(tokens_dir: str, collator, batch_size: int, seed: int):
    """val(i): the i-th batch of consecutive validation windows (None past the end), or None without a val split."""
    try:
        shard = TokenShard(tokens_dir, "val")
        windows = ChunkSampler(shard, collator.tokens_length, shuffle=False)
    except (FileNotFoundError, ValueError):  # no val split, or fewer tokens than one window
        return None

    def val(i: int):
        start = i * batch_size
        if start >= windows.n_chunks:
            return None
        chunks = windows.chunks(start, min(batch_size, windows.n_chunks - start))
        return collator(chunks, np.random.default_rng([seed, 3, i]))

    return val


def pretrain(cfg: dict, resume: str | bool | None = None, log=print) -> Path:
    accelerator = make_accelerator(cfg)
    log = log if accelerator.is_main_process else (lambda *_: None)
    set_seed(cfg["seed"])  # same initial weights on every rank and in every rerun
    sources = token_dirs(cfg)
    shards = [TokenShard(d, cfg["data"]["split"]) for d, _ in sources]
    tokenizer = load_tokenizer(cfg, shards)
    if cfg["model"]["attn_implementation"] == "flex_attention" and accelerator.device.type != "cuda":
        # FlexAttention has no backward on CPU: the same document mask, dense, with SDPA
        log("model.attn_implementation flex_attention: no CPU backward, using sdpa with a dense document mask")
        cfg["model"]["attn_implementation"] = "sdpa"
    model = load_model(cfg["model"], tokenizer)
    seq2seq = is_seq2seq(model)
    if seq2seq != (cfg["objective"] == "span-corruption"):
        raise ValueError(f"objective {cfg['objective']} does not fit a {'seq2seq' if seq2seq else 'decoder-only'} model")
    if not seq2seq and cfg["causal_lm"]["document_attention"]:
        check_document_attention(cfg["model"]["attn_implementation"])

    collator = make_collator(cfg, tokenizer)
    samplers = [ChunkSampler(s, collator.tokens_length, seed=cfg["seed"] + i) for i, s in enumerate(shards)]
    sampler = samplers[0] if len(samplers) == 1 else MixtureSampler(samplers, [w for _, w in sources])
    tcfg = cfg["train"]
    batches = PretrainBatches(sampler, collator, tcfg["batch_size"], tcfg["grad_accum"],
                              accelerator.num_processes, cfg["seed"])
    log(f"{cfg['objective']}: {sampler.n_chunks:,} chunks of {collator.tokens_length} tokens, "
        f"global batch {batches.global_batch}")
    if seq2seq:
        flops = flops_per_sample(model, collator.inputs_length, collator.targets_length)
    else:
        flops = flops_per_sample(model, collator.seq_len)
    chunked = tcfg["chunked_loss"] if tcfg["chunked_loss"] != "auto" else accelerator.device.type == "cuda"
    objective = LanguageModelLoss(model, chunked=chunked)
    val = validation_batches(sources[0][0], collator, tcfg["batch_size"], cfg["seed"])
    objective = fit(cfg, accelerator, objective, batches, val_batches=val, flops_per_sample=flops, resume=resume,
                    log=log)

    out = Path(cfg["output_dir"]) / "model"
    save_model(accelerator, objective, out, tokenizer)
    if accelerator.is_main_process:
        trained = tcfg["max_steps"] * batches.global_batch
        counts = sampler.source_counts(trained) if isinstance(sampler, MixtureSampler) else [trained]
        prov = mixture_provenance([(s.meta, s.manifest, d, n * collator.tokens_length)
                                   for s, (d, _), n in zip(shards, sources, counts)])
        prov["pretraining"] = {"objective": cfg["objective"], **({"causal_lm": cfg["causal_lm"]} if not seq2seq
                                                               else {"span_corruption": cfg["span_corruption"]})}
        write_model_card(out, kind="pretrain", config=cfg, provenance=prov, base_model=cfg["model"]["checkpoint"],
                         metrics=_last_log(Path(cfg["output_dir"])))
        log(f"saved {out}")
    accelerator.end_training()
    return out


def _last_log(out: Path) -> dict:
    """The last training record and the last validation loss of log.jsonl."""
    p = out / "log.jsonl"
    if not p.exists():
        return {}
    recs = [json.loads(line) for line in p.read_text().splitlines() if line.strip()]
    train = [r for r in recs if "loss" in r]
    val = [r for r in recs if "val_loss" in r]
    return {**(train[-1] if train else {}), **({"val_loss": val[-1]["val_loss"]} if val else {})}

