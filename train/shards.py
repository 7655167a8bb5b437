"""Token shards: the corpus tokenized once, memory-mapped by every training run.

TOKENS/
  meta.json          header: dtype, token/document counts per split, tokenizer hash, run manifest hash,
                     token counts per source / license / language (for model cards)
  train.bin          64-byte binary header + the token ids of every document, each followed by EOS
  train.idx          uint64 document start offsets into train.bin's tokens (n_docs + 1 entries)
  val.bin, val.idx   held-out documents (stable hash of the document id)
  tokenizer/         copy of the tokenizer, so a token directory is self-contained
  manifest.json      copy of the run manifest (data provenance for model cards)

The binary header ("TRNTOK01", dtype code, n_tokens, n_docs) makes a .bin self-describing;
`np.memmap(path, dtype, offset=64)` reads the tokens without loading them.
"""

from __future__ import annotations

import json
import shutil
import struct
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from .runfolder import iter_batches, load_manifest, manifest_hash
from .tokenizer import is_heldout, tokenizer_hash

MAGIC = b"TRNTOK01"
HEADER_BYTES = 64
DTYPES = {1: np.uint16, 2: np.uint32}
_HEADER = struct.Struct("<8sQQQ")  # magic, dtype code, n_tokens, n_docs (padded to 64 bytes)


class _ShardWriter:
    def __init__(self, path: Path, dtype):
        self.path, self.dtype = path, np.dtype(dtype)
        self.f = open(path, "wb")
        self.f.write(b"\0" * HEADER_BYTES)  # filled in by close(), when the counts are known
        self.offsets = [0]

    def add(self, docs: list[np.ndarray]) -> None:
        if not docs:
            return
        self.f.write(np.concatenate(docs).astype(self.dtype, copy=False).tobytes())
        for d in docs:
            self.offsets.append(self.offsets[-1] + len(d))

    def close(self) -> tuple[int, int]:
        code = {np.dtype(v): k for k, v in DTYPES.items()}[self.dtype]
        n_tokens, n_docs = self.offsets[-1], len(self.offsets) - 1
        self.f.seek(0)
        self.f.write(_HEADER.pack(MAGIC, code, n_tokens, n_docs).ljust(HEADER_BYTES, b"\0"))
        self.f.close()
        np.asarray(self.offsets, dtype=np.uint64).tofile(self.path.with_suffix(".idx"))
        return n_tokens, n_docs


def tokenize_run(run_dir: str | Path, tokenizer_dir: str | Path, out_dir: str | Path, *,
                 heldout_fraction: float = 0.01, batch_size: int = 1024, force: bool = False) -> dict:
    """Write token shards for `run_dir`; skip the work when an identical set already exists."""
    from tokenizers import Tokenizer

    run_dir, tokenizer_dir, out_dir = Path(run_dir), Path(tokenizer_dir), Path(out_dir)
    load_manifest(run_dir)  # refuse incomplete runs
    tok_hash, man_hash = tokenizer_hash(tokenizer_dir), manifest_hash(run_dir)
    meta_path = out_dir / "meta.json"
    if meta_path.exists() and not force:
        meta = json.loads(meta_path.read_text())
        if (meta.get("tokenizer_hash"), meta.get("manifest_hash"), meta.get("heldout_fraction")) == \
                (tok_hash, man_hash, heldout_fraction):
            meta["reused"] = True
            return meta
    out_dir.mkdir(parents=True, exist_ok=True)

    tok = Tokenizer.from_file(str(tokenizer_dir / "tokenizer.json"))
    eos_id = tok.token_to_id("</s>")
    dtype = np.uint16 if tok.get_vocab_size() <= np.iinfo(np.uint16).max + 1 else np.uint32
    writers = {s: _ShardWriter(out_dir / f"{s}.bin", dtype) for s in ("train", "val")}
    counts: dict[str, dict[str, Counter]] = {s: defaultdict(Counter) for s in writers}
    eos = np.array([eos_id], dtype=np.int64)

    for b in iter_batches(run_dir, columns=("id", "text", "lang", "source", "license"), batch_size=batch_size):
        # encode_batch runs in parallel in Rust; no special tokens, we append EOS ourselves so the
        # boundary token is the same for T5 and decoder-only models.
        encs = tok.encode_batch_fast(b["text"], add_special_tokens=False)
        per_split: dict[str, list[np.ndarray]] = {"train": [], "val": []}
        for enc, doc_id, lang, source, lic in zip(encs, b["id"], b["lang"], b["source"], b["license"]):
            split = "val" if is_heldout(doc_id, heldout_fraction) else "train"
            ids = np.concatenate([np.asarray(enc.ids, dtype=np.int64), eos])
            per_split[split].append(ids)
            c = counts[split]
            c["source"][source or "unknown"] += len(ids)
            c["license"][lic or "NOASSERTION"] += len(ids)
            c["lang"][lang or "unknown"] += len(ids)
        for split, docs in per_split.items():
            writers[split].add(docs)

    splits = {}
    for split, w in writers.items():
        n_tokens, n_docs = w.close()
        splits[split] = {"tokens": n_tokens, "documents": n_docs,
                         "token_counts": {k: dict(v) for k, v in counts[split].items()}}

    if (out_dir / "tokenizer").exists():
        shutil.rmtree(out_dir / "tokenizer")
    shutil.copytree(tokenizer_dir, out_dir / "tokenizer")
    shutil.copy(run_dir / "manifest.json", out_dir / "manifest.json")
    meta = {"format": "train-tokens", "version": 1, "dtype": np.dtype(dtype).name, "eos_id": eos_id,
            "vocab_size": tok.get_vocab_size(), "tokenizer_hash": tok_hash, "manifest_hash": man_hash,
            "run_dir": str(run_dir), "tokenizer_dir": str(tokenizer_dir), "heldout_fraction": heldout_fraction,
            "header_bytes": HEADER_BYTES, "splits": splits}
    tmp = meta_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(meta, indent=2))
    tmp.replace(meta_path)  # meta.json last and atomic: a token dir is complete iff it exists
    return meta


class TokenShard:
    """Memory-mapped view of one split: `.tokens` (1-D array) and `.offsets` (document starts)."""

    def __init__(self, tokens_dir: str | Path, split: str = "train"):
        self.dir = Path(tokens_dir)
        meta_path = self.dir / "meta.json"
        if not meta_path.exists():
            raise FileNotFoundError(f"{meta_path} missing: run `train tokenize` first")
        self.meta = json.loads(meta_path.read_text())
        path = self.dir / f"{split}.bin"
        with open(path, "rb") as f:
            magic, code, n_tokens, n_docs = _HEADER.unpack(f.read(_HEADER.size))
        if magic != MAGIC:
            raise ValueError(f"{path} is not a token shard")
        self.n_docs = n_docs
        self.tokens = np.memmap(path, dtype=DTYPES[code], mode="r", offset=HEADER_BYTES, shape=(n_tokens,))
        self.offsets = np.fromfile(path.with_suffix(".idx"), dtype=np.uint64)
        self.eos_id = self.meta["eos_id"]

    def __len__(self) -> int:
        return len(self.tokens)

    def document(self, i: int) -> np.ndarray:
        return np.asarray(self.tokens[self.offsets[i]:self.offsets[i + 1]])

    @property
    def tokenizer_dir(self) -> Path:
        return self.dir / "tokenizer"

    @property
    def manifest(self) -> dict:
        p = self.dir / "manifest.json"
        return json.loads(p.read_text()) if p.exists() else {}
