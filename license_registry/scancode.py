"""Access to the ScanCode LicenseDB index that ships inside `license-expression`, and to the license texts that
ship inside scancode-toolkit (the `licenses` extra) when it is installed.

We never copy that index into this package: it is read at runtime from the installed
`license_expression` data folder, so upgrading the dependency upgrades our coverage.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import license_expression


@dataclass(frozen=True)
class ScancodeLicense:
    """One row of `scancode-licensedb-index.json` (only the fields we use)."""

    key: str                       # ScanCode key, e.g. "llama-3.2-license-2024"
    spdx_id: str | None            # SPDX id or LicenseRef-scancode-..., None for a few legacy rows
    category: str                  # Permissive, Copyleft, Proprietary Free, ...
    other_spdx_ids: tuple[str, ...] = field(default_factory=tuple)
    is_exception: bool = False
    is_deprecated: bool = False


@lru_cache(maxsize=1)
def load_index() -> tuple[ScancodeLicense, ...]:
    """The vendored ScanCode index (about 2,600 keys) as typed rows."""
    return tuple(
        ScancodeLicense(
            key=row["license_key"],
            spdx_id=row.get("spdx_license_key") or None,
            category=row.get("category") or "Unstated License",
            other_spdx_ids=tuple(row.get("other_spdx_license_keys") or ()),
            is_exception=bool(row.get("is_exception")),
            is_deprecated=bool(row.get("is_deprecated")),
        )
        for row in raw_index()
    )


@lru_cache(maxsize=1)
def by_key() -> dict[str, ScancodeLicense]:
    return {lic.key: lic for lic in load_index()}


@lru_cache(maxsize=1)
def by_spdx_id() -> dict[str, ScancodeLicense]:
    """SPDX id (and its other ids) -> row. Deprecated rows never shadow current ones."""
    out: dict[str, ScancodeLicense] = {}
    for lic in sorted(load_index(), key=lambda r: r.is_deprecated, reverse=True):
        for sid in (lic.spdx_id, *lic.other_spdx_ids):
            if sid:
                out[sid] = lic
    return out


@lru_cache(maxsize=1)
def raw_index() -> tuple[dict, ...]:
    """The raw rows of the installed package's index, as `license_expression.build_spdx_licensing` expects them
    (read and parsed once: `load_index` types the same rows)."""
    with open(license_expression.vendored_scancode_licensedb_index_location, encoding="utf-8") as fh:
        return tuple(json.load(fh))


def license_text(key: str) -> str | None:
    """The text of LicenseDB record `key` as the installed scancode-toolkit ships it (licensedcode/data/licenses/
    KEY.LICENSE, without its YAML front matter); None when scancode-toolkit is not installed or has no such record."""
    spec = importlib.util.find_spec("licensedcode")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "data" / "licenses" / f"{key}.LICENSE"
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            return text.split("\n---\n", 1)[1] if text.startswith("---\n") else text
    return None
