"""License detection on real LICENSE files: the packages installed in this Python, each labeled by its own authors.

    python benchmarks/license_files_eval.py                 # every installed package that declares its license
    python benchmarks/license_files_eval.py --limit 20      # the first 20 (a smoke run)
    python benchmarks/license_files_eval.py --engine builtin

A package whose metadata carries a `License-Expression` (PEP 639: an SPDX expression its authors chose) and whose
wheel ships license files is one labeled repository: its license files at the top of the wheel's licenses folder
(LICENSE*, LICENCE*, COPYING*) are what `license_detect` reads for the files of a repository in
`pipelines/code.yaml`, and the label is the expression. Printed, each compared with the label as SPDX expressions
(operand order does not matter): the primary file's top detection (the most confident single license), its primary
license (the first it states), its expression (every license it states), and the license the files of the folder
inherit (`license_registry.license_files.folder_license`: every license file's primary license, joined; a
file that names others standing for them); then every miss of
the last.

Nobody here wrote these files: they are the LICENSE files of real projects (PyPI wheels installed by install.sh), with
what real LICENSE files hold: a license text followed by the licenses of bundled code, dual licenses, history and
footnotes. The set depends on what is installed; the figures in docs/license_registry.md name the date and count.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from importlib import metadata

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

import license_expression  # noqa: E402

from license_registry import (detect_license_expression, detect_license_text, folder_license,  # noqa: E402
                              read_license_file)

PRIMARY = re.compile(r"(?i)^(licen[cs]e|copying)")


def labeled_files() -> list[tuple[str, str, str, dict[str, str]]]:
    """(package, label expression, text of its primary license file, {name: text} of every license file at the top
    of its licenses folder), by package name."""
    out = []
    for dist in metadata.distributions():
        label = dist.metadata.get("License-Expression")
        files = [f for f in (dist.files or []) if PRIMARY.match(os.path.basename(str(f)))
                 and ".dist-info" in str(f)]
        if not label or not files:
            continue
        path = min(files, key=lambda f: (str(f).count("/"), str(f)))
        top = [f for f in files if str(f).count("/") == str(path).count("/")]
        try:
            texts = {os.path.basename(str(f)): read(f) for f in top}
        except OSError:
            continue
        out.append((dist.metadata["Name"], label.strip(), texts[os.path.basename(str(path))], texts))
    return sorted(out, key=lambda row: row[0].lower())


def read(path) -> str:
    with open(path.locate(), encoding="utf-8", errors="replace") as f:
        return f.read()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engine", default="auto", choices=["auto", "builtin", "scancode"])
    ap.add_argument("--limit", type=int, default=None, help="at most N packages")
    a = ap.parse_args()
    rows = labeled_files()[:a.limit]
    licensing = license_expression.get_spdx_licensing()

    def same(found: str | None, label: str) -> bool:
        return bool(found) and licensing.is_equivalent(found, label)

    counts = {"top": 0, "primary": 0, "expression": 0, "folder": 0}
    misses = []
    for name, label, text, texts in rows:
        found = detect_license_text(text, engine=a.engine)
        doc = detect_license_expression(text, engine=a.engine)
        inherited = folder_license([read_license_file(n, t, engine=a.engine) for n, t in texts.items()])
        folder = inherited[0] if inherited else None
        got = {"top": found[0][0] if found else None, "primary": doc.primary if doc else None,
               "expression": doc.expression if doc else None, "folder": folder}
        for key, value in got.items():
            counts[key] += same(value, label)
        if not same(folder, label):
            misses.append((name, label, got))
    n = max(1, len(rows))
    print(f"{len(rows)} installed packages with a License-Expression and a license file; engine {a.engine}")
    print(f"equal to the label (as SPDX expressions):")
    print(f"  the primary file's top detection (one license)            {counts['top']:4d}/{len(rows)} = "
          f"{counts['top'] / n:.1%}")
    print(f"  the primary file's primary license (stated first)          {counts['primary']:4d}/{len(rows)} = "
          f"{counts['primary'] / n:.1%}")
    print(f"  the primary file's expression (every license it states)    {counts['expression']:4d}/{len(rows)} = "
          f"{counts['expression'] / n:.1%}")
    print(f"  the license files combined, as license_detect's inheritance {counts['folder']:4d}/{len(rows)} = "
          f"{counts['folder'] / n:.1%}")
    print("misses of the inherited license:")
    for name, label, got in misses:
        print(f"  {name[:22]:22s} label {label[:60]:60s}\n  {'':22s} inherited {got['folder']}; "
              f"primary file: {got['expression']}")


if __name__ == "__main__":
    main()
