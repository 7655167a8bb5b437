"""`train eval`: perplexity on held-out token shards and multiple-choice accuracy by log-likelihood.

Multiple-choice files are local JSONL in one of two shapes:
  HellaSwag: {"ctx": "...", "endings": ["...", ...], "label": 2}
  MMLU:      {"question": "...", "choices": ["...", ...], "answer": 1 | "B"}
Each choice is scored by the summed log-probability of its tokens given the context (and k solved
examples in front for few-shot); acc uses the sum, acc_norm divides by the choice's character count,
as lm-evaluation-harness does.  For the same numbers on standard tasks use lm-eval (docs/train.md).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch

from .data import ChunkSampler
from .losses import LanguageModelLoss
from .models import is_seq2seq
from .objectives.causal_lm import CausalLMCollator
from .objectives.span_corruption import SpanCorruptionCollator
from .shards import TokenShard
from .sft import read_jsonl


def load_for_eval(path: str | Path):
    """(model, tokenizer) from a saved model directory or a peft adapter directory."""
    from transformers import AutoTokenizer

    from .finetune import load_adapter, load_base

    path = Path(path)
    model = load_adapter(path) if (path / "adapter_config.json").exists() else load_base(path)
    model.eval()
    return model, AutoTokenizer.from_pretrained(path)


def trained_with_document_attention(model_dir: str | Path) -> bool:
    """Whether the model's pretraining masked attention across documents (provenance.json, inherited by
    fine-tuned and merged models); True when unrecorded: a packed window's documents are then scored apart."""
    from .model_card import inherited_provenance

    pre = inherited_provenance(model_dir).get("pretraining") or {}
    return bool((pre.get("causal_lm") or {}).get("document_attention", True))


@torch.no_grad()
def perplexity(model, tokenizer, tokens_dir: str | Path, split: str = "val", seq_len: int = 512,
               batch_size: int = 8, max_batches: int | None = 50, seed: int = 0,
               document_attention: bool = True) -> dict:
    """exp(mean token NLL) over consecutive windows of the split (span-corruption targets for T5), with the same
    collator and loss as training: no target across a document boundary, and no attention across documents when
    `document_attention` (as the model was trained)."""
    shard = TokenShard(tokens_dir, split)
    seq2seq = is_seq2seq(model)
    if seq2seq:
        collator = SpanCorruptionCollator(tokenizer.convert_tokens_to_ids("<extra_id_0>"), tokenizer.eos_token_id,
                                          seq_len)
    else:
        collator = CausalLMCollator(tokenizer.eos_token_id, seq_len, document_attention)
    n = len(shard) // collator.tokens_length
    if n == 0:
        raise ValueError(f"{split} split has {len(shard)} tokens, fewer than one window of {collator.tokens_length}")
    windows = ChunkSampler(shard, collator.tokens_length, shuffle=False)  # consecutive, in order
    device = next(model.parameters()).device
    loss = LanguageModelLoss(model)
    nll, count = 0.0, 0
    for b, start in enumerate(range(0, n, batch_size)):
        if max_batches is not None and b >= max_batches:
            break
        host = collator(windows.chunks(start, min(n, start + batch_size) - start), np.random.default_rng([seed, b]))
        nll += loss({k: v.to(device) for k, v in host.items()})[0].item()
        count += loss.count(host)
    return {"split": split, "tokens": count, "nll": nll / count, "perplexity": math.exp(nll / count),
            "kind": "span-corruption targets" if seq2seq else "causal",
            **({} if seq2seq else {"document_attention": document_attention})}


def normalize_mc(record: dict) -> tuple[str, list[str], int]:
    if "endings" in record:  # HellaSwag
        ctx = record.get("ctx") or (record.get("ctx_a", "") + " " + record.get("ctx_b", "")).strip()
        return ctx, list(record["endings"]), int(record["label"])
    choices = list(record["choices"])  # MMLU
    answer = record["answer"]
    if isinstance(answer, str) and not answer.isdigit():
        answer = "ABCDEFGHIJ".index(answer.strip().upper())
    return f"Question: {record['question']}\nAnswer:", choices, int(answer)


@torch.no_grad()
def _continuation_logprobs(model, tokenizer, pairs: list[tuple[str, str]], batch_size: int = 16) -> list[float]:
    device = next(model.parameters()).device
    seq2seq = is_seq2seq(model)
    pad = tokenizer.pad_token_id
    out = []
    for i in range(0, len(pairs), batch_size):
        chunk = pairs[i:i + batch_size]
        ctx = [tokenizer(c, add_special_tokens=False)["input_ids"] for c, _ in chunk]
        cont = [tokenizer(x, add_special_tokens=False)["input_ids"] for _, x in chunk]
        if seq2seq:
            enc = [c + [tokenizer.eos_token_id] for c in ctx]
            ids, mask = _pad(enc, pad)
            labels, _ = _pad(cont, -100)
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device), labels=labels.to(device)).logits
            logp = torch.log_softmax(logits.float(), -1)
            tok_lp = logp.gather(-1, labels.clamp(min=0).to(device)[..., None])[..., 0]
            out += (tok_lp * (labels != -100).to(device)).sum(1).tolist()
        else:
            full = [c + x for c, x in zip(ctx, cont)]
            ids, mask = _pad(full, pad)
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
            logits = logits[:, -ids.shape[1]:]  # prompt tuning prepends virtual-token positions
            logp = torch.log_softmax(logits.float(), -1)
            for j, (c, x) in enumerate(zip(ctx, cont)):
                pos = torch.arange(len(c), len(c) + len(x), device=device)
                out.append(logp[j, pos - 1, torch.tensor(x, device=device)].sum().item())
    return out


def _pad(seqs: list[list[int]], value: int) -> tuple[torch.Tensor, torch.Tensor]:
    n = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), n), value, dtype=torch.long)
    mask = torch.zeros((len(seqs), n), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s, dtype=torch.long)
        mask[i, : len(s)] = 1
    return ids, mask


def multiple_choice(model, tokenizer, path: str | Path, shots: int = 0, fewshot_path: str | Path | None = None,
                    limit: int | None = None) -> dict:
    records = [normalize_mc(r) for r in read_jsonl(path)]
    pool = [normalize_mc(r) for r in read_jsonl(fewshot_path)] if fewshot_path else records
    if limit:
        records = records[:limit]
    correct = correct_norm = 0
    for i, (ctx, choices, label) in enumerate(records):
        # Few-shot: the first k solved examples of the pool, never the question itself.
        demos = [p for j, p in enumerate(pool) if fewshot_path or j != i][:shots]
        prefix = "".join(f"{c} {ch[lab]}\n\n" for c, ch, lab in demos)
        scores = _continuation_logprobs(model, tokenizer, [(prefix + ctx, " " + ch) for ch in choices])
        norm = [s / max(1, len(ch)) for s, ch in zip(scores, choices)]
        correct += int(np.argmax(scores) == label)
        correct_norm += int(np.argmax(norm) == label)
    n = len(records)
    return {"task": Path(path).stem, "shots": shots, "n": n, "acc": correct / n, "acc_norm": correct_norm / n}


def run_lm_eval(model_dir: str | Path, tasks: list[str], include_path: str | Path | None = None, shots: int = 0,
                limit: int | None = None, batch_size: int = 8) -> dict:
    """lm-evaluation-harness on a saved model or adapter, offline: {task: {metric: value}}.

    Tasks come from lm-eval's registry (their data must be in the local datasets cache) or from task YAMLs in
    `include_path` (e.g. the one `train demo-data` writes for the demo multiple-choice set)."""
    import lm_eval
    from lm_eval.tasks import TaskManager

    path = Path(model_dir)
    adapter = path / "adapter_config.json"
    if adapter.exists():
        base = json.loads(adapter.read_text())["base_model_name_or_path"]
        model_args = f"pretrained={base},peft={path.resolve()},tokenizer={path.resolve()}"
    else:
        model_args = f"pretrained={path.resolve()}"
    backend = "seq2seq" if is_seq2seq(__import__("transformers").AutoConfig.from_pretrained(
        json.loads(adapter.read_text())["base_model_name_or_path"] if adapter.exists() else path)) else "causal"
    manager = TaskManager(include_path=str(include_path) if include_path else None)
    out = lm_eval.simple_evaluate(model="hf", model_args=f"{model_args},backend={backend}", tasks=tasks,
                                  num_fewshot=shots, limit=limit, batch_size=batch_size, device="cpu"
                                  if not torch.cuda.is_available() else None, task_manager=manager,
                                  log_samples=False)
    return {task: {k.split(",")[0]: float(v) for k, v in metrics.items()
                   if isinstance(v, (int, float)) and k.split(",")[0] in ("acc", "acc_norm", "exact_match", "f1", "mcc",
                                                                    "perplexity", "word_perplexity")}
            for task, metrics in out["results"].items()}
