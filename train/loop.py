"""The training loop shared by every command: one accelerate loop, nanoGPT style.

accelerate gives the same code single-device, DDP (`torchrun` / `accelerate launch`, NCCL or gloo) and FSDP (an
accelerate config), bf16 autocast on GPUs and plain fp32 on CPUs. The loop trains a loss module (train/losses.py)
whose forward returns a sum of per-item losses; each step divides by the step's item count over every micro-batch
and rank (token-weighted loss). A checkpoint holds model, optimizer, scheduler and every RNG (accelerate
`save_state`) plus the step counter; batches are a pure function of the step (train/data.py), so a resumed run
replays the uninterrupted one. The host waits on the device only at log, eval and save steps.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path
from typing import Callable

import torch

from .models import count_params
from .optim import lr_lambda, make_optimizer

Batches = Callable[[int, int, int], dict]  # (step, micro, rank) -> host tensors


def make_accelerator(cfg: dict):
    from accelerate import Accelerator
    from accelerate.utils import DistributedDataParallelKwargs

    tcfg = cfg["train"]
    cuda = torch.cuda.is_available() and not tcfg["cpu"]
    precision = tcfg["precision"]
    if precision == "auto":
        precision = "bf16" if cuda and torch.cuda.is_bf16_supported() else "fp32"
    if cuda and tcfg["tf32"]:
        # TF32 matmuls for whatever still runs in fp32 (optimizer math, fp32 runs) on Ampere+.
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    if tcfg["cpu_threads"]:
        # Tiny models on a few shared cores run faster single-threaded (no OpenMP contention).
        torch.set_num_threads(int(tcfg["cpu_threads"]))
    kwargs = {}
    if cfg["dist"]["fsdp"]:
        from accelerate import FullyShardedDataParallelPlugin
        kwargs["fsdp_plugin"] = FullyShardedDataParallelPlugin(**cfg["dist"]["fsdp_kwargs"])
    if tcfg["log_with"]:
        # W&B never goes online from here: runs are written under OUT/logs/wandb (`wandb sync` them later).
        os.environ.setdefault("WANDB_MODE", "offline")
        os.environ.setdefault("WANDB_DIR", str(Path(cfg["output_dir"]) / "logs"))
        kwargs.update(log_with=list(tcfg["log_with"]), project_dir=str(Path(cfg["output_dir"]) / "logs"))
    # PEFT and tied weights leave parameters without gradients in some steps; tell DDP not to wait.
    ddp = DistributedDataParallelKwargs(find_unused_parameters=cfg["dist"]["find_unused"])
    return Accelerator(cpu=not cuda, mixed_precision={"fp32": "no"}.get(precision, precision),
                       kwargs_handlers=[ddp], **kwargs)


def latest_checkpoint(output_dir: str | Path) -> Path | None:
    ckpts = sorted((Path(output_dir) / "checkpoints").glob("step_*"))
    ckpts = [c for c in ckpts if (c / "trainer_state.json").exists()]  # complete ones only
    return ckpts[-1] if ckpts else None


def _flat(cfg: dict, prefix: str = "") -> dict:
    """Scalar hyper-parameters for TensorBoard / W&B (lists and None as text)."""
    out = {}
    for k, v in cfg.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[prefix + k] = v if isinstance(v, (int, float, str, bool)) else str(v)
    return out


class _Prefetch:
    """The next step's host batches, built (and pinned) in a thread while the device runs this step (CUDA)."""

    def __init__(self, batches: Batches, accum: int, rank: int, enabled: bool):
        self.batches, self.accum, self.rank, self.enabled = batches, accum, rank, enabled
        self.pool = ThreadPoolExecutor(1) if enabled else None
        self.pending: dict[int, object] = {}

    def _build(self, step: int) -> list[dict]:
        out = [self.batches(step, micro, self.rank) for micro in range(self.accum)]
        if self.enabled:
            out = [{k: v.pin_memory() for k, v in b.items()} for b in out]
        return out

    def get(self, step: int, max_steps: int) -> list[dict]:
        micro_batches = self.pending.pop(step).result() if step in self.pending else self._build(step)
        if self.enabled and step + 1 < max_steps:
            self.pending[step + 1] = self.pool.submit(self._build, step + 1)
        return micro_batches


def fit(cfg: dict, accelerator, objective: torch.nn.Module, batches: Batches, *,
        val_batches: Callable[[int], dict] | None = None, flops_per_sample: float = 0.0,
        resume: str | bool | None = None, log: Callable[[str], None] = print):
    """Train `objective.model` for cfg.train.max_steps optimizer steps; returns the (wrapped) objective."""
    tcfg, ocfg = cfg["train"], cfg["optim"]
    out = Path(cfg["output_dir"])
    max_steps, accum = tcfg["max_steps"], tcfg["grad_accum"]
    cuda = accelerator.device.type == "cuda"
    model = objective.model

    if cfg["model"]["gradient_checkpointing"]:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if hasattr(model.config, "use_cache"):
        model.config.use_cache = False  # a KV cache is useless in training
    optimizer = make_optimizer(objective, ocfg)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(ocfg, max_steps))
    objective, optimizer = accelerator.prepare(objective, optimizer)
    # The scheduler steps once per optimizer step whatever the world size, so it is not prepared
    # (accelerate would step it world-size times); it is still saved with the state.
    accelerator.register_for_checkpointing(scheduler)
    if cfg["model"]["compile"]:
        if cuda:
            objective = torch.compile(objective)
        else:
            log("model.compile ignored on CPU")
    counter = accelerator.unwrap_model(objective)  # .count(batch): items of a host batch

    step = 0
    log_path = out / "log.jsonl"
    ckpt = latest_checkpoint(out) if resume is True else (Path(resume) if resume else None)
    if resume and ckpt is None:
        log(f"no checkpoint under {out}/checkpoints: starting from scratch")
    if ckpt is not None:
        accelerator.load_state(str(ckpt))
        step = json.loads((ckpt / "trainer_state.json").read_text())["step"]
        log(f"resumed from {ckpt} at step {step}")
        if accelerator.is_main_process and log_path.exists():
            # Steps logged after the checkpoint are trained again: drop their records, or they appear twice.
            kept = [l for l in log_path.read_text().splitlines() if json.loads(l)["step"] <= step]
            log_path.write_text("".join(l + "\n" for l in kept))

    if accelerator.is_main_process:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.json").write_text(json.dumps(cfg, indent=2, default=str))
        n_all, n_train = count_params(model), count_params(model, trainable_only=True)
        log(f"{n_all / 1e6:.2f}M parameters ({n_train / 1e6:.3f}M trainable), {accelerator.num_processes} "
            f"process(es) on {accelerator.device}, precision {accelerator.mixed_precision}")
    if tcfg["log_with"]:
        accelerator.init_trackers(out.name, config=_flat(cfg))

    def write_record(rec: dict) -> None:
        if accelerator.is_main_process:
            with open(log_path, "a") as f:
                f.write(json.dumps(rec) + "\n")
        if tcfg["log_with"]:
            accelerator.log({k: v for k, v in rec.items() if k != "step" and v is not None}, step=rec["step"])

    world, rank, device = accelerator.num_processes, accelerator.process_index, accelerator.device
    peak = tcfg["peak_tflops"] * 1e12
    prefetch = _Prefetch(batches, accum, rank, enabled=cuda)
    objective.train()
    t0, samples_since, tokens_since = time.perf_counter(), 0, 0
    window = {"loss": torch.zeros((), device=device), "items": torch.zeros((), device=device)}
    while step < max_steps:
        micro_batches = prefetch.get(step, max_steps)
        items = torch.tensor(float(sum(counter.count(b) for b in micro_batches)), device=device)
        if world > 1:
            items = accelerator.reduce(items, "sum")  # a collective on the device, not a host sync
        # DDP averages gradients over ranks, hence world / items: the step's gradient is the mean over all items.
        scale = world / items.clamp(min=1.0)
        for micro, host_batch in enumerate(micro_batches):
            batch = {k: v.to(device, non_blocking=True) for k, v in host_batch.items()}
            samples_since += len(next(iter(host_batch.values())))
            tokens_since += counter.tokens(host_batch)
            # Gradients are all-reduced only on the last micro-step.
            ctx = accelerator.no_sync(objective) if micro < accum - 1 else nullcontext()
            with ctx:  # prepare() already wrapped forward in autocast when bf16/fp16 is on
                loss_sum, metrics = objective(batch)
                accelerator.backward(loss_sum * scale)
            window["loss"] += loss_sum.detach()
            for k, v in metrics.items():
                window[k] = window.get(k, torch.zeros((), device=device)) + v.detach()
        window["items"] += items / world  # reduced below: each rank adds its share
        grad_norm = accelerator.clip_grad_norm_(objective.parameters(), ocfg["grad_clip"]) \
            if ocfg["grad_clip"] else None
        lr = scheduler.get_last_lr()[0]  # the rate this step uses
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1

        if step % tcfg["log_every"] == 0 or step == max_steps:
            sums = {k: accelerator.reduce(v, "sum").item() for k, v in window.items()}  # syncs: timing is exact
            dt = time.perf_counter() - t0
            n_items = max(sums.pop("items"), 1.0)
            # every rank trains the same shapes: this rank's samples and tokens times the world size
            mfu = flops_per_sample * samples_since / dt / peak if flops_per_sample else 0.0
            rec = {"step": step, "loss": sums.pop("loss") / n_items, "lr": lr,
                   "tokens_per_sec": tokens_since * world / dt, "samples_per_sec": samples_since * world / dt,
                   "mfu": mfu, "grad_norm": float(grad_norm) if grad_norm is not None else None}
            rec.update({k: v / n_items for k, v in sums.items()})
            write_record(rec)
            extra = "".join(f" | {k} {v / n_items:.3f}" for k, v in sums.items())
            log(f"step {step:>6} | loss {rec['loss']:.4f}{extra} | lr {lr:.2e} | {rec['tokens_per_sec']:,.0f} tok/s"
                f" | mfu {100 * mfu:.2f}%")
            t0, samples_since, tokens_since = time.perf_counter(), 0, 0
            window = {k: torch.zeros((), device=device) for k in window}

        if val_batches is not None and ((tcfg["eval_every"] and step % tcfg["eval_every"] == 0)
                                        or step == max_steps):
            val_loss = evaluate_loss(accelerator, objective, val_batches, tcfg["eval_batches"])
            write_record({"step": step, "val_loss": val_loss})
            log(f"step {step:>6} | val_loss {val_loss:.4f}")
            t0 = time.perf_counter()  # evaluation time is not training throughput

        if tcfg["save_every"] and (step % tcfg["save_every"] == 0 or step == max_steps):
            save_checkpoint(accelerator, out, step, tcfg["keep_checkpoints"])
        if tcfg["stop_after"] and step >= tcfg["stop_after"]:
            log(f"stopping at step {step} (train.stop_after)")
            break
    accelerator.wait_for_everyone()
    return objective


@torch.no_grad()
def evaluate_loss(accelerator, objective, val_batches: Callable[[int], dict], n_batches: int) -> float:
    """Item-weighted mean loss over the first n_batches validation batches (split over the ranks)."""
    counter = accelerator.unwrap_model(objective)
    objective.eval()
    device = accelerator.device
    total, items = torch.zeros((), device=device), torch.zeros((), device=device)
    for i in range(accelerator.process_index, n_batches, accelerator.num_processes):
        host = val_batches(i)
        if host is None:
            break
        loss_sum, _ = objective({k: v.to(device) for k, v in host.items()})
        total += loss_sum.float()
        items += counter.count(host)
    objective.train()
    return (accelerator.reduce(total, "sum") / accelerator.reduce(items, "sum").clamp(min=1)).item()


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


def save_model(accelerator, objective, out_dir: Path, tokenizer=None) -> Path | None:
    """Save the plain HF model inside the loss module (full weights even under FSDP) from the main process."""
    state = accelerator.get_state_dict(objective)
    model = accelerator.unwrap_model(objective)
    model = getattr(model, "_orig_mod", model).model  # torch.compile wraps the loss module
    state = {k.removeprefix("_orig_mod.").removeprefix("model."): v for k, v in state.items()}
    if accelerator.is_main_process:
        out_dir.mkdir(parents=True, exist_ok=True)
        model.save_pretrained(out_dir, state_dict=state, save_function=accelerator.save)
        if tokenizer is not None:
            tokenizer.save_pretrained(out_dir)
    accelerator.wait_for_everyone()
    return out_dir if accelerator.is_main_process else None
