"""Helpers shared by the train tests (a uniquely named module: other packages' tests have conftests too)."""

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SHARED_CORPUS = REPO.parent / "shared" / "corpora" / "web_en_ko.jsonl.gz"


def tiny_cfg(tokens, out, objective="causal-lm", steps=30, **sets):
    """A pretraining config for the tiny presets; `sets` are dotted overrides."""
    from train.config import load_config

    args = ["--tokens", str(tokens), "--output", str(out), "--objective", objective,
            "--preset", "t5-tiny" if objective == "span-corruption" else "llama-tiny",
            "--steps", str(steps), "--log-every", "1", "--batch-size", "8", "--inputs-length", "64",
            "--seq-len", "64", "--lr", "3e-3", "--set", "optim.warmup_steps=3", "--set", "train.cpu_threads=1",
            "--set", "train.save_every=0"]
    for k, v in sets.items():
        args += ["--set", f"{k.replace('__', '.')}={json.dumps(v) if not isinstance(v, str) else v}"]
    return load_config(None, args)


def read_log(out, kind="loss"):
    """The training records of OUT/log.jsonl (kind="val_loss": the validation records)."""
    recs = [json.loads(l) for l in (Path(out) / "log.jsonl").read_text().splitlines()]
    return [r for r in recs if kind in r]
