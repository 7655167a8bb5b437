"""Disk-backed pieces that keep a dedup task's memory bounded: the document spill (pass 1 writes the task's documents,
pass 2 reads them back once the clusters are known), append-only row files (signatures, band keys) read back as
memmaps, per-document columns written a batch at a time, and the persisted index that later runs deduplicate
against (`reference_index`)."""

from __future__ import annotations

import glob
import json
import os
import pickle
from typing import Any, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from datatrove.data import Document

from curate.util import atomic_write_json, read_json


class DocSpill:
    """Documents pickled one after another into a file; read back in the same order."""

    def __init__(self, path: str):
        self.path = path
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self._f = open(path, "wb")  # "wb": a rerun after a crash starts the spill over
        self.count = 0

    def add(self, doc: Document) -> None:
        pickle.dump((doc.id, doc.text, doc.metadata), self._f, protocol=pickle.HIGHEST_PROTOCOL)
        self.count += 1

    def __iter__(self) -> Iterator[Document]:
        self._f.close()
        with open(self.path, "rb") as f:
            for _ in range(self.count):
                doc_id, text, meta = pickle.load(f)
                yield Document(text=text, id=doc_id, metadata=meta)
        os.remove(self.path)


class RowStore:
    """Fixed-width rows (e.g. signatures) appended to a raw file, then read as one memory-mapped array."""

    def __init__(self, path: str, width: int, dtype=np.uint32):
        self.path, self.width, self.dtype = path, width, np.dtype(dtype)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self._f = open(path, "wb")
        self.rows = 0

    def add(self, rows: np.ndarray) -> None:
        self._f.write(np.ascontiguousarray(rows, dtype=self.dtype).tobytes())
        self.rows += len(rows)

    def array(self) -> np.ndarray:
        self._f.close()
        if self.rows == 0:
            return np.zeros((0, self.width), dtype=self.dtype)
        return np.memmap(self.path, dtype=self.dtype, mode="r", shape=(self.rows, self.width))

    def remove(self) -> None:
        self._f.close()
        if os.path.exists(self.path):
            os.remove(self.path)

    def save_columns_npy(self, path: str) -> None:
        """The rows as a `.npy` file (what np.load reads) stored transposed, (width, rows), so that one column (an
        LSH band of every document) is one contiguous read; copied from the raw file a chunk at a time, never more
        than a chunk in memory however many rows; the raw file is removed."""
        self._f.close()
        header = {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False,
                  "shape": (self.width, self.rows)}
        row_bytes = self.width * self.dtype.itemsize
        with open(path + ".tmp", "wb") as out, open(self.path, "rb") as raw:
            np.lib.format.write_array_header_1_0(out, header)
            start, first_row = out.tell(), 0
            while chunk := raw.read(max(1, 16 * 2**20 // row_bytes) * row_bytes):
                rows = np.frombuffer(chunk, dtype=self.dtype).reshape(-1, self.width)
                for c in range(self.width):  # this chunk's piece of every column
                    out.seek(start + (c * self.rows + first_row) * self.dtype.itemsize)
                    out.write(np.ascontiguousarray(rows[:, c]).tobytes())
                first_row += len(rows)
        os.replace(path + ".tmp", path)
        os.remove(self.path)


class ColumnSpill:
    """Rows of a fixed schema written to a Parquet file a batch at a time: a collector's per-document columns (id,
    order, length...) cost the memory of one batch, not ~200 bytes of Python objects for every document of its
    task (which grew a worker by ~100 MB per 500,000 documents per column set)."""

    def __init__(self, path: str, schema: pa.Schema, batch_rows: int = 65536):
        self.path, self.schema, self.batch_rows = path, schema, batch_rows
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self._columns: dict[str, list] = {name: [] for name in schema.names}
        self._writer = pq.ParquetWriter(path + ".tmp", schema)
        self.rows = 0

    def add(self, *values) -> None:
        """One row, its values in the schema's order."""
        for column, value in zip(self._columns.values(), values):
            column.append(value)
        self.rows += 1
        if self.rows % self.batch_rows == 0:
            self._flush()

    def _flush(self) -> None:
        if self._columns[self.schema.names[0]]:
            self._writer.write_table(pa.table(self._columns, schema=self.schema))
            for column in self._columns.values():
                column.clear()

    def close(self) -> None:
        self._flush()
        self._writer.close()
        os.replace(self.path + ".tmp", self.path)


# -- persisted index: RUN/index/<step>/<rank>/{meta.json, keys.npy, sigs.npy?, ids.parquet} ------------------------
INDEX_IDS = "ids.parquet"


def write_index(folder: str, meta: dict[str, Any], ids: list[str], keys, sigs=None,
                rows: np.ndarray | None = None) -> None:
    """One task's part of the index. meta.json is written last: a part without it is incomplete and ignored.
    `keys` and `sigs` are the index's rows, or, with `rows`, sources read at those rows a chunk at a time (memory-
    mapped signatures: a million documents' index is written without holding ~0.7 KB of each). `meta` says how
    many parts the index has (`parts`), so that an index whose run stopped half-way is refused, not half-used."""
    start_index_part(folder)
    pq.write_table(pa.table({"id": pa.array(ids, pa.string())}), os.path.join(folder, INDEX_IDS))
    finish_index_part(folder, meta, len(ids), keys, sigs, rows)


def start_index_part(folder: str) -> None:
    """Before a part is (re)written: without its meta.json it counts as incomplete."""
    os.makedirs(folder, exist_ok=True)
    if os.path.exists(os.path.join(folder, "meta.json")):
        os.remove(os.path.join(folder, "meta.json"))


def finish_index_part(folder: str, meta: dict[str, Any], documents: int, keys, sigs=None,
                      rows: np.ndarray | None = None) -> None:
    """The part's band keys and signatures (see `write_index`), then its meta.json; its ids are written already."""
    _save_rows(os.path.join(folder, "keys.npy"), keys, rows)
    if sigs is not None:
        _save_rows(os.path.join(folder, "sigs.npy"), sigs, rows)
    atomic_write_json(os.path.join(folder, "meta.json"), meta | {"documents": documents})


def _save_rows(path: str, source, rows: np.ndarray | None, chunk: int = 65536) -> None:
    """`source` (rows=None) or `source[rows]` as a .npy file, the latter read and written a chunk of rows at a time."""
    if rows is None:
        np.save(path, np.ascontiguousarray(source))
        return
    head = np.asarray(source[rows[:chunk]])
    header = {"descr": np.lib.format.dtype_to_descr(head.dtype), "fortran_order": False,
              "shape": (len(rows), *head.shape[1:])}
    with open(path, "wb") as out:
        np.lib.format.write_array_header_1_0(out, header)
        out.write(np.ascontiguousarray(head).tobytes())
        for c in range(chunk, len(rows), chunk):
            out.write(np.ascontiguousarray(source[rows[c:c + chunk]]).tobytes())


def fetch_index(url: str) -> str:
    """A local copy of an index on an object store, laid out as the source was (a run folder's index/ -> a folder
    with index/; an index folder -> that folder), made once and reused: `reference_index: s3://bucket/runs/2026-10`
    works like a local path."""
    import hashlib

    from curate.fs import filesystem

    target = os.path.join(os.path.expanduser("~"), ".cache", "curate", "indexes",
                          hashlib.sha256(url.encode()).hexdigest()[:16])
    if not os.path.exists(os.path.join(target, ".complete")):
        fs, root = filesystem(url)
        run_folder = fs.exists(f"{root}/index")
        fs.get(f"{root}/index/" if run_folder else f"{root}/", os.path.join(target, "index", "") if run_folder
               else os.path.join(target, ""), recursive=True)
        open(os.path.join(target, ".complete"), "w").close()
    return target


def resolve_index(path: str, step_name: str, kind: str) -> str:
    """`path` is an earlier run folder (its index/<step>/ is used; the only index of this kind if the name differs)
    or an index folder itself, on this machine or on an object store."""
    from curate.fs import is_url

    if is_url(path):
        path = fetch_index(path)
    path = os.path.abspath(path)
    candidates = [os.path.join(path, "index", step_name), path]
    for c in candidates:
        if glob.glob(os.path.join(c, "*", "meta.json")):
            return c
    same_kind = [os.path.dirname(os.path.dirname(m)) for m in glob.glob(os.path.join(path, "index", "*", "*", "meta.json"))
                 if read_json(m).get("kind") == kind]
    if len(set(same_kind)) == 1:
        return same_kind[0]
    raise FileNotFoundError(f"reference_index {path}: no {kind} index found (looked for index/{step_name}/*/meta.json)")


def load_index(folder: str, expect: dict[str, Any]) -> tuple[list[str], np.ndarray, np.ndarray | None]:
    """All parts of an index; refuses one built with other parameters (its band keys would never match)."""
    ids: list[str] = []
    keys, sigs = [], []
    complete = sorted(glob.glob(os.path.join(folder, "*", "meta.json")))
    for meta_path in complete:
        part = os.path.dirname(meta_path)
        meta = read_json(meta_path)
        diff = {k: (meta.get(k), v) for k, v in expect.items() if meta.get(k) != v}
        if diff:
            raise ValueError(f"reference index {part} was built with other parameters: {json.dumps(diff)}")
        if meta.get("parts", 0) > len(complete):  # (indexes written before parts were counted say nothing)
            raise ValueError(f"reference index {folder} is incomplete: {len(complete)} of its {meta['parts']} parts "
                             "are finished (the run that writes it has not finished: resume it first)")
        ids += pq.read_table(os.path.join(part, INDEX_IDS)).column("id").to_pylist()
        keys.append(np.load(os.path.join(part, "keys.npy")))
        if os.path.exists(os.path.join(part, "sigs.npy")):
            sigs.append(np.load(os.path.join(part, "sigs.npy")))
    if not keys:
        raise FileNotFoundError(f"reference index {folder} has no complete part")
    return ids, np.concatenate(keys), (np.concatenate(sigs) if sigs else None)
