"""`train generate`: sample from any saved model (a model directory or a peft adapter), offline.

Prompts are rendered as the model was fine-tuned: `alpaca` (the SFT template around an instruction), `chat` (the
tokenizer's chat template, one user turn) or `raw` (the text as is, e.g. for a pretrained model).
"""

from __future__ import annotations

import torch

from .models import is_seq2seq
from .sft import alpaca_prompt, ensure_chat_template


def render_prompt(text: str, tokenizer, template: str) -> str:
    if template == "alpaca":
        return alpaca_prompt({"instruction": text, "input": ""})
    if template == "chat":
        ensure_chat_template(tokenizer)
        return tokenizer.apply_chat_template([{"role": "user", "content": text}], tokenize=False,
                                             add_generation_prompt=True)
    if template == "raw":
        return text
    raise ValueError(f"template must be alpaca, chat or raw, not {template!r}")


@torch.no_grad()
def generate(model, tokenizer, prompts: list[str], max_new_tokens: int = 64, temperature: float = 0.0,
             top_p: float = 1.0, seed: int = 0, batch_size: int = 16) -> list[str]:
    """Completions of already-rendered prompts (greedy at temperature 0), without the prompt and the EOS."""
    torch.manual_seed(seed)
    device = next(model.parameters()).device
    out = []
    for i in range(0, len(prompts), batch_size):
        chunk = prompts[i:i + batch_size]
        ids = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in chunk]
        seq2seq = is_seq2seq(model)
        if seq2seq:
            ids = [x + [tokenizer.eos_token_id] for x in ids]
        width = max(len(x) for x in ids)
        pad = tokenizer.pad_token_id
        # decoders: pad on the left, so every row continues right after its own prompt
        input_ids = torch.tensor([[pad] * (width - len(x)) + x if not seq2seq else x + [pad] * (width - len(x))
                                  for x in ids], device=device)
        mask = torch.tensor([[0] * (width - len(x)) + [1] * len(x) if not seq2seq else [1] * len(x) +
                             [0] * (width - len(x)) for x in ids], device=device)
        sampling = dict(do_sample=True, temperature=temperature, top_p=top_p) if temperature > 0 else \
            dict(do_sample=False)
        gen = model.generate(input_ids=input_ids, attention_mask=mask, max_new_tokens=max_new_tokens,
                             pad_token_id=pad, eos_token_id=tokenizer.eos_token_id, **sampling)
        new = gen if seq2seq else gen[:, width:]
        out += [tokenizer.decode(row, skip_special_tokens=True).strip() for row in new.tolist()]
    return out
