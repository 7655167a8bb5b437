"""Supervised fine-tuning data: Alpaca JSONL or chat messages, encoded the way the model will see them at inference.

Formats (one JSON object a line; `data.format: auto` tells them apart):
  alpaca    {"instruction", "input", "output"}                    the Alpaca template, loss on the output
  messages  {"messages": [{"role", "content"}, ...]}              the tokenizer's chat template (ours when it has
            {"conversations": [{"from", "value"}, ...]} (ShareGPT)  none), loss on every assistant turn

Decoder-only: the whole text (prompt + response) is tokenized at once, so the tokens at the seam are the ones the
model sees when it generates after the prompt; a token is a target when its characters belong to a response.
Over-long examples are cut as LLaMA-Factory does: the response keeps at most its share of `max_length` and the
prompt keeps its end (never the whole prompt dropped for a long answer). T5: the prompt is the encoder input and the
response the target, each ending in EOS even when truncated. `data.pack` packs several examples into one row with
document masking (no attention across examples).
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
# For tokenizers without one (ours): role headers as plain text, EOS after each assistant turn.
DEFAULT_CHAT_TEMPLATE = ("{% for message in messages %}<|{{ message['role'] }}|>\n{{ message['content'] }}"
                         "{% if message['role'] == 'assistant' %}{{ eos_token }}{% endif %}\n{% endfor %}"
                         "{% if add_generation_prompt %}<|assistant|>\n{% endif %}")
_SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
                   "system": "system", "bot": "assistant", "model": "assistant"}


def alpaca_prompt(example: dict) -> str:
    if example.get("input"):
        return ALPACA_PROMPT.format(instruction=example["instruction"], input=example["input"])
    return ALPACA_PROMPT_NO_INPUT.format(instruction=example["instruction"])


def read_jsonl(path: str | Path) -> list[dict]:
    """Records of a JSONL file; a bad line is an error naming the file and line."""
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{n}: not valid JSON ({e.msg})") from None
            if not isinstance(rec, dict):
                raise ValueError(f"{path}:{n}: expected a JSON object, got {type(rec).__name__}")
            out.append(rec)
    return out


def example_format(example: dict) -> str:
    if "messages" in example or "conversations" in example:
        return "messages"
    if "instruction" in example and "output" in example:
        return "alpaca"
    raise ValueError(f"neither Alpaca (instruction, output) nor messages/conversations: keys {sorted(example)}")


def messages_of(example: dict) -> list[dict]:
    if "messages" in example:
        return [{"role": m["role"], "content": m["content"]} for m in example["messages"]]
    return [{"role": _SHAREGPT_ROLES[m["from"]], "content": m["value"]} for m in example["conversations"]]


def ensure_chat_template(tokenizer) -> None:
    if not getattr(tokenizer, "chat_template", None):
        tokenizer.chat_template = DEFAULT_CHAT_TEMPLATE


def render(example: dict, tokenizer, fmt: str = "auto") -> tuple[str, list[tuple[int, int]]]:
    """(text, character spans of the responses). Responses end with EOS, which is part of the text."""
    fmt = example_format(example) if fmt == "auto" else fmt
    if fmt == "alpaca":
        prompt = alpaca_prompt(example)
        text = prompt + example["output"] + tokenizer.eos_token
        return text, [(len(prompt), len(text))]
    ensure_chat_template(tokenizer)
    messages = messages_of(example)
    spans = []
    for i, m in enumerate(messages):
        if m["role"] != "assistant":
            continue
        before = tokenizer.apply_chat_template(messages[:i], tokenize=False, add_generation_prompt=True)
        upto = tokenizer.apply_chat_template(messages[:i + 1], tokenize=False)
        if not upto.startswith(before):
            raise ValueError("the chat template does not render a conversation as a prefix of its continuation")
        end = upto.find(tokenizer.eos_token, len(before))
        spans.append((len(before), end + len(tokenizer.eos_token) if end >= 0 else len(upto)))
    if not spans:
        raise ValueError("a conversation without an assistant turn has nothing to learn")
    return tokenizer.apply_chat_template(messages, tokenize=False), spans


def infer_seqlen(source_len: int, target_len: int, cutoff_len: int) -> tuple[int, int]:
    """LLaMA-Factory's split of `cutoff_len` between prompt and response (new_source_len, new_target_len)."""
    if target_len * 2 < cutoff_len:
        max_target_len = cutoff_len
    elif source_len * 2 < cutoff_len:
        max_target_len = cutoff_len - source_len
    else:
        max_target_len = int(cutoff_len * (target_len / (source_len + target_len)))
    new_target_len = min(max_target_len, target_len)
    new_source_len = min(max(cutoff_len - new_target_len, 0), source_len)
    return new_source_len, new_target_len


def encode_example(example: dict, tokenizer, seq2seq: bool, max_length: int, fmt: str = "auto") -> dict:
    text, spans = render(example, tokenizer, fmt)
    if seq2seq:  # the encoder reads the prompt, the decoder writes the (last) response; both end in EOS
        start, end = spans[-1]
        response = text[start:end].removesuffix(tokenizer.eos_token)
        prompt = tokenizer(text[:start], add_special_tokens=False)["input_ids"][: max_length - 1]
        answer = tokenizer(response, add_special_tokens=False)["input_ids"][: max_length - 1]
        return {"input_ids": prompt + [tokenizer.eos_token_id], "labels": answer + [tokenizer.eos_token_id]}
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids = enc["input_ids"]
    # A token is a target when it ends inside a response span (a token straddling the seam belongs to the response).
    labels = [t if any(s < e_tok <= e for s, e in spans) else -100
              for t, (_, e_tok) in zip(ids, enc["offset_mapping"])]
    if len(ids) > max_length:
        first = next((i for i, lab in enumerate(labels) if lab != -100), len(ids))
        keep_src, keep_tgt = infer_seqlen(first, len(ids) - first, max_length)
        ids, labels = ids[first - keep_src:first + keep_tgt], labels[first - keep_src:first + keep_tgt]
    return {"input_ids": ids, "labels": labels}


def pack(examples: list[dict], max_length: int) -> list[dict]:
    """Greedy packing in order: whole examples into rows of at most max_length tokens, with position ids that
    restart per example and document ids for the attention mask."""
    rows, cur = [], []
    for e in examples:
        if cur and sum(len(x["input_ids"]) for x in cur) + len(e["input_ids"]) > max_length:
            rows.append(cur)
            cur = []
        cur.append(e)
    if cur:
        rows.append(cur)
    out = []
    for row in rows:
        out.append({"input_ids": sum((e["input_ids"] for e in row), []),
                    "labels": sum((e["labels"] for e in row), []),
                    "position_ids": sum((list(range(len(e["input_ids"]))) for e in row), []),
                    "document_ids": sum(([d] * len(e["input_ids"]) for d, e in enumerate(row)), [])})
    return out


def collate(examples: list[dict], pad_id: int) -> dict[str, torch.Tensor]:
    n_in = max(len(e["input_ids"]) for e in examples)
    n_lab = max(len(e["labels"]) for e in examples)
    packed = "document_ids" in examples[0]
    ids = torch.full((len(examples), n_in), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), n_lab), -100, dtype=torch.long)
    batch = {"input_ids": ids, "labels": labels}
    if packed:  # padding is one more "document" that attends only to itself
        batch["position_ids"] = torch.zeros((len(examples), n_in), dtype=torch.long)
        batch["document_ids"] = torch.full((len(examples), n_in), n_in, dtype=torch.long)
    else:
        batch["attention_mask"] = torch.zeros((len(examples), n_in), dtype=torch.long)
    for i, e in enumerate(examples):
        n = len(e["input_ids"])
        ids[i, :n] = torch.tensor(e["input_ids"])
        labels[i, : len(e["labels"])] = torch.tensor(e["labels"])
        if packed:
            batch["position_ids"][i, :n] = torch.tensor(e["position_ids"])
            batch["document_ids"][i, :n] = torch.tensor(e["document_ids"])
        else:
            batch["attention_mask"][i, :n] = 1
    return batch


class ExampleBatches:
    """`batches(step, micro, rank)` over examples, reshuffled every epoch from (seed, epoch); `collate_fn` turns a
    list of examples into host tensors."""

    def __init__(self, examples: list, collate_fn, batch_size: int, grad_accum: int, world: int, seed: int):
        self.examples, self.collate_fn = examples, collate_fn
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
        return self.collate_fn([self.examples[i] for i in idx])

    def in_order(self, batch_size: int):
        """val(i): the i-th batch of the examples in file order (None past the end), for validation."""
        def val(i: int):
            chunk = self.examples[i * batch_size:(i + 1) * batch_size]
            return self.collate_fn(chunk) if chunk else None
        return val
