"""`train reward` and `train dpo`: learning from preference pairs, in the same loop as pretraining and SFT.

Data: JSONL of {"prompt" (or "instruction" + "input"), "chosen", "rejected"}. The prompt is rendered with the SFT
template (train/sft.py), so a pair is two SFT examples sharing a prompt, encoded exactly as SFT encodes them.

- reward: a scalar head on the SFT model (sequence classification, the score of the last token), trained with the
  Bradley-Terry loss -log sigmoid(r(chosen) - r(rejected)) (InstructGPT); full or PEFT (LoRA: the head trains too).
- dpo: Rafailov et al. 2023: -log sigmoid(beta * ((log pi(c) - log ref(c)) - (log pi(r) - log ref(r)))), with
  log-probs summed over response tokens. The reference is the starting model; its log-probs are computed once,
  before training, and travel with the batches, so no second model is kept in memory.
Both are decoder-only.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import torch
import torch.nn.functional as F
from accelerate.utils import set_seed

from .finetune import load_for_training, save_trained, stage_record
from .loop import fit, make_accelerator
from .models import is_seq2seq
from .sft import ExampleBatches, collate, encode_example, read_jsonl


def as_sft(record: dict, response: str) -> dict:
    if "instruction" in record:
        return {"instruction": record["instruction"], "input": record.get("input", ""), "output": response}
    return {"instruction": record["prompt"], "input": "", "output": response}


def encode_pairs(path: str, tokenizer, max_length: int) -> list[tuple[dict, dict]]:
    pairs = []
    for n, rec in enumerate(read_jsonl(path), 1):
        if not {"chosen", "rejected"} <= set(rec) or not ({"prompt"} & set(rec) or {"instruction"} & set(rec)):
            raise ValueError(f"{path}:{n}: a preference pair needs prompt (or instruction), chosen and rejected")
        pairs.append(tuple(encode_example(as_sft(rec, rec[k]), tokenizer, False, max_length)
                           for k in ("chosen", "rejected")))
    return pairs


def collate_pairs(pairs: list, pad_id: int) -> dict:
    """Rows 0..B-1 chosen, B..2B-1 rejected; `ref_logps` (2B) when the pairs carry them (DPO)."""
    batch = collate([p[0] for p in pairs] + [p[1] for p in pairs], pad_id)
    if len(pairs[0]) == 3:
        batch["ref_logps"] = torch.tensor([p[2][0] for p in pairs] + [p[2][1] for p in pairs], dtype=torch.float32)
    return batch


def response_logps(model, batch: dict) -> torch.Tensor:
    """Sum of log p(token) over each row's response tokens (labels != -100)."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits[:, :-1].float()
    labels = batch["labels"][:, 1:]
    logp = torch.log_softmax(logits, -1).gather(-1, labels.clamp(min=0)[..., None])[..., 0]
    return (logp * (labels != -100)).sum(-1)


class _PairLoss(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def count(self, batch: dict) -> int:  # pairs
        return len(batch["input_ids"]) // 2

    def tokens(self, batch: dict) -> int:
        return int(batch["attention_mask"].sum())


class RewardLoss(_PairLoss):
    def forward(self, batch: dict):
        scores = self.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits[:, 0]
        chosen, rejected = scores.float().chunk(2)
        return -F.logsigmoid(chosen - rejected).sum(), {"accuracy": (chosen > rejected).float().sum()}


class DPOLoss(_PairLoss):
    def __init__(self, model, beta: float):
        super().__init__(model)
        self.beta = beta

    def forward(self, batch: dict):
        ratio = response_logps(self.model, batch) - batch["ref_logps"]
        chosen, rejected = ratio.chunk(2)
        margin = self.beta * (chosen - rejected)
        return -F.logsigmoid(margin).sum(), {"accuracy": (margin > 0).float().sum(),
                                             "margin": margin.detach().sum()}


@torch.no_grad()
def reference_logps(model, pairs: list, pad_id: int, device, batch_size: int = 16) -> list[tuple[float, float]]:
    """log ref(chosen), log ref(rejected) of every pair, computed once with the starting model."""
    model.eval()
    out = []
    for i in range(0, len(pairs), batch_size):
        chunk = pairs[i:i + batch_size]
        batch = {k: v.to(device) for k, v in collate_pairs(chunk, pad_id).items()}
        c, r = response_logps(model, batch).float().chunk(2)
        out += list(zip(c.tolist(), r.tolist()))
    model.train()
    return out


def _train_pairs(cfg: dict, kind: str, resume, log) -> Path:
    from peft import TaskType

    accelerator = make_accelerator(cfg)
    log = log if accelerator.is_main_process else (lambda *_: None)
    set_seed(cfg["seed"])
    head = "reward" if kind == "reward" else "lm"
    model, tokenizer, base = load_for_training(cfg, head=head, task=TaskType.SEQ_CLS if kind == "reward" else None)
    if is_seq2seq(model):
        raise ValueError(f"train {kind} needs a decoder-only model")
    if kind == "reward" and model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id  # the score is read at the last non-pad token
    dcfg, tcfg = cfg["data"], cfg["train"]
    if not dcfg["train"]:
        raise ValueError(f"train {kind} needs data.train: a JSONL of prompt, chosen, rejected")
    pairs = encode_pairs(dcfg["train"], tokenizer, dcfg["max_length"])
    val = encode_pairs(dcfg["val"], tokenizer, dcfg["max_length"]) if dcfg["val"] else None
    if kind == "dpo":
        model.to(accelerator.device)
        pairs = [(c, r, ref) for (c, r), ref in zip(pairs, reference_logps(model, pairs, tokenizer.pad_token_id,
                                                                           accelerator.device))]
        if val:
            val = [(c, r, ref) for (c, r), ref in zip(val, reference_logps(model, val, tokenizer.pad_token_id,
                                                                           accelerator.device))]
        objective = DPOLoss(model, cfg["dpo"]["beta"])
    else:
        objective = RewardLoss(model)
    collate_fn = partial(collate_pairs, pad_id=tokenizer.pad_token_id)
    batches = ExampleBatches(pairs, collate_fn, tcfg["batch_size"], tcfg["grad_accum"], accelerator.num_processes,
                             cfg["seed"])
    val_batches = ExampleBatches(val, collate_fn, 1, 1, 1, 0).in_order(tcfg["batch_size"]) if val else None
    log(f"{kind} ({cfg['peft']['method']}) on {len(pairs)} preference pairs from {dcfg['train']}")
    objective = fit(cfg, accelerator, objective, batches, val_batches=val_batches, resume=resume, log=log)
    out = save_trained(accelerator, objective, cfg, tokenizer, kind=kind, base=base,
                       stage=stage_record(cfg, dcfg["train"], len(pairs),
                                          **({"beta": cfg["dpo"]["beta"]} if kind == "dpo" else {})))
    log(f"saved {out}")
    accelerator.end_training()
    return out


def train_reward(cfg: dict, resume: str | bool | None = None, log=print) -> Path:
    return _train_pairs(cfg, "reward", resume, log)


def train_dpo(cfg: dict, resume: str | bool | None = None, log=print) -> Path:
    return _train_pairs(cfg, "dpo", resume, log)


def load_reward_model(path: str | Path):
    """(model, tokenizer) of a `train reward` output: a full model directory or a SEQ_CLS adapter."""
    from transformers import AutoTokenizer

    from .finetune import load_adapter, load_base

    path = Path(path)
    model = load_adapter(path, head="reward") if (path / "adapter_config.json").exists() \
        else load_base(path, head="reward")
    return model.eval(), AutoTokenizer.from_pretrained(path)


@torch.no_grad()
def score(model, tokenizer, prompts: list[str], responses: list[str], max_length: int = 512) -> list[float]:
    """Reward of each (prompt, response), encoded as in training."""
    rows = [encode_example(as_sft({"prompt": p}, r), tokenizer, False, max_length) for p, r in zip(prompts, responses)]
    batch = collate(rows, tokenizer.pad_token_id)
    device = next(model.parameters()).device
    return model(input_ids=batch["input_ids"].to(device),
                 attention_mask=batch["attention_mask"].to(device)).logits[:, 0].float().tolist()
