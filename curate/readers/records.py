"""The reader step: input files -> Documents with provenance, bad records marked `invalid:<reason>`."""

from __future__ import annotations

import hashlib
import json
import os
import time
from array import array
from typing import Any, Iterator

import numpy as np

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from curate import document as D
from curate import fs, logs
from curate.errors import InvalidRecordError
from curate.readers.formats import ITERATORS, RawRecord
from curate.util import atomic_write_json

logs.quiet_datatrove_console()  # in every process that reads: the driver and each task process

INVALID = "invalid"


class InputReader(PipelineStep):
    """Reads the files of every input of a pipeline. Task `rank` reads files[rank::world_size], where a large file
    may be several entries, one per part (`curate.readers.parts`).

    Every record becomes exactly one Document. Provenance goes into metadata: source, url, license (from the record's
    license field, else the source's declared license), file, line and the document's place in the whole input
    (file index, record), which global steps use so that their decisions do not depend on the number of tasks.
    Fields the pipeline does not map are kept in the `extra` dict (column), so nothing in the input is lost.
    """

    name = "input"
    type = "📖 - READER"

    def __init__(self, files: list[dict[str, Any]], accounting_dir: str, progress_dir: str | None = None,
                 max_document_bytes: int = 10_000_000, strict: bool = False):
        super().__init__()
        self.files = files  # [{path, format, source, text_field, id_field, url_field, license_field, license, metadata}]
        self.accounting_dir = accounting_dir
        self.progress_dir = progress_dir
        # what a task reads is a file or a part of one (curate/readers/parts.py): the progress bar says which it counts
        self.unit = "parts" if any("part" in spec for spec in files) else "files"
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
                             D.LICENSE_CONFIDENCE: 0.0, D.ORDER: D.input_order(spec["index"], rec.line),
                             D.EXTRA: {"invalid_detail": detail, **rec.extra}})
        D.mark_removed(doc, INVALID, reason)
        return doc

    def to_document(self, spec: dict, rec: RawRecord) -> Document:
        """One record -> one Document. Every input field lands in a column the pipeline maps it to, or in `extra`:
        nothing a record holds can set a column of ours, a removal reason or an internal key."""
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
        url = data.pop(spec["url_field"], None)
        record_license = data.pop(spec["license_field"], None) if spec.get("license_field") else None
        for name, value, allowed in ((spec["id_field"], doc_id, ID_TYPES), (spec["url_field"], url, (str,)),
                                     (spec.get("license_field"), record_license, (str,))):
            if value is not None and (not isinstance(value, allowed) or isinstance(value, bool)):
                return self._invalid(spec, rec, "bad_field", f"field {name!r} is a {type(value).__name__}",
                                     json.dumps(rec.data, ensure_ascii=False, default=str))
        doc = Document(text=text, id=str(doc_id) if doc_id is not None else f"{spec['rel']}:{rec.line}")
        meta = doc.metadata
        meta[D.EXTRA] = {**(spec.get("metadata") or {}), **data}
        meta[D.SOURCE] = spec["source"]
        meta[D.URL] = url
        meta[D.FILE] = spec["path"]
        meta[D.LINE] = rec.line
        meta[D.ORDER] = D.input_order(spec["index"], rec.line)
        if record_license:
            meta[D.LICENSE], meta[D.LICENSE_SOURCE], meta[D.LICENSE_CONFIDENCE] = record_license, "record", 1.0
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
        id_hashes = array("Q")  # 8-byte hashes of the input ids: duplicates are counted across tasks at the end
        inputs = []
        last_progress = 0.0
        for i, spec in enumerate(mine):
            file_docs = 0
            for rec in read_records(spec):
                doc = self.to_document(spec, rec)
                documents += 1
                file_docs += 1
                if D.is_removed(doc):
                    invalid += 1
                else:
                    id_hashes.append(id_hash(doc.id))
                nbytes += D.text_bytes(doc)
                if self.progress_dir and time.monotonic() - last_progress > 0.5:
                    last_progress = time.monotonic()
                    self._progress(rank, documents, nbytes, i, len(mine))
                self.stat_update("documents")
                yield doc
            inputs.append(file_entry(spec, file_docs))
        if self.progress_dir:
            self._progress(rank, documents, nbytes, len(mine), len(mine))
        # reached only once the whole input of this task has been consumed by the pipeline
        os.makedirs(self.accounting_dir, exist_ok=True)
        np.save(os.path.join(self.accounting_dir, f"{rank:05d}.ids.npy"), np.sort(np.frombuffer(id_hashes, np.uint64)))
        atomic_write_json(os.path.join(self.accounting_dir, f"{rank:05d}.reader.json"),
                          {"documents_in": documents, "bytes_in": nbytes, "invalid": invalid, "inputs": inputs})

    def _progress(self, rank, documents, nbytes, files_done, files):
        atomic_write_json(os.path.join(self.progress_dir, f"{rank:05d}.json"),
                          {"documents": documents, "bytes": nbytes, "files_done": files_done, "files": files,
                           "unit": self.unit})


ID_TYPES = (str, int, float)  # ids given as numbers are common; they are written as strings


def id_hash(doc_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(doc_id.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def read_records(spec: dict) -> Iterator[RawRecord]:
    """The records of one input file, or of the part of it that `spec` names."""
    if "part" in spec:
        return ITERATORS[spec["format"]](spec["path"], part=spec["part"])
    return ITERATORS[spec["format"]](spec["path"])


def file_entry(spec: dict, documents: int) -> dict[str, Any]:
    """The manifest's record of one input file (or part): size and checksum, when the file can still be read; of a
    file read in parts, only the first part's task reads it whole for the checksum (the manifest adds the parts up)."""
    entry = {"path": spec["path"], "source": spec["source"], "format": spec["format"], "documents": documents}
    if "part" in spec:
        entry["part"] = [spec["part"]["k"], spec["part"]["of"]]
        if spec["part"]["k"] > 0:
            return entry
    try:
        entry |= {"size": fs.size(spec["path"]), "sha256": sha256_file(spec["path"])}
    except OSError as e:
        entry |= {"size": None, "sha256": None, "error": e.strerror or type(e).__name__}
    return entry


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with fs.open_binary(path) as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
