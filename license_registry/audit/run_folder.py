"""Read a `curate` run folder (docs/formats.md) as files - never by importing `curate`."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field

from ..expression import resolve
from .request import DataSource, UpstreamSource

# Fields a record may carry that name where it comes from, kept under their own names in the shards' `extra`
# column (the `source` column is the pipeline's source name; run folders written before format 2 kept a record's
# own `source` as `input_source`).
_ORIGIN_FIELDS = ("source", "input_source", "repository", "repo", "origin", "source_url")
_FORGES = re.compile(r"^(github\.com|gitlab\.com|bitbucket\.org|huggingface\.co|codeberg\.org)/([^/]+)/([^/#?]+)")


class _LicenseStats(BaseModel):
    model_config = ConfigDict(extra="allow")  # the format may add columns; we read what we need
    documents: int = 0
    bytes: int = 0
    tokens: int | None = None


class _SourceStats(_LicenseStats):
    license: str | None = None


class Manifest(BaseModel):
    model_config = ConfigDict(extra="allow")
    format_version: int = 1
    licenses: dict[str, _LicenseStats] = Field(default_factory=dict)
    sources: dict[str, _SourceStats] = Field(default_factory=dict)


class RunFolderError(ValueError):
    pass


def load_manifest(run_dir: str | Path) -> Manifest:
    path = Path(run_dir) / "manifest.json"
    if not path.is_file():
        # A run is complete iff manifest.json exists (docs/formats.md).
        raise RunFolderError(f"{run_dir}: no manifest.json - not a complete curate run folder")
    try:
        return Manifest.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, ValueError) as exc:
        raise RunFolderError(f"{path}: invalid manifest: {exc}") from exc


def data_sources_from_run(run_dir: str | Path) -> list[DataSource]:
    """One data source per license in the manifest's `licenses` map (kept documents only).

    Each is named after the pipeline sources that declare that license, so findings point at
    something a person can remove; documents whose license was detected per record are named by
    the license itself.
    """
    manifest = load_manifest(run_dir)
    declared: dict[str, list[str]] = {}
    for name, src in manifest.sources.items():
        key = _norm(src.license or "NOASSERTION")
        declared.setdefault(key, []).append(name)
    upstream = upstream_sources(run_dir)
    out = []
    for lic, stats in manifest.licenses.items():
        names = declared.get(_norm(lic))
        label = "+".join(names) if names else f"documents licensed {lic}"
        out.append(DataSource(name=label, license=lic, tokens=stats.tokens, bytes=stats.bytes,
                              documents=stats.documents, upstream=upstream.get(lic, [])))
    return out


def upstream_sources(run_dir: str | Path) -> dict[str, list[UpstreamSource]]:
    """Per license of the kept documents: where they come from (a record's own source, else its URL's repository
    or site), most documents first, with one example URL each - the creators an attribution must name."""
    counts: dict[str, Counter] = {}
    example: dict[tuple[str, str], str] = {}
    for shard in sorted((Path(run_dir) / "data").glob("*.parquet")):
        try:
            names = set(pq.ParquetFile(shard).schema_arrow.names)
            columns = [c for c in ("license", "url", "extra") if c in names]
            rows = pq.read_table(shard, columns=columns).to_pylist()
        except Exception as exc:  # a damaged shard is a broken run folder, named
            raise RunFolderError(f"{shard}: cannot read shard: {exc}") from exc
        for row in rows:
            lic = row.get("license") or "NOASSERTION"
            origin = _origin(row)
            if origin is None:
                continue
            counts.setdefault(lic, Counter())[origin] += 1
            if row.get("url"):
                example.setdefault((lic, origin), row["url"])
    return {lic: [UpstreamSource(source=o, url=example.get((lic, o)), license=lic, documents=n)
                  for o, n in c.most_common()] for lic, c in counts.items()}


def _origin(row: dict) -> str | None:
    extra = row.get("extra")
    if extra:
        try:
            meta = json.loads(extra)
        except json.JSONDecodeError:
            meta = {}
        for key in _ORIGIN_FIELDS:
            if isinstance(meta.get(key), str) and meta[key].strip():
                return meta[key].strip()
    url = row.get("url")
    if not url:
        return None
    bare = re.sub(r"^[a-z]+://(www\.)?", "", url.strip().lower())
    forge = _FORGES.match(bare)
    return "/".join(forge.groups()) if forge else bare.split("/")[0] or None


def _norm(lic: str) -> str:
    res = resolve(lic)
    return res.expression or lic.strip().upper()
