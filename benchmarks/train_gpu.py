"""GPU throughput: a ~125M Llama-style decoder, bf16, packed 1024-token sequences from token shards,
a few hundred steps of `train pretrain`; prints tokens/s and MFU against a configurable peak.

    python benchmarks/train_gpu.py                      # one GPU: llama-125m, 300 steps (< 5 min on an H200)
    python benchmarks/train_gpu.py --peak-tflops 989    # H100/H200 SXM bf16 dense (default)
    python benchmarks/train_gpu.py --compile            # add torch.compile
    torchrun --nproc_per_node 8 benchmarks/train_gpu.py # DDP over 8 GPUs
Without a GPU it falls back to the tiny preset on CPU (a smoke run, MFU is meaningless there).
Uses ../shared/corpora/web_en_ko.jsonl.gz when present, synthetic text otherwise.
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
sys.path.insert(0, str(REPO))

import torch  # noqa: E402


def prepare(root: Path, vocab: int) -> Path:
    """Tokenizer + token shards, built once by rank 0 (others wait for meta.json)."""
    from train.shards import tokenize_run
    from train.synthetic import make_run_from_jsonl, make_synthetic_run
    from train.tokenizer import train_tokenizer

    tokens = root / "tokens"
    if int(os.environ.get("RANK", "0")) == 0 and not (tokens / "meta.json").exists():
        corpus = REPO.parent / "shared" / "corpora" / "web_en_ko.jsonl.gz"
        run = make_run_from_jsonl(corpus, root / "run") if corpus.exists() else \
            make_synthetic_run(root / "run", n_docs=20000)
        train_tokenizer(run, root / "tok", vocab_size=vocab, sentinels=0)
        tokenize_run(run, root / "tok", tokens)
    while not (tokens / "meta.json").exists():
        time.sleep(1)
    return tokens


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default=None, help="default llama-125m on GPU, llama-tiny on CPU")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch", type=int, default=None)
    ap.add_argument("--seq-len", type=int, default=None)
    ap.add_argument("--peak-tflops", type=float, default=989.0)
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--gradient-checkpointing", action="store_true")
    ap.add_argument("--workdir", default=None, help="keep tokenizer/shards here (default: a temp dir)")
    args = ap.parse_args()

    cuda = torch.cuda.is_available()
    preset = args.preset or ("llama-125m" if cuda else "llama-tiny")
    batch = args.batch or (32 if cuda else 8)
    seq_len = args.seq_len or (1024 if cuda else 64)
    steps = args.steps if cuda else min(args.steps, 30)
    root = Path(args.workdir or tempfile.mkdtemp(prefix="train_gpu_"))
    tokens = prepare(root, 32000 if cuda else 1024)

    from train.config import load_config
    from train.pretrain import pretrain

    out = root / f"out_{preset}"
    cfg = load_config(None, [
        "--tokens", str(tokens), "--output", str(out), "--objective", "causal-lm", "--preset", preset,
        "--steps", str(steps), "--log-every", "20" if cuda else "5", "--batch-size", str(batch),
        "--seq-len", str(seq_len), "--lr", "6e-4", "--set", "optim.warmup_steps=20", "--set", "train.save_every=0",
        "--set", f"train.peak_tflops={args.peak_tflops}", "--set", "causal_lm.document_attention=false",
        "--set", f"model.compile={str(args.compile).lower()}",
        "--set", f"model.gradient_checkpointing={str(args.gradient_checkpointing).lower()}",
    ] + ([] if cuda else ["--set", "train.cpu_threads=1"]))
    if (out / "log.jsonl").exists():
        (out / "log.jsonl").unlink()
    t0 = time.time()
    pretrain(cfg)
    if int(os.environ.get("RANK", "0")) != 0:
        return
    recs = [json.loads(l) for l in (out / "log.jsonl").read_text().splitlines()]
    steady = recs[len(recs) // 3:] or recs  # skip warm-up / compile windows
    tok_s = sum(r["tokens_per_sec"] for r in steady) / len(steady)
    mfu = sum(r["mfu"] for r in steady) / len(steady)
    dev = torch.cuda.get_device_name() if cuda else "CPU"
    world = int(os.environ.get("WORLD_SIZE", "1"))
    print(f"\n{preset} on {world} x {dev}: {batch}x{seq_len} tokens/step/device, {steps} steps, "
          f"bf16={cuda}, compile={args.compile}")
    print(f"tokens/s (steady state, all devices): {tok_s:,.0f}")
    print(f"MFU vs {args.peak_tflops:.0f} TFLOP/s per device: {100 * mfu:.1f}%")
    print(f"final loss {recs[-1]['loss']:.3f}; wall {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
