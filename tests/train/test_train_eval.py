import json
import math

import pytest
import torch
from click.testing import CliRunner

from train.cli import main
from train.evaluate import _continuation_logprobs, load_for_eval, multiple_choice, normalize_mc, perplexity


@pytest.fixture(scope="module")
def mc_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("mc")
    mmlu = [{"question": "What did the committee publish?", "choices": ["the annual report", "zq xv", "7 7 7"],
             "answer": 0},
            {"question": "Which town is small?", "choices": ["banana", "a small town"], "answer": "B"}]
    hs = [{"ctx": "The research team studied", "endings": ["the water supply.", "qqq zzz", "!!"], "label": 0},
          {"ctx": "우리 동네 도서관은", "endings": ["ㅋ", "새 다리를 열었다."], "label": 1}]
    (d / "mmlu.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in mmlu))
    (d / "hellaswag.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in hs))
    return d


def test_normalize_shapes():
    assert normalize_mc({"question": "q", "choices": ["a", "b"], "answer": "B"})[2] == 1
    assert normalize_mc({"ctx": "c", "endings": ["x"], "label": 0}) == ("c", ["x"], 0)


# Validation perplexity of the 40-step tiny models (conftest `pretrained`), measured over pretraining seeds 0-2:
# llama 22.6-24.8, t5 (span-corruption targets) 126-162, where the uniform bound is len(tok) = 937 and the same
# models untrained score 961-974 (llama) and 1396-1862 (t5). A bound of a tenth (llama) or a third (t5) of the
# uniform one leaves a 4x/2x margin over the worst seed and still fails a model that did not learn.
FAR_BETTER_THAN_UNIFORM = {"llama": 10, "t5": 3}


@pytest.mark.parametrize("arch", ["llama", "t5"])
def test_perplexity_and_accuracy(pretrained, tokens_dir, mc_files, arch):
    model, tok = load_for_eval(pretrained[arch])
    r = perplexity(model, tok, tokens_dir, split="val", seq_len=64, batch_size=4, max_batches=4)
    assert r["tokens"] > 0 and 1 < r["perplexity"] < len(tok) / FAR_BETTER_THAN_UNIFORM[arch]
    assert r["perplexity"] == pytest.approx(math.exp(r["nll"]))
    for name in ("mmlu", "hellaswag"):
        r0 = multiple_choice(model, tok, mc_files / f"{name}.jsonl", shots=0)
        r1 = multiple_choice(model, tok, mc_files / f"{name}.jsonl", shots=1)
        # Two items measure no skill (an untrained model scores 1.0 on these too): what is asserted is that the
        # accuracies count items of the file, for 0 and 1 shots.
        for shots, res in enumerate((r0, r1)):
            assert (res["task"], res["shots"], res["n"]) == (name, shots, 2)
            assert res["acc"] * 2 in (0, 1, 2) and res["acc_norm"] * 2 in (0, 1, 2)
    # The corpus phrase is more likely than gibberish under the pretrained model.
    good, bad = _continuation_logprobs(model, tok, [("The research team studied", " the water supply."),
                                                    ("The research team studied", " qqq zzz")])
    assert good > bad


def word_order_items() -> list[dict]:
    """24 two-way items from the fixture corpus's own phrases: the object (and Korean verb) in the corpus's word
    order, or the same words reversed. Both endings are the same tokens (checked below), so a model that scores them
    apart learned word order, not token counts or frequencies."""
    import random

    from fixtures.run_folders import EN_OBJ, EN_SUBJ, EN_VERB, KO_OBJ, KO_SUBJ, KO_VERB

    rng = random.Random(1)
    rows = []
    for k in range(24):
        if k % 2 == 0:
            subject = rng.choice(EN_SUBJ)
            ctx, words = f"{subject[0].upper()}{subject[1:]} {rng.choice(EN_VERB)}", rng.choice(EN_OBJ).split()
        else:
            ctx, words = rng.choice(KO_SUBJ), [*rng.choice(KO_OBJ).split(), rng.choice(KO_VERB)]
        right, wrong = " ".join(words), " ".join(reversed(words))
        endings = [right, wrong] if k % 4 < 2 else [wrong, right]
        rows.append({"ctx": ctx, "endings": endings, "label": endings.index(right)})
    return rows


# Measured on the fixture models (seed 0): llama 1.00, t5 0.79; the same architectures untrained (torch seed 0):
# 0.50 and 0.38.
LEARNED_WORD_ORDER = {"llama": 0.9, "t5": 0.7}


@pytest.mark.parametrize("arch", ["llama", "t5"])
def test_pretrained_models_prefer_the_corpus_word_order_and_untrained_ones_do_not(pretrained, tmp_path, arch):
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM

    path = tmp_path / "word_order.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in word_order_items()))
    model, tok = load_for_eval(pretrained[arch])
    for row in word_order_items():
        assert len({tuple(sorted(tok(" " + e, add_special_tokens=False)["input_ids"])) for e in row["endings"]}) == 1
    trained = multiple_choice(model, tok, path)
    torch.manual_seed(0)
    cls = AutoModelForSeq2SeqLM if arch == "t5" else AutoModelForCausalLM
    untrained = multiple_choice(cls.from_config(AutoConfig.from_pretrained(pretrained[arch])).eval(), tok, path)
    assert trained["n"] == untrained["n"] == 24
    assert trained["acc"] >= LEARNED_WORD_ORDER[arch] and trained["acc_norm"] == trained["acc"]  # same lengths
    assert trained["acc"] - untrained["acc"] >= 0.25


def test_continuation_logprob_matches_manual(pretrained):
    model, tok = load_for_eval(pretrained["llama"])
    ctx, cont = "The museum", " opened a long letter."
    c = tok(ctx, add_special_tokens=False)["input_ids"]
    x = tok(cont, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logp = torch.log_softmax(model(input_ids=torch.tensor([c + x])).logits[0], -1)
    manual = sum(logp[len(c) + i - 1, t].item() for i, t in enumerate(x))
    # Batched with a longer pair (padding) must not change the score.
    batched = _continuation_logprobs(model, tok, [(ctx, cont), ("The museum " * 5, " opened")])[0]
    assert math.isclose(manual, batched, rel_tol=1e-4)


def test_eval_cli_prints(pretrained, tokens_dir, mc_files, tmp_path):
    res = CliRunner().invoke(main, ["eval", str(pretrained["llama"]), "--tokens", str(tokens_dir), "--seq-len", "64",
                                    "--mc", str(mc_files / "mmlu.jsonl"), "--shots", "1", "--out",
                                    str(tmp_path / "r.json")])
    assert res.exit_code == 0, res.output
    r = json.loads((tmp_path / "r.json").read_text())
    ppl, mmlu = r["perplexity"], r["mmlu"]
    assert f"perplexity (causal, val, {ppl['tokens']:,} tokens): {ppl['perplexity']:.3f}" in res.output
    assert f"mmlu (1-shot, n=2): acc {mmlu['acc']:.3f}  acc_norm {mmlu['acc_norm']:.3f}" in res.output
    assert 1 < ppl["perplexity"] < 1024 / FAR_BETTER_THAN_UNIFORM["llama"]  # 1024: the fixture vocab_size


def test_eval_masks_documents_as_training_did(pretrained, tokens_dir, tmp_path):
    from train.evaluate import trained_with_document_attention

    model, tok = load_for_eval(pretrained["llama"])
    assert trained_with_document_attention(pretrained["llama"]) is False  # the fixture trained without masking
    assert trained_with_document_attention(tmp_path) is True  # unrecorded: documents are scored apart
    kw = dict(split="val", seq_len=64, max_batches=4)  # the CLI's batch of 8 windows
    masked, open_ = perplexity(model, tok, tokens_dir, document_attention=True, **kw), \
        perplexity(model, tok, tokens_dir, document_attention=False, **kw)
    assert masked["tokens"] == open_["tokens"] and masked["nll"] != open_["nll"]
    res = CliRunner().invoke(main, ["eval", str(pretrained["llama"]), "--tokens", str(tokens_dir), "--seq-len", "64",
                                    "--max-batches", "4", "--out", str(tmp_path / "r.json")])
    assert res.exit_code == 0, res.output
    r = json.loads((tmp_path / "r.json").read_text())["perplexity"]
    assert r["document_attention"] is False and r["nll"] == pytest.approx(open_["nll"], rel=1e-5)


@pytest.mark.slow  # ~55 s on 2 cores: importing lm-eval and building the task
def test_lm_eval_on_a_local_task_matches_our_multiple_choice(pretrained, tmp_path):
    """`train eval --lm-eval` runs lm-evaluation-harness offline on the demo task YAML: same accuracies as --mc."""
    pytest.importorskip("lm_eval")
    from train.demo_data import write_demo_data
    from train.evaluate import run_lm_eval

    demo = write_demo_data(tmp_path)
    model, tok = load_for_eval(pretrained["llama"])
    ours = multiple_choice(model, tok, demo["mc"])
    theirs = run_lm_eval(pretrained["llama"], ["demo_hellaswag"], include_path=demo["lm_eval_task"].parent)
    assert theirs["demo_hellaswag"]["acc"] == pytest.approx(ours["acc"])
    assert theirs["demo_hellaswag"]["acc_norm"] == pytest.approx(ours["acc_norm"])
