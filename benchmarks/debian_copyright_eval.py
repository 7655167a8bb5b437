"""Debian's machine-readable copyright files, read by license_registry, on the files of this machine.

    python benchmarks/debian_copyright_eval.py [--limit N] [--glob '/usr/share/doc/*/copyright']

Every Debian or Ubuntu system holds a copyright file per installed package, most of them machine-readable
(copyright-format 1.0): real files written by Debian's maintainers, a license short name per group of files and often
the license's text. Printed:
  * how many paragraphs' short names map to a known SPDX expression (the rest: `LicenseRef-Unknown-<name>`);
  * the names checked against the texts: for each stand-alone License paragraph with a text, whether the detector
    reading that text finds the license the name maps to (an independent check of the name mapping);
  * the package's own license (`Files: *`): the declared name, mapped, against what text detection alone says of the
    whole file (what `detect_license_expression` returned before it read the format).
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import sys
import time
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from license_registry import detect_license_expression  # noqa: E402
from license_registry.debian_copyright import (_paragraphs, debian_name_to_spdx, is_machine_readable,  # noqa: E402
                                               read_debian_copyright)
from license_registry.expression import resolve  # noqa: E402


def same(found: str | None, declared: str) -> bool:
    """`found` names the declared license: equal, or one of the alternatives/parts of it."""
    return found is not None and (found == declared or found in resolve(declared).ids
                                  or declared in resolve(found).ids)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--glob", default="/usr/share/doc/*/copyright")
    ap.add_argument("--limit", type=int, default=None, help="at most N files (a smoke run)")
    args = ap.parse_args()
    files = [f for f in sorted(glob.glob(args.glob))
             if is_machine_readable(open(f, encoding="utf-8", errors="replace").read(500))][:args.limit]
    if not files:
        raise SystemExit(f"no machine-readable copyright files match {args.glob} (not a Debian/Ubuntu system?)")
    names, unknown, checked, primary = Counter(), Counter(), Counter(), Counter()
    misses: list[tuple[str, str, str, str | None]] = []
    took = {"format": 0.0, "text": 0.0}
    for path in files:
        text = open(path, encoding="utf-8", errors="replace").read()
        t = time.perf_counter()
        declared = read_debian_copyright(text)
        took["format"] += time.perf_counter() - t
        for p in declared.paragraphs:
            names["all"] += 1
            unknown[p.name] += "LicenseRef-Unknown" in p.license
        for _, fields in _paragraphs(text):
            lic = fields.get("license", [""])
            if "files" in fields or len(lic) < 4 or re.search(r"\s(or|and|with)\s|,", lic[0], re.IGNORECASE):
                continue
            mapped = debian_name_to_spdx(lic[0])
            if "LicenseRef-Unknown" in mapped:
                continue
            found = detect_license_expression("\n".join(lic[1:]))
            checked[same(found and found.primary, mapped) or bool(found and same(found.expression, mapped))] += 1
        star = next((p for p in declared.paragraphs if "*" in p.patterns), None)
        if star is None or "LicenseRef-Unknown" in star.license:
            continue
        t = time.perf_counter()
        by_text = detect_license_expression("#\n" + text)  # not at the start: read as text, not as the format
        took["text"] += time.perf_counter() - t
        ok = same(by_text and by_text.primary, star.license)
        primary[ok] += 1
        if not ok:
            misses.append((path.split("/")[-2], star.name, star.license, by_text and by_text.primary))
    n_unknown = sum(unknown.values())
    print(f"machine-readable copyright files: {len(files)} ({args.glob})")
    print(f"paragraph short names mapped to known licenses: {names['all'] - n_unknown}/{names['all']} "
          f"({1 - n_unknown / names['all']:.1%}); unknown, most frequent: "
          + ", ".join(f"{k} ({v})" for k, v in unknown.most_common(8) if v))
    total = sum(checked.values())
    print(f"stand-alone license texts whose detection agrees with the name's mapping: {checked[True]}/{total} "
          f"({checked[True] / max(1, total):.1%})")
    total = sum(primary.values())
    print(f"the package's own license (Files: *): text detection alone agrees with the declared name on "
          f"{primary[True]}/{total} ({primary[True] / max(1, total):.1%}); reading the format: {total}/{total} by "
          f"construction")
    print(f"time: reading the format {took['format']:.1f} s, text detection of the same files {took['text']:.1f} s")
    print("text detection's misses (package, declared, mapped, detected), first 15:")
    for row in misses[:15]:
        print("   ", row)


if __name__ == "__main__":
    main()
