"""The manifest: the sum of every task's accounting, checked against the accounting law and against the shards."""

from __future__ import annotations

import glob
import os
from collections import defaultdict
from typing import Any

import pyarrow.parquet as pq

from curate.util import read_json


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


def build_manifest(run, paths) -> dict[str, Any]:
    from curate.runner import AccountingError, _utcnow, versions

    documents_in = bytes_in = kept = bytes_kept = 0
    removed: dict[str, int] = defaultdict(int)
    removed_bytes: dict[str, int] = defaultdict(int)
    groups: dict[str, dict] = {"licenses": {}, "sources": {}, "languages": {}}
    inputs: list[dict] = []
    steps: dict[str, dict] = {}
    for rank in range(run.cfg.executor.tasks):
        reader = read_json(os.path.join(paths.accounting, f"{rank:05d}.reader.json"))
        sink = read_json(os.path.join(paths.accounting, f"{rank:05d}.sink.json"))
        # multi-stage runs (dedup mode: distributed): stage 1's sink removed documents too; its kept ones are the
        # input of stage 2, whose sink is the one above
        stage_sink = os.path.join(paths.accounting, "stage_1", f"{rank:05d}.sink.json")
        sinks = ([read_json(stage_sink)] if os.path.exists(stage_sink) else []) + [sink]
        documents_in += reader["documents_in"]
        bytes_in += reader["bytes_in"]
        inputs.extend(reader["inputs"])
        kept += sink["documents_kept"]
        bytes_kept += sink["bytes_kept"]
        for reason, n in (kv for sk in sinks for kv in sk["removed"].items()):
            removed[reason] += n
        for reason, n in (kv for sk in sinks for kv in sk["removed_bytes"].items()):
            removed_bytes[reason] += n
        for g in groups:
            _merge_counts(groups[g], sink[g])
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

    sources_declared = {s.name: s.license for s in run.cfg.inputs}
    sources = {k: dict(v) | {"license": sources_declared.get(k)} for k, v in groups["sources"].items()}
    run_info = read_json(paths.run_json)
    return {
        "format_version": 1,
        "run_dir": paths.root,
        "pipeline": run.cfg.name,
        "documents_in": documents_in,
        "documents_kept": kept,
        "removed": dict(sorted(removed.items(), key=lambda kv: -kv[1])),
        "removed_bytes": dict(removed_bytes),
        "bytes_in": bytes_in,
        "bytes_kept": bytes_kept,
        "inputs": sorted(inputs, key=lambda x: x["path"]),
        "outputs": [s | {"path": os.path.join("data", s["path"])} for s in work_shards],
        "removed_outputs": [s | {"path": os.path.join("removed", s["path"])}
                            for s in (_shards(paths.work_removed, paths.work_removed)
                                      if os.path.isdir(paths.work_removed) else [])],
        "steps": list(steps.values()),
        "licenses": {k: dict(v) for k, v in groups["licenses"].items()},
        "sources": sources,
        "languages": {k: dict(v) for k, v in groups["languages"].items()},
        "config": run.cfg.model_dump(mode="json"),
        "config_hash": run.config_hash,
        "versions": versions(),
        "started_at": run_info["started_at"],
        "finished_at": _utcnow(),
    }
