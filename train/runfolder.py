"""Read a `curate` run folder as files (docs/formats.md), streaming.

Only pyarrow is used: `iter_batches` reads one record batch at a time, so neither tokenizer
training nor pre-tokenization ever holds the corpus in memory.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Iterator

import pyarrow.parquet as pq


def shard_paths(run_dir: str | Path) -> list[Path]:
    run_dir = Path(run_dir)
    paths = sorted((run_dir / "data").glob("*.parquet"))
    if not paths:
        raise FileNotFoundError(f"no shards in {run_dir}/data/*.parquet")
    return paths


def load_manifest(run_dir: str | Path) -> dict:
    path = Path(run_dir) / "manifest.json"
    if not path.exists():
        # A run is complete iff manifest.json exists; refuse half-written runs.
        raise FileNotFoundError(f"{path} missing: the curate run is incomplete")
    return json.loads(path.read_text())


def manifest_hash(run_dir: str | Path) -> str:
    return hashlib.sha256((Path(run_dir) / "manifest.json").read_bytes()).hexdigest()


def iter_batches(run_dir: str | Path, columns=("id", "text", "lang", "source", "license"),
                 batch_size: int = 1024) -> Iterator[dict[str, list]]:
    """Yield column dicts of up to `batch_size` documents, shard after shard, in a fixed order."""
    for path in shard_paths(run_dir):
        pf = pq.ParquetFile(path, pre_buffer=False)  # pre-buffering would keep the shard's row groups read so far
        present = [c for c in columns if c in pf.schema_arrow.names]
        for batch in pf.iter_batches(batch_size=batch_size, columns=present):
            d = batch.to_pydict()
            for c in columns:  # optional columns (lang may be absent in hand-made runs)
                d.setdefault(c, [None] * batch.num_rows)
            yield d


def iter_texts(run_dir: str | Path, max_docs: int | None = None, batch_size: int = 1024) -> Iterator[list[str]]:
    seen = 0
    for b in iter_batches(run_dir, columns=("text",), batch_size=batch_size):
        texts = b["text"]
        if max_docs is not None:
            texts = texts[: max_docs - seen]
        seen += len(texts)
        if texts:
            yield texts
        if max_docs is not None and seen >= max_docs:
            return
