"""One typed config tree for every `train` command, with command-line overrides.

The defaults live here and only here (pydantic models below). A command (`pretrain`, `finetune`, `reward`, `dpo`,
`grpo`) may change a few of them (COMMAND_DEFAULTS); a YAML file changes more; the command line changes any key,
either as `--set optim.lr=1e-3` or as a dotted flag `--optim.lr 1e-3` / `--optim.lr=1e-3`, and a few frequent keys
have short aliases (`--lr`, `--steps`, ...). Values are parsed as YAML (`--set optim.betas=[0.9,0.95]` is a list).
An unknown key anywhere is an error that names it, says where it came from and suggests the closest known key.
"""

from __future__ import annotations

import copy
import difflib
from pathlib import Path
from typing import Any, Iterable, Literal, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelConfig(_Section):
    preset: str | None = "llama-tiny"          # see train/models.py PRESETS
    checkpoint: str | None = None              # a local HF model directory instead of a preset
    tokenizer: str | None = None               # defaults to the tokenizer stored with the token shards
    overrides: dict[str, Any] = Field(default_factory=dict)  # config fields changed on the preset
    attn_implementation: Literal["eager", "sdpa", "flash_attention_2", "flex_attention"] = "sdpa"
    gradient_checkpointing: bool = False
    compile: bool = False
    pad_vocab_multiple: int = 64               # round the embedding up so matmuls tile well on GPUs
    quantize: Literal["none", "4bit"] = "none"  # QLoRA: the frozen base in 4-bit (bitsandbytes, CUDA only)


class MixtureSource(_Section):
    tokens: str                                # a token directory from `train tokenize`
    weight: float = Field(gt=0)                # share of the training chunks drawn from it


class DataConfig(_Section):
    tokens: str | None = None                  # directory written by `train tokenize`
    split: str = "train"
    mixture: list[MixtureSource] = Field(default_factory=list)  # weighted token directories instead of `tokens`
    train: str | None = None                   # fine-tuning JSONL (Alpaca, messages, preference pairs, prompts)
    val: str | None = None                     # held-out JSONL of the same shape (validation loss)
    format: Literal["auto", "alpaca", "messages"] = "auto"
    max_length: int = 512
    pack: bool = False                         # SFT: pack several examples into one max_length row
    name: str | None = None                    # the data's name and license, for the model card
    license: str | None = None


class SpanCorruptionConfig(_Section):
    inputs_length: int = 512
    noise_density: float = Field(0.15, gt=0, lt=1)
    mean_noise_span_length: float = Field(3.0, gt=0)


class CausalLMConfig(_Section):
    seq_len: int = 1024
    document_attention: bool = False           # no attention (and no loss) across documents of a packed row


class DistConfig(_Section):
    fsdp: bool = False
    fsdp_kwargs: dict[str, Any] = Field(default_factory=dict)
    find_unused: bool = False


class OptimConfig(_Section):
    name: Literal["adamw", "adamw_scale", "adafactor"] = "adamw"
    lr: float = 3e-4
    weight_decay: float = 0.1
    betas: tuple[float, float] = (0.9, 0.95)
    eps: float = 1e-8
    schedule: Literal["cosine", "linear", "constant", "inverse_sqrt"] = "cosine"  # after linear warmup
    warmup_steps: int = 100
    min_lr_ratio: float = 0.1
    grad_clip: float | None = 1.0
    fused: bool | Literal["auto"] = "auto"     # fused AdamW kernel (CUDA and CPU) when torch has it


class TrainLoopConfig(_Section):
    batch_size: int = 8                        # per device, per micro-step
    grad_accum: int = 1
    max_steps: int = 1000
    log_every: int = 10
    save_every: int = 500
    keep_checkpoints: int = 2
    eval_every: int = 0                        # validation loss every N steps (0: only at the end, if val data)
    eval_batches: int = 8
    precision: Literal["auto", "bf16", "fp16", "fp32"] = "auto"  # auto: bf16 on CUDA, fp32 on CPU
    tf32: bool = True
    peak_tflops: float = 989.0                 # H100/H200 SXM bf16 dense; MFU = achieved / peak
    stop_after: int | None = None              # stop early at this step (simulates an interruption)
    cpu: bool = False                          # force CPU even when a GPU is present
    cpu_threads: int | None = None             # torch intra-op threads (None: torch's default)
    log_with: list[Literal["tensorboard", "wandb"]] = Field(default_factory=list)  # besides log.jsonl
    chunked_loss: bool | Literal["auto"] = "auto"  # fused/chunked lm-head + cross-entropy (auto: on CUDA)


class PeftConfig(_Section):
    method: Literal["lora", "dora", "ia3", "prefix", "prompt", "full"] = "lora"  # full: every weight trains
    r: int = 8
    alpha: int = 16
    dropout: float = 0.05
    target_modules: str | list[str] | None = "all-linear"
    num_virtual_tokens: int = 16


class CardConfig(_Section):
    license: str | None = None                 # the card's `license:` (default: derived from the data)
    title: str | None = None
    base_model: str | None = None              # the base's Hub id, when the local checkpoint came from the Hub
    base_model_license: str | None = None
    datasets: list[str] = Field(default_factory=list)  # Hub ids of the data, when it came from the Hub


class DPOConfig(_Section):
    beta: float = 0.1


class GRPOConfig(_Section):
    num_generations: int = 4                   # completions per prompt (the group)
    max_new_tokens: int = 16
    temperature: float = 1.0
    beta: float = 0.0                          # KL to the reference model (0: no reference model kept)
    reward: str = "answer"                     # `answer` (rule: the record's answer appears) or a reward model dir


class TrainConfig(_Section):
    output_dir: str = "runs/train"
    seed: int = 0
    objective: Literal["span-corruption", "causal-lm"] = "causal-lm"
    model: ModelConfig = Field(default_factory=ModelConfig)
    data: DataConfig = Field(default_factory=DataConfig)
    span_corruption: SpanCorruptionConfig = Field(default_factory=SpanCorruptionConfig)
    causal_lm: CausalLMConfig = Field(default_factory=CausalLMConfig)
    dist: DistConfig = Field(default_factory=DistConfig)
    optim: OptimConfig = Field(default_factory=OptimConfig)
    train: TrainLoopConfig = Field(default_factory=TrainLoopConfig)
    peft: PeftConfig = Field(default_factory=PeftConfig)
    card: CardConfig = Field(default_factory=CardConfig)
    dpo: DPOConfig = Field(default_factory=DPOConfig)
    grpo: GRPOConfig = Field(default_factory=GRPOConfig)


# What each command changes on the defaults above (fine-tuning: smaller learning rate, linear decay, no decay).
_POST_TRAINING = {"model": {"preset": None}, "optim": {"lr": 2e-4, "weight_decay": 0.0, "warmup_steps": 10,
                                                      "schedule": "linear", "min_lr_ratio": 0.0},
                  "train": {"max_steps": 200, "save_every": 100}}
COMMAND_DEFAULTS: dict[str, dict] = {
    "pretrain": {},
    "finetune": {"output_dir": "runs/finetune", **_POST_TRAINING},
    "reward": {"output_dir": "runs/reward", **_POST_TRAINING},
    "dpo": {"output_dir": "runs/dpo", **_POST_TRAINING, "optim": {**_POST_TRAINING["optim"], "lr": 5e-6}},
    "grpo": {"output_dir": "runs/grpo", **_POST_TRAINING, "optim": {**_POST_TRAINING["optim"], "lr": 1e-5}},
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
    "eval-every": "train.eval_every",
}


class ConfigError(ValueError):
    """A config that failed validation; every problem names its key and where it came from."""


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
            raise ConfigError(f"cannot set {key}: {p} is not a mapping")
    node[parts[-1]] = value


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
            if i + 1 >= len(args) or "=" not in args[i + 1]:
                raise ConfigError("--set needs key=value (e.g. --set optim.lr=1e-3)")
            key, _, val = args[i + 1].partition("=")
            out.append((key, parse_value(val)))
            i += 2
            continue
        if not a.startswith("--"):
            raise ConfigError(f"unexpected argument {a!r} (use --set key=value or --key value)")
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
    close = difflib.get_close_matches(path.stem, shipped_configs(), n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    raise FileNotFoundError(f"config {name} not found: not a file, and not one of the shipped configs "
                            f"({', '.join(shipped_configs())}){hint}")


def _section_at(loc: tuple) -> type[BaseModel] | None:
    """The pydantic model that holds the key at `loc` (None inside free-form dicts and lists)."""
    model: type[BaseModel] = TrainConfig
    for part in loc:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        if field is None:
            return None
        ann = field.annotation
        if get_origin(ann) is list:
            ann = get_args(ann)[0]
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            return None
        model = ann
    return model


def all_keys(model: type[BaseModel] = TrainConfig, prefix: str = "") -> list[str]:
    """Every dotted key of the tree (`optim.lr`, `train.max_steps`, ...)."""
    keys = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            keys += all_keys(ann, f"{prefix}{name}.")
        else:
            keys.append(prefix + name)
    return keys


def _describe(err: dict, origin: str) -> str:
    loc = tuple(err["loc"])
    key = ".".join(str(p) for p in loc)
    if err["type"] == "extra_forbidden":
        section = _section_at(loc[:-1])
        known = list(section.model_fields) if section else []
        prefix = ".".join(str(p) for p in loc[:-1])
        local = [f"{prefix}.{k}" if prefix else k for k in known]
        # the closest key of the same section, else of the whole tree, else one with the same last part
        close = (difflib.get_close_matches(key, local, n=1, cutoff=0.6)
                 or difflib.get_close_matches(key, all_keys(), n=1, cutoff=0.6)
                 or [k for k in all_keys() if k.rpartition(".")[2] == str(loc[-1])][:1])
        hint = f"; did you mean {close[0]}?" if close else ""
        return f"unknown config key {key!r} ({origin}){hint} Known keys here: {', '.join(known)}"
    got = err.get("input")
    got_s = f" (got {got!r})" if not isinstance(got, (dict, list)) else ""
    return f"config key {key!r} ({origin}): {err['msg']}{got_s}"


def validate(cfg: dict, origin: str = "config") -> dict:
    """The config as a plain nested dict with every default filled in; ConfigError on any unknown or bad key."""
    try:
        return TrainConfig.model_validate(cfg).model_dump(mode="json")
    except ValidationError as exc:
        raise ConfigError("invalid config:\n  " + "\n  ".join(_describe(e, origin) for e in exc.errors())) from None


def load_config(path: str | Path | None, overrides: Iterable[str] = (), command: str = "pretrain") -> dict:
    """Defaults < the command's defaults < the YAML file < the command-line overrides, validated."""
    cfg = copy.deepcopy(COMMAND_DEFAULTS[command])
    origin = "command line"
    if path:
        resolved = resolve_config(path)
        origin = f"{resolved} or the command line"
        with open(resolved) as f:
            loaded = yaml.safe_load(f) or {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{resolved}: expected a mapping of config keys, got {type(loaded).__name__}")
        validate(deep_merge(cfg, loaded), str(resolved))  # a bad key in the file is reported as the file's
        cfg = deep_merge(cfg, loaded)
    for key, value in parse_overrides(overrides):
        set_dotted(cfg, key, value)
    return validate(cfg, origin)
