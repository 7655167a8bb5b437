"""Supervised fine-tuning data: Alpaca-format JSONL (instruction, input, output) with its template.

The loss is computed on the response only: prompt positions get label -100 (decoder-only), or the
prompt is the encoder input and the response the target (T5).  Batches are drawn like pretraining
batches: sample k of the run is a pure function of (seed, k), so resume is exact.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

ALPACA_PROMPT = ("Below is an instruction that describes a task, paired with an input that provides further "
                 "context. Write a response that appropriately completes the request.\n\n"
                 "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n")
ALPACA_PROMPT_NO_INPUT = ("Below is an instruction that describes a task. Write a response that appropriately "
                          "completes the request.\n\n### Instruction:\n{instruction}\n\n### Response:\n")


def alpaca_prompt(example: dict) -> str:
    if example.get("input"):
        return ALPACA_PROMPT.format(instruction=example["instruction"], input=example["input"])
    return ALPACA_PROMPT_NO_INPUT.format(instruction=example["instruction"])


def read_jsonl(path: str | Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def encode_example(example: dict, tokenizer, seq2seq: bool, max_length: int) -> dict:
    prompt = tokenizer(alpaca_prompt(example), add_special_tokens=False)["input_ids"]
    answer = tokenizer(example["output"], add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    if seq2seq:
        return {"input_ids": (prompt + [tokenizer.eos_token_id])[:max_length], "labels": answer[:max_length]}
    # Keep the whole answer when possible: cut the prompt from the left if the pair is too long.
    prompt = prompt[max(0, len(prompt) + len(answer) - max_length):]
    ids = (prompt + answer)[:max_length]
    labels = ([-100] * len(prompt) + answer)[:max_length]
    return {"input_ids": ids, "labels": labels}


def collate(examples: list[dict], pad_id: int) -> dict[str, torch.Tensor]:
    n_in = max(len(e["input_ids"]) for e in examples)
    n_lab = max(len(e["labels"]) for e in examples)
    ids = torch.full((len(examples), n_in), pad_id, dtype=torch.long)
    mask = torch.zeros((len(examples), n_in), dtype=torch.long)
    labels = torch.full((len(examples), n_lab), -100, dtype=torch.long)
    for i, e in enumerate(examples):
        ids[i, : len(e["input_ids"])] = torch.tensor(e["input_ids"])
        mask[i, : len(e["input_ids"])] = 1
        labels[i, : len(e["labels"])] = torch.tensor(e["labels"])
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


class ExampleBatches:
    """`batches(step, micro, rank)` over encoded examples, reshuffled every epoch from (seed, epoch)."""

    def __init__(self, examples: list[dict], pad_id: int, batch_size: int, grad_accum: int, world: int, seed: int):
        self.examples, self.pad_id = examples, pad_id
        self.batch_size, self.grad_accum, self.world, self.seed = batch_size, grad_accum, world, seed
        self._perm_epoch, self._perm = -1, None

    def _permutation(self, epoch: int) -> np.ndarray:
        # drawn once per epoch, not once per sample: a batch rarely spans two epochs
        if epoch != self._perm_epoch:
            self._perm = np.random.default_rng([self.seed, 2, epoch]).permutation(len(self.examples))
            self._perm_epoch = epoch
        return self._perm

    def __call__(self, step: int, micro: int, rank: int) -> dict:
        n = len(self.examples)
        start = (step * self.grad_accum + micro) * self.batch_size * self.world + rank * self.batch_size
        k = np.arange(start, start + self.batch_size)
        epochs, pos = np.divmod(k, n)
        idx = [int(self._permutation(int(e))[p]) for e, p in zip(epochs, pos)]
        return collate([self.examples[i] for i in idx], self.pad_id)
