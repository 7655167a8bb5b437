"""word_order: word salad and scrambled text go, prose stays (curate/steps/word_order.py)."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest
from datatrove.data import Document

from curate.steps import RunContext
from curate.steps.word_order import WordOrder, english_misplaced, korean_misplaced
from fixtures.junk import scramble_lines

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpora"
LABELS = Path(__file__).resolve().parents[1] / "benchmarks" / "quality_labels.tsv"

ENGLISH = """The server reads its configuration from a single file when it starts. Each line of the file holds one
directive and its arguments, and a directive that the server does not know stops the start with an error that names
the line. Most sites need only a few of them: the address to listen on, the folder that holds the documents, and the
modules that should be loaded.
When you change the file, the running server does not see the change until it is told to read the file again. A
graceful restart waits for the requests that are in progress to finish before the new settings take effect, so that
no visitor sees an error page. You can check the file for mistakes before the restart with the test command."""

KOREAN = """서버는 시작할 때 설정 파일 하나를 읽습니다. 파일의 각 줄에는 지시어 하나와 그 인자가 들어 있습니다.
서버가 모르는 지시어가 있으면 그 줄을 알려 주는 오류와 함께 시작이 멈춥니다. 대부분의 사이트는 지시어 몇 개만 있으면 됩니다.
파일을 바꾸어도 서버가 파일을 다시 읽기 전에는 바뀐 내용이 적용되지 않습니다. 정상적인 재시작은 처리 중인 요청이 끝날 때까지 기다립니다.
그래서 방문자는 오류 페이지를 보지 않습니다. 재시작하기 전에 검사 명령으로 파일의 오류를 확인할 수 있습니다.
설정을 나누어 관리하려면 다른 파일을 포함하는 지시어를 사용합니다. 포함된 파일은 원래 파일의 그 자리에 적힌 것처럼 읽힙니다."""


def step(**params) -> WordOrder:
    return WordOrder(WordOrder.Params(**params), RunContext(run_dir="/tmp/word-order"))


def judge(text: str, lang: str, **params) -> tuple[str | None, dict]:
    s = step(**params)
    values = s.measure(Document(text=text, id="d", metadata={"lang": lang}))
    return s.decide(values, lang), values


def scramble(text: str, seed: int = 0) -> str:
    return scramble_lines(text, random.Random(seed))


def test_english_prose_is_kept_and_its_words_shuffled_are_removed():
    reason, values = judge(ENGLISH, "en")
    assert reason is None
    assert values["function_word_ratio"] > 0.4 and values["misplaced_ratio"] < 0.05
    removed = [judge(scramble(ENGLISH, seed), "en")[0] for seed in range(10)]
    # the same words, so the same function-word ratio: only their places give the shuffle away
    assert removed.count("words_out_of_order") >= 8, removed


def test_korean_prose_is_kept_and_its_words_shuffled_are_removed():
    reason, values = judge(KOREAN, "ko")
    assert reason is None
    assert values["misplaced_ratio"] == 0 and values["checked"] >= 10
    assert values["function_word_ratio"] is None  # no Korean function-word list: that rule is off
    removed = [judge(scramble(KOREAN, seed), "ko")[0] for seed in range(10)]
    assert removed.count("words_out_of_order") == 10, removed


def test_a_keyword_list_has_too_few_function_words():
    words = "cheap flights hotel deals best price booking online discount travel insurance last minute offers".split()
    rng = random.Random(3)
    text = "\n".join(" ".join(rng.choice(words) for _ in range(12)) + "." for _ in range(8))
    reason, values = judge(text, "en")
    assert reason == "few_function_words" and values["function_word_ratio"] < 0.05


def test_short_documents_are_not_judged():
    text = "cheap flights hotel deals best price booking online discount travel."
    assert judge(text, "en") == (None, judge(text, "en")[1])
    assert judge(text, "en")[1]["words"] < 50


def test_misplaced_counts_name_the_grammar():
    # "of the" is the normal case; "the of", "a and", "your is" are not
    assert english_misplaced(["the name of the file".split()]) == (0, 3)
    assert english_misplaced(["the of a and your is".split()]) == (3, 4)  # "of a" is checked and in place
    # a line break is a block boundary: "A" before a code block or a link line, "or" after it, are not a pair
    assert english_misplaced([["a"], ["or", "the", "file"]]) == (0, 1)
    # a predicate form ending its sentence is in place; one followed by more words of the sentence is not
    assert korean_misplaced("파일을 읽습니다. 서버가 멈춥니다") == (0, 2)
    assert korean_misplaced("읽습니다 파일을 서버가") == (1, 1)
    # punctuation left alone by the prose view (inline code taken out before it) or a parenthesis still ends it
    assert korean_misplaced("서명을 문서화합니다 . 예를 들어 정의합니다 (예: program.py ).") == (0, 2)


# the kinds of false "words out of order" found on real English documentation (web_en_ko.jsonl.gz, 6 of 2,010
# pages before): function words written as names or mentions, inline code that holds a word's place, hyphenated
# words, a sentence wrapped around a link on its own line
NAMES_AND_MENTIONS = """The `for` command runs a list of commands once for every item, and the `is` attribute of a
custom element names the element it extends.
Files that are in both *a* and *b* are compared, and the names that are only in *a* are listed after them.
Edit the changes between a "from" revision and a "to" revision, or add a to-do item with a due date to the list.
The ``3`` in ``3.4.1a2`` is the major version, and the ``a`` in ``3.4.1a2`` is the release level.
A
[context_base.SyncContext](https://github.com/tensorflow/federated/blob/main/context_base.py)
or
[context_base.AsyncContext](https://github.com/tensorflow/federated/blob/main/context_base.py)
is an environment that can construct, compile or execute a computation."""


def test_names_and_mentions_are_not_misplaced_function_words():
    reason, values = judge(NAMES_AND_MENTIONS, "en")
    assert reason is None and values["misplaced_ratio"] == 0 and values["checked"] >= 10, values
    # the same words without their marks are out of order: the marks are what tells a name from grammar
    bare = NAMES_AND_MENTIONS.replace("`", "").replace("*", "").replace('"', "").replace("to-do", "to do")
    assert judge(bare, "en")[1]["misplaced_ratio"] > 0.1
    removed = [judge(scramble(NAMES_AND_MENTIONS, seed), "en")[0] for seed in range(10)]
    assert removed.count("words_out_of_order") >= 7, removed


def test_other_languages_pass_unless_given_a_list():
    german = ("Der Server liest die Datei beim Start und meldet jeden Fehler mit der Zeile, in der er steht. " * 6)
    assert judge(german, "de")[1]["function_word_ratio"] is None
    reason, values = judge(german, "de", function_words=["der", "die", "das", "und", "mit", "in", "beim", "er"])
    assert reason is None and values["function_word_ratio"] > 0.3
    reason, _ = judge(german, "de", function_words=["und"], min_function_word_ratio=0.2)
    assert reason == "few_function_words"


@pytest.mark.shared
def test_real_pages_labeled_keep_are_not_out_of_order_and_their_scrambles_are():
    """On the documentation pages of ../shared labeled keep (benchmarks/quality_labels.tsv): no page is removed as
    out of order, and most of the same pages with their words shuffled are."""
    if not (SHARED / "web_en_ko.jsonl.gz").exists():
        pytest.skip("../shared/corpora is not present")
    keep = {line.split("\t")[0] for line in LABELS.read_text(encoding="utf-8").splitlines()
            if not line.startswith("#") and "\tkeep\t" in line}
    with gzip.open(SHARED / "web_en_ko.jsonl.gz", "rt", encoding="utf-8") as f:
        pages = [json.loads(line) for line in f]
    pages = [p for p in pages if p["id"] in keep]
    assert len(pages) > 150
    for lang in ("en", "ko"):
        own = [p for p in pages if p["lang"] == lang]
        assert [p["id"] for p in own if judge(p["text"], lang)[0] == "words_out_of_order"] == []
        judged = [judge(scramble(p["text"]), lang) for p in own]
        judged = [reason for reason, v in judged if v["words"] >= 50 and v["checked"] >= 5]
        assert judged.count("words_out_of_order") / len(judged) > 0.8, (lang, len(judged))
