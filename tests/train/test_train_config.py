import pytest

from train.config import load_config, parse_overrides


def test_overrides_set_dotted_and_alias(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("objective: span-corruption\noptim:\n  lr: 0.01\ntrain:\n  max_steps: 5\n")
    cfg = load_config(path, ["--set", "optim.lr=1e-3", "--train.max_steps", "7", "--model.overrides.num_layers=3",
                             "--batch-size", "2", "--set", "optim.betas=[0.9, 0.95]", "--train.cpu"])
    assert cfg["objective"] == "span-corruption"
    assert cfg["optim"]["lr"] == 1e-3 and isinstance(cfg["optim"]["lr"], float)
    assert cfg["train"]["max_steps"] == 7 and cfg["train"]["batch_size"] == 2
    assert cfg["model"]["overrides"] == {"num_layers": 3}
    assert cfg["optim"]["betas"] == [0.9, 0.95] and cfg["train"]["cpu"] is True
    assert cfg["optim"]["weight_decay"] == 0.1  # defaults survive


def test_lr_alias_and_bad_argument():
    assert parse_overrides(["--lr", "2e-4"]) == [("optim.lr", 2e-4)]
    with pytest.raises(ValueError):
        parse_overrides(["oops"])


def test_shipped_configs_resolve_by_name_or_path_from_any_directory(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from train.cli import main
    from train.config import CONFIGS_DIR, resolve_config, shipped_configs

    from train_helpers import REPO

    assert CONFIGS_DIR == REPO / "train" / "configs"
    assert {"pretrain_llama_tiny", "pretrain_t5_tiny", "finetune_lora", "finetune_lora_tiny"} <= set(shipped_configs())
    shipped = CONFIGS_DIR / "pretrain_llama_tiny.yaml"
    monkeypatch.chdir(tmp_path)  # not the repository root
    for name in ("pretrain_llama_tiny", "pretrain_llama_tiny.yaml", "train/configs/pretrain_llama_tiny.yaml",
                 str(shipped)):
        assert resolve_config(name).resolve() == shipped.resolve()
    assert load_config("pretrain_t5_tiny")["objective"] == "span-corruption"
    # A file in the current directory wins over a shipped config of the same name.
    (tmp_path / "pretrain_llama_tiny.yaml").write_text("objective: span-corruption\n")
    assert load_config("pretrain_llama_tiny.yaml")["objective"] == "span-corruption"
    assert load_config("pretrain_llama_tiny")["objective"] == "causal-lm"
    with pytest.raises(FileNotFoundError, match="pretrain_llama_tiny"):  # the error lists what is shipped
        resolve_config("no_such_config")
    res = CliRunner().invoke(main, ["pretrain", "no_such_config"])
    assert res.exit_code == 2 and "not one of the shipped configs" in res.output
    res = CliRunner().invoke(main, ["configs"])
    assert res.exit_code == 0 and "pretrain_llama_tiny" in res.output and "accelerate_ddp" not in res.output


def test_unknown_keys_are_rejected_with_a_suggestion(tmp_path):
    from train.config import ConfigError

    with pytest.raises(ConfigError, match=r"unknown config key 'optim.lrr' \(command line\); did you mean optim.lr\?"):
        load_config(None, ["--set", "optim.lrr=1e-3"])
    with pytest.raises(ConfigError, match="did you mean train.max_steps"):
        load_config("pretrain_llama_tiny", ["--train.max_step", "3"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("optim: {lr: 1.0e-3, beta: [0.9, 0.95]}\n")
    with pytest.raises(ConfigError, match=rf"'optim.beta' \({bad}\); did you mean optim.betas"):
        load_config(bad)
    with pytest.raises(ConfigError, match="schedule"):
        load_config(None, ["--set", "optim.schedule=cosin"])


def test_defaults_live_once():
    """Every key has one default, in the typed tree; a command changes a few, the loop reads them as they are."""
    from train.config import COMMAND_DEFAULTS, TrainConfig, all_keys

    pre, ft = load_config(None), load_config(None, command="finetune")
    assert pre["optim"] == TrainConfig().model_dump(mode="json")["optim"]
    assert pre["optim"]["betas"] == [0.9, 0.95] and pre["optim"]["warmup_steps"] == 100
    assert ft["optim"]["lr"] == 2e-4 and ft["optim"]["betas"] == pre["optim"]["betas"]
    assert set(COMMAND_DEFAULTS) == {"pretrain", "finetune", "reward", "dpo", "grpo"}
    assert "optim.min_lr_ratio" in all_keys() and "train.eval_every" in all_keys()
    import inspect

    import train.loop
    import train.optim
    for module in (train.loop, train.optim):  # no second set of defaults hidden in .get(key, default)
        assert ".get(\"" not in inspect.getsource(module)


def test_help_shows_the_config_and_its_options():
    from click.testing import CliRunner

    from train.cli import main

    runner = CliRunner()
    for args in (["pretrain", "--help"], ["pretrain", "-h"]):
        res = runner.invoke(main, args)
        assert res.exit_code == 0
        for text in ("[CONFIG]", "--tokens", "--steps", "--set KEY=VALUE", "--resume", "train configs"):
            assert text in res.output, text
    for command in ("", "tokenizer", "finetune", "reward", "dpo", "grpo", "eval", "generate", "self-instruct",
                    "export", "demo-data"):
        res = runner.invoke(main, ([command] if command else []) + ["-h"])
        assert res.exit_code == 0 and "Usage:" in res.output, command
    res = runner.invoke(main, ["pretrain", "pretrain_llama_tiny", "--set", "optim.lrr=1"])
    assert res.exit_code == 2 and "did you mean optim.lr?" in res.output
    res = runner.invoke(main, ["pretrain", "pretrain_lama_tiny"])
    assert res.exit_code == 2 and "did you mean pretrain_llama_tiny?" in res.output
