"""tokens/s of `train pretrain` (accelerate loop) vs a plain transformers `Trainer` on the same tiny
Llama model, the same packed token chunks, batch, optimizer and step count, in one process.

Both are timed over the steps after a warm-up window (startup, model building and saving excluded).
Target: ratio >= 0.95x.

    python benchmarks/train_tokens_per_sec.py [--steps 60] [--batch 16] [--seq-len 128] [--threads 1]
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]  # the packages; tests/fixtures/

import numpy as np  # noqa: E402
import torch  # noqa: E402


def prepare(root: Path, n_docs: int) -> Path:
    from train.shards import tokenize_run
    from fixtures.run_folders import make_synthetic_run
    from train.tokenizer import train_tokenizer

    run = make_synthetic_run(root / "run", n_docs=n_docs)
    train_tokenizer(run, root / "tok", vocab_size=1024, sentinels=0)
    tokenize_run(run, root / "tok", root / "tokens")
    return root / "tokens"


def run_ours(tokens: Path, out: Path, args) -> float:
    from train.config import load_config
    from train.pretrain import pretrain

    cfg = load_config(None, ["--tokens", str(tokens), "--output", str(out), "--objective", "causal-lm",
                             "--preset", "llama-tiny", "--steps", str(args.steps), "--log-every", str(args.warmup),
                             "--batch-size", str(args.batch), "--seq-len", str(args.seq_len), "--lr", "1e-3",
                             "--set", "optim.warmup_steps=0", "--set", "train.save_every=0",
                             "--set", f"train.cpu_threads={args.threads}", "--set", "optim.grad_clip=1.0"])
    pretrain(cfg, log=lambda *_: None)
    recs = [json.loads(l) for l in (out / "log.jsonl").read_text().splitlines()]
    # training windows after the first (warm-up) one, each covering args.warmup steps (other records: eval, end)
    timed = [r for r in recs if "tokens_per_sec" in r][1:]
    return float(np.mean([r["tokens_per_sec"] for r in timed]))


def run_trainer(tokens: Path, out: Path, args) -> float:
    from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainerCallback, TrainingArguments

    from train.data import ChunkSampler
    from train.models import build_config
    from train.shards import TokenShard

    shard = TokenShard(tokens)
    tok = AutoTokenizer.from_pretrained(shard.tokenizer_dir)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(build_config("llama-tiny", tok), attn_implementation="sdpa")
    sampler = ChunkSampler(shard, args.seq_len, seed=0)

    class Chunks(torch.utils.data.Dataset):
        def __len__(self):
            return args.steps * args.batch

        def __getitem__(self, i):
            ids = torch.from_numpy(sampler.chunks(i, 1)[0].astype(np.int64))
            return {"input_ids": ids, "labels": ids.clone()}

    times = []

    class Clock(TrainerCallback):
        def on_step_end(self, a, state, control, **kw):
            times.append(time.perf_counter())

    targs = TrainingArguments(output_dir=str(out), per_device_train_batch_size=args.batch, max_steps=args.steps,
                              learning_rate=1e-3, weight_decay=0.1, adam_beta2=0.95, max_grad_norm=1.0,
                              lr_scheduler_type="cosine", logging_steps=args.warmup, save_strategy="no",
                              eval_strategy="no", report_to=[], use_cpu=True, dataloader_num_workers=0,
                              disable_tqdm=True, seed=0)
    Trainer(model=model, args=targs, train_dataset=Chunks(), processing_class=tok, callbacks=[Clock()]).train()
    steps = len(times) - args.warmup
    return steps * args.batch * args.seq_len / (times[-1] - times[args.warmup - 1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq-len", type=int, default=128)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        tokens = prepare(root, 2000)
        ours, base = [], []
        for r in range(args.repeats):  # interleave to even out noise from other processes on the machine
            base.append(run_trainer(tokens, root / f"trainer{r}", args))
            ours.append(run_ours(tokens, root / f"ours{r}", args))
    o, b = max(ours), max(base)
    print(f"tiny llama ({args.batch}x{args.seq_len} tokens/step, {args.steps} steps, {args.threads} thread(s), CPU)")
    print(f"transformers Trainer: {b:>10,.0f} tokens/s   (runs: {', '.join(f'{x:,.0f}' for x in base)})")
    print(f"train pretrain:       {o:>10,.0f} tokens/s   (runs: {', '.join(f'{x:,.0f}' for x in ours)})")
    print(f"ratio: {o / b:.2f}x (target >= 0.95x)")


if __name__ == "__main__":
    main()
