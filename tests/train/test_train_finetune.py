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


def test_sft_tokenizes_prompt_and_response_as_inference_sees_them(tokenizer_dir):
    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    ex = {"instruction": "Add the two numbers.", "input": "2 and 3", "output": "The sum is 5."}
    prompt = alpaca_prompt(ex)
    whole = tok(prompt + ex["output"], add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    prompt_ids = tok(prompt, add_special_tokens=False)["input_ids"]
    separate = tok(ex["output"], add_special_tokens=False)["input_ids"]
    assert prompt_ids + separate + [tok.eos_token_id] != whole  # the old encoding: an extra "▁" at the seam
    dec = encode_example(ex, tok, seq2seq=False, max_length=512)
    assert dec["input_ids"] == whole  # one tokenization of the whole text, as generation continues the prompt
    n_prompt = len(prompt_ids)
    assert dec["labels"][:n_prompt] == [-100] * n_prompt and dec["labels"][n_prompt:] == whole[n_prompt:]
    assert "### Input:\n2 and 3" in alpaca_prompt(ex) and "### Input" not in alpaca_prompt({**ex, "input": ""})
    batch = collate([dec, encode_example({**ex, "input": ""}, tok, False, 512)], tok.pad_token_id)
    assert batch["input_ids"].shape == batch["labels"].shape
    assert (batch["labels"][batch["attention_mask"] == 0] == -100).all()


def test_sft_truncation_keeps_prompt_and_eos(tokenizer_dir):
    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    long_answer = {"instruction": "Describe the museum.", "input": "", "output": "The museum opened. " * 60}
    dec = encode_example(long_answer, tok, seq2seq=False, max_length=64)
    n_prompt = sum(1 for lab in dec["labels"] if lab == -100)
    assert len(dec["input_ids"]) == 64 and n_prompt >= 16  # the prompt keeps its share (it was dropped whole)
    assert tok.decode(dec["input_ids"][:n_prompt]).endswith("### Response:\n")
    short = {"instruction": "Add the two numbers.", "input": "2 and 3", "output": "The sum is 5."}
    full = encode_example(short, tok, seq2seq=False, max_length=512)
    cut = encode_example(short, tok, seq2seq=False, max_length=40)
    n_answer = sum(1 for lab in full["labels"] if lab != -100)
    assert 2 * n_answer < 40 and cut["input_ids"] == full["input_ids"][-40:]  # a short answer is kept whole
    assert cut["labels"][-1] == tok.eos_token_id
    s2s = encode_example(long_answer, tok, seq2seq=True, max_length=32)
    assert len(s2s["labels"]) == 32 and s2s["labels"][-1] == tok.eos_token_id  # T5 targets keep EOS
    s2s = encode_example({**short, "input": "word " * 100}, tok, seq2seq=True, max_length=32)
    assert len(s2s["input_ids"]) == 32 and s2s["input_ids"][-1] == tok.eos_token_id


def test_chat_messages_and_sharegpt(tokenizer_dir):
    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    chat = {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Add 2 and 3."},
                         {"role": "assistant", "content": "5."}, {"role": "user", "content": "And 4 and 4?"},
                         {"role": "assistant", "content": "8."}]}
    share = {"conversations": [{"from": m["role"].replace("user", "human").replace("assistant", "gpt"),
                                "value": m["content"]} for m in chat["messages"]]}
    a, b = encode_example(chat, tok, False, 512), encode_example(share, tok, False, 512)
    assert a == b
    targets = tok.decode([t for t in a["labels"] if t != -100])
    assert targets.replace(" ", "") == "5.</s>8.</s>"  # the assistant turns and their EOS, nothing else
    assert tok.chat_template  # ours, since the tokenizer had none: saved with the model
    prompt = tok.apply_chat_template(chat["messages"][:2], tokenize=False, add_generation_prompt=True)
    assert a["input_ids"][:len(tok(prompt, add_special_tokens=False)["input_ids"])] == \
        tok(prompt, add_special_tokens=False)["input_ids"]


def test_packing_isolates_examples(tokenizer_dir):
    from train.sft import pack

    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    rows = [encode_example({"instruction": f"Say {w}.", "input": "", "output": w}, tok, False, 512)
            for w in ("hello", "goodbye", "thanks")]
    packed = pack(rows, max_length=sum(len(r["input_ids"]) for r in rows))
    assert len(packed) == 1 and packed[0]["input_ids"] == sum((r["input_ids"] for r in rows), [])
    assert packed[0]["position_ids"][len(rows[0]["input_ids"])] == 0
    batch = collate(packed, tok.pad_token_id)
    assert set(batch) == {"input_ids", "labels", "position_ids", "document_ids"}
    assert len(pack(rows, max_length=len(rows[0]["input_ids"]) + len(rows[1]["input_ids"]))) == 2
    # the packed row's loss is the sum of the examples' losses alone: no attention across examples
    from train.losses import LanguageModelLoss
    from train.models import build_config

    torch.manual_seed(0)
    loss = LanguageModelLoss(AutoModelForCausalLM.from_config(build_config("llama-tiny", tok)))
    with torch.no_grad():
        alone = sum(loss(collate([r], tok.pad_token_id))[0] for r in rows)
        assert torch.allclose(loss(batch)[0], alone, rtol=1e-5)


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
    assert "CC-BY-SA-4.0" in card and "CC0-1.0" in card and "base_model_local:" in card
    assert "\nbase_model:" not in card  # a local base is not a Hub id


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


def test_full_finetune_grad_accumulation_is_token_weighted(pretrained, alpaca_file, tmp_path):
    """grad_accum 2 x batch 4 == batch 8 (same samples), though the micro-batches hold different numbers of
    response tokens: the loss is the mean over the step's tokens, not a mean of micro-batch means."""
    from safetensors.torch import load_file

    runs = {}
    for name, sets in (("one", {"train.batch_size": 8}), ("accum", {"train.batch_size": 4, "train.grad_accum": 2})):
        cfg = ft_cfg(pretrained["llama"], alpaca_file, tmp_path / name, "full", steps=2,
                     **{**sets, "optim.warmup_steps": 0, "optim.lr": 1e-3})
        runs[name] = finetune(cfg, log=lambda *_: None)
        assert runs[name].name == "model"  # a full fine-tune saves a plain model
    a, b = read_log(tmp_path / "one"), read_log(tmp_path / "accum")
    assert [r["loss"] for r in a] == pytest.approx([r["loss"] for r in b], rel=1e-5)
    wa, wb = load_file(runs["one"] / "model.safetensors"), load_file(runs["accum"] / "model.safetensors")
    assert all(torch.allclose(wa[k], wb[k], atol=1e-6) for k in wa)
    card = (runs["one"] / "README.md").read_text()
    assert "base_model_local:" in card and "library_name: transformers" in card


def test_packed_messages_sft_with_validation_loss(pretrained, tmp_path):
    rows = [{"messages": [{"role": "user", "content": f"Add {a} and {b}."},
                          {"role": "assistant", "content": f"{a + b}."}]} for a in range(1, 7) for b in range(1, 7)]
    (tmp_path / "chat.jsonl").write_text("\n".join(json.dumps(r) for r in rows[:30]) + "\n")
    (tmp_path / "val.jsonl").write_text("\n".join(json.dumps(r) for r in rows[30:]) + "\n")
    cfg = ft_cfg(pretrained["llama"], tmp_path / "chat.jsonl", tmp_path / "ft", "lora", steps=8,
                 **{"data.pack": "true", "data.val": str(tmp_path / "val.jsonl"), "train.eval_every": 4})
    out = finetune(cfg, log=lambda *_: None)
    val = read_log(tmp_path / "ft", "val_loss")
    assert [r["step"] for r in val] == [4, 8] and val[1]["val_loss"] < val[0]["val_loss"]
    assert "chat_template" in (out / "tokenizer_config.json").read_text() or (out / "chat_template.jinja").exists()


def test_qlora_needs_cuda(pretrained, alpaca_file, tmp_path):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present: QLoRA runs there")
    cfg = ft_cfg(pretrained["llama"], alpaca_file, tmp_path / "q", "lora", **{"model.quantize": "4bit"})
    with pytest.raises(RuntimeError, match="CUDA"):
        finetune(cfg, log=lambda *_: None)
