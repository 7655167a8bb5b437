"""Model cards the Hugging Face Hub accepts: parsed by huggingface_hub and checked with its offline validators."""

import json
import re

import pytest
from huggingface_hub import ModelCard
from huggingface_hub.utils import validate_repo_id

from train.model_card import mixture_provenance, write_model_card

# The Hub's rules for these keys (its validate-yaml endpoint): license_name is a lowercase slug, license_link a URL
# or a file of the repository, base_model and datasets Hub ids.
LICENSE_NAME = re.compile(r"^[a-z0-9][a-z0-9.\-]*$")


def assert_hub_valid(model_dir):
    card = ModelCard.load(model_dir / "README.md")  # parses the front matter like the Hub does
    data = card.data.to_dict()
    assert data["license"] and data["license"] == data["license"].lower()
    if data["license"] == "other":
        assert LICENSE_NAME.match(data["license_name"])
        link = data["license_link"]
        assert link.startswith("https://") or (model_dir / link).is_file()
    for repo_id in ([data["base_model"]] if isinstance(data.get("base_model"), str) else data.get("base_model") or []):
        validate_repo_id(repo_id)
    for repo_id in data.get("datasets") or []:
        validate_repo_id(repo_id)
    assert not any(str(v).startswith("/") for v in data.values() if isinstance(v, str))  # no absolute paths
    return data, card.text


def _meta(tokens, licenses):
    return {"manifest_hash": "x", "splits": {"train": {"tokens": tokens, "token_counts": {
        "source": {"docs": tokens}, "license": licenses, "lang": {"en": tokens}}}}}


def test_pretrained_card_is_hub_valid(pretrained):
    data, text = assert_hub_valid(pretrained["llama"])
    assert data["license"] == "other" and data["license_name"] == "mixed-training-data"
    assert "datasets" not in data and "base_model" not in data  # local sources and no base: in the body
    assert "| web_en | CC-BY-4.0 |" in text


def test_single_license_hub_base_and_registry_section(tmp_path):
    manifest = {"run_dir": "RUN", "documents_kept": 3,
                "licenses": {"Apache-2.0": {"documents": 2, "bytes": 10}, "CC-BY-4.0": {"documents": 1, "bytes": 5}},
                "sources": {"docs": {"documents": 3, "bytes": 15, "license": "Apache-2.0"}}}
    prov = mixture_provenance([(_meta(9, {"Apache-2.0": 7, "CC-BY-4.0": 2}), manifest, "TOKENS", 9)])
    base = tmp_path / "base"
    base.mkdir()
    out = tmp_path / "model"
    out.mkdir()
    cfg = {"card": {"base_model": "meta-llama/Llama-3.2-1B", "base_model_license": "llama3.2",
                    "datasets": ["HuggingFaceFW/fineweb", "/abs/local/data"]}}
    write_model_card(out, kind="finetune", config=cfg, provenance=prov, base_model=str(base),
                     stage={"name": "alpaca", "license": "CC-BY-NC-4.0", "examples": 5, "path": "data/a.jsonl"},
                     method="lora")
    data, text = assert_hub_valid(out)
    assert data["base_model"] == "meta-llama/Llama-3.2-1B" and data["base_model_relation"] == "adapter"
    assert data["base_model_local"] == "../base" and data["datasets"] == ["HuggingFaceFW/fineweb"]
    assert data["license"] == "llama3.2"  # the base model's license, as the registry spells it for the Hub
    assert "## License and attribution" in text and "Built with Llama" in text
    assert "documents licensed CC-BY-4.0: licensed under CC-BY-4.0" in text
    assert "| finetune | alpaca | CC-BY-NC-4.0 | 5 | data/a.jsonl |" in text
    with pytest.raises(ValueError, match="Hub id"):
        write_model_card(out, kind="finetune", config={"card": {"base_model": "/abs/path"}}, provenance=prov)


def test_mixture_counts_tokens_per_source(tmp_path):
    a = _meta(1000, {"MIT": 1000})
    b = {"manifest_hash": "y", "splits": {"train": {"tokens": 200, "token_counts": {
        "source": {"ko_web": 200}, "license": {"CC-BY-SA-4.0": 200}, "lang": {"ko": 200}}}}}
    prov = mixture_provenance([(a, {"run_dir": "A"}, "tok-a", 700), (b, {"run_dir": "B"}, "tok-b", 300)])
    assert {r["name"]: r["tokens"] for r in prov["sources"]} == {"docs": 700, "ko_web": 300}
    assert {r["name"]: r["token_share"] for r in prov["licenses"]} == {"MIT": 0.7, "CC-BY-SA-4.0": 0.3}
    assert [m["epochs"] for m in prov["mixture"]] == [0.7, 1.5]
    out = tmp_path / "m"
    out.mkdir()
    write_model_card(out, kind="pretrain", config={}, provenance=prov)
    data, text = assert_hub_valid(out)
    assert "### Mixture" in text and "| tok-b | B | 200 | 300 | 1.5 |" in text
    assert json.loads((out / "provenance.json").read_text())["mixture"][0]["tokens_trained"] == 700
