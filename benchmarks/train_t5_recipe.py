"""T5 pretraining recipes side by side: the loss curves of the same model, data and steps under
  old      Adafactor without parameter scaling, lr 1e-2, constant (what the T5 configs shipped before)
  nanoT5   AdamW with RMS-scaled steps (`adamw_scale`), lr 2e-2, cosine (the shipped t5_small / t5_base recipe)
  t5       Adafactor with parameter scaling, lr 1e-2, inverse square root (T5's own recipe)
A 2+2-layer T5 (d_model 128 by default, to run on 2 CPU cores; the review used 512 on a GPU), span corruption on the shared corpus when
present, synthetic text otherwise. Prints the loss every `--every` steps for each recipe.

    python benchmarks/train_t5_recipe.py [--steps 200] [--d-model 128] [--batch 8]
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]  # the packages; tests/fixtures/

RECIPES = {
    "old": ["--set", "optim.name=adafactor", "--lr", "1e-2", "--set", "optim.schedule=constant"],
    "nanoT5": ["--set", "optim.name=adamw_scale", "--lr", "2e-2", "--set", "optim.schedule=cosine",
               "--set", "optim.betas=[0.9,0.999]", "--set", "optim.eps=1e-6", "--set", "optim.min_lr_ratio=5e-4"],
    "t5": ["--set", "optim.name=adafactor", "--lr", "1e-2", "--set", "optim.schedule=inverse_sqrt"],
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--d-model", type=int, default=128)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--every", type=int, default=25)
    args = ap.parse_args()

    import torch
    from transformers.optimization import Adafactor

    import train.loop
    from train.config import load_config
    from train.pretrain import pretrain
    from train.shards import tokenize_run
    from fixtures.run_folders import make_run_from_jsonl, make_synthetic_run
    from train.tokenizer import train_tokenizer

    torch.set_num_threads(1)
    root = Path(tempfile.mkdtemp(prefix="t5_recipe_"))
    corpus = REPO.parent / "shared" / "corpora" / "web_en_ko.jsonl.gz"
    run = make_run_from_jsonl(corpus, root / "run", max_docs=3000) if corpus.exists() else \
        make_synthetic_run(root / "run", n_docs=3000)
    train_tokenizer(run, root / "tok", vocab_size=4000, sentinels=100)
    tokenize_run(run, root / "tok", root / "tokens")
    d = args.d_model
    curves = {}
    for name, flags in RECIPES.items():
        cfg = load_config("pretrain_t5_small", [
            "--tokens", str(root / "tokens"), "--output", str(root / name), "--steps", str(args.steps),
            "--batch-size", str(args.batch), "--inputs-length", "128", "--set", "train.log_every=1",
            "--set", "train.save_every=0", "--set", "optim.warmup_steps=10", "--set", "train.cpu_threads=1",
            "--set", f"model.overrides={{num_layers: 2, num_decoder_layers: 2, d_model: {d}, d_ff: {2 * d}, "
                     f"num_heads: {max(1, d // 64)}, d_kv: 64}}", "--set", "train.eval_every=0"] + flags)
        real = train.loop.make_optimizer
        if name == "old":  # the recipe as it shipped: no parameter scaling
            train.loop.make_optimizer = lambda model, ocfg: Adafactor(
                model.parameters(), lr=ocfg["lr"], scale_parameter=False, relative_step=False, warmup_init=False)
        try:
            pretrain(cfg, log=lambda *_: None)
        finally:
            train.loop.make_optimizer = real
        recs = [json.loads(line) for line in (root / name / "log.jsonl").read_text().splitlines()]
        curves[name] = [r["loss"] for r in recs if "loss" in r]
    print(f"T5 2+2 layers, d_model {d}, batch {args.batch} x 128 inputs, {args.steps} steps "
          f"({'shared corpus' if corpus.exists() else 'synthetic text'})")
    print("step   " + "".join(f"{n:>10s}" for n in curves))
    for s in list(range(args.every, args.steps + 1, args.every)):
        window = slice(max(0, s - 5), s)  # mean of the 5 steps ending here
        print(f"{s:>5d}  " + "".join(f"{sum(c[window]) / len(c[window]):>10.3f}" for c in curves.values()))


if __name__ == "__main__":
    main()
