"""The names people write for licenses that have no entry in `entries/`.

The ScanCode index that `license_expression` vendors gives those licenses' ids and keys, not their names, so a notice
saying "Distributed under the Boost Software License 1.0" named no license. `names.yaml` holds:
- `written`: names seen in real notices that the ScanCode names below do not give ("PSF License");
- `scancode`: the `name` and `short_name` of every current (not deprecated) ScanCode license with an SPDX id,
  generated from an installed scancode-toolkit's LicenseDB (data CC-BY-4.0, nexB/aboutcode) by
      python -m license_registry.names --write
  The registry adds these only where nothing else (an entry, an id, a key, a written name) names the license: they
  fill gaps and never change what a known spelling means.
"""

from __future__ import annotations

import argparse
import json
import importlib.util
from functools import lru_cache
from pathlib import Path

import yaml

PATH = Path(__file__).resolve().parent / "names.yaml"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=1)
def load_names() -> dict[str, dict[str, list[str]]]:
    """{"written": {id: [names]}, "scancode": {id: [names]}} from names.yaml."""
    data = yaml.load(PATH.read_text(encoding="utf-8"), Loader=_LOADER)
    for section in ("written", "scancode"):
        table = data.get(section) if isinstance(data, dict) else None
        if not isinstance(table, dict) or not all(isinstance(v, list) for v in table.values()):
            raise ValueError(f"{PATH.name}: expected `{section}:` mapping SPDX ids to lists of names")
    return {"written": data["written"], "scancode": data["scancode"]}


def scancode_names() -> dict[str, list[str]]:
    """SPDX id -> names, from the LicenseDB records of the installed scancode-toolkit (empty without it)."""
    spec = importlib.util.find_spec("licensedcode")
    folders = [Path(f) / "data" / "licenses" for f in (spec.submodule_search_locations or [])] if spec else []
    names: dict[str, list[str]] = {}
    for folder in folders:
        for path in sorted(folder.glob("*.LICENSE")):
            text = path.read_text(encoding="utf-8")
            if not text.startswith("---\n"):
                continue
            record = yaml.load(text[4:].split("\n---", 1)[0], Loader=_LOADER) or {}
            lid = record.get("spdx_license_key") or ""
            if not lid or lid.startswith("LicenseRef-") or record.get("is_deprecated") or record.get("is_exception"):
                continue
            for name in (record.get("name"), record.get("short_name")):
                if name and name != lid and name not in names.setdefault(lid, []):
                    names[lid].append(name)
    return {lid: names[lid] for lid in sorted(names) if names[lid]}


def write(path: Path = PATH) -> int:
    """Regenerate the `scancode` section of names.yaml from the installed ScanCode, keeping `written`."""
    generated = scancode_names()
    if not generated:
        raise SystemExit("scancode-toolkit is not installed: nothing to generate from (pip install '.[licenses]')")
    head, _, _ = path.read_text(encoding="utf-8").partition("\nscancode:\n")
    body = "".join(f"  {lid}: {json.dumps(names, ensure_ascii=False)}\n" for lid, names in generated.items())
    path.write_text(f"{head}\nscancode:\n{body}", encoding="utf-8")
    return sum(len(v) for v in generated.values())


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", action="store_true", help="regenerate the scancode section of names.yaml")
    args = ap.parse_args()
    if args.write:
        print(f"{write()} names written to {PATH}")
    else:
        print(yaml.safe_dump(scancode_names(), width=10_000, allow_unicode=True))
