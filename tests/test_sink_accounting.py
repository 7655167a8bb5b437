"""A task's accounting (curate.writers.accounting): every document the sink is given is counted once, kept ones per
license, source and language (with tokens under the run's tokenizer), removed ones per reason; the sink reports the
stats of curate steps only."""

import json

import pytest
from datatrove.data import Document

from curate import document as D
from curate.privacy import Redactor
from curate.steps import RunContext, step_class
from curate.writers import ShardSink
from curate.writers.accounting import TaskAccounting, TokenCounter


def _doc(doc_id: str, text: str, removed: tuple[str, str] | None = None, **meta) -> Document:
    doc = Document(text=text, id=doc_id, metadata={{"license": D.LICENSE, "source": D.SOURCE, "lang": D.LANG}[k]: v
                                                   for k, v in meta.items()})
    if removed:
        D.mark_removed(doc, *removed)
    return doc


def documents() -> list[Document]:
    return [
        _doc("a", "hello world", license="MIT", source="web", lang="en"),
        _doc("b", "안녕하세요 세계", source="wiki", lang="ko"),  # 22 bytes in UTF-8, no license: "unknown"
        _doc("c", "too short", ("length", "too_short"), source="web"),
        _doc("d", "hello hello world", license="MIT", source="web"),
        _doc("e", "spam", ("url_filter", "domain"), source="wiki"),
        _doc("f", "tiny", ("length", "too_short"), source="web"),
    ]


def _count(accounting: TaskAccounting, docs: list[Document]) -> dict:
    for doc in docs:
        reason = D.removal_reason(doc)
        accounting.kept(doc) if reason is None else accounting.removed(doc, reason)
    return accounting.as_json([])


def test_kept_documents_are_counted_per_license_source_and_language_removed_ones_per_reason():
    acc = _count(TaskAccounting(), documents())
    assert acc["documents_kept"] == 3 and acc["bytes_kept"] == 11 + 22 + 17
    assert acc["removed"] == {"length:too_short": 2, "url_filter:domain": 1}
    assert acc["removed_bytes"] == {"length:too_short": 9 + 4, "url_filter:domain": 4}
    assert acc["licenses"] == {"MIT": {"documents": 2, "bytes": 28}, "unknown": {"documents": 1, "bytes": 22}}
    assert acc["sources"] == {"web": {"documents": 2, "bytes": 28}, "wiki": {"documents": 1, "bytes": 22}}
    assert acc["languages"] == {"en": {"documents": 1, "bytes": 11}, "ko": {"documents": 1, "bytes": 22},
                                "unknown": {"documents": 1, "bytes": 17}}
    assert acc["steps"] == []
    # the law for one task: every document counted once, kept or removed
    assert acc["documents_kept"] + sum(acc["removed"].values()) == len(documents())
    assert list(acc) == ["documents_kept", "bytes_kept", "removed", "removed_bytes", "licenses", "sources",
                         "languages", "steps"]  # the runner, manifest, report and retune read these keys


@pytest.fixture(scope="module")
def word_tokenizer(tmp_path_factory):
    """A word-level tokenizer trained here: one token per whitespace-separated word of its vocabulary."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(["hello world", "안녕하세요 세계"], trainers.WordLevelTrainer(special_tokens=["[UNK]"]))
    folder = tmp_path_factory.mktemp("tok")
    tok.save(str(folder / "tokenizer.json"))
    return folder


def test_tokens_of_kept_documents_per_group_under_the_runs_tokenizer(word_tokenizer):
    counter = TokenCounter(str(word_tokenizer))  # a folder holding tokenizer.json, as `output.tokenizer` allows
    assert counter("hello hello world") == 3
    acc = _count(TaskAccounting(counter), documents())
    assert acc["licenses"] == {"MIT": {"documents": 2, "bytes": 28, "tokens": 2 + 3},
                               "unknown": {"documents": 1, "bytes": 22, "tokens": 2}}
    assert acc["languages"]["unknown"]["tokens"] == 3
    assert "tokens" not in json.dumps(acc["removed"])


def test_the_sink_writes_the_accounting_with_each_steps_stats(tmp_path):
    cls = step_class("length")
    step = cls(cls.Params(), RunContext(run_dir=str(tmp_path)), name="short")
    step.count("seen", 2)
    sink = ShardSink(str(tmp_path / "data"), str(tmp_path / "removed"), str(tmp_path / "acc"), {}, [step],
                     Redactor([]))
    assert list(sink.run(iter(documents()), rank=3)) == []
    written = json.loads((tmp_path / "acc" / "00003.sink.json").read_text())
    assert written == _count(TaskAccounting(), documents()) | {"steps": [step.step_stats()]}
    assert sorted(p.name for p in (tmp_path / "removed").iterdir()) == ["length", "url_filter"]
    assert written["steps"][0]["name"] == "short" and written["steps"][0]["counters"] == {"seen": 2}


def test_the_sink_refuses_steps_that_have_no_curate_stats(tmp_path):
    from datatrove.pipeline.filters import LambdaFilter

    with pytest.raises(TypeError, match="curate steps only, not of LambdaFilter"):
        ShardSink(str(tmp_path / "d"), str(tmp_path / "r"), str(tmp_path / "a"), {}, [LambdaFilter(bool)],
                  Redactor([]))
