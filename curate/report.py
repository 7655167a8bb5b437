"""`curate report RUN`: what came in, what was kept, what was removed and why — computed with polars from the
shards themselves (cross-checked against the manifest), written as report.md and report.json in the run folder."""

from __future__ import annotations

import glob
import json
import os
from typing import Any

import polars as pl

from curate.health import assess
from curate.report_scores import column_owners, configured_steps, score_distributions
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


def _licenses_stated_unknown(lf: pl.LazyFrame | None) -> list[dict[str, Any]]:
    """Documents that state a license no one here knows ("Licensed under the Sapiens2 License": `license_detect`
    records it as `license_detected` = LicenseRef-Unknown-<name>, below the tagging threshold), per name, with the
    licenses they were given instead (their license files' or their source's): what a reviewer should read."""
    if lf is None or "license_detected" not in lf.collect_schema().names():
        return []
    df = (lf.filter(pl.col("license_detected").str.starts_with("LicenseRef-Unknown-"))
          .group_by("license_detected")
          .agg(pl.len().alias("documents"), pl.col("license").drop_nulls().unique().sort().alias("licenses_given"))
          .sort(["documents", "license_detected"], descending=[True, False]).collect())
    return [{"stated": row["license_detected"].removeprefix("LicenseRef-Unknown-"), "documents": row["documents"],
             "licenses_given": ", ".join(row["licenses_given"])} for row in df.to_dicts()]


def build_report(run_dir: str) -> dict[str, Any]:
    manifest = read_json(os.path.join(run_dir, "manifest.json"))
    kept, removed = _scan(os.path.join(run_dir, "data")), _scan(os.path.join(run_dir, "removed"))
    configured = configured_steps(manifest)
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
        "licenses_stated_unknown": _licenses_stated_unknown(kept),
        "removed_samples": _samples(removed, configured),
        "sources_in": _sources_in(manifest, removed),
        "removed_by_reason_source": _by_reason(removed, "source"),
        "removed_by_reason_language": _by_reason(removed, "lang"),
        "score_distributions": score_distributions(configured, kept, removed),
        "pii_by_entity": _pii_by_entity({"kept": kept, "removed": removed}),
    }
    if kept is not None:
        n = kept.select(pl.len()).collect().item()
        if n != manifest["documents_kept"]:
            raise RuntimeError(f"{run_dir}: data/ holds {n} documents, the manifest says {manifest['documents_kept']}")
    for extra in _extra_sections(run_dir):
        report.update(extra)
    report["health"] = assess(report).to_dict()
    return report


def _samples(removed: pl.LazyFrame | None, steps: list[dict[str, Any]], per_reason: int = 3) -> list[dict[str, Any]]:
    """A few removed documents per reason (id, source, the start of the text, and the values the removing step
    stored: its scores, the document it duplicates), so a reader can judge a filter. removed/ holds text that the
    run's PII step already scrubbed; nothing here reads the input files."""
    if removed is None:
        return []
    names = [c for c in removed.collect_schema().names() if c not in SAMPLE_SKIP]
    owned = {c: {s["name"] for s, _ in column_owners(c, steps)} for c in names}
    df = (removed.group_by("removed_reason", maintain_order=True).head(per_reason)
          .select("removed_reason", "removed_step", "id", "source", pl.col("text").str.slice(0, 120).alias("preview"),
                  pl.col("text").str.slice(0, SAMPLE_CHARS).alias("text"), *owned)
          .sort("removed_reason", maintain_order=True).collect())
    return [{k: row[k] for k in ("removed_reason", "id", "source", "preview", "text")}
            | {"values": {c: row[c] for c in owned if row[c] is not None and row["removed_step"] in owned[c]}}
            for row in df.to_dicts()]


SAMPLE_CHARS = 600
SAMPLE_SKIP = {"id", "text", "source", "extra", "removed_reason", "removed_step", "pii_counts", "cluster_id"}


def _sources_in(manifest: dict[str, Any], removed: pl.LazyFrame | None) -> list[dict[str, Any]]:
    """Documents per source: read (kept + removed), kept, removed. Without removed/ shards (keep_removed: false)
    only the kept counts are known."""
    kept = {k: v["documents"] for k, v in manifest.get("sources", {}).items()}
    gone: dict[str, int] = {}
    if removed is not None:
        gone = dict(removed.group_by("source").len().collect().iter_rows())
    return [{"source": s, "documents_in": kept.get(s, 0) + gone.get(s, 0), "documents_kept": kept.get(s, 0),
             "documents_removed": gone.get(s, 0)}
            for s in sorted(set(kept) | {s for s in gone if s is not None}, key=lambda s: -(kept.get(s, 0) +
                                                                                            gone.get(s, 0)))]


def _pii_by_entity(frames: dict[str, pl.LazyFrame | None]) -> list[dict[str, Any]]:
    """PII found per entity type, in kept and in removed documents, summed from the shards' `pii_counts` (counts
    only: the values were replaced by placeholders)."""
    totals: dict[tuple[str, str], int] = {}
    for status, lf in frames.items():
        if lf is None or "pii_counts" not in lf.collect_schema().names():
            continue
        for (counts,) in lf.select("pii_counts").drop_nulls().collect().iter_rows():
            for entity, n in json.loads(counts).items():
                totals[(entity, status)] = totals.get((entity, status), 0) + n
    return [{"entity": e, "status": s, "found": n} for (e, s), n in sorted(totals.items(), key=lambda kv: -kv[1])]


def _by_reason(removed: pl.LazyFrame | None, key: str) -> list[dict[str, Any]]:
    """Removed documents per (reason, key) with one sample id, largest first."""
    if removed is None:
        return []
    df = (removed.group_by("removed_reason", key)
          .agg(pl.len().alias("documents"), pl.col("id").sort().first().alias("sample_id"))
          .rename({"removed_reason": "reason"}).sort(["documents", "reason", key], descending=[True, False, False])
          .collect())
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
          *[f"> **{kind}**: {f['message']}\n" for kind, key in (("error", "errors"), ("warning", "warnings"))
            for f in rep.get("health", {}).get(key, [])],
          "## Steps\n", _md_table(rep["steps"], ["step", "documents_in", "removed", "documents_out", "bytes_removed",
                                                 "seconds"]),
          "## Removed, by reason\n", _md_table(rep["removed_by_reason"], ["reason", "documents", "bytes"]),
          "## Kept, by language\n", _md_table(rep["languages"], ["lang", "documents", "bytes"]),
          "## Kept, by source\n", _md_table(rep["sources"], ["source", "documents", "bytes"]),
          "## Kept, by license\n", _md_table(rep["licenses"], ["license", "documents", "bytes"]),
          *(["## Kept documents stating a license no one here knows\n",
              _md_table(rep["licenses_stated_unknown"], ["stated", "documents", "licenses_given"])]
            if rep.get("licenses_stated_unknown") else []),
          "## Samples of removed documents\n", _md_table(rep["removed_samples"], ["removed_reason", "id", "preview"])]
    for key, section in rep.items():
        if isinstance(section, dict) and section.get("markdown"):
            md.append(section["markdown"])
    return "\n".join(md)


def write_report(run_dir: str, html: bool = False) -> dict[str, Any]:
    """report.json and report.md (and report.html with `html`) in the run folder."""
    rep = build_report(run_dir)
    atomic_write_json(os.path.join(run_dir, "report.json"), rep)
    atomic_write_text(os.path.join(run_dir, "report.md"), to_markdown(rep))
    if html:
        from curate.report_html import render_html

        atomic_write_text(os.path.join(run_dir, "report.html"),
                          render_html(rep, read_json(os.path.join(run_dir, "manifest.json"))))
    return rep
