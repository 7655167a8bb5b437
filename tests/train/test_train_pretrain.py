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
    assert meta["license"] == "other" and meta["license_name"] == "mixed-training-data"  # three data licenses
    assert (pretrained["llama"] / meta["license_link"]).exists()
    assert set(meta["training_data_licenses"]) == {"CC-BY-4.0", "CC-BY-SA-4.0", "MIT"}
    assert "datasets" not in meta  # local sources are not Hub ids: they are in the body
    for name in ("web_en", "wiki_ko", "docs_en"):
        assert f"| {name} |" in text
    for lic in ("CC-BY-4.0", "CC-BY-SA-4.0", "MIT"):
        assert f"| {lic} |" in text
    prov = json.loads((pretrained["llama"] / "provenance.json").read_text())
    shares = [r["token_share"] for r in prov["sources"]]
    assert abs(sum(shares) - 1) < 1e-3 and all(s > 0.1 for s in shares)
    assert prov["pretraining"]["causal_lm"]["document_attention"] is False


def test_no_target_across_a_document_boundary(tokens_dir):
    from train.losses import LanguageModelLoss
    from train.objectives.causal_lm import CausalLMCollator

    shard = TokenShard(tokens_dir)
    chunks = ChunkSampler(shard, 64, seed=0).chunks(0, 8)
    for document_attention in (False, True):
        batch = CausalLMCollator(shard.eos_id, 64, document_attention)(chunks)
        ids, labels = batch["input_ids"].numpy(), batch["labels"].numpy()
        after_eos = np.zeros(ids.shape, dtype=bool)
        after_eos[:, 1:] = ids[:, :-1] == shard.eos_id
        assert after_eos.sum() >= 4  # the windows do cross documents
        # the first token of a document is never the target of the previous document's EOS
        assert (labels[after_eos] == -100).all() and (labels[~after_eos] == ids[~after_eos]).all()
        model = AutoModelForCausalLM.from_config(build_config("llama-tiny", AutoTokenizer.from_pretrained(
            shard.tokenizer_dir)))
        assert LanguageModelLoss(model).count(batch) == 8 * 63 - int(after_eos[:, 1:].sum())


def test_resume_after_a_crash_logs_every_step_once(tokens_dir, tmp_path):
    # Checkpoint at 5, crash after step 7 (steps 6 and 7 logged), resume: 6 and 7 are trained again.
    cfg = tiny_cfg(tokens_dir, tmp_path / "run", steps=10, **{"train.save_every": 5, "train.stop_after": 7})
    pretrain(cfg, log=lambda *_: None)
    assert [r["step"] for r in read_log(tmp_path / "run")] == list(range(1, 8))
    cfg["train"]["stop_after"] = None
    pretrain(cfg, resume=True, log=lambda *_: None)
    assert [r["step"] for r in read_log(tmp_path / "run")] == list(range(1, 11))


@pytest.mark.parametrize("preset,tie", [("llama-tiny", False), ("llama-tiny", True), ("t5-tiny", True)])
def test_flops_formula_matches_flop_counter(tokenizer_dir, preset, tie):
    """flops_per_sample == what torch's FlopCounterMode counts for forward + backward (eager attention: CPU SDPA
    kernels are not in FlopCounterMode's table)."""
    from torch.utils.flop_counter import FlopCounterMode

    from train.losses import LanguageModelLoss
    from train.models import flops_per_sample

    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    overrides = {} if preset.startswith("t5") else {"tie_word_embeddings": tie}
    config = build_config(preset, tok, overrides)
    seq2seq = preset.startswith("t5")
    cls = AutoModelForSeq2SeqLM if seq2seq else AutoModelForCausalLM
    model = cls.from_config(config, attn_implementation="eager")
    batch_size, inputs, targets = 2, 64, 14
    ids = torch.randint(4, 900, (batch_size, inputs))
    batch = {"input_ids": ids, "labels": torch.randint(4, 900, (batch_size, targets)) if seq2seq else ids}
    with FlopCounterMode(display=False) as counter:
        loss, _ = LanguageModelLoss(model)(batch)
        loss.backward()
    formula = batch_size * flops_per_sample(model, inputs, targets if seq2seq else 0)
    assert formula == pytest.approx(counter.get_total_flops(), rel=1e-3)


def test_document_masking_through_the_training_loss(tokenizer_dir):
    """The attention mask built from document ids (train.attention) isolates documents for sdpa and eager, without
    relying on transformers' packed-position-ids detection."""
    from train.attention import check_document_attention
    from train.losses import LanguageModelLoss
    from train.objectives.causal_lm import CausalLMCollator

    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    doc1 = tok("The river opened a new bridge.", add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    doc2 = tok("우리 동네 도서관은 새 다리를 열었다.", add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    batch = CausalLMCollator(tok.eos_token_id, len(doc1 + doc2), True)(np.array([doc1 + doc2]))
    for impl in ("sdpa", "eager"):
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_config(build_config("llama-tiny", tok), attn_implementation=impl).eval()
        with torch.no_grad():
            alone = model(input_ids=torch.tensor([doc2])).logits[0]
            packed = model(**LanguageModelLoss(model).inputs(batch)).logits[0, len(doc1):]
        assert torch.allclose(alone, packed, atol=1e-5), impl
    check_document_attention("sdpa", "4.46.0")  # explicit masks: any transformers
    with pytest.raises(RuntimeError, match="4.56"):
        check_document_attention("flash_attention_2", "4.46.3")
    check_document_attention("flash_attention_2", "4.56.0")


def test_weighted_mixture_and_trackers(run_dir, tokenizer_dir, tokens_dir, tmp_path):
    """Two token directories at 3:1, with TensorBoard and W&B (offline) logging besides log.jsonl."""
    from train.data import MixtureSampler
    from train.shards import tokenize_run
    from fixtures.run_folders import make_synthetic_run

    other = tokenize_run(make_synthetic_run(tmp_path / "run2", n_docs=60, seed=5), tokenizer_dir, tmp_path / "tok2",
                         heldout_fraction=0.0)
    assert other["splits"]["train"]["tokens"] > 0
    shards = [TokenShard(tokens_dir), TokenShard(tmp_path / "tok2")]
    mix = MixtureSampler([ChunkSampler(s, 64) for s in shards], [3, 1], period=8)
    assert mix.source_counts(8) == [6, 2] and mix.source_counts(1000) == [750, 250]
    assert (mix.chunks(5, 3) == mix.chunks(5, 3)).all()  # a pure function of the sample index

    cfg = tiny_cfg(tokens_dir, tmp_path / "out", steps=4, **{"data.tokens": "null"})
    cfg["data"]["mixture"] = [{"tokens": str(tokens_dir), "weight": 3}, {"tokens": str(tmp_path / "tok2"),
                                                                          "weight": 1}]
    cfg["train"]["log_with"] = ["tensorboard", "wandb"]
    pretrain(cfg, log=lambda *_: None)
    prov = json.loads((tmp_path / "out/model/provenance.json").read_text())
    trained = [m["tokens_trained"] for m in prov["mixture"]]
    assert trained == [24 * 64, 8 * 64]  # 4 steps x 8 rows x 64 tokens, 3:1
    assert "### Mixture" in (tmp_path / "out/model/README.md").read_text()
    assert list((tmp_path / "out/logs").rglob("events.out.tfevents.*"))
    assert list((tmp_path / "out/logs").rglob("*.wandb"))
