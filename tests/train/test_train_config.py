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
