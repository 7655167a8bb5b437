"""`train finetune CONFIG`: parameter-efficient fine-tuning (peft) with SFT on Alpaca JSONL.

Methods: lora, dora (LoRA with weight decomposition), ia3, prefix (prefix tuning), prompt (prompt
tuning), for T5 (SEQ_2_SEQ_LM) and decoder-only models (CAUSAL_LM).  What peft cannot do is listed
in docs/train.md (e.g. prefix tuning on T5 reaches the decoder only; prompt-learning adapters
cannot be merged).
"""

from __future__ import annotations

import json
from pathlib import Path

from accelerate.utils import set_seed

from .config import DEFAULTS, deep_merge
from .loop import fit, make_accelerator
from .model_card import write_model_card
from .models import is_seq2seq, load_pretrained
from .sft import ExampleBatches, encode_example, read_jsonl

FINETUNE_DEFAULTS = deep_merge(DEFAULTS, {
    "output_dir": "runs/finetune",
    "model": {"preset": None, "checkpoint": None},
    "peft": {"method": "lora", "r": 8, "alpha": 16, "dropout": 0.05, "target_modules": "all-linear",
             "num_virtual_tokens": 16},
    "data": {"train": None, "max_length": 512, "name": None, "license": None},
    "optim": {"lr": 2e-4, "weight_decay": 0.0, "warmup_steps": 10, "schedule": "linear", "min_lr_ratio": 0.0},
    "train": {"batch_size": 8, "max_steps": 200, "save_every": 100, "log_every": 10},
})
METHODS = ("lora", "dora", "ia3", "prefix", "prompt")


def peft_config(pcfg: dict, seq2seq: bool):
    from peft import IA3Config, LoraConfig, PrefixTuningConfig, PromptTuningConfig, TaskType

    task = TaskType.SEQ_2_SEQ_LM if seq2seq else TaskType.CAUSAL_LM
    method = pcfg["method"]
    targets = pcfg.get("target_modules")
    if method in ("lora", "dora"):
        return LoraConfig(task_type=task, r=pcfg["r"], lora_alpha=pcfg["alpha"], lora_dropout=pcfg["dropout"],
                          target_modules=targets, use_dora=method == "dora")
    if method == "ia3":  # peft knows which modules to scale for t5 and llama
        return IA3Config(task_type=task)
    if method == "prefix":
        return PrefixTuningConfig(task_type=task, num_virtual_tokens=pcfg["num_virtual_tokens"])
    if method == "prompt":
        return PromptTuningConfig(task_type=task, num_virtual_tokens=pcfg["num_virtual_tokens"])
    raise ValueError(f"peft.method must be one of {METHODS}, not {method!r}")


def load_base(path: str | Path, attn: str = "sdpa"):
    return load_pretrained(path, attn, what="base model")


def finetune(cfg: dict, resume: str | bool | None = None, log=print) -> Path:
    from peft import get_peft_model
    from transformers import AutoTokenizer

    accelerator = make_accelerator(cfg)
    log = log if accelerator.is_main_process else (lambda *_: None)
    set_seed(cfg["seed"])
    base = cfg["model"].get("checkpoint")
    if not base:
        raise ValueError("finetune needs model.checkpoint: the directory of a saved model (e.g. RUN/model)")
    base = str(Path(base).resolve())
    tokenizer = AutoTokenizer.from_pretrained(cfg["model"].get("tokenizer") or base)
    model = load_base(base, cfg["model"].get("attn_implementation", "sdpa"))
    seq2seq = is_seq2seq(model)
    model = get_peft_model(model, peft_config(cfg["peft"], seq2seq))

    data_path = cfg["data"].get("train")
    if not data_path:
        raise ValueError("finetune needs data.train: an Alpaca-format JSONL file")
    examples = [encode_example(e, tokenizer, seq2seq, cfg["data"]["max_length"]) for e in read_jsonl(data_path)]
    tcfg = cfg["train"]
    batches = ExampleBatches(examples, tokenizer.pad_token_id, tcfg["batch_size"], tcfg.get("grad_accum", 1),
                             accelerator.num_processes, cfg["seed"])
    log(f"finetune {cfg['peft']['method']} on {len(examples)} examples from {data_path}")
    model = fit(cfg, accelerator, model, batches, resume=resume, log=log)

    out = Path(cfg["output_dir"]) / "adapter"
    unwrapped = accelerator.unwrap_model(model)
    if accelerator.is_main_process:
        unwrapped.save_pretrained(out)  # adapter weights + adapter_config.json (base_model_name_or_path)
        tokenizer.save_pretrained(out)
        base_prov = Path(base) / "provenance.json"
        inherited = json.loads(base_prov.read_text()) if base_prov.exists() else {}
        extra = [{"name": cfg["data"].get("name") or Path(data_path).name, "license": cfg["data"].get("license"),
                  "examples": len(examples)}]
        write_model_card(out, kind="finetune", config=cfg, inherited=inherited, base_model=base, extra_data=extra,
                         library="peft", peft_method=cfg["peft"]["method"])
        log(f"saved adapter {out}")
    accelerator.wait_for_everyone()
    accelerator.end_training()
    return out


def load_adapter(adapter_dir: str | Path):
    """Base model (from adapter_config.json) + adapter, ready for inference."""
    from peft import PeftConfig, PeftModel

    pcfg = PeftConfig.from_pretrained(str(adapter_dir))
    base = load_base(pcfg.base_model_name_or_path)
    return PeftModel.from_pretrained(base, str(adapter_dir))


def export(adapter_dir: str | Path, out_dir: str | Path, merge: bool = True) -> Path:
    """`train export --merge`: fold LoRA/DoRA/IA3 weights into the base and save a plain model."""
    from transformers import AutoTokenizer

    adapter_dir, out_dir = Path(adapter_dir), Path(out_dir)
    model = load_adapter(adapter_dir)
    method = model.peft_config["default"].peft_type.value.lower()
    if model.peft_config["default"].is_prompt_learning:
        raise ValueError(f"{method} adapters add virtual tokens instead of weight deltas and cannot be merged; "
                         "ship the base model with the adapter directory instead")
    if not merge:
        raise ValueError("only --merge export is implemented: the adapter directory itself is the unmerged export")
    merged = model.merge_and_unload()
    out_dir.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(out_dir)
    AutoTokenizer.from_pretrained(adapter_dir).save_pretrained(out_dir)
    prov_path = adapter_dir / "provenance.json"
    prov = json.loads(prov_path.read_text()) if prov_path.exists() else {}
    cfg_path = adapter_dir.parent / "config.json"
    cfg = json.loads(cfg_path.read_text()) if cfg_path.exists() else {}
    write_model_card(out_dir, kind="export", config=cfg, inherited={k: v for k, v in prov.items() if k != "finetune_data"},
                     extra_data=prov.get("finetune_data"), base_model=model.peft_config["default"].base_model_name_or_path,
                     peft_method=f"{method}-merged")
    return out_dir
