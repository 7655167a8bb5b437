import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

from train.data import ChunkSampler
from train.models import build_config
from train.objectives.causal_lm import document_position_ids
from train.pretrain import pretrain
from train.shards import TokenShard

from train_helpers import read_log, tiny_cfg


@pytest.mark.parametrize("arch", ["t5", "llama"])
def test_pretraining_loss_falls(pretrained, arch):
    log = read_log(pretrained[arch + "_run"])
    losses = [r["loss"] for r in log]
    assert len(losses) == 40 and all(np.isfinite(losses))
    assert np.mean(losses[-5:]) < 0.75 * np.mean(losses[:3]), losses
    assert all(r["tokens_per_sec"] > 0 for r in log)
    cls = AutoModelForSeq2SeqLM if arch == "t5" else AutoModelForCausalLM
    model = cls.from_pretrained(pretrained[arch])  # a plain transformers checkpoint
    assert AutoTokenizer.from_pretrained(pretrained[arch]).eos_token_id == model.config.eos_token_id


@pytest.mark.parametrize("objective,sets", [("causal-lm", {"causal_lm.document_attention": True}),
                                            ("span-corruption", {})])
def test_resume_equals_uninterrupted(tokens_dir, tmp_path, objective, sets):
    full = tiny_cfg(tokens_dir, tmp_path / "full", objective, steps=10, **sets)
    pretrain(full, log=lambda *_: None)

    # Same run, interrupted after step 5 (checkpoint every 5), then resumed in a fresh call.
    part = tiny_cfg(tokens_dir, tmp_path / "part", objective, steps=10, **{**sets, "train.save_every": 5,
                                                                           "train.stop_after": 5})
    pretrain(part, log=lambda *_: None)
    assert (tmp_path / "part/checkpoints/step_00000005/trainer_state.json").exists()
    assert len(read_log(tmp_path / "part")) == 5
    part["train"]["stop_after"] = None
    pretrain(part, resume=True, log=lambda *_: None)

    a, b = read_log(tmp_path / "full"), read_log(tmp_path / "part")
    assert [r["step"] for r in b] == list(range(1, 11))
    assert [r["loss"] for r in a] == [r["loss"] for r in b]  # bit-identical curve
    wa, wb = load_file(tmp_path / "full/model/model.safetensors"), load_file(tmp_path / "part/model/model.safetensors")
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_document_attention_blocks_cross_document(tokenizer_dir):
    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(build_config("llama-tiny", tok), attn_implementation="sdpa").eval()
    doc1 = tok("The river opened a new bridge.", add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    doc2 = tok("우리 동네 도서관은 새 다리를 열었다.", add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    packed = np.array([doc1 + doc2])
    pos = torch.from_numpy(document_position_ids(packed, tok.eos_token_id))
    assert pos[0, len(doc1)] == 0 and pos[0, -1] == len(doc2) - 1
    with torch.no_grad():
        alone = model(input_ids=torch.tensor([doc2]), use_cache=False).logits[0]
        isolated = model(input_ids=torch.from_numpy(packed), position_ids=pos, use_cache=False).logits[0, len(doc1):]
        leaky = model(input_ids=torch.from_numpy(packed), use_cache=False).logits[0, len(doc1):]
    assert torch.allclose(alone, isolated, atol=1e-5)
    assert not torch.allclose(alone, leaky, atol=1e-3)


def test_sampler_is_a_function_of_the_sample_index(tokens_dir):
    shard = TokenShard(tokens_dir)
    s1, s2 = ChunkSampler(shard, 64, seed=3), ChunkSampler(shard, 64, seed=3)
    n = s1.n_chunks
    ids = s1.chunk_ids(0, 2 * n)
    assert sorted(ids[:n]) == list(range(n))  # each epoch visits every chunk once
    assert (s2.chunk_ids(n - 5, 10) == ids[n - 5:n + 5]).all()  # random access = sequential
    assert not (ids[:n] == ids[n:]).all()  # reshuffled every epoch


def test_model_card_names_licenses(pretrained):
    import yaml

    text = (pretrained["llama"] / "README.md").read_text()
    meta = yaml.safe_load(text.split("---")[1])
    assert meta["license"] == "other"  # three different data licenses
    assert set(meta["training_data_licenses"]) == {"CC-BY-4.0", "CC-BY-SA-4.0", "MIT"}
    assert set(meta["datasets"]) == {"web_en", "wiki_ko", "docs_en"}
    for lic in ("CC-BY-4.0", "CC-BY-SA-4.0", "MIT"):
        assert f"| {lic} |" in text
    prov = json.loads((pretrained["llama"] / "provenance.json").read_text())
    shares = [r["token_share"] for r in prov["sources"]]
    assert abs(sum(shares) - 1) < 1e-3 and all(s > 0.1 for s in shares)


def test_model_card_single_license_and_registry_section(tmp_path):
    from train.model_card import write_model_card

    manifest = {"run_dir": "RUN", "documents_kept": 3,
                "licenses": {"Apache-2.0": {"documents": 2, "bytes": 10}, "CC-BY-4.0": {"documents": 1, "bytes": 5}},
                "sources": {"docs": {"documents": 3, "bytes": 15, "license": "Apache-2.0"}}}
    meta = {"manifest_hash": "x", "splits": {"train": {"tokens": 9, "token_counts": {
        "source": {"docs": 9}, "license": {"Apache-2.0": 7, "CC-BY-4.0": 2}, "lang": {"en": 9}}}}}
    text = write_model_card(tmp_path, kind="pretrain", config={}, tokens_meta=meta, manifest=manifest,
                            base_model="base/dir").read_text()
    assert "base_model: base/dir" in text and "training_data_licenses:" in text
    # the registry's section: attribution for the CC-BY data, with the clause it comes from
    assert "## License and attribution" in text and "### Training data attribution" in text
    assert "documents licensed CC-BY-4.0: licensed under CC-BY-4.0 (If You Share the Licensed Material" in text
