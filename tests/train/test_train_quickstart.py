"""The newcomer path of docs/train.md ("Quick start"), run verbatim on a real `curate run pipelines/demo.yaml`.

The command block is read from docs/train.md, so the documented commands are the tested ones. The `curate run`
line is the session fixture `demo_run` (tests/conftest.py), linked in as runs/demo; every `train` line runs through
the real click command line in a scratch working directory.
"""

import json
import math
import re
import shlex

import yaml
from click.testing import CliRunner

from train.cli import main

from train_helpers import REPO, read_log


def quickstart_commands() -> list[list[str]]:
    text = (REPO / "docs" / "train.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [shlex.split(line, comments=True) for line in block.splitlines() if line.strip()]


def card_meta(model_dir) -> tuple[dict, str]:
    text = (model_dir / "README.md").read_text()
    _, front, body = text.split("---", 2)
    return yaml.safe_load(front), body


def mean(xs):
    return sum(xs) / len(xs)


def test_quickstart_on_the_demo_run(demo_run, tmp_path, monkeypatch):
    commands = quickstart_commands()
    assert commands[0] == ["curate", "run", "pipelines/demo.yaml"]
    assert all(c[0] == "train" for c in commands[1:]) and len(commands) >= 15

    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "demo").symlink_to(demo_run, target_is_directory=True)
    outputs = {}
    for cmd in commands[1:]:
        res = CliRunner().invoke(main, cmd[1:], catch_exceptions=False)
        assert res.exit_code == 0, f"{shlex.join(cmd)}\n{res.output}"
        outputs[shlex.join(cmd)] = res.output
    runs = tmp_path / "runs"

    # Losses fall: pretraining (both objectives) and the LoRA SFT, first vs last third of the logged steps.
    for run in ("llama-tiny", "t5-tiny", "sft"):
        losses = [r["loss"] for r in read_log(runs / run)]
        third = max(1, len(losses) // 3)
        assert mean(losses[-third:]) < mean(losses[:third]) - 0.2, (run, losses)
        assert all(math.isfinite(l) for l in losses)
    assert read_log(runs / "llama-tiny")[-1]["step"] == 60 and read_log(runs / "t5-tiny")[-1]["step"] == 60

    # An adapter and a merged plain model.
    adapter = runs / "sft" / "adapter"
    assert json.loads((adapter / "adapter_config.json").read_text())["peft_type"] == "LORA"
    assert (adapter / "adapter_model.safetensors").exists()
    merged = runs / "sft" / "merged"
    assert not (merged / "adapter_config.json").exists()
    from safetensors import safe_open

    with safe_open(str(merged / "model.safetensors"), "pt") as f:
        keys = list(f.keys())
    assert keys and not any("lora" in k for k in keys)

    # Evaluation prints perplexity and multiple-choice accuracy, for the pretrained and the merged model.
    evals = [out for cmd, out in outputs.items() if cmd.startswith("train eval")]
    assert len(evals) == 2
    for out in evals:
        ppl = float(re.search(r"perplexity \(causal, val, [\d,]+ tokens\): ([\d.]+)", out).group(1))
        assert 1 < ppl < 2000  # below a uniform guess over the 2,000-token vocabulary
        m = re.search(r"hellaswag \(0-shot, n=(\d+)\): acc ([\d.]+)  acc_norm ([\d.]+)", out)
        assert m and int(m.group(1)) == 24 and 0 <= float(m.group(2)) <= 1 and 0 <= float(m.group(3)) <= 1

    # The model cards name the licenses of the demo run's manifest.
    manifest = json.loads((demo_run / "manifest.json").read_text())
    demo_licenses = {l for l in manifest["licenses"] if l != "NOASSERTION"}
    assert {"CC-BY-4.0", "CC-BY-SA-4.0", "MIT", "CC0-1.0"} <= demo_licenses
    meta, body = card_meta(runs / "llama-tiny" / "model")
    assert set(meta["training_data_licenses"]) == demo_licenses
    assert meta["license"] == "other" and meta["license_name"] == "mixed-training-data"
    assert "datasets" not in meta  # local sources are not Hub ids: the body lists them with their provenance
    for source in manifest["sources"]:
        assert f"| {source} |" in body
    assert set(meta["language"]) == {"en", "ko"}  # the code documents have no language: no "None" language
    for lic in demo_licenses:
        assert f"| {lic} |" in body
    meta, body = card_meta(merged)
    assert set(meta["training_data_licenses"]) == demo_licenses | {"Apache-2.0"}
    assert "| finetune | demo-alpaca |" in body and meta["base_model_local"].endswith("llama-tiny/model")

    # Post-training: a reward model that learned the preferences, DPO, GRPO scored by that reward model, and
    # Self-Instruct data naming its generator; every card carries the stages before it.
    assert read_log(runs / "reward")[-1]["accuracy"] >= 0.8
    dpo = read_log(runs / "dpo")
    assert mean([r["loss"] for r in dpo[-2:]]) < dpo[0]["loss"] - 0.1 and dpo[-1]["margin"] > 0
    assert [r["step"] for r in read_log(runs / "grpo")] == [1, 2, 3, 4]
    for out, stages in ((runs / "reward" / "model", ["finetune", "reward"]), (runs / "dpo" / "adapter",
                        ["finetune", "dpo"]), (runs / "grpo" / "adapter", ["finetune", "reward (reward model)", "grpo"])):
        prov = json.loads((out / "provenance.json").read_text())
        assert [s["stage"] for s in prov["stages"]] == stages, out
        assert set(card_meta(out)[0]["training_data_licenses"]) == demo_licenses | {"Apache-2.0"}
    rows = [json.loads(line) for line in (runs / "self-instruct.jsonl").read_text().splitlines()]
    assert rows and all(r["generated_by"]["name"] == "demo-llama-tiny-sft" for r in rows)
    generated = [out for cmd, out in outputs.items() if cmd.startswith("train generate")][0]
    line = generated[generated.index('{"prompt"'):].splitlines()[0]  # stdout (stderr has progress bars)
    assert json.loads(line)["prompt"] == "Add the two numbers."
