"""`curate report RUN`: what came in, what was kept, what was removed and why — computed with polars from the
shards themselves (cross-checked against the manifest), written as report.md and report.json in the run folder."""

from __future__ import annotations

import glob
import os
from typing import Any

import polars as pl

from curate.util import atomic_write_json, atomic_write_text, read_json


def _scan(folder: str) -> pl.LazyFrame | None:
    files = sorted(glob.glob(os.path.join(folder, "**", "*.parquet"), recursive=True))
    if not files:
        return None
    return pl.scan_parquet(files, missing_columns="insert", extra_columns="ignore")


def _group(lf: pl.LazyFrame | None, key: str) -> list[dict[str, Any]]:
    if lf is None:
        return []
    df = (lf.group_by(key).agg(pl.len().alias("documents"), pl.col("text").str.len_bytes().sum().alias("bytes"))
          .sort("documents", descending=True).collect())
    return df.to_dicts()


def build_report(run_dir: str) -> dict[str, Any]:
    manifest = read_json(os.path.join(run_dir, "manifest.json"))
    kept, removed = _scan(os.path.join(run_dir, "data")), _scan(os.path.join(run_dir, "removed"))
    # per step: documents entering it, removed by it, leaving it (steps run in order; `invalid` is the reader)
    invalid = sum(n for r, n in manifest["removed"].items() if r.startswith("invalid:"))
    by_step_bytes: dict[str, int] = {}
    for reason, b in manifest.get("removed_bytes", {}).items():
        step = reason.split(":", 1)[0]
        by_step_bytes[step] = by_step_bytes.get(step, 0) + b
    steps = [{"step": "input", "documents_in": manifest["documents_in"], "removed": invalid,
              "documents_out": manifest["documents_in"] - invalid, "bytes_removed": by_step_bytes.get("invalid", 0),
              "seconds": None}]
    entering = manifest["documents_in"] - invalid
    for s in manifest["steps"]:
        removed_here = sum(n for r, n in manifest["removed"].items() if r.split(":", 1)[0] == s["name"])
        steps.append({"step": s["name"], "documents_in": entering, "removed": removed_here,
                      "documents_out": entering - removed_here, "bytes_removed": by_step_bytes.get(s["name"], 0),
                      "seconds": s["seconds"]})
        entering -= removed_here
    report = {
        "run_dir": os.path.abspath(run_dir),
        "pipeline": manifest.get("pipeline"),
        "documents_in": manifest["documents_in"],
        "documents_kept": manifest["documents_kept"],
        "documents_removed": sum(manifest["removed"].values()),
        "bytes_in": manifest["bytes_in"],
        "bytes_kept": manifest["bytes_kept"],
        "steps": steps,
        "removed_by_reason": [{"reason": r, "documents": n, "bytes": manifest.get("removed_bytes", {}).get(r, 0)}
                              for r, n in manifest["removed"].items()],
        "languages": _group(kept, "lang"),
        "sources": _group(kept, "source"),
        "licenses": _group(kept, "license"),
        "removed_samples": _samples(removed),
    }
    if kept is not None:
        n = kept.select(pl.len()).collect().item()
        if n != manifest["documents_kept"]:
            raise RuntimeError(f"{run_dir}: data/ holds {n} documents, the manifest says {manifest['documents_kept']}")
    for extra in _extra_sections(run_dir):
        report.update(extra)
    return report


def _samples(removed: pl.LazyFrame | None, per_reason: int = 2) -> list[dict[str, Any]]:
    """A few removed documents per reason (id and the first characters), so a reader can judge a filter."""
    if removed is None:
        return []
    df = (removed.select("removed_reason", "id", pl.col("text").str.slice(0, 120).alias("preview"))
          .group_by("removed_reason").head(per_reason).sort("removed_reason").collect())
    return df.to_dicts()


def _extra_sections(run_dir: str) -> list[dict[str, Any]]:
    """Sections that steps add to the report (dedup clusters, PII totals...). A step writes
    RUN/logs/report_sections/<name>.json = {"title": ..., "markdown": ..., "data": {...}} when it finishes;
    each becomes report[<name>]."""
    out = []
    for path in sorted(glob.glob(os.path.join(run_dir, "logs", "report_sections", "*.json"))):
        out.append({os.path.basename(path)[:-5]: read_json(path)})
    return out


def _md_table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    if not rows:
        return "_none_\n"
    out = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in rows:
        out.append("| " + " | ".join(_fmt(r.get(c)) for c in columns) + " |")
    return "\n".join(out) + "\n"


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.3f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v).replace("|", "\\|").replace("\n", " ")


def to_markdown(rep: dict[str, Any]) -> str:
    pct = 100 * rep["documents_kept"] / max(rep["documents_in"], 1)
    md = [f"# Curation report: {rep['pipeline']}\n",
          f"{rep['documents_in']:,} documents in ({rep['bytes_in'] / 1e6:,.2f} MB), "
          f"{rep['documents_kept']:,} kept ({pct:.1f}%, {rep['bytes_kept'] / 1e6:,.2f} MB), "
          f"{rep['documents_removed']:,} removed.\n",
          "## Steps\n", _md_table(rep["steps"], ["step", "documents_in", "removed", "documents_out", "bytes_removed",
                                                 "seconds"]),
          "## Removed, by reason\n", _md_table(rep["removed_by_reason"], ["reason", "documents", "bytes"]),
          "## Kept, by language\n", _md_table(rep["languages"], ["lang", "documents", "bytes"]),
          "## Kept, by source\n", _md_table(rep["sources"], ["source", "documents", "bytes"]),
          "## Kept, by license\n", _md_table(rep["licenses"], ["license", "documents", "bytes"]),
          "## Samples of removed documents\n", _md_table(rep["removed_samples"], ["removed_reason", "id", "preview"])]
    for key, section in rep.items():
        if isinstance(section, dict) and section.get("markdown"):
            md.append(section["markdown"])
    return "\n".join(md)


def write_report(run_dir: str) -> dict[str, Any]:
    rep = build_report(run_dir)
    atomic_write_json(os.path.join(run_dir, "report.json"), rep)
    atomic_write_text(os.path.join(run_dir, "report.md"), to_markdown(rep))
    return rep
