"""SFT -> reward model -> DPO -> GRPO, and Self-Instruct data, on the demo data with the tiny models (CPU)."""

import json

import pytest
import yaml

from train.config import load_config
from train.demo_data import write_demo_data
from train.finetune import export, finetune
from train.grpo import answer_reward, train_grpo
from train.preference import load_reward_model, score, train_dpo, train_reward
from train.self_instruct import InstructionFilter, parse_continuation, self_instruct

from train_helpers import read_log

COMMON = ["--set", "train.cpu_threads=1", "--set", "train.save_every=0", "--set", "data.max_length=192",
          "--set", "optim.warmup_steps=3", "--log-every", "5"]


def card(model_dir):
    text = (model_dir / "README.md").read_text()
    return yaml.safe_load(text.split("---")[1]), text


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return write_demo_data(tmp_path_factory.mktemp("demo-data"))


@pytest.fixture(scope="module")
def sft_model(pretrained, demo, tmp_path_factory):
    root = tmp_path_factory.mktemp("sft")
    cfg = load_config("finetune_lora_tiny", ["--checkpoint", str(pretrained["llama"]), "--output", str(root),
                                             "--set", f"data.train={demo['sft']}", "--steps", "20"] + COMMON,
                      command="finetune")
    return export(finetune(cfg, log=lambda *_: None), root / "merged")


@pytest.fixture(scope="module")
def reward_model(sft_model, demo, tmp_path_factory):
    out = tmp_path_factory.mktemp("rm")
    cfg = load_config(None, ["--checkpoint", str(sft_model), "--output", str(out), "--steps", "30", "--lr", "5e-3",
                             "--set", "peft.method=full",
                             "--set", f"data.train={demo['preferences']}", "--set", "data.name=demo-preferences",
                             "--set", "data.license=Apache-2.0"] + COMMON, command="reward")
    return train_reward(cfg, log=lambda *_: None)


def test_reward_model_learns_the_preferences(reward_model, demo):
    log = read_log(reward_model.parent)
    assert log[-1]["accuracy"] >= 0.9 and log[-1]["loss"] < 0.5 * log[0]["loss"], log
    model, tok = load_reward_model(reward_model)
    pairs = [json.loads(line) for line in demo["preferences"].read_text().splitlines()][:8]
    chosen = score(model, tok, [p["instruction"] for p in pairs], [p["chosen"] for p in pairs])
    rejected = score(model, tok, [p["instruction"] for p in pairs], [p["rejected"] for p in pairs])
    assert sum(c > r for c, r in zip(chosen, rejected)) >= 7
    meta, body = card(reward_model)
    assert "demo-preferences" in body and "Apache-2.0" in meta["training_data_licenses"]
    assert "| finetune | demo-alpaca |" in body and "| reward | demo-preferences |" in body  # SFT data carried


def test_dpo_prefers_chosen_and_names_its_sft_base(sft_model, demo, tmp_path):
    cfg = load_config(None, ["--checkpoint", str(sft_model), "--output", str(tmp_path / "dpo"), "--steps", "30",
                             "--lr", "3e-3", "--set", f"data.train={demo['preferences']}",
                             "--set", "data.name=demo-preferences", "--set", "data.license=Apache-2.0"] + COMMON
                      + ["--log-every", "1"], command="dpo")
    out = train_dpo(cfg, log=lambda *_: None)
    log = read_log(tmp_path / "dpo")
    assert log[0]["loss"] == pytest.approx(0.6931, abs=0.02)  # policy == reference at the start
    last = log[-5:]
    assert sum(r["loss"] for r in last) / 5 < 0.5 and sum(r["accuracy"] for r in last) / 5 >= 0.9, log
    assert all(r["margin"] > 0.5 for r in last)
    meta, body = card(out)
    assert meta["base_model_local"].endswith("merged") and "base_model" not in meta
    assert "| dpo | demo-preferences | Apache-2.0 | 50 |" in body and "| finetune | demo-alpaca |" in body
    prov = json.loads((out / "provenance.json").read_text())
    assert [s["stage"] for s in prov["stages"]] == ["finetune", "dpo"] and prov["stages"][1]["beta"] == 0.1


def test_grpo_with_the_reward_model(sft_model, reward_model, demo, tmp_path):
    cfg = load_config(None, ["--checkpoint", str(sft_model), "--output", str(tmp_path / "grpo"), "--steps", "3",
                             "--lr", "1e-3", "--set", f"data.train={demo['prompts']}", "--set",
                             f"grpo.reward={reward_model}", "--set", "grpo.max_new_tokens=8",
                             "--set", "data.name=demo-prompts", "--set", "data.license=Apache-2.0",
                             "--set", "train.log_every=1"] + COMMON[:4], command="grpo")
    out = train_grpo(cfg, log=lambda *_: None)
    log = read_log(tmp_path / "grpo")
    assert [r["step"] for r in log] == [1, 2, 3] and all(r["reward"] is not None for r in log)
    _, body = card(out)
    assert "| grpo | demo-prompts |" in body and "| reward (reward model) | demo-preferences |" in body
    assert answer_reward(["It is 7.", "eight"], ["7", "8"]) == [1.0, 0.0]


def test_rouge_filter_and_parsing():
    f = InstructionFilter(["Translate the sentence into Korean."])
    assert not f.add("Translate the sentence into Korean please.")  # ROUGE-L 0.83 >= 0.7
    assert f.add("Write a short poem about the sea.") and not f.add("Write a short poem about the sea at night.")
    assert not f.add("Draw a picture of a cat.") and not f.add("Hi there") and not f.add("- list three fruits")
    assert f.reasons == {"rouge_l_similar": 2, "blocked_word": 1, "too_short": 1, "starts_with_punctuation": 1}
    assert parse_continuation(" Name a color.\n10. Count to five.\nnoise") == ["Name a color.", "Count to five."]


def test_self_instruct_writes_alpaca_with_its_generator(sft_model, demo, tmp_path):
    out = tmp_path / "si.jsonl"
    stats = self_instruct(sft_model, demo["seed_tasks"], out, num_instructions=4, max_new_tokens=24,
                          generator_name="demo-llama-tiny-sft", generator_terms="llama3.2", log=lambda *_: None)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == stats["kept"] and stats["rounds"] >= 1
    assert all(r["generated_by"] == {"name": "demo-llama-tiny-sft", "terms": "llama3.2"} for r in rows)
    assert all({"instruction", "input", "output"} <= set(r) for r in rows)
    seeds = [json.loads(line)["instruction"] for line in demo["seed_tasks"].read_text().splitlines()]
    check = InstructionFilter(seeds)
    for r in rows:  # every kept instruction is < 0.7 ROUGE-L to the seeds and to the ones kept before it
        assert check.reason(r["instruction"]) != "rouge_l_similar"
        check.pool.append(r["instruction"])
    # SFT on the generated data: the card's stage names the generator and its terms
    cfg = load_config(None, ["--checkpoint", str(sft_model), "--output", str(tmp_path / "sft2"), "--steps", "2",
                             "--set", f"data.train={out}", "--set", "data.license=Apache-2.0"] + COMMON,
                      command="finetune")
    stage = json.loads((finetune(cfg, log=lambda *_: None) / "provenance.json").read_text())["stages"][-1]
    assert stage["generated_by"] == {"name": "demo-llama-tiny-sft", "terms": "llama3.2"}
    # license-registry's audit applies the generator's terms named in the records
    from license_registry.audit.engine import audit
    from license_registry.audit.request import parse_request

    assert rows
    report = audit(parse_request({"use": "commercial", "data": [
        {"name": "self-instruct", "license": "Apache-2.0", "generated_by": rows[0]["generated_by"]}]}))
    # Llama 3.2's naming rule reaches a model trained on the generated data
    assert any(o.type == "name_prefix" and any("generated by demo-llama-tiny-sft" in s for s in o.subjects)
               for o in report.obligations)
