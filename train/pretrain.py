"""`train pretrain CONFIG`: span corruption (T5) or packed causal LM (Llama-style) on token shards."""

from __future__ import annotations

import json
from pathlib import Path

from accelerate.utils import set_seed

from .data import ChunkSampler, PretrainBatches
from .loop import fit, make_accelerator, save_model
from .model_card import write_model_card
from .models import flops_per_token, is_seq2seq, load_model
from .objectives.causal_lm import CausalLMCollator
from .objectives.span_corruption import SpanCorruptionCollator
from .shards import TokenShard

OBJECTIVES = ("span-corruption", "causal-lm")


def load_tokenizer(cfg: dict, shard: TokenShard):
    from transformers import AutoTokenizer

    path = cfg["model"].get("tokenizer") or shard.tokenizer_dir
    tok = AutoTokenizer.from_pretrained(str(path))
    from .tokenizer import tokenizer_hash
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
    if objective == "causal-lm":
        cl = cfg["causal_lm"]
        return CausalLMCollator(tokenizer.eos_token_id, cl["seq_len"], cl.get("document_attention", False))
    raise ValueError(f"objective must be one of {OBJECTIVES}, not {objective!r}")


def pretrain(cfg: dict, resume: str | bool | None = None, log=print) -> Path:
    accelerator = make_accelerator(cfg)
    log = log if accelerator.is_main_process else (lambda *_: None)
    set_seed(cfg["seed"])  # same initial weights on every rank and in every rerun
    shard = TokenShard(cfg["data"]["tokens"], cfg["data"].get("split", "train"))
    tokenizer = load_tokenizer(cfg, shard)
    model = load_model(cfg["model"], tokenizer)
    seq2seq = is_seq2seq(model)
    if seq2seq != (cfg["objective"] == "span-corruption"):
        raise ValueError(f"objective {cfg['objective']} does not fit a {'seq2seq' if seq2seq else 'decoder-only'} model")

    collator = make_collator(cfg, tokenizer)
    sampler = ChunkSampler(shard, collator.tokens_length, seed=cfg["seed"])
    tcfg = cfg["train"]
    batches = PretrainBatches(sampler, collator, tcfg["batch_size"], tcfg.get("grad_accum", 1),
                              accelerator.num_processes, cfg["seed"])
    seq_len = cfg["span_corruption"]["inputs_length"] if seq2seq else cfg["causal_lm"]["seq_len"]
    log(f"{cfg['objective']}: {sampler.n_chunks:,} chunks of {collator.tokens_length} tokens, "
        f"global batch {batches.global_batch}")
    model = fit(cfg, accelerator, model, batches, flops_per_token=flops_per_token(model, seq_len),
                resume=resume, log=log)

    out = Path(cfg["output_dir"]) / "model"
    save_model(accelerator, model, out, tokenizer)
    if accelerator.is_main_process:
        write_model_card(out, kind="pretrain", config=cfg, tokens_meta=shard.meta, manifest=shard.manifest,
                         base_model=cfg["model"].get("checkpoint"), metrics=_last_log(Path(cfg["output_dir"])))
        log(f"saved {out}")
    accelerator.end_training()
    return out


def _last_log(out: Path) -> dict:
    p = out / "log.jsonl"
    if not p.exists():
        return {}
    lines = p.read_text().strip().splitlines()
    return json.loads(lines[-1]) if lines else {}
