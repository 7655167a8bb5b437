"""Conventions for the metadata a datatrove `Document` carries through a curate pipeline.

A removed document is not dropped from the stream: it is *marked* and flows on to the sink, which writes it under
`removed/<step>/`. That is what makes the accounting law cheap to check and impossible to break silently.

Three kinds of metadata keys, kept apart so that input data can never pose as one of ours:
- columns: the core keys below and the keys steps declare (`CurateStep.columns`); written as typed Parquet columns;
- `EXTRA`: one dict holding every input field the pipeline does not map (and the source's configured metadata),
  written as the `extra` JSON column. The reader puts *all* input fields here, so an input record cannot set a
  column, a removal reason or any internal key, whatever its field names;
- internal keys, which start with `_` (removal reason, global input order, which scrubbers ran): never written to
  `data/` or `removed/`.
"""

from __future__ import annotations

from typing import Any

from datatrove.data import Document

# metadata keys that become the core Parquet columns (see docs/formats.md)
SOURCE = "source"
URL = "url"
LANG = "lang"
LANG_SCORE = "lang_score"
LICENSE = "license"
LICENSE_SOURCE = "license_source"
LICENSE_CONFIDENCE = "license_confidence"
FILE = "file"
LINE = "line"

CORE_KEYS = frozenset({"id", "text", SOURCE, URL, LANG, LANG_SCORE, LICENSE, LICENSE_SOURCE, LICENSE_CONFIDENCE, FILE, LINE})

EXTRA = "extra"  # dict of input fields the pipeline does not map -> the `extra` column (JSON)

# internal keys: never written as columns
REMOVED = "_removed"  # "step:reason"
ORDER = "_order"  # the document's place in the whole input (file index, record number): task-count independent
SCRUBBED = "_scrubbed"  # names of the PII steps that have scrubbed this document


def is_internal(key: str) -> bool:
    return key.startswith("_")


def removal_reason(doc: Document) -> str | None:
    return doc.metadata.get(REMOVED)


def is_removed(doc: Document) -> bool:
    return REMOVED in doc.metadata


def mark_removed(doc: Document, step: str, reason: str) -> None:
    """Mark `doc` as removed by `step`. The first removal wins: later steps never see the document."""
    doc.metadata.setdefault(REMOVED, f"{step}:{reason}")


def extra(doc: Document) -> dict[str, Any]:
    """The document's input fields that no column holds (a live dict: steps may add to it)."""
    return doc.metadata.setdefault(EXTRA, {})


def field(doc: Document, key: str) -> Any:
    """A column or step value when one is set, else the input field of that name (e.g. an input `quality` score)."""
    value = doc.metadata.get(key)
    return value if value is not None else (doc.metadata.get(EXTRA) or {}).get(key)


ORDER_FILE_SHIFT = 2**36  # record numbers below 2**36 per file; file indexes below 2**27


def input_order(file_index: int, record: int) -> int:
    return file_index * ORDER_FILE_SHIFT + record


def text_bytes(doc: Document) -> int:
    return len(doc.text.encode("utf-8", "surrogatepass"))
