"""MFU of the shipped pretraining configs, as shipped: their batch, sequence length, precision, compile and document
masking (FlexAttention block masks on GPUs), for a few dozen steps of `train pretrain` on token shards.

    python benchmarks/train_gpu.py                                   # llama 125m + 350m, t5 small (one GPU)
    python benchmarks/train_gpu.py --configs pretrain_llama_350m --steps 100
    python benchmarks/train_gpu.py --peak-tflops 989                 # H100/H200 SXM bf16 dense (default)
    torchrun --nproc_per_node 8 benchmarks/train_gpu.py              # DDP over 8 GPUs
MFU = flops_per_sample (matmul FLOPs of forward + backward, checked against torch's FlopCounterMode in
tests/train/test_train_pretrain.py) x samples/s / (peak x devices), over the steps after the first third (compile
and warm-up excluded). Without a GPU it runs the tiny configs on CPU (a smoke run: MFU is meaningless there).
Uses ../shared/corpora/web_en_ko.jsonl.gz when present, synthetic text otherwise (both tokenized with a 32k BPE).
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

import torch  # noqa: E402

GPU_CONFIGS = ["pretrain_llama_125m", "pretrain_llama_350m", "pretrain_t5_small"]
CPU_CONFIGS = ["pretrain_llama_tiny", "pretrain_t5_tiny"]


def prepare(root: Path, vocab: int, n_docs: int) -> Path:
    """Tokenizer (with T5 sentinels, usable by both model families) + token shards, built once by rank 0."""
    from train.shards import tokenize_run
    from fixtures.run_folders import make_run_from_jsonl, make_synthetic_run
    from train.tokenizer import train_tokenizer

    tokens = root / "tokens"
    if int(os.environ.get("RANK", "0")) == 0 and not (tokens / "meta.json").exists():
        corpus = REPO.parent / "shared" / "corpora" / "web_en_ko.jsonl.gz"
        run = make_run_from_jsonl(corpus, root / "run") if corpus.exists() else \
            make_synthetic_run(root / "run", n_docs=n_docs)
        train_tokenizer(run, root / "tok", vocab_size=vocab, sentinels=100)
        tokenize_run(run, root / "tok", tokens)
    while not (tokens / "meta.json").exists():
        time.sleep(1)
    return tokens


def measure(name: str, tokens: Path, out: Path, steps: int, peak: float) -> dict:
    from train.config import load_config
    from train.pretrain import pretrain

    cfg = load_config(name, ["--tokens", str(tokens), "--output", str(out), "--steps", str(steps),
                             "--set", f"train.log_every={max(1, steps // 10)}", "--set", "train.save_every=0",
                             "--set", f"train.peak_tflops={peak}", "--set", "train.eval_every=0"])
    if (out / "log.jsonl").exists():
        (out / "log.jsonl").unlink()
    t0 = time.time()
    pretrain(cfg, log=lambda *_: None)
    recs = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    recs = [r for r in recs if "loss" in r]
    steady = recs[len(recs) // 3:] or recs
    return {"config": name, "batch": cfg["train"]["batch_size"], "grad_accum": cfg["train"]["grad_accum"],
            "seq": cfg["causal_lm"]["seq_len"] if cfg["objective"] == "causal-lm"
            else cfg["span_corruption"]["inputs_length"],
            "document_attention": cfg["causal_lm"]["document_attention"] if cfg["objective"] == "causal-lm" else None,
            "attention": cfg["model"]["attn_implementation"], "compile": cfg["model"]["compile"],
            "tokens_per_sec": sum(r["tokens_per_sec"] for r in steady) / len(steady),
            "mfu": sum(r["mfu"] for r in steady) / len(steady), "loss": (recs[0]["loss"], recs[-1]["loss"]),
            "wall_s": time.time() - t0}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--configs", nargs="+", default=None, help="shipped config names (default: 125m, 350m, t5-small)")
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--peak-tflops", type=float, default=989.0)
    ap.add_argument("--vocab", type=int, default=32000)
    ap.add_argument("--workdir", default=None, help="keep tokenizer/shards here (default: a temp dir)")
    args = ap.parse_args()

    cuda = torch.cuda.is_available()
    configs = args.configs or (GPU_CONFIGS if cuda else CPU_CONFIGS)
    steps = args.steps if cuda else min(args.steps, 10)
    root = Path(args.workdir or tempfile.mkdtemp(prefix="train_gpu_"))
    tokens = prepare(root, args.vocab if cuda else 1024, 20000 if cuda else 400)
    rows = [measure(name, tokens, root / f"out_{name}", steps, args.peak_tflops) for name in configs]
    if int(os.environ.get("RANK", "0")) != 0:
        return
    dev = torch.cuda.get_device_name() if cuda else "CPU"
    world = int(os.environ.get("WORLD_SIZE", "1"))
    print(f"\n{world} x {dev}, torch {torch.__version__}, {steps} steps per config, peak {args.peak_tflops:.0f} "
          f"TFLOP/s per device (MFU is meaningless on CPU)")
    print(f"{'config':24s} {'batch x seq':>12s} {'doc mask':>8s} {'attention':>15s} {'compile':>7s} "
          f"{'tokens/s':>12s} {'MFU':>7s} {'loss':>15s}")
    for r in rows:
        print(f"{r['config']:24s} {r['batch']:>5d}x{r['grad_accum']}x{r['seq']:<5d} {str(r['document_attention']):>8s} "
              f"{r['attention']:>15s} {str(r['compile']):>7s} {r['tokens_per_sec']:>12,.0f} {100 * r['mfu']:>6.1f}% "
              f"{r['loss'][0]:>7.3f}->{r['loss'][1]:<7.3f}")


if __name__ == "__main__":
    main()
