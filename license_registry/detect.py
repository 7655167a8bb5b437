"""License detection in text, source files and HTML: which license a document says it is under.

A cascade, cheapest first (docs/license_registry.md, "Detection"):
1. `SPDX-License-Identifier:` tags anywhere in the document;
2. the gate (`notices.candidate_windows`): most documents have no license word or link, and stop here;
3. in the candidate windows, the notices people write (`notices.find_notices`: "Licensed under ...", license links,
   badges, Creative Commons names);
4. windows still unexplained go to ScanCode's matcher (`scancode_match`, engine `scancode`), with its 37,500 rules;
5. word-trigram containment against the reference fragments of common license texts and headers
   (`reference_texts/`), for windows ScanCode did not explain (or all of them without ScanCode).
Engine `auto` (the default) uses ScanCode when `scancode-toolkit-mini` is installed, `builtin` never does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from . import scancode_match
from .expression import resolve
from .notices import (RESOLVED, SPDX_TAG, Evidence, cap_lists, candidate_windows, cc_names, demote_records,
                      find_notices, license_of_url, may_name_a_license)
from .page import read_page

MIN_CONFIDENCE = 0.5      # trigram containment below this is noise (shared disclaimers etc.)
FAMILY_OVERLAP = 0.5      # references this similar compete: only the best-scoring one is kept
MAX_CHARS = 200_000       # headers sit at the top and license files are short; cap the work per doc

Engine = Literal["auto", "builtin", "scancode"]

_TOKEN = re.compile(r"[a-z0-9]+(?:\.[0-9]+)*")
_SPDX_TAG = re.compile(r"SPDX-License-Identifier:\s*([^\r\n]+)", re.IGNORECASE)
_TAG_TAIL = re.compile(r"\s*(\*/|-->|#}|%>|\*\)|\"|'|;)*\s*$")


@dataclass(frozen=True)
class _Reference:
    spdx_id: str
    variant: str
    shingles: frozenset[tuple[str, ...]]


def tokens(text: str) -> list[str]:
    """Lower-case word tokens; comment markers and punctuation vanish, '2.0' stays one token."""
    return _TOKEN.findall(text.lower())


def _shingles(toks: list[str], n: int = 3) -> frozenset[tuple[str, ...]]:
    return frozenset(tuple(toks[i:i + n]) for i in range(max(0, len(toks) - n + 1)))


# the GNU licenses' full texts bundled for the clause checks (license_registry/texts/): a GNU header is quoted inside
# every GNU full text (the GPL-3.0 names the Affero and the Lesser GPL), so only the full text can tell which one a
# document holds. A full text alone does not say "or later": ScanCode reads it as the version only, and so do these.
GNU_FULL_TEXTS = {"GPL-2.0": "GPL-2.0-only", "GPL-3.0": "GPL-3.0-only", "LGPL-2.1": "LGPL-2.1-only",
                  "LGPL-3.0": "LGPL-3.0-only", "AGPL-3.0": "AGPL-3.0-only"}
PART_OF = 0.9  # a fragment this contained in a full text found (nearly) whole is part of it, not a license of its own


@lru_cache(maxsize=1)
def references() -> tuple[_Reference, ...]:
    here = Path(__file__).resolve().parent
    refs = []
    for item in sorted((here / "reference_texts").iterdir(), key=lambda p: p.name):  # see registry.load_entries
        if item.name.endswith(".txt"):
            stem = item.name[:-4]
            spdx_id, _, variant = stem.partition("__")
            refs.append(_Reference(spdx_id, variant or "text", _shingles(tokens(item.read_text("utf-8")))))
    for name, spdx_id in GNU_FULL_TEXTS.items():
        full_text = (here / "texts" / f"{name}.txt").read_text("utf-8")
        refs.append(_Reference(spdx_id, "full", _shingles(tokens(full_text))))
    return tuple(refs)


@lru_cache(maxsize=1)
def _families() -> dict[tuple[int, int], float]:
    """Containment of reference i in reference j: which references would match the same text."""
    refs = references()
    return {(i, j): len(a.shingles & b.shingles) / len(a.shingles)
            for i, a in enumerate(refs) for j, b in enumerate(refs) if i != j}


def match_reference_texts(text: str) -> list[tuple[str, float]]:
    """(spdx_id, containment) for reference fragments found in `text`, best per license family."""
    shingles = _shingles(tokens(text[:MAX_CHARS]))
    if not shingles:
        return []
    refs = references()
    scores = {i: len(r.shingles & shingles) / len(r.shingles) for i, r in enumerate(refs)}
    cands = [i for i, s in scores.items() if s >= MIN_CONFIDENCE]
    fam = _families()
    kept = []
    for i in cands:
        # Drop i if a similar reference scores better (GPL-2 vs GPL-3 header) or equally well while
        # being the larger text (BSD-3 contains all of BSD-2).
        # Dropped too: a header quoted inside a full text found nearly whole (the GPL-3.0 text names the AGPL).
        beaten = any(
            j != i and refs[j].spdx_id != refs[i].spdx_id
            and (max(fam[(i, j)], fam[(j, i)]) >= FAMILY_OVERLAP
                 and (scores[j], len(refs[j].shingles)) > (scores[i], len(refs[i].shingles))
                 or refs[j].variant == "full" and fam[(i, j)] >= PART_OF and scores[j] >= PART_OF)
            for j in cands)
        if not beaten:
            kept.append(i)
    best: dict[str, float] = {}
    for i in kept:
        best[refs[i].spdx_id] = max(best.get(refs[i].spdx_id, 0.0), round(scores[i], 3))
    return sorted(best.items(), key=lambda kv: -kv[1])


def parse_spdx_tags(text: str) -> list[str]:
    """Normalized expressions from `SPDX-License-Identifier:` lines (unparsable tags are skipped)."""
    out: list[str] = []
    if "spdx" not in text.lower():
        return out
    for m in _SPDX_TAG.finditer(text[:MAX_CHARS]):
        raw = _TAG_TAIL.sub("", m.group(1)).strip()
        res = resolve(raw)
        if res.expression and res.expression not in out:
            out.append(res.expression)
    return out


def detect_cc(text: str) -> list[str]:
    """Creative Commons license ids from links, badge images and written names (HTML or text)."""
    found: list[str] = []
    text = text[:MAX_CHARS]
    page = read_page(text)
    for lid in [license_of_url(link.url) for link in page.links] + [lid for lid, _ in cc_names(page.text)]:
        if lid and lid.startswith("CC") and lid not in found:
            found.append(lid)
    return found


def _engine(engine: Engine) -> bool:
    if engine == "auto":
        return scancode_match.available()
    if engine not in ("builtin", "scancode"):
        raise ValueError(f"unknown license detection engine {engine!r}: auto, builtin or scancode")
    return engine == "scancode"


def detect_licenses(text: str, *, engine: Engine = "auto", fast_rules: bool = True) -> list[Evidence]:
    """Every piece of evidence of a license in `text` (see the module's docstring for the order of work).

    `fast_rules=False` sends every candidate window to ScanCode alone, skipping steps 3 and 5 (for comparison in
    benchmarks).
    """
    if not text:
        return []
    text = text[:MAX_CHARS]
    use_scancode = _engine(engine)
    if not may_name_a_license(text):
        return []
    found = [Evidence(expr, SPDX_TAG if resolve(expr).known else 0.5, "spdx-tag", text.find(expr))
             for expr in parse_spdx_tags(text)]
    page = read_page(text)
    windows = candidate_windows(page)
    if fast_rules or not use_scancode:
        found += find_notices(page, windows)
    for w in windows:
        from_scancode: list[Evidence] = []
        resolved = fast_rules and (any(w.start <= e.at < w.end and e.confidence >= RESOLVED for e in found)
                                   or (found and "spdx-license-identifier" in w.text.lower()))
        if use_scancode and not resolved:
            from_scancode = scancode_match.match_window(w.text, w.start)
            found += from_scancode
        # the reference fragments are the fallback for texts and headers: ScanCode's full texts know better
        if not use_scancode or (fast_rules and not any(e.confidence >= RESOLVED for e in from_scancode)):
            found += [Evidence(lid, conf, "text", w.start, "reference-texts")
                      for lid, conf in match_reference_texts(w.text)]
    return cap_lists(demote_records(page.text, found))


def detect_license_text(text: str, *, engine: Engine = "auto") -> list[tuple[str, float]]:
    """Licenses evidenced in `text`, as (spdx_id_or_expression, confidence 0-1), best first.

    Confidence: SPDX tag 1.0 (0.5 if it names an unknown license); a license link marked as the page's (rel=license,
    badge, Creative Commons link, or a notice around it) 0.95; a notice ("Licensed under the MIT License") 0.9; a
    full text or header = the share of it present; a bare license link 0.7, a license name in prose 0.6, and at
    most 0.5 for anything on a page that names three licenses or more (a list). Of licenses evidenced equally, the
    one evidenced first in the text comes first: a LICENSE file states its own license before the licenses of what it
    bundles (wcwidth: MIT, then the HPND-Markus-Kuhn text of a vendored table).
    """
    rank: dict[str, tuple[float, int]] = {}  # license -> its best (-confidence, position): lowest ranks first
    for e in detect_licenses(text, engine=engine):
        key = (-round(e.confidence, 3), max(e.at, 0))
        rank[e.license] = min(rank.get(e.license, key), key)
    return [(lid, -key[0]) for lid, key in sorted(rank.items(), key=lambda kv: (kv[1], kv[0]))]
