"""`train finetune CONFIG`: supervised fine-tuning, full-parameter or PEFT, on Alpaca or chat JSONL.

Methods: full (every weight), lora, dora (LoRA with weight decomposition), ia3, prefix (prefix tuning), prompt
(prompt tuning), for T5 (SEQ_2_SEQ_LM) and decoder-only models (CAUSAL_LM); `model.quantize: 4bit` loads the frozen
base in 4-bit for QLoRA (bitsandbytes, CUDA only). What peft cannot do is listed in docs/train.md (e.g. prefix
tuning on T5 reaches the decoder only; prompt-learning adapters cannot be merged).

The helpers below (base model + tokenizer, adapter or full model saved with its card) serve every post-training
command: finetune, reward, dpo, grpo.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

from accelerate.utils import set_seed

from .losses import LanguageModelLoss
from .loop import fit, make_accelerator, save_model
from .model_card import inherited_provenance, write_model_card
from .models import is_seq2seq, load_pretrained
from .sft import ExampleBatches, collate, encode_example, pack, read_jsonl

METHODS = ("full", "lora", "dora", "ia3", "prefix", "prompt")


def peft_config(pcfg: dict, seq2seq: bool, task=None):
    from peft import IA3Config, LoraConfig, PrefixTuningConfig, PromptTuningConfig, TaskType

    task = task or (TaskType.SEQ_2_SEQ_LM if seq2seq else TaskType.CAUSAL_LM)
    method = pcfg["method"]
    if method in ("lora", "dora"):
        return LoraConfig(task_type=task, r=pcfg["r"], lora_alpha=pcfg["alpha"], lora_dropout=pcfg["dropout"],
                          target_modules=pcfg["target_modules"], use_dora=method == "dora")
    if method == "ia3":  # peft knows which modules to scale for t5 and llama
        return IA3Config(task_type=task)
    if method == "prefix":
        return PrefixTuningConfig(task_type=task, num_virtual_tokens=pcfg["num_virtual_tokens"])
    if method == "prompt":
        return PromptTuningConfig(task_type=task, num_virtual_tokens=pcfg["num_virtual_tokens"])
    raise ValueError(f"peft.method must be one of {METHODS}, not {method!r}")


def quantization_config(quantize: str):
    """QLoRA's 4-bit NF4 base (bitsandbytes), or None. bitsandbytes' 4-bit kernels need CUDA."""
    if quantize == "none":
        return None
    import torch
    if not torch.cuda.is_available():
        raise RuntimeError("model.quantize: 4bit (QLoRA) needs a CUDA GPU: bitsandbytes has no CPU 4-bit training")
    try:
        from transformers import BitsAndBytesConfig
        import bitsandbytes  # noqa: F401
    except ImportError:
        raise RuntimeError("model.quantize: 4bit needs bitsandbytes (pip install bitsandbytes)") from None
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                              bnb_4bit_compute_dtype=torch.bfloat16)


def load_base(path: str | Path, attn: str = "sdpa", quantize: str = "none", head: str = "lm"):
    quant = quantization_config(quantize)
    model = load_pretrained(path, attn, what="base model", head=head,
                            **({"quantization_config": quant} if quant else {}))
    if quant:
        from peft import prepare_model_for_kbit_training
        model = prepare_model_for_kbit_training(model)
    return model


def load_for_training(cfg: dict, head: str = "lm", task=None):
    """(model ready to train, tokenizer, base directory as given) from model.checkpoint and peft.method."""
    from peft import get_peft_model
    from transformers import AutoTokenizer

    base = cfg["model"]["checkpoint"]
    if not base:
        raise ValueError("post-training needs model.checkpoint: the directory of a saved model (e.g. RUN/model)")
    tokenizer = AutoTokenizer.from_pretrained(cfg["model"]["tokenizer"] or base)
    # adapter_config.json records the path the base was loaded from: absolute, so the adapter loads from anywhere
    model = load_base(str(Path(base).resolve()), cfg["model"]["attn_implementation"], cfg["model"]["quantize"],
                      head=head)
    if cfg["peft"]["method"] != "full":
        if cfg["model"]["quantize"] != "none" and cfg["peft"]["method"] not in ("lora", "dora"):
            raise ValueError("model.quantize: 4bit trains LoRA/DoRA adapters only (QLoRA)")
        model = get_peft_model(model, peft_config(cfg["peft"], is_seq2seq(model), task))
    elif cfg["model"]["quantize"] != "none":
        raise ValueError("model.quantize: 4bit cannot train every weight: use peft.method lora (QLoRA)")
    return model, tokenizer, base


def save_trained(accelerator, objective, cfg: dict, tokenizer, *, kind: str, base: str, stage: dict,
                 metrics: dict | None = None) -> Path:
    """OUT/adapter (peft) or OUT/model (full), with tokenizer, provenance and card; the path on the main process."""
    full = cfg["peft"]["method"] == "full"
    out = Path(cfg["output_dir"]) / ("model" if full else "adapter")
    if full:
        save_model(accelerator, objective, out, tokenizer)
    elif accelerator.is_main_process:
        inner = accelerator.unwrap_model(objective)
        getattr(inner, "_orig_mod", inner).model.save_pretrained(out)  # adapter + adapter_config.json
        tokenizer.save_pretrained(out)
    if accelerator.is_main_process:
        write_model_card(out, kind=kind, config=cfg, provenance=inherited_provenance(base), base_model=base,
                         stage=stage, metrics=metrics, library="transformers" if full else "peft",
                         method=cfg["peft"]["method"])
    accelerator.wait_for_everyone()
    return out


def stage_record(cfg: dict, path: str, examples: int, **extra) -> dict:
    """This stage's data for the card: name, license, examples, path as given (never resolved), and the model that
    generated it when its records say so (`generated_by`, as `train self-instruct` writes)."""
    generators = sorted({json.dumps(r["generated_by"], sort_keys=True) for r in read_jsonl(path)
                         if isinstance(r.get("generated_by"), dict)})
    if generators:
        extra["generated_by"] = json.loads(generators[0])
        if len(generators) > 1:
            extra["other_generators"] = [json.loads(g) for g in generators[1:]]
    return {"name": cfg["data"]["name"] or Path(path).name, "license": cfg["data"]["license"],
            "examples": examples, "path": str(path), **extra}


def finetune(cfg: dict, resume: str | bool | None = None, log=print) -> Path:
    accelerator = make_accelerator(cfg)
    log = log if accelerator.is_main_process else (lambda *_: None)
    set_seed(cfg["seed"])
    model, tokenizer, base = load_for_training(cfg)
    seq2seq = is_seq2seq(model)
    dcfg, tcfg = cfg["data"], cfg["train"]
    if not dcfg["train"]:
        raise ValueError("finetune needs data.train: an Alpaca or chat-messages JSONL file")
    if dcfg["pack"] and (seq2seq or cfg["peft"]["method"] in ("prefix", "prompt")):
        raise ValueError("data.pack needs a decoder-only model without virtual tokens (not T5, prefix or prompt)")

    def encode(path: str) -> list[dict]:
        rows = [encode_example(e, tokenizer, seq2seq, dcfg["max_length"], dcfg["format"]) for e in read_jsonl(path)]
        return pack(rows, dcfg["max_length"]) if dcfg["pack"] else rows

    examples = encode(dcfg["train"])
    collate_fn = partial(collate, pad_id=tokenizer.pad_token_id)
    batches = ExampleBatches(examples, collate_fn, tcfg["batch_size"], tcfg["grad_accum"],
                             accelerator.num_processes, cfg["seed"])
    val = ExampleBatches(encode(dcfg["val"]), collate_fn, 1, 1, 1, 0).in_order(tcfg["batch_size"]) \
        if dcfg["val"] else None
    log(f"finetune {cfg['peft']['method']} on {len(examples)} {'packed rows' if dcfg['pack'] else 'examples'} "
        f"from {dcfg['train']}")
    chunked = tcfg["chunked_loss"] if tcfg["chunked_loss"] != "auto" else accelerator.device.type == "cuda"
    objective = fit(cfg, accelerator, LanguageModelLoss(model, chunked=chunked), batches, val_batches=val,
                    resume=resume, log=log)
    out = save_trained(accelerator, objective, cfg, tokenizer, kind="finetune", base=base,
                       stage=stage_record(cfg, dcfg["train"], len(read_jsonl(dcfg["train"]))))
    log(f"saved {out}")
    accelerator.end_training()
    return out


def load_adapter(adapter_dir: str | Path, head: str = "lm"):
    """Base model (from adapter_config.json) + adapter, ready for inference."""
    from peft import PeftConfig, PeftModel

    pcfg = PeftConfig.from_pretrained(str(adapter_dir))
    base = load_base(pcfg.base_model_name_or_path, head=head)
    return PeftModel.from_pretrained(base, str(adapter_dir))


def export(adapter_dir: str | Path, out_dir: str | Path, merge: bool = True) -> Path:
    """`train export --merge`: fold LoRA/DoRA/IA3 weights into the base and save a plain model."""
    from peft import PeftConfig
    from transformers import AutoTokenizer

    adapter_dir, out_dir = Path(adapter_dir), Path(out_dir)
    if not merge:
        raise ValueError("only --merge export is implemented: the adapter directory itself is the unmerged export")
    head = "reward" if PeftConfig.from_pretrained(str(adapter_dir)).task_type == "SEQ_CLS" else "lm"
    model = load_adapter(adapter_dir, head=head)
    method = model.peft_config["default"].peft_type.value.lower()
    if model.peft_config["default"].is_prompt_learning:
        raise ValueError(f"{method} adapters add virtual tokens instead of weight deltas and cannot be merged; "
                         "ship the base model with the adapter directory instead")
    merged = model.merge_and_unload()
    out_dir.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(out_dir)
    AutoTokenizer.from_pretrained(adapter_dir).save_pretrained(out_dir)
    cfg_path = adapter_dir.parent / "config.json"
    cfg = json.loads(cfg_path.read_text()) if cfg_path.exists() else {}
    write_model_card(out_dir, kind="export", config=cfg, provenance=inherited_provenance(adapter_dir),
                     base_model=model.peft_config["default"].base_model_name_or_path, method=f"{method}-merged")
    return out_dir
