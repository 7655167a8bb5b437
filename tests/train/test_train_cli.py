"""The whole path through the `train` command line, as a user runs it."""

import json

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
    assert "ko:" in out and "characters per token" in out
    out = run("tokenize", "--data", run_dir, "--tokenizer", tmp_path / "tok", "--out", tmp_path / "tokens",
              "--heldout", 0.05)
    assert "wrote" in out
    assert "reused" in run("tokenize", "--data", run_dir, "--tokenizer", tmp_path / "tok", "--out",
                           tmp_path / "tokens", "--heldout", 0.05)

    for name, arch in (("pretrain_t5_tiny.yaml", "t5"), ("pretrain_llama_tiny.yaml", "llama")):
        run("pretrain", REPO / "train" / "configs" / name, "--tokens", tmp_path / "tokens",
            "--output", tmp_path / arch, "--steps", 20, "--set", "train.save_every=10", "--log-every", 1)
        losses = [r["loss"] for r in read_log(tmp_path / arch)]
        assert losses[-1] < losses[0]
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
        assert "perplexity" in out
        assert json.loads((tmp_path / f"eval-{arch}.json").read_text())["perplexity"]["perplexity"] > 1
