"""Read a `curate` run folder (docs/formats.md) as files - never by importing `curate`."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ..expression import resolve
from .request import DataSource


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
    out = []
    for lic, stats in manifest.licenses.items():
        names = declared.get(_norm(lic))
        label = "+".join(names) if names else f"documents licensed {lic}"
        out.append(DataSource(name=label, license=lic, tokens=stats.tokens, bytes=stats.bytes,
                              documents=stats.documents))
    return out


def _norm(lic: str) -> str:
    res = resolve(lic)
    return res.expression or lic.strip().upper()
