import json

import numpy as np
import pytest
from transformers import AutoTokenizer

from train.shards import TokenShard, tokenize_run
from train.tokenizer import train_tokenizer

from train_helpers import SHARED_CORPUS


def test_tokenizer_loads_with_specials_and_sentinels(tokenizer_dir):
    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    assert len(tok) == 1024 or len(tok) < 1024  # the tiny corpus may not fill every merge
    assert (tok.pad_token_id, tok.eos_token_id, tok.unk_token_id, tok.bos_token_id) == (0, 1, 2, 3)
    # T5 layout: <extra_id_0> is the last id, <extra_id_99> the 100th from the end.
    assert tok.convert_tokens_to_ids("<extra_id_0>") == len(tok) - 1
    assert tok.convert_tokens_to_ids("<extra_id_99>") == len(tok) - 100
    assert tok.convert_ids_to_tokens(4) == "<0x00>"


def test_byte_fallback_roundtrip_and_korean(tokenizer_dir):
    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    text = "우리 동네 도서관은 새 다리를 열었다. The museum opened 🦜 a 鷄 garden!"
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert tok.unk_token_id not in ids
    assert tok.decode(ids) == text
    # Korean words seen in training are whole pieces, not bytes.
    pieces = tok.convert_ids_to_tokens(tok("우리 동네 도서관은", add_special_tokens=False)["input_ids"])
    assert len(pieces) <= 4 and not any(p.startswith("<0x") for p in pieces)
    stats = json.loads((tokenizer_dir / "tokenizer_stats.json").read_text())
    assert stats["chars_per_token"]["ko"] > 1.5 and stats["chars_per_token"]["en"] > 2.0


def test_unigram_tokenizer(run_dir, tmp_path):
    stats = train_tokenizer(run_dir, tmp_path / "uni", kind="unigram", vocab_size=700, sentinels=100,
                            heldout_fraction=0.05)
    tok = AutoTokenizer.from_pretrained(tmp_path / "uni")
    text = "새로운 회사가 긴 편지를 공개했다. Ünïcode 🦜"
    assert tok.decode(tok(text, add_special_tokens=False)["input_ids"]) == text
    assert tok.convert_tokens_to_ids("<extra_id_0>") == len(tok) - 1
    assert stats["type"] == "unigram"


def test_token_shards(tokens_dir, run_dir, tokenizer_dir):
    import polars as pl

    meta = json.loads((tokens_dir / "meta.json").read_text())
    train, val = TokenShard(tokens_dir, "train"), TokenShard(tokens_dir, "val")
    assert isinstance(train.tokens, np.memmap) and train.tokens.dtype == np.uint16
    docs = pl.read_parquet(run_dir / "data" / "*.parquet")
    assert train.n_docs + val.n_docs == len(docs) and val.n_docs > 0
    assert meta["splits"]["train"]["tokens"] == len(train) == int(train.offsets[-1])
    # Every document ends with EOS and re-tokenizing it gives the stored ids.
    tok = AutoTokenizer.from_pretrained(tokens_dir / "tokenizer")
    ends = train.offsets[1:].astype(np.int64) - 1
    assert (train.tokens[ends] == tok.eos_token_id).all()
    first = docs.filter(pl.col("id") == "web_en-000000")["text"][0]
    assert train.document(0)[:-1].tolist() == tok(first, add_special_tokens=False)["input_ids"]
    assert meta["tokenizer_hash"] and meta["manifest_hash"]
    assert sum(meta["splits"]["train"]["token_counts"]["license"].values()) == len(train)
    # Second call reuses the shards instead of re-tokenizing.
    assert tokenize_run(run_dir, tokenizer_dir, tokens_dir, heldout_fraction=0.05).get("reused") is True


@pytest.mark.shared
@pytest.mark.skipif(not SHARED_CORPUS.exists(), reason="../shared/corpora/web_en_ko.jsonl.gz absent")
def test_real_corpus_chars_per_token(tmp_path):
    from fixtures.run_folders import make_run_from_jsonl

    run = make_run_from_jsonl(SHARED_CORPUS, tmp_path / "run", max_docs=1200)
    stats = train_tokenizer(run, tmp_path / "tok", vocab_size=8000, sentinels=100, heldout_fraction=0.05)
    assert stats["chars_per_token"]["ko"] > 1.8 and stats["chars_per_token"]["en"] > 2.5
