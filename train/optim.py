"""Optimizers and learning-rate schedules.

- `adamw`: torch's AdamW (fused kernel where torch has one), decay on matrices only (GPT-2/nanoGPT).
- `adamw_scale`: nanoT5's recipe for T5 pretraining: AdamW whose step is multiplied by the parameter's RMS (floored
  at 1e-3), as Adafactor's `scale_parameter` does; with lr 2e-2 and a cosine schedule it matches T5's Adafactor
  in a fraction of the steps (Nawrot 2023, nanoT5). Without the RMS scaling a T5 query matrix (init std
  (d_model * d_kv)^-0.5) moves by more than its own norm in one step at lr 1e-2 (docs/train.md).
- `adafactor`: T5's own optimizer with parameter scaling, usually with the `inverse_sqrt` schedule (T5: lr 1e-2,
  1/sqrt(max(step, 10^4))).
"""

from __future__ import annotations

import math
from typing import Callable

import torch


class AdamWScale(torch.optim.Optimizer):
    """AdamW with Adafactor's relative step size: the update is scaled by max(1e-3, RMS(parameter)).

    The same algorithm as nanoT5's `AdamWScale` (bias-corrected Adam, decoupled weight decay), written without
    host synchronisations: the RMS stays a device tensor.
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-6, weight_decay: float = 0.0):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["step"] += 1
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                exp_avg.mul_(beta1).add_(p.grad, alpha=1.0 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(p.grad, p.grad, value=1.0 - beta2)
                denom = exp_avg_sq.sqrt().add_(group["eps"])
                step_size = group["lr"] * math.sqrt(1.0 - beta2 ** state["step"]) / (1.0 - beta1 ** state["step"])
                rms = (p.float().norm(2) / math.sqrt(p.numel())).clamp_(min=1e-3).to(p.dtype)
                p.add_(exp_avg / denom * (-step_size * rms))
                if group["weight_decay"] > 0.0:
                    p.add_(p, alpha=-group["lr"] * group["weight_decay"])
        return loss


def make_optimizer(model, ocfg: dict):
    # Weight decay on matrices only: biases, norms (1-D) are left alone, as in GPT-2/nanoGPT.
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if p.ndim >= 2], "weight_decay": ocfg["weight_decay"]},
              {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]
    name = ocfg["name"]
    if name == "adafactor":  # T5's optimizer, parameter-scaled; memory-light, no fused kernel
        from transformers.optimization import Adafactor
        return Adafactor(groups, lr=ocfg["lr"], scale_parameter=True, relative_step=False, warmup_init=False)
    if name == "adamw_scale":
        return AdamWScale(groups, lr=ocfg["lr"], betas=ocfg["betas"], eps=ocfg["eps"])
    # One fused kernel for all parameters instead of a loop of small ops: torch has it for CUDA and,
    # since 2.4, for CPU (the same default transformers' Trainer uses).
    fused = True if ocfg["fused"] == "auto" else bool(ocfg["fused"])
    kwargs = dict(lr=ocfg["lr"], betas=tuple(ocfg["betas"]), eps=ocfg["eps"])
    try:
        return torch.optim.AdamW(groups, fused=fused or None, **kwargs)
    except (RuntimeError, ValueError):  # an old torch or a device without the fused kernel
        return torch.optim.AdamW(groups, **kwargs)


def lr_lambda(ocfg: dict, max_steps: int) -> Callable[[int], float]:
    """Multiplier of optim.lr at each step: linear warmup, then cosine / linear decay to min_lr_ratio, constant,
    or T5's inverse square root (flat at 1 during the warmup steps, then sqrt(warmup / step))."""
    warmup, schedule, floor = ocfg["warmup_steps"], ocfg["schedule"], ocfg["min_lr_ratio"]

    def f(step: int) -> float:
        if schedule == "inverse_sqrt":
            return math.sqrt(max(1, warmup) / max(step + 1, warmup, 1))
        if step < warmup:
            return (step + 1) / warmup
        if schedule == "constant":
            return 1.0
        progress = min(1.0, (step - warmup) / max(1, max_steps - warmup))
        if schedule == "linear":
            return floor + (1 - floor) * (1 - progress)
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))

    return f
