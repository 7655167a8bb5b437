"""The training loop shared by `pretrain` and `finetune`: one accelerate loop, nanoGPT style.

accelerate gives the same code single-device, DDP (`torchrun` / `accelerate launch`, NCCL or gloo)
and FSDP (an accelerate config), bf16 autocast on GPUs and plain fp32 on CPUs.  A checkpoint holds
model, optimizer, scheduler and every RNG (accelerate `save_state`) plus the step counter; batches
are a pure function of the step (train/data.py), so a resumed run replays the uninterrupted one.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Callable

import torch

from .models import count_params, is_seq2seq


def make_accelerator(cfg: dict):
    from accelerate import Accelerator
    from accelerate.utils import DistributedDataParallelKwargs

    tcfg = cfg["train"]
    cuda = torch.cuda.is_available() and not tcfg.get("cpu")
    precision = tcfg.get("precision", "auto")
    if precision == "auto":
        precision = "bf16" if cuda and torch.cuda.is_bf16_supported() else "fp32"
    if cuda and tcfg.get("tf32", True):
        # TF32 matmuls for whatever still runs in fp32 (optimizer math, fp32 runs) on Ampere+.
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    if tcfg.get("cpu_threads"):
        # Tiny models on a few shared cores run faster single-threaded (no OpenMP contention).
        torch.set_num_threads(int(tcfg["cpu_threads"]))
    kwargs = {}
    if cfg.get("dist", {}).get("fsdp"):
        from accelerate import FullyShardedDataParallelPlugin
        kwargs["fsdp_plugin"] = FullyShardedDataParallelPlugin(**cfg["dist"].get("fsdp_kwargs", {}))
    # PEFT and tied weights leave parameters without gradients in some steps; tell DDP not to wait.
    ddp = DistributedDataParallelKwargs(find_unused_parameters=bool(cfg.get("dist", {}).get("find_unused", False)))
    return Accelerator(cpu=not cuda, mixed_precision={"fp32": "no"}.get(precision, precision),
                       kwargs_handlers=[ddp], **kwargs)


def lr_lambda(ocfg: dict, max_steps: int) -> Callable[[int], float]:
    warmup, schedule, floor = int(ocfg.get("warmup_steps", 0)), ocfg.get("schedule", "cosine"), ocfg.get("min_lr_ratio", 0.0)

    def f(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        if schedule == "constant":
            return 1.0
        progress = min(1.0, (step - warmup) / max(1, max_steps - warmup))
        if schedule == "linear":
            return floor + (1 - floor) * (1 - progress)
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))

    return f


def make_optimizer(model, ocfg: dict):
    # Weight decay on matrices only: biases, norms (1-D) are left alone, as in GPT-2/nanoGPT.
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if p.ndim >= 2], "weight_decay": ocfg.get("weight_decay", 0.0)},
              {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]
    name = ocfg.get("name", "adamw")
    if name == "adafactor":  # T5's optimizer; memory-light, no fused kernel
        from transformers.optimization import Adafactor
        return Adafactor(groups, lr=ocfg["lr"], scale_parameter=False, relative_step=False, warmup_init=False)
    if name != "adamw":
        raise ValueError(f"optim.name must be adamw or adafactor, not {name!r}")
    # One fused kernel for all parameters instead of a loop of small ops: torch has it for CUDA and,
    # since 2.4, for CPU (the same default transformers' Trainer uses).
    fused = ocfg.get("fused", "auto")
    fused = True if fused == "auto" else bool(fused)
    kwargs = dict(lr=ocfg["lr"], betas=tuple(ocfg.get("betas", (0.9, 0.999))), eps=ocfg.get("eps", 1e-8))
    try:
        return torch.optim.AdamW(groups, fused=fused or None, **kwargs)
    except (RuntimeError, ValueError):  # an old torch or a device without the fused kernel
        return torch.optim.AdamW(groups, **kwargs)


def latest_checkpoint(output_dir: str | Path) -> Path | None:
    ckpts = sorted((Path(output_dir) / "checkpoints").glob("step_*"))
    ckpts = [c for c in ckpts if (c / "trainer_state.json").exists()]  # complete ones only
    return ckpts[-1] if ckpts else None


def _batch_tokens(batch: dict, seq2seq: bool) -> int:
    n = int(batch["attention_mask"].sum()) if "attention_mask" in batch else batch["input_ids"].numel()
    if seq2seq:
        n += int((batch["labels"] != -100).sum())
    return n


def fit(cfg: dict, accelerator, model, batches: Callable[[int, int, int], dict], *,
        flops_per_token: float = 0.0, resume: str | bool | None = None, log: Callable[[str], None] = print):
    """Train `model` for cfg.train.max_steps optimizer steps; returns the (wrapped) model."""
    tcfg, ocfg = cfg["train"], cfg["optim"]
    out = Path(cfg["output_dir"])
    max_steps, accum = int(tcfg["max_steps"]), int(tcfg.get("grad_accum", 1))
    cuda = accelerator.device.type == "cuda"
    seq2seq = is_seq2seq(model)

    if cfg["model"].get("gradient_checkpointing"):
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if hasattr(model.config, "use_cache"):
        model.config.use_cache = False  # a KV cache is useless in training and disables packing detection
    optimizer = make_optimizer(model, ocfg)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(ocfg, max_steps))
    model, optimizer = accelerator.prepare(model, optimizer)
    # The scheduler steps once per optimizer step whatever the world size, so it is not prepared
    # (accelerate would step it world-size times); it is still saved with the state.
    accelerator.register_for_checkpointing(scheduler)
    if cfg["model"].get("compile"):
        if cuda:
            model = torch.compile(model)
        else:
            log("model.compile ignored on CPU")

    step = 0
    ckpt = latest_checkpoint(out) if resume is True else (Path(resume) if resume else None)
    if resume and ckpt is None:
        log(f"no checkpoint under {out}/checkpoints: starting from scratch")
    if ckpt is not None:
        accelerator.load_state(str(ckpt))
        step = json.loads((ckpt / "trainer_state.json").read_text())["step"]
        log(f"resumed from {ckpt} at step {step}")

    if accelerator.is_main_process:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.json").write_text(json.dumps(cfg, indent=2, default=str))
        n_all, n_train = count_params(model), count_params(model, trainable_only=True)
        log(f"{n_all / 1e6:.2f}M parameters ({n_train / 1e6:.3f}M trainable), {accelerator.num_processes} "
            f"process(es) on {accelerator.device}, precision {accelerator.mixed_precision}")
    log_path = out / "log.jsonl"
    peak = float(tcfg.get("peak_tflops", 989.0)) * 1e12
    stop_after = tcfg.get("stop_after")

    model.train()
    t0, tokens_since = time.perf_counter(), 0
    while step < max_steps:
        loss_sum = torch.zeros((), device=accelerator.device)
        for micro in range(accum):
            batch = {k: v.to(accelerator.device, non_blocking=True)
                     for k, v in batches(step, micro, accelerator.process_index).items()}
            tokens_since += _batch_tokens(batch, seq2seq)
            # Gradients are all-reduced only on the last micro-step.
            ctx = accelerator.no_sync(model) if micro < accum - 1 else nullcontext()
            with ctx:  # prepare() already wrapped forward in autocast when bf16/fp16 is on
                loss = model(**batch).loss / accum
                accelerator.backward(loss)
            loss_sum += loss.detach()
        grad_norm = None
        if ocfg.get("grad_clip"):
            grad_norm = accelerator.clip_grad_norm_(model.parameters(), ocfg["grad_clip"])
        lr = optimizer.param_groups[0]["lr"]  # the rate this step used
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1

        if step % tcfg.get("log_every", 10) == 0 or step == max_steps:
            loss_val = accelerator.reduce(loss_sum, "mean").item()  # also syncs the device for timing
            dt = time.perf_counter() - t0
            tok_s = tokens_since * accelerator.num_processes / dt
            mfu = flops_per_token * tok_s / (peak * accelerator.num_processes) if flops_per_token else 0.0
            rec = {"step": step, "loss": loss_val, "lr": lr, "tokens_per_sec": tok_s,
                   "mfu": mfu, "grad_norm": float(grad_norm) if grad_norm is not None else None}
            if accelerator.is_main_process:
                with open(log_path, "a") as f:
                    f.write(json.dumps(rec) + "\n")
                log(f"step {step:>6} | loss {loss_val:.4f} | lr {rec['lr']:.2e} | {tok_s:,.0f} tok/s | "
                    f"mfu {100 * mfu:.2f}%")
            t0, tokens_since = time.perf_counter(), 0

        if tcfg.get("save_every") and (step % tcfg["save_every"] == 0 or step == max_steps):
            save_checkpoint(accelerator, out, step, tcfg.get("keep_checkpoints", 2))
        if stop_after and step >= stop_after:
            log(f"stopping at step {step} (train.stop_after)")
            break
    accelerator.wait_for_everyone()
    return model


def save_checkpoint(accelerator, out: Path, step: int, keep: int) -> Path:
    path = out / "checkpoints" / f"step_{step:08d}"
    accelerator.save_state(str(path))  # model, optimizer, registered scheduler, RNG of every process
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        # Written last: a checkpoint without trainer_state.json is incomplete and never resumed from.
        (path / "trainer_state.json").write_text(json.dumps({"step": step}))
        if keep:
            for old in sorted((out / "checkpoints").glob("step_*"))[:-keep]:
                shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()
    return path


def save_model(accelerator, model, out_dir: Path, tokenizer=None) -> Path | None:
    """Save a plain HF model (full weights even under FSDP) from the main process."""
    state = accelerator.get_state_dict(model)
    unwrapped = accelerator.unwrap_model(model)
    if accelerator.is_main_process:
        out_dir.mkdir(parents=True, exist_ok=True)
        unwrapped.save_pretrained(out_dir, state_dict=state, save_function=accelerator.save)
        if tokenizer is not None:
            tokenizer.save_pretrained(out_dir)
    accelerator.wait_for_everyone()
    return out_dir if accelerator.is_main_process else None

