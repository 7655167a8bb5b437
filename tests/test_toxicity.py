"""Toxicity filtering: fastText and character n-gram models trained in the test, alt-profanity-check, word lists,
the shipped Korean default, document and line modes, in a real pipeline."""

from __future__ import annotations

import json
import os
import random
import warnings
from pathlib import Path

import polars as pl
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from curate.scrub.toxicity import FastTextBackend, ProfanityCheckBackend, WordListBackend, read_wordlist, \
    train_fasttext  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
WORDS = REPO / "curate" / "scrub" / "wordlists"


def _generated(n: int, seed: int = 0):
    """Labelled sentences built from the shipped word lists and neutral templates (no shared data needed)."""
    rng = random.Random(seed)
    bad = read_wordlist(str(WORDS / "en.txt"))
    subjects = ["the weather", "this recipe", "the new library", "our garden", "the train schedule", "the museum",
                "my neighbour", "the football match", "the concert", "the city council"]
    neutral = ["I really enjoyed {s} today.", "Can you tell me more about {s}?", "We wrote a short report on {s}.",
               "{s} was discussed at length.", "Everyone agreed that {s} looked fine."]
    toxic = ["{s} is {w} and you are a {w}.", "shut up you {w}, {s} is {w}", "what a {w} {w}, {s} sucks",
             "you {w} {w}, nobody cares about {s}"]
    out = []
    for _ in range(n):
        s = rng.choice(subjects)
        if rng.random() < 0.5:
            out.append((rng.choice(toxic).format(s=s, w=rng.choice(bad)), "toxic"))
        else:
            out.append((rng.choice(neutral).format(s=s), "non_toxic"))
    return out


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("ft") / "tox.bin")
    info = train_fasttext(_generated(600), path, epoch=10, lr=0.2, dim=16, bucket=20000)
    assert info["examples"] == 600 and set(info["labels"]) == {"toxic", "non_toxic"}
    return path


def test_fasttext_backend_separates_held_out(model_path):
    held = _generated(200, seed=99)
    backend = FastTextBackend(model_path, {"toxic": 0.5})
    flags = [label is not None for _, label in backend.score([t for t, _ in held])]
    truth = [y == "toxic" for _, y in held]
    acc = sum(f == t for f, t in zip(flags, truth)) / len(held)
    assert acc >= 0.95
    with pytest.raises(ValueError):
        FastTextBackend(model_path, {"nsfw": 0.5})  # a label the model does not have


def test_char_ngram_model_scores_as_scikit_learn_would(tmp_path):
    """The backend's numpy scoring (cached per word, batched) gives what scikit-learn's TfidfVectorizer + the
    saved weights give, on held-out, Korean, empty and repeated-word texts alike."""
    import numpy as np

    from curate.scrub.char_ngram import CharNgramBackend, _read, _vectorizer, train_char_ngram

    path = str(tmp_path / "m.json.gz")
    ko = [("야 이 병신아 꺼져", "toxic"), ("오늘 회의는 세 시에 시작합니다", "non_toxic"),
          ("씨발 진짜 짜증나네", "toxic"), ("자료를 미리 읽어 오세요", "non_toxic")] * 3
    info = train_char_ngram(_generated(400) + ko, path, min_df=1)
    assert info["examples"] == 412
    backend = CharNgramBackend(path)
    saved = _read(path)
    vec = _vectorizer(saved["ngram_range"], vocabulary={g: i for i, g in enumerate(saved["vocabulary"])})
    vec.idf_ = np.asarray(saved["idf"])
    texts = [t for t, _ in _generated(150, seed=7)] + ["", "   \n ", "zzzz qqqq", "병신 병신 병신아 ㅋㅋ",
                                                       "The  museum\tthe museum THE MUSEUM", "회의 자료"]
    from curate.scrub.toxicity import preprocess

    expected = 1 / (1 + np.exp(-(vec.transform([preprocess(t) for t in texts]) @ np.asarray(saved["coef"])
                                 + saved["intercept"])))
    got = backend.probabilities(texts)
    assert np.abs(got - expected).max() < 1e-9
    assert got[150] == got[151] == 1 / (1 + np.exp(-saved["intercept"]))  # no n-gram: the prior alone
    held = _generated(200, seed=99)
    flags = [label is not None for _, label in backend.score([t for t, _ in held])]
    assert sum(f == (y == "toxic") for f, (_, y) in zip(flags, held)) / len(held) >= 0.95


def test_char_ngram_model_file_is_checked_not_unpickled(tmp_path):
    import gzip

    from curate.scrub.char_ngram import CharNgramBackend

    bad = tmp_path / "bad.json.gz"
    bad.write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="bad.json.gz"):
        CharNgramBackend(str(bad))
    other = tmp_path / "other.json.gz"
    with gzip.open(other, "wt") as f:
        json.dump({"format": "something-else"}, f)
    with pytest.raises(ValueError, match="format"):
        CharNgramBackend(str(other))
    with pytest.raises(FileNotFoundError):
        CharNgramBackend(str(tmp_path / "missing.json.gz"))


def test_train_classifier_char_ngram_then_pipeline(tmp_path):
    """`curate train-classifier --kind char-ngram` writes a model the `toxicity` step loads (backend: char_ngram),
    with its own threshold, which `threshold:` overrides."""
    from click.testing import CliRunner

    from curate.cli import cli

    labelled = tmp_path / "labelled.jsonl"
    labelled.write_text("".join(json.dumps({"text": t, "label": y}) + "\n" for t, y in _generated(500)))
    model = tmp_path / "tox.json.gz"
    res = CliRunner().invoke(cli, ["train-classifier", str(labelled), "-o", str(model), "--kind", "char-ngram",
                                    "--threshold", "0.6"])
    assert res.exit_code == 0, res.output
    assert "trained on 500 examples" in res.output
    again = tmp_path / "again.json.gz"
    res = CliRunner().invoke(cli, ["train-classifier", str(labelled), "-o", str(again), "--kind", "char-ngram",
                                   "--threshold", "0.6"])
    assert res.exit_code == 0 and again.read_bytes() == model.read_bytes()  # deterministic, to the byte
    res = CliRunner().invoke(cli, ["train-classifier", str(labelled), "-o", str(tmp_path / "x.bin"),
                                    "--kind", "char-ngram"])
    assert res.exit_code != 0 and ".json.gz" in res.output
    docs = [{"id": "clean", "text": "I really enjoyed the museum today. We wrote a short report on the concert."},
            {"id": "toxic", "text": "shut up you bitch, the concert is shit"},
            {"id": "mixed", "text": "Everyone agreed that our garden looked fine.\nwhat a fucking cunt, the museum sucks"}]
    steps = f"""  - type: toxicity
    name: tox
    backend: char_ngram
    model_path: {model}
"""
    manifest, kept = _run(tmp_path, steps, docs)
    assert manifest["removed"] == {"tox:toxic_toxic": 1} and sorted(kept["id"].to_list()) == ["clean", "mixed"]
    manifest, kept = _run(tmp_path, steps + "    mode: line\n", docs)
    rows = {r["id"]: r for r in kept.to_dicts()}
    assert rows["mixed"]["text"] == "Everyone agreed that our garden looked fine."
    manifest, kept = _run(tmp_path, steps + "    threshold: 0.999999\n", docs)  # overrides the saved 0.6
    assert manifest["removed"] == {} and len(kept) == 3


def test_profanity_check_offline_and_quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. scikit-learn's InconsistentVersionWarning on unpickling
        backend = ProfanityCheckBackend()
        scores = backend.score(["you are a fucking idiot", "have a lovely afternoon in the park"])
    assert scores[0][0] > 0.5 > scores[1][0]


def test_wordlists_korean_substrings_english_words():
    ko = WordListBackend(["ko.txt"])
    assert ko.hits("이 병신아 꺼져") == 2 and ko.hits("오늘 날씨가 정말 좋네요") == 0
    en = WordListBackend(["en.txt"])
    assert en.hits("Scunthorpe and shitake are fine") == 0  # whole words only
    assert en.hits("What the FUCK, you bitch") == 2


def _run(tmp_path, steps_yaml: str, docs: list[dict]):
    from curate.runner import run

    (tmp_path / "in.jsonl").write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs))
    (tmp_path / "p.yaml").write_text(f"""
name: tox_test
inputs:
  - name: t
    paths: {tmp_path / 'in.jsonl'}
    license: CC0-1.0
steps:
{steps_yaml}
output:
  dir: {tmp_path / 'run'}
""")
    _, manifest = run(str(tmp_path / "p.yaml"), force=True, progress=False)
    assert manifest["documents_in"] == manifest["documents_kept"] + sum(manifest["removed"].values())
    kept = pl.read_parquet(str(tmp_path / "run" / "data" / "*.parquet"))
    return manifest, kept


def test_pipeline_fasttext_documents_and_lines(tmp_path, model_path):
    docs = [{"id": "clean", "text": "I really enjoyed the museum today.\nWe wrote a short report on the concert."},
            {"id": "toxic", "text": "shut up you bitch, the concert is shit\nyou fucker fucker, nobody cares"},
            {"id": "mixed", "text": "I really enjoyed the weather today.\nwhat a fucking cunt, the museum sucks\n"
                                    "Everyone agreed that our garden looked fine."}]
    steps = f"""  - type: toxicity
    name: tox
    backend: fasttext
    model_path: {model_path}
    mode: line
    thresholds: {{toxic: 0.5}}
"""
    manifest, kept = _run(tmp_path, steps, docs)
    assert manifest["removed"] == {"tox:toxic_all_lines": 1}
    rows = {r["id"]: r for r in kept.to_dicts()}
    assert rows["mixed"]["text"] == "I really enjoyed the weather today.\nEveryone agreed that our garden looked fine."
    assert rows["mixed"]["toxic_lines_removed"] == 1 and rows["clean"]["toxic_lines_removed"] == 0
    tox = next(s for s in manifest["steps"] if s["name"] == "tox")
    assert tox["counters"]["lines_removed:toxic_toxic"] == 3

    steps_doc = steps.replace("mode: line", "mode: document")
    manifest, kept = _run(tmp_path, steps_doc, docs)
    assert manifest["removed"].get("tox:toxic_toxic", 0) >= 1 and "clean" in kept["id"].to_list()


def test_pipeline_wordlist_and_profanity_check(tmp_path):
    docs = [{"id": "ko_bad", "text": "야 이 병신아 꺼져 진짜", "lang": "ko"},
            {"id": "ko_ok", "text": "오늘은 도서관에서 책을 읽었습니다.", "lang": "ko"},
            {"id": "en_bad", "text": "you are a fucking idiot and a piece of shit"},
            {"id": "en_ok", "text": "The library opens at nine on weekdays."}]
    steps = """  - type: toxicity
    name: tox_en
    backend: profanity_check
  - type: toxicity
    name: tox_ko
    backend: wordlist
    wordlists: [ko.txt]
"""
    manifest, kept = _run(tmp_path, steps, docs)
    assert sorted(kept["id"].to_list()) == ["en_ok", "ko_ok"]
    assert manifest["removed"] == {"tox_en:toxic_profanity": 1, "tox_ko:toxic_wordlist": 1}


def test_korean_default_is_the_shipped_model_english_is_profanity_check(tmp_path):
    """`backend: auto` (the default): Korean documents are judged by the shipped Korean model, others by
    alt-profanity-check; offline, no training, no word list."""
    docs = [{"id": "ko_bad", "text": "야 이 씨발 병신아 꺼져", "lang": "ko"},
            {"id": "ko_bad2", "text": "이런 미친놈이 다 있네 ㅋㅋ 뒤져라", "lang": "ko"},
            {"id": "ko_ok", "text": "회의는 오후 세 시에 시작합니다. 자료를 미리 읽어 오세요.", "lang": "ko"},
            {"id": "ko_doc", "text": "이 함수는 리스트의 길이를 반환합니다. 빈 리스트에는 0을 반환합니다.", "lang": "ko"},
            {"id": "en_bad", "text": "you are a fucking idiot and a piece of shit", "lang": "en"},
            {"id": "en_ok", "text": "The library opens at nine on weekdays.", "lang": "en"}]
    steps = "  - type: language\n    label_only: true\n  - type: toxicity\n    name: tox\n"
    manifest, kept = _run(tmp_path, steps, docs)
    assert sorted(kept["id"].to_list()) == ["en_ok", "ko_doc", "ko_ok"]
    assert manifest["removed"] == {"tox:toxic_toxic": 2, "tox:toxic_profanity": 1}


def test_korean_model_card_names_its_data_and_license():
    from curate.scrub.toxicity import KOREAN_DEFAULT_MODEL, korean_default_config

    card = (Path(KOREAN_DEFAULT_MODEL).parent / "ko_toxicity.md").read_text(encoding="utf-8")
    assert "MIT License, Copyright (c) 2020 2runo" in card and "Permission is hereby granted" in card
    cfg = korean_default_config()
    assert 0 < cfg["threshold"] < 1 and any("MIT" in d for d in cfg["data"])
    assert os.path.getsize(KOREAN_DEFAULT_MODEL) < 3_000_000
    # the documentation paragraphs it learned "clean" from: the audit of its data asks to credit each creator whose
    # license requires attribution, and the card names every source with its license
    from license_registry.audit import audit, load_request

    report = audit(load_request(Path(KOREAN_DEFAULT_MODEL).parent / "ko_toxicity_audit.yaml"))
    assert report.verdict == "obligations"
    credited = {u.source.split("@")[0] for a in report.attributions for s in a.sources for u in s.upstream}
    assert {"github.com/tldr-pages/tldr", "github.com/reactjs/ko.react.dev", "github.com/cncf/glossary",
            "github.com/tensorflow/docs-l10n", "github.com/python/python-docs-ko"} <= credited
    for source in credited | {"github.com/helm/helm-www", "github.com/2runo/Curse-detection-data"}:
        assert source.removeprefix("github.com/") in card or source in card, source


@pytest.mark.shared
def test_korean_default_on_held_out_labeled_data():
    """The shipped model on data it never learned from: the curse set's test split (F1 >= 0.75), BEEP!'s hate-speech
    dev set (F1 >= 0.6; BEEP! only chose the threshold, from its train split) and clean Korean documentation pages
    (at most 1% flagged as whole documents)."""
    import sys

    shared = REPO.parent / "shared"
    if not all((shared / "eval" / "toxicity" / f).exists() for f in ("ko_curse.txt", "ko_hate_dev.tsv")) or \
            not (shared / "corpora" / "web_en_ko.jsonl.gz").exists():
        pytest.skip("needs ../shared (eval/toxicity, corpora)")
    sys.path.insert(0, str(REPO / "benchmarks"))
    from toxicity_eval import ko_curse, ko_docs, ko_hate, prf

    from curate.scrub.toxicity import korean_default_backend

    backend = korean_default_backend()
    _, curse = ko_curse()
    _, hate = ko_hate()
    for test, goal in ((curse, 0.75), (hate, 0.6)):
        flags = [label is not None for _, label in backend.score([t for t, _ in test])]
        precision, recall, f1 = prf(flags, test)
        assert f1 >= goal and precision >= 0.7, (goal, precision, recall, f1)
    _, docs = ko_docs()
    flagged = sum(label is not None for _, label in backend.score(docs)) / len(docs)
    assert len(docs) > 500 and flagged <= 0.01
