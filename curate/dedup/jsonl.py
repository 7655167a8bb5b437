"""`curate dedup IN.jsonl -o OUT.jsonl --removed REMOVED.jsonl`: the exact and MinHash steps on one JSONL file,
without a run folder. Records keep every field; removed ones gain `duplicate_of`, `cluster_id`, `similarity`
and `removed_reason`."""

from __future__ import annotations

import json
import sys
import tempfile
from contextlib import ExitStack
from typing import IO, Any, Iterator

from datatrove.data import Document

from curate.dedup.steps import (
    CLUSTER_ID,
    DUPLICATE_OF,
    SIMILARITY,
    ExactDedup,
    ExactDedupParams,
    MinHashDedup,
    MinHashDedupParams,
)
from curate.document import removal_reason
from curate.steps.base import RunContext

RECORD = "_record"  # the input record (every field but the text) rides along in the document's metadata


def _documents(lines: IO[str], text_field: str) -> Iterator[Document]:
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        rec = json.loads(line)
        if not isinstance(rec, dict) or not isinstance(rec.get(text_field), str):
            raise ValueError(f"line {n}: not a JSON object with a string {text_field!r} field")
        doc_id = str(rec["id"]) if rec.get("id") is not None else str(n)
        yield Document(text=rec[text_field], id=doc_id, metadata={RECORD: rec})


def dedup_jsonl(src: IO[str], out: IO[str], removed: IO[str] | None, *, text_field: str = "text",
                threshold: float = 0.5, ngram: int = 3, num_perm: int = 128, exact: bool = True) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="curate-dedup-") as tmp:
        ctx = RunContext(run_dir=tmp, pipeline_name="dedup")
        steps = []
        if exact:
            steps.append(ExactDedup(ExactDedupParams(write_index=False), ctx, name="dedup_exact"))
        steps.append(MinHashDedup(MinHashDedupParams(threshold=threshold, ngram=ngram, num_perm=num_perm,
                                                     write_index=False), ctx, name="dedup_minhash"))
        stream: Iterator[Document] = _documents(src, text_field)
        for step in steps:
            stream = step.run(stream)
        stats = {"documents": 0, "kept": 0, "removed": 0}
        for doc in stream:
            rec = doc.metadata[RECORD]
            stats["documents"] += 1
            reason = removal_reason(doc)
            if reason is None:
                stats["kept"] += 1
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
                continue
            stats["removed"] += 1
            if removed is not None:
                extra = {DUPLICATE_OF: doc.metadata.get(DUPLICATE_OF), CLUSTER_ID: doc.metadata.get(CLUSTER_ID),
                         SIMILARITY: doc.metadata.get(SIMILARITY), "removed_reason": reason}
                removed.write(json.dumps(rec | extra, ensure_ascii=False) + "\n")
        return stats


def run_cli(input_path: str, output: str, removed: str | None, **kwargs) -> dict[str, Any]:
    with ExitStack() as stack:
        src = sys.stdin if input_path == "-" else stack.enter_context(open(input_path, encoding="utf-8"))
        out = sys.stdout if output == "-" else stack.enter_context(open(output, "w", encoding="utf-8"))
        rem = None
        if removed:
            rem = sys.stdout if removed == "-" else stack.enter_context(open(removed, "w", encoding="utf-8"))
        return dedup_jsonl(src, out, rem, **kwargs)
