"""Conventions for the metadata a datatrove `Document` carries through a curate pipeline.

A removed document is not dropped from the stream: it is *marked* and flows on to the sink, which writes it under
`removed/<step>/`. That is what makes the accounting law cheap to check and impossible to break silently.
"""

from __future__ import annotations

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

# internal keys: never written as columns of kept shards
REMOVED = "_removed"  # "step:reason"


def removal_reason(doc: Document) -> str | None:
    return doc.metadata.get(REMOVED)


def is_removed(doc: Document) -> bool:
    return REMOVED in doc.metadata


def mark_removed(doc: Document, step: str, reason: str) -> None:
    """Mark `doc` as removed by `step`. The first removal wins: later steps never see the document."""
    doc.metadata.setdefault(REMOVED, f"{step}:{reason}")


def text_bytes(doc: Document) -> int:
    return len(doc.text.encode("utf-8", "surrogatepass"))
