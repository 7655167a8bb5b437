"""`train grpo`: online RL with Group Relative Policy Optimization (Shao et al. 2024), through trl's GRPOTrainer.

Each step samples `grpo.num_generations` completions per prompt from the policy, scores them, and pushes up the
completions that beat their group's mean reward (no value model). Rewards:
- `answer` (rule): 1 when the record's `answer` appears in the completion, else 0;
- a directory: a `train reward` model (full or adapter) scores prompt + completion as it was trained to.
Data: JSONL of {"prompt" (or "instruction" + "input"), "answer"?}; prompts are rendered with the SFT template.
trl brings generation, the group advantages, the clipped objective and the optional KL term (`grpo.beta`); the
run writes OUT/log.jsonl, the adapter or model, and a card naming the base, the prompts and the reward.
"""

from __future__ import annotations

import json
from pathlib import Path

from .finetune import load_for_training, stage_record
from .model_card import inherited_provenance, write_model_card
from .preference import as_sft, load_reward_model, score
from .sft import alpaca_prompt, read_jsonl


def answer_reward(completions: list[str], answer: list[str], **_) -> list[float]:
    """1.0 when the expected answer occurs in the completion (whitespace-trimmed), else 0.0."""
    return [1.0 if a is not None and str(a).strip() and str(a).strip() in c else 0.0
            for c, a in zip(completions, answer)]


def reward_function(spec: str):
    if spec == "answer":
        return answer_reward
    if not Path(spec).is_dir():
        raise ValueError(f"grpo.reward must be `answer` or a `train reward` output directory, not {spec!r}")
    model, tokenizer = load_reward_model(spec)

    def reward_model(completions: list[str], instruction: list[str], **_) -> list[float]:
        return score(model, tokenizer, instruction, completions)

    reward_model.__name__ = "reward_model"
    return reward_model


def train_grpo(cfg: dict, resume: str | bool | None = None, log=print) -> Path:
    import torch
    from datasets import Dataset
    from transformers import PrinterCallback, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    dcfg, tcfg, gcfg, ocfg = cfg["data"], cfg["train"], cfg["grpo"], cfg["optim"]
    if not dcfg["train"]:
        raise ValueError("train grpo needs data.train: a JSONL of prompts (with `answer` for the rule reward)")
    if tcfg["cpu_threads"]:
        torch.set_num_threads(tcfg["cpu_threads"])
    model, tokenizer, base = load_for_training(cfg)
    records = read_jsonl(dcfg["train"])
    rows = []
    for n, rec in enumerate(records, 1):
        if "prompt" not in rec and "instruction" not in rec:
            raise ValueError(f"{dcfg['train']}:{n}: a GRPO record needs prompt (or instruction)")
        sft = as_sft(rec, "")
        rows.append({"prompt": alpaca_prompt(sft), "instruction": sft["instruction"], "answer": rec.get("answer")})
    out = Path(cfg["output_dir"])
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(cfg, indent=2))
    log_path = out / "log.jsonl"
    if log_path.exists() and not resume:
        log_path.unlink()

    class WriteLog(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kw):
            if state.is_world_process_zero and logs and "loss" in logs:
                rec = {"step": state.global_step, "loss": logs["loss"], "lr": logs.get("learning_rate"),
                       "reward": logs.get("reward"), "reward_std": logs.get("reward_std"),
                       "completion_length": logs.get("completions/mean_length"), "kl": logs.get("kl")}
                with open(log_path, "a") as f:
                    f.write(json.dumps(rec) + "\n")
                log(f"step {state.global_step:>6} | loss {logs['loss']:.4f} | reward {logs.get('reward', 0):.3f}")

    args = GRPOConfig(
        output_dir=str(out / "checkpoints"), per_device_train_batch_size=tcfg["batch_size"],
        gradient_accumulation_steps=tcfg["grad_accum"], num_generations=gcfg["num_generations"],
        max_completion_length=gcfg["max_new_tokens"], temperature=gcfg["temperature"], beta=gcfg["beta"],
        learning_rate=ocfg["lr"], weight_decay=ocfg["weight_decay"], warmup_steps=ocfg["warmup_steps"],
        lr_scheduler_type={"cosine": "cosine", "linear": "linear"}.get(ocfg["schedule"], "constant_with_warmup"),
        max_grad_norm=ocfg["grad_clip"] or 0.0, max_steps=tcfg["max_steps"], logging_steps=tcfg["log_every"],
        save_strategy="steps" if tcfg["save_every"] else "no", save_steps=tcfg["save_every"] or 500,
        save_total_limit=tcfg["keep_checkpoints"], seed=cfg["seed"], report_to=tcfg["log_with"] or "none",
        use_cpu=tcfg["cpu"] or not torch.cuda.is_available(), disable_tqdm=True, bf16=torch.cuda.is_available()
        and tcfg["precision"] in ("auto", "bf16"))
    trainer = GRPOTrainer(model=model, reward_funcs=[reward_function(gcfg["reward"])], args=args,
                          train_dataset=Dataset.from_list(rows), processing_class=tokenizer, callbacks=[WriteLog()])
    trainer.remove_callback(PrinterCallback)  # our WriteLog prints one line a step
    log(f"grpo ({cfg['peft']['method']}) on {len(rows)} prompts from {dcfg['train']}, reward {gcfg['reward']}")
    trainer.train(resume_from_checkpoint=resume if resume not in (None, False) else None)

    full = cfg["peft"]["method"] == "full"
    saved = out / ("model" if full else "adapter")
    if trainer.is_world_process_zero():
        trainer.model.save_pretrained(saved)
        tokenizer.save_pretrained(saved)
        reward = gcfg["reward"] if gcfg["reward"] == "answer" else f"reward model {gcfg['reward']}"
        prov = inherited_provenance(base)
        if gcfg["reward"] != "answer":  # the reward model's preference data shaped the policy too
            prov.setdefault("stages", []).extend(
                {**s, "stage": f"{s['stage']} (reward model)"} for s in
                inherited_provenance(gcfg["reward"]).get("stages", []) if s not in prov.get("stages", []))
        write_model_card(saved, kind="grpo", config=cfg, provenance=prov, base_model=base,
                         stage=stage_record(cfg, dcfg["train"], len(rows), reward=reward),
                         library="transformers" if full else "peft", method=cfg["peft"]["method"])
        log(f"saved {saved}")
    return saved
