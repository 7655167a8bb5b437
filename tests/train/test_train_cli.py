"""The whole path through the `train` command line, as a user runs it."""

import json
import math
import re

import yaml
from click.testing import CliRunner

from train.cli import main

from train_helpers import REPO, read_log


def run(*args):
    res = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


def test_cli_end_to_end(run_dir, alpaca_file, tmp_path):
    out = run("tokenizer", "--data", run_dir, "--out", tmp_path / "tok", "--vocab-size", 1024, "--heldout", 0.05)
    # the tokenizer folder holds a loadable HF tokenizer and the stats the command printed
    stats = json.loads((tmp_path / "tok" / "tokenizer_stats.json").read_text())
    assert (tmp_path / "tok" / "tokenizer.json").is_file()
    assert json.loads(out[:out.rindex("}") + 1]) == stats
    assert stats["type"] == "bpe" and stats["vocab_size"] <= 1024 and stats["documents"] > 0
    assert set(stats["chars_per_token"]) == {"en", "ko"}
    for lang, cpt in stats["chars_per_token"].items():
        assert cpt > 1 and f"{lang}: {cpt:.2f} characters per token (held-out documents)" in out

    out = run("tokenize", "--data", run_dir, "--tokenizer", tmp_path / "tok", "--out", tmp_path / "tokens",
              "--heldout", 0.05)
    # token shards, the tokenizer and the run's manifest copied beside them, meta.json with the counts printed
    meta = json.loads((tmp_path / "tokens" / "meta.json").read_text())
    splits = ", ".join(f"{s} {meta['splits'][s]['tokens']:,} tokens / {meta['splits'][s]['documents']:,} docs"
                       for s in ("train", "val"))
    assert out.strip() == f"wrote {tmp_path / 'tokens'}: {splits}"
    assert all(meta["splits"][s]["tokens"] > meta["splits"][s]["documents"] > 0 for s in ("train", "val"))
    assert meta["heldout_fraction"] == 0.05 and meta["vocab_size"] == stats["vocab_size"]
    for file in ("train.bin", "val.bin", "manifest.json", "tokenizer/tokenizer.json"):
        assert (tmp_path / "tokens" / file).is_file(), file
    again = run("tokenize", "--data", run_dir, "--tokenizer", tmp_path / "tok", "--out", tmp_path / "tokens",
                "--heldout", 0.05)
    assert again.strip() == f"reused existing {tmp_path / 'tokens'}: {splits}"

    for name, arch in (("pretrain_t5_tiny.yaml", "t5"), ("pretrain_llama_tiny.yaml", "llama")):
        run("pretrain", REPO / "train" / "configs" / name, "--tokens", tmp_path / "tokens",
            "--output", tmp_path / arch, "--steps", 20, "--set", "train.save_every=10", "--log-every", 1)
        losses = [r["loss"] for r in read_log(tmp_path / arch)]
        assert len(losses) == 20 and losses[-1] < losses[0]
        # checkpoints every 10 steps, each complete (trainer_state.json written last); the final model is a HF model
        ckpts = sorted((tmp_path / arch / "checkpoints").glob("step_*"))
        assert [c.name for c in ckpts] == ["step_00000010", "step_00000020"]
        for c in ckpts:
            assert json.loads((c / "trainer_state.json").read_text())["step"] == int(c.name[5:])
        for file in ("config.json", "model.safetensors", "tokenizer.json", "README.md"):
            assert (tmp_path / arch / "model" / file).is_file(), file
        # --resume on a finished run restores the last checkpoint and has nothing left to do.
        assert "resumed from" in run("pretrain", REPO / "train" / "configs" / name, "--tokens", tmp_path / "tokens",
                                     "--output", tmp_path / arch, "--steps", 20, "--resume")

        run("finetune", "finetune_lora", "--checkpoint", tmp_path / arch / "model",
            "--set", f"data.train={alpaca_file}", "--output", tmp_path / f"sft-{arch}", "--steps", 5,
            "--set", "train.cpu_threads=1", "--set", "data.max_length=96", "--lr", "1e-2")
        adapter = tmp_path / f"sft-{arch}" / "adapter"
        run("export", adapter, "--merge", "--out", tmp_path / f"merged-{arch}")
        card = (tmp_path / f"merged-{arch}" / "README.md").read_text()
        meta = yaml.safe_load(card.split("---")[1])
        assert {"CC-BY-4.0", "CC-BY-SA-4.0", "MIT", "CC-BY-NC-4.0"} <= set(meta["training_data_licenses"])
        assert meta["base_model_local"].endswith("model") and "| finetune | alpaca |" in card

        out = run("eval", tmp_path / f"merged-{arch}", "--tokens", tmp_path / "tokens", "--seq-len", 64,
                  "--out", tmp_path / f"eval-{arch}.json")
        # the perplexity printed is the one written to --out, a finite number of a model that learned something
        r = json.loads((tmp_path / f"eval-{arch}.json").read_text())["perplexity"]
        shown = re.search(r"perplexity \((.+), val, ([\d,]+) tokens\): ([\d.]+)", out)
        assert shown, out
        assert shown[1] == r["kind"] and int(shown[2].replace(",", "")) == r["tokens"] > 0
        assert float(shown[3]) == round(r["perplexity"], 3)
        assert math.isfinite(r["perplexity"]) and r["perplexity"] == math.exp(r["nll"])
        assert 1 < r["perplexity"] < stats["vocab_size"]  # below the uniform bound
