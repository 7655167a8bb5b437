"""Nested YAML configs with defaults and command-line overrides.

A config is a plain nested dict.  Every key can be overridden from the command line, either as
`--set optim.lr=1e-3` or directly as a dotted flag `--optim.lr 1e-3` / `--optim.lr=1e-3`; a few
frequent keys also have short aliases (`--lr`, `--steps`, ...).  Values are parsed as YAML so
`--set train.bf16=false` gives a bool and `--set optim.betas=[0.9,0.95]` a list.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Iterable

import yaml

# Defaults shared by `pretrain` and `finetune`.  Each command layers its own defaults on top.
DEFAULTS: dict[str, Any] = {
    "output_dir": "runs/train",
    "seed": 0,
    "model": {
        "preset": "llama-tiny",      # see train/models.py PRESETS
        "checkpoint": None,          # a local HF model directory instead of a preset
        "tokenizer": None,           # defaults to the tokenizer stored with the token shards
        "overrides": {},             # config fields to change on the preset (e.g. num_layers)
        "attn_implementation": "sdpa",
        "gradient_checkpointing": False,
        "compile": False,
        "pad_vocab_multiple": 64,    # round the embedding up so matmuls tile well on GPUs
    },
    "data": {
        "tokens": None,              # directory written by `train tokenize`
        "split": "train",
    },
    "objective": "causal-lm",
    "span_corruption": {"inputs_length": 512, "noise_density": 0.15, "mean_noise_span_length": 3.0},
    "causal_lm": {"seq_len": 1024, "document_attention": False},
    "dist": {"fsdp": False, "fsdp_kwargs": {}, "find_unused": False},
    "optim": {
        "name": "adamw",
        "lr": 3e-4,
        "weight_decay": 0.1,
        "betas": [0.9, 0.95],
        "eps": 1e-8,
        "schedule": "cosine",        # cosine | linear | constant (all after linear warmup)
        "warmup_steps": 100,
        "min_lr_ratio": 0.1,
        "grad_clip": 1.0,
        "fused": "auto",             # fused AdamW kernel (CUDA and CPU) when torch has it
    },
    "train": {
        "batch_size": 8,             # per device, per micro-step
        "grad_accum": 1,
        "max_steps": 1000,
        "log_every": 10,
        "save_every": 500,
        "keep_checkpoints": 2,
        "precision": "auto",         # auto (bf16 on CUDA, fp32 on CPU) | bf16 | fp16 | fp32
        "tf32": True,
        "peak_tflops": 989.0,        # H100 SXM bf16 dense; MFU = achieved / peak
        "stop_after": None,          # stop early at this step (simulates an interruption)
        "cpu": False,                # force CPU even when a GPU is present
        "cpu_threads": None,         # torch intra-op threads (None: torch's default)
    },
}

# Short flags for the keys people change most.
ALIASES = {
    "lr": "optim.lr",
    "steps": "train.max_steps",
    "max-steps": "train.max_steps",
    "batch-size": "train.batch_size",
    "grad-accum": "train.grad_accum",
    "output": "output_dir",
    "output-dir": "output_dir",
    "seed": "seed",
    "preset": "model.preset",
    "checkpoint": "model.checkpoint",
    "tokens": "data.tokens",
    "objective": "objective",
    "seq-len": "causal_lm.seq_len",
    "inputs-length": "span_corruption.inputs_length",
    "save-every": "train.save_every",
    "log-every": "train.log_every",
}


def deep_merge(base: dict, update: dict) -> dict:
    """Return `base` updated recursively with `update` (neither is modified)."""
    out = copy.deepcopy(base)
    for k, v in (update or {}).items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def set_dotted(cfg: dict, key: str, value: Any) -> None:
    node = cfg
    parts = key.split(".")
    for p in parts[:-1]:
        node = node.setdefault(p, {})
        if not isinstance(node, dict):
            raise ValueError(f"cannot set {key}: {p} is not a mapping")
    node[parts[-1]] = value


def get_dotted(cfg: dict, key: str, default: Any = None) -> Any:
    node: Any = cfg
    for p in key.split("."):
        if not isinstance(node, dict) or p not in node:
            return default
        node = node[p]
    return node


def parse_value(text: str) -> Any:
    # YAML gives ints, floats, bools, null and lists for free; "1e-3" is a str in YAML 1.1, fix that.
    value = yaml.safe_load(text) if text != "" else ""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    return value


def parse_overrides(args: Iterable[str]) -> list[tuple[str, Any]]:
    """Turn `['--set', 'a.b=1', '--lr', '1e-3', '--x.y=2']` into `[('a.b', 1), ('optim.lr', 1e-3), ('x.y', 2)]`."""
    args = list(args)
    out: list[tuple[str, Any]] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--set":
            key, _, val = args[i + 1].partition("=")
            out.append((key, parse_value(val)))
            i += 2
            continue
        if not a.startswith("--"):
            raise ValueError(f"unexpected argument {a!r} (use --set key=value or --key value)")
        name = a[2:]
        if "=" in name:
            name, _, val = name.partition("=")
            i += 1
        elif i + 1 < len(args) and not args[i + 1].startswith("--"):
            val = args[i + 1]
            i += 2
        else:  # bare flag: --train.cpu means true
            val = "true"
            i += 1
        key = ALIASES.get(name, name.replace("-", "_") if "." not in name else name)
        out.append((key, parse_value(val)))
    return out


# Shipped configs (package data): `train pretrain pretrain_llama_tiny` works from any directory.
CONFIGS_DIR = Path(__file__).resolve().parent / "configs"


def shipped_configs() -> list[str]:
    """Bare names of the configs shipped in train/configs/ (accelerate launcher configs excluded)."""
    return sorted(p.stem for p in CONFIGS_DIR.glob("*.yaml") if not p.stem.startswith("accelerate_"))


def resolve_config(name: str | Path) -> Path:
    """A config file from a path, or a shipped config from its bare name (`pretrain_llama_tiny`, with or without
    `.yaml`). An existing path wins; `train/configs/X.yaml` also resolves outside the repository checkout."""
    path = Path(name)
    if path.is_file():
        return path
    candidates = []
    if path.parent == Path(".") or path.parent.as_posix().endswith("train/configs"):
        candidates = [CONFIGS_DIR / path.name, CONFIGS_DIR / f"{path.name}.yaml"]
    for c in candidates:
        if c.is_file():
            return c
    raise FileNotFoundError(f"config {name} not found: not a file, and not one of the shipped configs "
                            f"({', '.join(shipped_configs())})")


def load_config(path: str | Path | None, overrides: Iterable[str] = (), defaults: dict | None = None) -> dict:
    cfg = copy.deepcopy(defaults if defaults is not None else DEFAULTS)
    if path:
        with open(resolve_config(path)) as f:
            cfg = deep_merge(cfg, yaml.safe_load(f) or {})
    for key, value in parse_overrides(overrides):
        set_dotted(cfg, key, value)
    return cfg
