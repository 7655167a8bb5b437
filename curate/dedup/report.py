"""The dedup report section: clusters found, their size distribution and the biggest clusters with samples.

Each task writes its own part; the parts merge into RUN/logs/report_sections/<step>.json (curate.sections).
"""

from __future__ import annotations

from typing import Any

from curate.sections import write_section_part

SIZE_BINS = [(2, 2), (3, 5), (6, 10), (11, 100), (101, None)]


def size_histogram(sizes: list[int]) -> dict[str, int]:
    out = {}
    for lo, hi in SIZE_BINS:
        label = f"{lo}" if lo == hi else (f"{lo}-{hi}" if hi else f">{lo - 1}")
        out[label] = sum(1 for s in sizes if s >= lo and (hi is None or s <= hi))
    return out


def write_task_part(run_dir: str, step: str, rank: int, part: dict[str, Any], merge=None) -> None:
    merge = merge or merge_parts
    write_section_part(run_dir, step, rank, part, lambda parts: merge(step, parts))


def merge_parts(step: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    sizes = [s for p in parts for s in p.get("cluster_sizes", [])]
    top_n = max((p.get("top_n", 10) for p in parts), default=10)
    top = sorted((c for p in parts for c in p.get("top_clusters", [])), key=lambda c: -c["size"])[:top_n]
    data: dict[str, Any] = {
        "kind": parts[0].get("kind") if parts else None,
        "tasks": len(parts),
        "documents": sum(p.get("documents", 0) for p in parts),
        "clusters": len(sizes),
        "duplicates_removed": sum(p.get("duplicates", 0) for p in parts),
        "reference_duplicates_removed": sum(p.get("reference_duplicates", 0) for p in parts),
        "size_distribution": size_histogram(sizes),
        "largest_cluster": max(sizes, default=0),
        "top_clusters": top,
        "params": parts[0].get("params", {}) if parts else {},
    }
    return {"title": f"Deduplication: {step}", "markdown": to_markdown(step, data), "data": data}


def _cell(s: Any) -> str:
    return str(s if s is not None else "").replace("|", "\\|").replace("\n", " ")


def to_markdown(step: str, d: dict[str, Any]) -> str:
    md = [f"## Deduplication: {step}\n",
          f"{d['documents']:,} documents checked in {d['tasks']} task(s): {d['clusters']:,} clusters of duplicates "
          f"(largest {d['largest_cluster']:,}), {d['duplicates_removed']:,} duplicates removed, "
          f"{d['reference_duplicates_removed']:,} already in the reference index.\n",
          "| cluster size | clusters |", "|---|---|"]
    md += [f"| {k} | {v:,} |" for k, v in d["size_distribution"].items()]
    if d["top_clusters"]:
        md += ["", "Largest clusters (kept document first):", "",
               "| cluster | size | document | similarity | preview |", "|---|---|---|---|---|"]
        for c in d["top_clusters"]:
            md.append(f"| {c['cluster_id']} | {c['size']} | kept: {_cell(c['kept_id'])} |  | {_cell(c['kept_preview'])} |")
            for m in c["members"]:
                md.append(f"|  |  | {_cell(m['id'])} | {m['similarity']:.2f} | {_cell(m['preview'])} |")
    return "\n".join(md) + "\n"
