"""Train a SentencePiece-style tokenizer (Unigram or BPE, byte fallback) on a run folder.

Layout of the vocabulary (ids):
    0 <pad>, 1 </s>, 2 <unk>, 3 <s>       special tokens (T5 order: pad=0 is also T5's decoder start)
    4 .. 259   <0x00> .. <0xFF>             byte fallback: any character encodes, nothing maps to <unk>
    ...        learned pieces
    last 100   <extra_id_99> .. <extra_id_0> T5 sentinels, <extra_id_0> is the very last id as in T5

Pieces are split on whitespace with the Metaspace "▁" convention (no language-specific
pre-tokenizer), so Hangul syllables and eojeol fragments are learned like any other piece.
The result is saved as a `PreTrainedTokenizerFast` so `AutoTokenizer.from_pretrained(dir)` loads it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

from .runfolder import iter_batches

SPECIALS = ["<pad>", "</s>", "<unk>", "<s>"]
BYTE_TOKENS = [f"<0x{i:02X}>" for i in range(256)]


def sentinel_tokens(n: int) -> list[str]:
    # Listed in id order: <extra_id_{n-1}> first so that <extra_id_0> lands on the last id.
    return [f"<extra_id_{i}>" for i in reversed(range(n))]


def is_heldout(doc_id: str, fraction: float) -> bool:
    """Stable per-document split (same answer in every process and run)."""
    if fraction <= 0:
        return False
    h = int.from_bytes(hashlib.blake2b(str(doc_id).encode(), digest_size=8).digest(), "little")
    return (h % 1_000_000) < fraction * 1_000_000


def _base_tokenizer(kind: str) -> tuple[Tokenizer, object]:
    if kind == "unigram":
        tok = Tokenizer(models.Unigram())
        trainer_cls = trainers.UnigramTrainer
    elif kind == "bpe":
        tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True))
        trainer_cls = trainers.BpeTrainer
    else:
        raise ValueError(f"tokenizer type must be unigram or bpe, not {kind!r}")
    # NFKC folds compatibility forms (full-width Latin, compatibility jamo) but keeps Hangul syllables.
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    # Same decoder chain as Llama/Mistral: "▁" -> " ", <0xNN> pieces -> bytes, join, drop the prepended space.
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(content=" ", left=1, right=0)])
    return tok, trainer_cls


def _relayout(tok: Tokenizer, kind: str, n_sentinels: int) -> Tokenizer:
    """Rewrite the trained model so ids follow the documented layout and byte fallback is on.

    The trainers know nothing about byte fallback pieces or T5 sentinels, so we add them here by
    editing the serialized tokenizer (a documented, stable JSON format).
    """
    spec = json.loads(tok.to_str())
    model = spec["model"]
    if kind == "unigram":
        learned = [(p, s) for p, s in model["vocab"] if p not in SPECIALS and p not in BYTE_TOKENS]
        min_score = min((s for _, s in learned), default=0.0)
        vocab = [[p, 0.0] for p in SPECIALS] + [[b, min_score - 1.0] for b in BYTE_TOKENS]
        vocab += [[p, s] for p, s in learned] + [[p, 0.0] for p in sentinel_tokens(n_sentinels)]
        model.update(vocab=vocab, unk_id=SPECIALS.index("<unk>"), byte_fallback=True)
        pieces = [p for p, _ in vocab]
    else:
        learned = sorted((i, p) for p, i in model["vocab"].items() if p not in SPECIALS and p not in BYTE_TOKENS)
        pieces = SPECIALS + BYTE_TOKENS + [p for _, p in learned] + sentinel_tokens(n_sentinels)
        model.update(vocab={p: i for i, p in enumerate(pieces)}, byte_fallback=True, unk_token="<unk>")
    ids = {p: i for i, p in enumerate(pieces)}
    special = SPECIALS + sentinel_tokens(n_sentinels)
    spec["added_tokens"] = [
        {"id": ids[p], "content": p, "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": True} for p in special]
    return Tokenizer.from_str(json.dumps(spec))


def train_tokenizer(run_dir: str | Path, out_dir: str | Path, *, kind: str = "bpe", vocab_size: int = 32_000,
                    sentinels: int = 100, max_docs: int | None = None, heldout_fraction: float = 0.01,
                    batch_size: int = 1024) -> dict:
    """Train on the kept documents of `run_dir`, save a HF fast tokenizer in `out_dir`, return stats."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    n_learned = vocab_size - len(SPECIALS) - len(BYTE_TOKENS) - sentinels
    if n_learned < 50:
        raise ValueError(f"vocab_size {vocab_size} leaves only {n_learned} learned pieces")
    tok, trainer_cls = _base_tokenizer(kind)
    if kind == "unigram":
        trainer = trainer_cls(vocab_size=n_learned + len(SPECIALS), special_tokens=SPECIALS, unk_token="<unk>",
                              max_piece_length=16, show_progress=False)
    else:
        trainer = trainer_cls(vocab_size=n_learned + len(SPECIALS), special_tokens=SPECIALS, show_progress=False,
                              min_frequency=2)

    heldout: dict[str, list[str]] = {}
    n_docs = 0

    def texts():
        # Streaming: one record batch at a time; held-out docs are kept aside (a few hundred per
        # language) to measure characters per token on text the tokenizer never saw.
        nonlocal n_docs
        for b in iter_batches(run_dir, columns=("id", "text", "lang"), batch_size=batch_size):
            keep = []
            for doc_id, text, lang in zip(b["id"], b["text"], b["lang"]):
                if is_heldout(doc_id, heldout_fraction):
                    bucket = heldout.setdefault(lang or "unknown", [])
                    if len(bucket) < 200:
                        bucket.append(text)
                    continue
                keep.append(text)
            if max_docs is not None:
                keep = keep[: max(0, max_docs - n_docs)]
            n_docs += len(keep)
            if keep:
                yield keep
            if max_docs is not None and n_docs >= max_docs:
                return

    tok.train_from_iterator(texts(), trainer=trainer)
    tok = _relayout(tok, kind, sentinels)
    hf = save_hf_tokenizer(tok, out_dir, sentinels)

    stats = {"type": kind, "vocab_size": len(hf), "sentinels": sentinels, "documents": n_docs,
             "chars_per_token": chars_per_token(hf, heldout), "heldout_fraction": heldout_fraction}
    (out_dir / "tokenizer_stats.json").write_text(json.dumps(stats, indent=2))
    return stats


def save_hf_tokenizer(tok: Tokenizer, out_dir: Path, sentinels: int):
    from transformers import PreTrainedTokenizerFast

    hf = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>", bos_token="<s>",
        additional_special_tokens=list(reversed(sentinel_tokens(sentinels))),  # extra_id_0 first, as T5
        padding_side="right", model_max_length=1_000_000,
    )
    hf.save_pretrained(out_dir)
    return hf


def chars_per_token(hf, texts_by_lang: dict[str, list[str]]) -> dict[str, float]:
    out = {}
    for lang, texts in sorted(texts_by_lang.items()):
        n_chars = sum(len(t) for t in texts)
        n_tok = sum(len(ids) for ids in hf(texts, add_special_tokens=False)["input_ids"])
        if n_tok:
            out[lang] = round(n_chars / n_tok, 3)
    return out


def tokenizer_hash(tok_dir: str | Path) -> str:
    """Hash of tokenizer.json: token shards record it so a mismatched tokenizer is caught."""
    return hashlib.sha256((Path(tok_dir) / "tokenizer.json").read_bytes()).hexdigest()
