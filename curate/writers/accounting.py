"""One task's accounting: what it kept and what it removed, and why, as the JSON the runner adds up.

The sink tells a `TaskAccounting` about every document it writes (`kept(doc)` or `removed(doc, reason)`); at the end
of the task `as_json(step_stats)` is written as `logs/accounting/NNNNN.sink.json` and read by the manifest
(`curate.manifest.build_manifest`), the report and `curate retune`. Its format:

    {"documents_kept": n, "bytes_kept": n,
     "removed": {reason: documents}, "removed_bytes": {reason: bytes},
     "licenses" | "sources" | "languages": {value: {"documents": n, "bytes": n[, "tokens": n]}},   kept documents
     "steps": [each step's `step_stats()`]}

"tokens" appears only when the run names a tokenizer (`output.tokenizer`).
"""

from __future__ import annotations

import os
from collections import defaultdict
from typing import Any

from datatrove.data import Document

from curate import document as D

GROUPS = {"licenses": D.LICENSE, "sources": D.SOURCE, "languages": D.LANG}  # kept documents are counted per value


class TokenCounter:
    """Tokens of a text under a `tokenizers` tokenizer (a tokenizer.json, or a folder holding one), loaded on first
    use: the sink is pickled to the workers, the tokenizer is not."""

    def __init__(self, path: str):
        self.path = os.path.join(path, "tokenizer.json") if os.path.isdir(path) else path
        self._tokenizer = None

    def __call__(self, text: str) -> int:
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            self._tokenizer = Tokenizer.from_file(self.path)
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)


class TaskAccounting:
    """Counts of one task's documents: kept (in total and per license, source and language) and removed (per reason).
    """

    def __init__(self, tokens: TokenCounter | None = None):
        self.tokens = tokens
        self.documents_kept = 0
        self.bytes_kept = 0
        self.removed_documents: dict[str, int] = defaultdict(int)
        self.removed_bytes: dict[str, int] = defaultdict(int)
        self.groups: dict[str, dict[str, dict[str, int]]] = {
            group: defaultdict(lambda: {"documents": 0, "bytes": 0}) for group in GROUPS}

    def kept(self, doc: Document) -> None:
        n = D.text_bytes(doc)
        self.documents_kept += 1
        self.bytes_kept += n
        tokens = self.tokens(doc.text) if self.tokens is not None else None
        for group, key in GROUPS.items():
            entry = self.groups[group][str(doc.metadata.get(key) or "unknown")]
            entry["documents"] += 1
            entry["bytes"] += n
            if tokens is not None:
                entry["tokens"] = entry.get("tokens", 0) + tokens

    def removed(self, doc: Document, reason: str) -> None:
        self.removed_documents[reason] += 1
        self.removed_bytes[reason] += D.text_bytes(doc)

    def as_json(self, step_stats: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "documents_kept": self.documents_kept, "bytes_kept": self.bytes_kept,
            "removed": dict(self.removed_documents), "removed_bytes": dict(self.removed_bytes),
            **{group: dict(values) for group, values in self.groups.items()},
            "steps": step_stats,
        }
