import json

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

from train.config import load_config
from train.finetune import export, finetune, load_adapter
from train.sft import alpaca_prompt, collate, encode_example

from train_helpers import read_log


def ft_cfg(base, data, out, method, steps=12, **sets):
    args = ["--checkpoint", str(base), "--set", f"data.train={data}", "--set", f"peft.method={method}",
            "--output", str(out), "--steps", str(steps), "--log-every", "1", "--lr", "1e-2",
            "--set", "train.cpu_threads=1", "--set", "data.max_length=96", "--set", "train.save_every=0",
            "--set", "peft.num_virtual_tokens=4", "--set", "data.license=CC0-1.0",
            "--set", "optim.warmup_steps=2"]
    for k, v in sets.items():
        args += ["--set", f"{k}={v}"]
    return load_config(None, args, command="finetune")


def test_sft_masks_the_prompt(tokenizer_dir):
    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    ex = {"instruction": "Add the two numbers.", "input": "2 and 3", "output": "The sum is 5."}
    prompt_ids = tok(alpaca_prompt(ex), add_special_tokens=False)["input_ids"]
    answer_ids = tok(ex["output"], add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    dec = encode_example(ex, tok, seq2seq=False, max_length=512)
    assert dec["input_ids"] == prompt_ids + answer_ids
    assert dec["labels"] == [-100] * len(prompt_ids) + answer_ids
    assert "### Input:\n2 and 3" in alpaca_prompt(ex) and "### Input" not in alpaca_prompt({**ex, "input": ""})
    s2s = encode_example(ex, tok, seq2seq=True, max_length=512)
    assert s2s["input_ids"] == prompt_ids + [tok.eos_token_id] and s2s["labels"] == answer_ids
    # Truncation drops prompt tokens first, the answer survives.
    short = encode_example(ex, tok, seq2seq=False, max_length=len(answer_ids) + 3)
    assert short["labels"][-len(answer_ids):] == answer_ids and short["labels"][:3] == [-100] * 3
    batch = collate([dec, encode_example({**ex, "input": ""}, tok, False, 512)], tok.pad_token_id)
    assert batch["input_ids"].shape == batch["labels"].shape
    assert (batch["labels"][batch["attention_mask"] == 0] == -100).all()


def _inputs(tok, seq2seq):
    enc = tok(["Add the two numbers. 4 and 5", "우리 동네 도서관은"], return_tensors="pt", padding=True)
    if seq2seq:
        enc["decoder_input_ids"] = torch.zeros((2, 3), dtype=torch.long)
    return dict(enc)


@pytest.mark.parametrize("arch", ["llama", "t5"])
def test_lora_train_save_reload_merge(pretrained, alpaca_file, tmp_path, arch):
    out = finetune(ft_cfg(pretrained[arch], alpaca_file, tmp_path / "ft", "lora", steps=20), log=lambda *_: None)
    losses = [r["loss"] for r in read_log(tmp_path / "ft")]
    assert sum(losses[-4:]) / 4 < 0.75 * sum(losses[:2]) / 2, losses
    assert (out / "adapter_config.json").exists() and (out / "adapter_model.safetensors").exists()
    adapter_bytes = (out / "adapter_model.safetensors").stat().st_size
    base_bytes = (pretrained[arch] / "model.safetensors").stat().st_size
    assert adapter_bytes < base_bytes / 2  # only the adapter is saved

    tok = AutoTokenizer.from_pretrained(out)
    seq2seq = arch == "t5"
    reloaded = load_adapter(out).eval()
    merged_dir = export(out, tmp_path / "merged")
    cls = AutoModelForSeq2SeqLM if seq2seq else AutoModelForCausalLM
    merged = cls.from_pretrained(merged_dir).eval()
    base = cls.from_pretrained(pretrained[arch]).eval()
    with torch.no_grad():
        x = _inputs(tok, seq2seq)
        a, m, b = reloaded(**x).logits, merged(**x).logits, base(**x).logits
    assert torch.allclose(a, m, atol=1e-4)  # merged plain model == base + adapter
    assert not torch.allclose(a, b, atol=1e-3)  # and the adapter changed something
    assert not any("lora" in k for k in merged.state_dict())
    card = (merged_dir / "README.md").read_text()
    assert "CC-BY-SA-4.0" in card and "CC0-1.0" in card and "base_model:" in card


@pytest.mark.parametrize("arch", ["llama", "t5"])
@pytest.mark.parametrize("method", ["prefix", "prompt", "ia3", "dora"])
def test_other_peft_methods(pretrained, alpaca_file, tmp_path, arch, method):
    # Prompt tuning wants a large learning rate (Lester et al. 2021 use 0.3).
    lr = {"prompt": 0.3, "prefix": 3e-2, "ia3": 3e-2, "dora": 1e-2}[method]
    out = finetune(ft_cfg(pretrained[arch], alpaca_file, tmp_path / "ft", method, steps=10, **{"optim.lr": lr}),
                   log=lambda *_: None)
    losses = [r["loss"] for r in read_log(tmp_path / "ft")]
    assert all(l == l for l in losses) and sum(losses[-3:]) < sum(losses[:3]), losses
    cfg = json.loads((out / "adapter_config.json").read_text())
    assert cfg["peft_type"] == {"prefix": "PREFIX_TUNING", "prompt": "PROMPT_TUNING", "ia3": "IA3",
                                "dora": "LORA"}[method]
    model = load_adapter(out).eval()
    tok = AutoTokenizer.from_pretrained(out)
    with torch.no_grad():
        model(**_inputs(tok, arch == "t5"))
    if method in ("prefix", "prompt"):
        with pytest.raises(ValueError, match="cannot be merged"):
            export(out, tmp_path / "merged")
