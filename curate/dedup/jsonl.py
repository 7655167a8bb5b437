"""`curate dedup IN.jsonl -o OUT.jsonl --removed REMOVED.jsonl`: the exact and MinHash steps on one JSONL file,
without a run folder. Records keep every field; removed ones gain `duplicate_of`, `cluster_id`, `similarity`
and `removed_reason`. Lines that are not a JSON object with a text are counted and written to REMOVED with
`removed_reason: invalid:<reason>`, their line number and their raw content; outputs appear only when complete."""

from __future__ import annotations

import json
import tempfile
from typing import IO, Any, Iterator

from datatrove.data import Document

from curate.steps.dedup import (
    CLUSTER_ID,
    DUPLICATE_OF,
    SIMILARITY,
    ExactDedup,
    ExactDedupParams,
    MinHashDedup,
    MinHashDedupParams,
)
from curate.document import removal_reason
from curate.jsonl_io import AtomicOutput, read_records
from curate.steps.base import RunContext

RECORD = "_record"  # the input record (every field but the text) rides along in the document's metadata


def _documents(path: str, text_field: str, invalid: list[dict]) -> Iterator[Document]:
    """Documents of the valid records; each invalid line is noted in `invalid` (with its reason) instead."""
    for rec in read_records(path):
        data = rec.data
        if rec.error is None and not isinstance(data.get(text_field), str):
            rec.error, rec.detail = "missing_text", f"no string {text_field!r} field"
        if rec.error:
            invalid.append({"line": rec.line, "removed_reason": f"invalid:{rec.error}", "detail": rec.detail,
                            "raw": (rec.raw or b"").decode("utf-8", "backslashreplace") or data})
            continue
        doc_id = str(data["id"]) if data.get("id") is not None else str(rec.line)
        yield Document(text=data[text_field], id=doc_id, metadata={RECORD: data})


def dedup_jsonl(path: str, out: IO[str], removed: IO[str] | None, *, text_field: str = "text", exact: bool = True,
                **minhash) -> dict[str, Any]:
    """`minhash`: dedup_minhash parameters (threshold, ngram, num_perm...); those not given keep the step's defaults."""
    with tempfile.TemporaryDirectory(prefix="curate-dedup-") as tmp:
        ctx = RunContext(run_dir=tmp, pipeline_name="dedup")
        steps = []
        if exact:
            steps.append(ExactDedup(ExactDedupParams(write_index=False), ctx, name="dedup_exact"))
        given = {k: v for k, v in minhash.items() if v is not None}
        steps.append(MinHashDedup(MinHashDedupParams(**given, write_index=False), ctx, name="dedup_minhash"))
        invalid: list[dict] = []
        stream: Iterator[Document] = _documents(path, text_field, invalid)
        for step in steps:
            stream = step.run(stream)
        stats = {"documents": 0, "kept": 0, "removed": 0, "invalid": 0}
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
        for bad in invalid:  # never silently dropped: counted, and passed on with the removed records
            stats["invalid"] += 1
            if removed is not None:
                removed.write(json.dumps(bad, ensure_ascii=False) + "\n")
        return stats


def run_cli(input_path: str, output: str, removed: str | None, **kwargs) -> dict[str, Any]:
    with AtomicOutput(output) as out, AtomicOutput(removed) as rem:
        return dedup_jsonl(input_path, out, rem, **kwargs)
