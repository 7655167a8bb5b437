"""Optimizers and schedules: the shipped T5 recipe is nanoT5's (AdamW with RMS scaling), not unscaled Adafactor."""

import math

import pytest
import torch
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

from train.config import load_config
from train.losses import LanguageModelLoss
from train.models import build_config
from train.optim import AdamWScale, lr_lambda, make_optimizer


def _query_move(tokenizer_dir, ocfg, make=make_optimizer) -> float:
    """Relative change of a T5-small-width query matrix after one step at the recipe's peak learning rate."""
    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    torch.manual_seed(0)
    config = build_config("t5-small", tok, {"num_layers": 1, "num_decoder_layers": 1})
    model = AutoModelForSeq2SeqLM.from_config(config)
    q = model.encoder.block[0].layer[0].SelfAttention.q.weight
    before = q.detach().clone()
    opt = make(model, ocfg)
    batch = {"input_ids": torch.randint(4, 900, (4, 64)), "labels": torch.randint(4, 900, (4, 14))}
    loss, _ = LanguageModelLoss(model)(batch)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), ocfg["grad_clip"])
    opt.step()
    return float((q.detach() - before).norm() / before.norm())


@pytest.mark.parametrize("config", ["pretrain_t5_small", "pretrain_t5_base"])
def test_shipped_t5_recipe_takes_bounded_steps(tokenizer_dir, config):
    ocfg = load_config(config)["optim"]
    assert ocfg["name"] == "adamw_scale" and ocfg["lr"] == 2e-2 and ocfg["schedule"] == "cosine"
    assert _query_move(tokenizer_dir, ocfg) < 0.05  # ~lr: Adam's unit step times the weight's own RMS


def test_unscaled_adafactor_overshoots_and_ours_does_not(tokenizer_dir):
    """The old recipe (Adafactor without parameter scaling, lr 1e-2) moves a query matrix by more than its own norm
    in one step; `adafactor` now scales by the parameter's RMS as T5 does."""
    from transformers.optimization import Adafactor

    ocfg = {"name": "adafactor", "lr": 1e-2, "weight_decay": 0.0, "grad_clip": 1.0}
    unscaled = lambda model, _: Adafactor(model.parameters(), lr=1e-2, scale_parameter=False, relative_step=False,
                                          warmup_init=False)
    assert _query_move(tokenizer_dir, ocfg, unscaled) > 1.0
    assert _query_move(tokenizer_dir, ocfg) < 0.05


def test_adamw_scale_is_adam_times_parameter_rms():
    torch.manual_seed(0)
    p = torch.nn.Parameter(torch.randn(16, 8) * 0.3)
    p.grad = torch.randn(16, 8)
    before = p.detach().clone()
    AdamWScale([p], lr=0.1, eps=1e-12).step()
    rms = before.norm() / math.sqrt(before.numel())
    # first bias-corrected Adam step is lr * sign(grad); scaled by the RMS of the weights
    torch.testing.assert_close(p.detach(), before - 0.1 * rms * torch.sign(p.grad), rtol=1e-5, atol=1e-6)


def test_inverse_sqrt_schedule_is_t5s():
    f = lr_lambda({"warmup_steps": 10000, "schedule": "inverse_sqrt", "min_lr_ratio": 0.0}, 100000)
    assert f(0) == f(9999) == 1.0 and f(39999) == pytest.approx(0.5)
    g = lr_lambda({"warmup_steps": 10, "schedule": "cosine", "min_lr_ratio": 0.1}, 110)
    assert g(0) == 0.1 and g(9) == 1.0 and g(110) == pytest.approx(0.1)
