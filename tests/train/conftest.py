"""Fixtures for the train tests: a tiny run folder, tokenizer, token shards and tiny pretrained models.

Everything is built once per session from deterministic synthetic text (tests/fixtures/run_folders.py), offline.
"""

import json
import os
import sys
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_helpers import REPO, tiny_cfg  # noqa: E402

sys.path[:0] = [str(REPO), str(REPO / "tests")]  # the packages; tests/fixtures/

import torch  # noqa: E402

# Tiny models on 2 shared cores: one thread avoids OpenMP contention (10x faster matmuls here).
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory):
    from fixtures.run_folders import make_synthetic_run

    return make_synthetic_run(tmp_path_factory.mktemp("run") / "RUN", n_docs=360, seed=0)


@pytest.fixture(scope="session")
def tokenizer_dir(run_dir, tmp_path_factory):
    from train.tokenizer import train_tokenizer

    out = tmp_path_factory.mktemp("tok") / "tokenizer"
    train_tokenizer(run_dir, out, kind="bpe", vocab_size=1024, sentinels=100, heldout_fraction=0.05)
    return out


@pytest.fixture(scope="session")
def tokens_dir(run_dir, tokenizer_dir, tmp_path_factory):
    from train.shards import tokenize_run

    out = tmp_path_factory.mktemp("tokens") / "tokens"
    tokenize_run(run_dir, tokenizer_dir, out, heldout_fraction=0.05)
    return out


@pytest.fixture(scope="session")
def pretrained(tokens_dir, tmp_path_factory):
    """Tiny T5 and Llama models pretrained for a few dozen steps: {"t5": dir, "llama": dir}."""
    from train.pretrain import pretrain

    root = tmp_path_factory.mktemp("pretrained")
    out = {}
    for arch, objective in (("t5", "span-corruption"), ("llama", "causal-lm")):
        cfg = tiny_cfg(tokens_dir, root / arch, objective, steps=40)
        out[arch] = pretrain(cfg, log=lambda *_: None)
        out[arch + "_run"] = root / arch
    return out


@pytest.fixture(scope="session")
def alpaca_file(tmp_path_factory):
    import random

    rng = random.Random(0)
    rows = []
    for _ in range(64):
        a, b = rng.randint(1, 9), rng.randint(1, 9)
        rows.append({"instruction": "Add the two numbers.", "input": f"{a} and {b}", "output": f"The sum is {a + b}."})
    for _ in range(16):
        rows.append({"instruction": "Say hello in Korean.", "input": "", "output": "안녕하세요."})
    path = tmp_path_factory.mktemp("sft") / "alpaca.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    return path
