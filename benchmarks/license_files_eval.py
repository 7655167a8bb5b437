"""License detection on real LICENSE files: the packages installed in this Python, each labeled by its own authors.

    python benchmarks/license_files_eval.py                 # every installed package that declares its license
    python benchmarks/license_files_eval.py --limit 20      # the first 20 (a smoke run)
    python benchmarks/license_files_eval.py --engine builtin

A package whose metadata carries a `License-Expression` (PEP 639: an SPDX expression its authors chose) and whose
wheel ships a license file is one labeled document: the primary file (LICENSE*, LICENCE* or COPYING*, the shallowest,
first by name) is what `license_detect` reads for the files of a repository in `pipelines/code.yaml`, and the label
is the expression. Printed: how many top detections equal the label exactly, and every miss with what was found.

Nobody here wrote these files: they are the LICENSE files of real projects (PyPI wheels installed by install.sh), with
what real LICENSE files hold: a license text followed by the licenses of bundled code, dual licenses, history and
footnotes. The set depends on what is installed; the figures in docs/license_registry.md name the date and count.
A document holds one license id or expression (`license` column): where the label is an AND or OR of several, the top
detection names one of them at best, and counts as a miss.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from importlib import metadata

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from license_registry import detect_license_text  # noqa: E402

PRIMARY = re.compile(r"(?i)^(licen[cs]e|copying)")


def labeled_files() -> list[tuple[str, str, str]]:
    """(package, label expression, text of its primary license file), by package name."""
    out = []
    for dist in metadata.distributions():
        label = dist.metadata.get("License-Expression")
        files = [f for f in (dist.files or []) if PRIMARY.match(os.path.basename(str(f)))
                 and ".dist-info" in str(f)]
        if not label or not files:
            continue
        path = min(files, key=lambda f: (str(f).count("/"), str(f)))
        try:
            with open(path.locate(), encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError:
            continue
        out.append((dist.metadata["Name"], label.strip(), text))
    return sorted(out, key=lambda row: row[0].lower())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engine", default="auto", choices=["auto", "builtin", "scancode"])
    ap.add_argument("--limit", type=int, default=None, help="at most N packages")
    a = ap.parse_args()
    rows = labeled_files()[:a.limit]
    misses = []
    for name, label, text in rows:
        found = detect_license_text(text, engine=a.engine)
        top = found[0][0] if found else None
        if top != label:
            misses.append((name, label, found[:3]))
    exact = len(rows) - len(misses)
    print(f"{len(rows)} installed packages with a License-Expression and a license file; engine {a.engine}")
    print(f"top detection equals the label: {exact}/{len(rows)} = {exact / max(1, len(rows)):.1%}")
    for name, label, found in misses:
        kind = "AND/OR label" if (" AND " in label or " OR " in label) else "single label"
        print(f"  {name[:28]:28s} {kind:12s} label {label[:52]:52s} found {found}")


if __name__ == "__main__":
    main()
