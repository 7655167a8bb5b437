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
