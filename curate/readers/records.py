"""The reader step: input files -> Documents with provenance, bad records marked `invalid:<reason>`."""

from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Any

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from curate import document as D
from curate import logs  # noqa: F401  (quiet datatrove's console logs in every task process)
from curate.readers.formats import ITERATORS, RawRecord
from curate.util import atomic_write_json

INVALID = "invalid"


class InvalidRecordError(RuntimeError):
    """Raised in --strict mode: a bad record fails the run, naming its file and line."""


class InputReader(PipelineStep):
    """Reads the files of every input of a pipeline. Task `rank` reads files[rank::world_size].

    Every record becomes exactly one Document. Provenance goes into metadata: source, url, license (from the record's
    license field, else the source's declared license), file and line. Fields the pipeline does not map are kept
    in metadata and end up in the `extra` column, so nothing in the input is lost.
    """

    name = "input"
    type = "📖 - READER"

    def __init__(self, files: list[dict[str, Any]], accounting_dir: str, progress_dir: str | None = None,
                 max_document_bytes: int = 10_000_000, strict: bool = False):
        super().__init__()
        self.files = files  # [{path, format, source, text_field, id_field, url_field, license_field, license, metadata}]
        self.accounting_dir = accounting_dir
        self.progress_dir = progress_dir
        self.max_document_bytes = max_document_bytes
        self.strict = strict

    # -- record -> Document ---------------------------------------------------------------------------------------
    def _invalid(self, spec: dict, rec: RawRecord, reason: str, detail: str, text: str = "") -> Document:
        if self.strict:
            raise InvalidRecordError(f"{spec['path']}:{rec.line}: invalid record ({reason}): {detail}")
        doc = Document(text=text, id=f"{spec['rel']}:{rec.line}")
        doc.metadata.update({D.SOURCE: spec["source"], D.FILE: spec["path"], D.LINE: rec.line,
                             D.LICENSE: spec.get("license") or "NOASSERTION",
                             D.LICENSE_SOURCE: "declared" if spec.get("license") else "unknown",
                             D.LICENSE_CONFIDENCE: 0.0, "invalid_detail": detail, **rec.extra})
        D.mark_removed(doc, INVALID, reason)
        return doc

    def to_document(self, spec: dict, rec: RawRecord) -> Document:
        if rec.error:
            raw = rec.raw or b""
            return self._invalid(spec, rec, rec.error, rec.detail, raw.decode("utf-8", "backslashreplace"))
        data = dict(rec.data)
        text = data.pop(spec["text_field"], None)
        if not isinstance(text, str):
            found = "missing" if text is None else f"a {type(text).__name__}"
            return self._invalid(spec, rec, "missing_text", f"field {spec['text_field']!r} is {found}",
                                 json.dumps(rec.data, ensure_ascii=False, default=str))
        if not text.strip():
            return self._invalid(spec, rec, "empty_text", f"field {spec['text_field']!r} is empty")
        # a character is at most 4 UTF-8 bytes: only a text that might be too big pays for encoding it here
        if 4 * len(text) > self.max_document_bytes:
            size = len(text.encode("utf-8", "surrogatepass"))
            if size > self.max_document_bytes:
                return self._invalid(spec, rec, "oversize",
                                     f"{size} bytes > max_document_bytes={self.max_document_bytes}", text)
        doc_id = data.pop(spec["id_field"], None)
        doc = Document(text=text, id=str(doc_id) if doc_id is not None else f"{spec['rel']}:{rec.line}")
        meta = doc.metadata
        meta.update(spec.get("metadata") or {})
        url = data.pop(spec["url_field"], None)
        record_license = data.pop(spec["license_field"], None) if spec.get("license_field") else None
        # unmapped fields are carried to the `extra` column; ones that clash with our columns keep an input_ prefix
        meta.update({f"input_{k}" if k in D.CORE_KEYS else k: v for k, v in data.items()})
        meta[D.SOURCE] = spec["source"]
        meta[D.URL] = url
        meta[D.FILE] = spec["path"]
        meta[D.LINE] = rec.line
        if record_license:
            meta[D.LICENSE], meta[D.LICENSE_SOURCE], meta[D.LICENSE_CONFIDENCE] = str(record_license), "record", 1.0
        elif spec.get("license"):
            meta[D.LICENSE], meta[D.LICENSE_SOURCE], meta[D.LICENSE_CONFIDENCE] = spec["license"], "declared", 0.9
        else:
            meta[D.LICENSE], meta[D.LICENSE_SOURCE], meta[D.LICENSE_CONFIDENCE] = "NOASSERTION", "unknown", 0.0
        return doc

    # -- the step ---------------------------------------------------------------------------------------------------
    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data:
            yield from data
        mine = self.files[rank::world_size]
        documents, nbytes, invalid = 0, 0, 0
        inputs = []
        last_progress = 0.0
        for i, spec in enumerate(mine):
            file_docs = 0
            for rec in ITERATORS[spec["format"]](spec["path"]):
                doc = self.to_document(spec, rec)
                documents += 1
                file_docs += 1
                invalid += D.is_removed(doc)
                nbytes += D.text_bytes(doc)
                if self.progress_dir and time.monotonic() - last_progress > 0.5:
                    last_progress = time.monotonic()
                    self._progress(rank, documents, nbytes, i, len(mine))
                self.stat_update("documents")
                yield doc
            inputs.append({"path": spec["path"], "source": spec["source"], "format": spec["format"],
                           "size": os.path.getsize(spec["path"]), "sha256": sha256_file(spec["path"]),
                           "documents": file_docs})
        if self.progress_dir:
            self._progress(rank, documents, nbytes, len(mine), len(mine))
        # reached only once the whole input of this task has been consumed by the pipeline
        atomic_write_json(os.path.join(self.accounting_dir, f"{rank:05d}.reader.json"),
                          {"documents_in": documents, "bytes_in": nbytes, "invalid": invalid, "inputs": inputs})

    def _progress(self, rank, documents, nbytes, files_done, files):
        atomic_write_json(os.path.join(self.progress_dir, f"{rank:05d}.json"),
                          {"documents": documents, "bytes": nbytes, "files_done": files_done, "files": files})


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
