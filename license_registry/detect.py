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
from .debian_copyright import read_debian_copyright
from .expression import combine_licenses, resolve
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
# of two references one of which holds the other (BSD-2-Clause inside BSD-3-Clause), the larger is the text's when
# this share of what only it says is there: real BSD-3 texts name their project in the third clause ("Neither the
# name of PyCA Cryptography nor ..."), which lowers the larger reference's score below the smaller one's
OWN_CLAUSES = 0.5


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
def _own_clauses() -> dict[tuple[int, int], frozenset[tuple[str, ...]]]:
    """(i, j) -> what reference j says beyond reference i, for license texts j holding i (another license that
    extends it: BSD-3-Clause, BSD-2-Clause). Not headers: a GPL-3.0 header is nearly all of a GPL-2.0 one, and their
    versions, not an extra clause, tell them apart."""
    refs, fam = references(), _families()
    return {(i, j): refs[j].shingles - refs[i].shingles for (i, j), share in fam.items()
            if share >= PART_OF and len(refs[j].shingles) > len(refs[i].shingles)
            and refs[i].spdx_id != refs[j].spdx_id and refs[i].variant == refs[j].variant == "text"}


def _extends(i: int, j: int, shingles: frozenset[tuple[str, ...]]) -> bool | None:
    """For reference j extending reference i: whether the text holds j's own clauses (None: j does not extend i)."""
    own = _own_clauses().get((i, j))
    if own is None:
        return None
    return len(own & shingles) / len(own) >= OWN_CLAUSES


def widen(spdx_id: str, text: str) -> str:
    """The license of a text matched as `spdx_id`, or of a reference that extends it when the text holds the
    extension's own clauses (ScanCode reads cryptography's BSD-3-Clause text as BSD-2-Clause too)."""
    refs = references()
    narrow = [i for i, r in enumerate(refs) if r.spdx_id == spdx_id]
    if not narrow:
        return spdx_id
    shingles = _shingles(tokens(text[:MAX_CHARS]))
    for (i, j) in _own_clauses():
        if i in narrow and _extends(i, j, shingles):
            return refs[j].spdx_id
    return spdx_id


@lru_cache(maxsize=1)
def _families() -> dict[tuple[int, int], float]:
    """Containment of reference i in reference j: which references would match the same text."""
    refs = references()
    return {(i, j): len(a.shingles & b.shingles) / len(a.shingles)
            for i, a in enumerate(refs) for j, b in enumerate(refs) if i != j}


def match_reference_texts(text: str) -> list[tuple[str, float, int]]:
    """(spdx_id, containment, offset in `text` where it begins) for reference fragments found in `text`, best per
    license family."""
    text = text[:MAX_CHARS]
    spans = [(m.group(), m.start()) for m in _TOKEN.finditer(text.lower())]
    toks = [t for t, _ in spans]
    shingles = _shingles(toks)
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
        # Of two where one extends the other (BSD-3 holds BSD-2), the clauses only the larger has decide.
        beaten = any(
            j != i and refs[j].spdx_id != refs[i].spdx_id
            and (_beats(j, i, scores, shingles)
                 or refs[j].variant == "full" and fam[(i, j)] >= PART_OF and scores[j] >= PART_OF)
            for j in cands)
        if not beaten:
            kept.append(i)
    best: dict[str, tuple[float, int]] = {}
    for i in kept:
        at = spans[_first_run(toks, refs[i].shingles, scores[i])][1]
        score, first = best.get(refs[i].spdx_id, (0.0, at))
        best[refs[i].spdx_id] = (max(score, round(scores[i], 3)), min(first, at))
    return sorted(((lid, score, at) for lid, (score, at) in best.items()), key=lambda m: (-m[1], m[2]))


def _beats(j: int, i: int, scores: dict[int, float], shingles: frozenset[tuple[str, ...]]) -> bool:
    """Whether reference j, rather than i, is what the text holds, when the two are alike."""
    refs, fam = references(), _families()
    if max(fam[(i, j)], fam[(j, i)]) < FAMILY_OVERLAP:
        return False
    extends = _extends(i, j, shingles)
    if extends is not None:
        return extends
    extended = _extends(j, i, shingles)
    if extended is not None:
        return not extended
    return (scores[j], len(refs[j].shingles)) > (scores[i], len(refs[i].shingles))


DENSE = 0.5  # share of a reference's trigrams that a stretch of its length must hold to be where its text is


def _first_run(toks: list[str], shingles: frozenset[tuple[str, ...]], score: float) -> int:
    """Index of the first token where the reference's text is: the first matching trigram of the first stretch as
    long as the reference that holds DENSE of what the whole text holds of it (a LICENSE states its own license,
    then what it bundles; phrases one license shares with another, "the above copyright notice and this permission
    notice", must not place the bundled MIT text at Pillow's own license)."""
    hits = [tuple(toks[k:k + 3]) in shingles for k in range(max(0, len(toks) - 2))]
    width, need = len(shingles), DENSE * score * len(shingles)
    inside = sum(hits[:width])
    for k in range(len(hits)):
        if hits[k] and inside >= need:
            return k
        inside += (hits[k + width] if k + width < len(hits) else 0) - hits[k]
    return next((k for k, hit in enumerate(hits) if hit), 0)


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
            from_scancode = [Evidence(widen(e.license, w.text), e.confidence, e.kind, e.at, e.source)
                             if e.kind == "text" else e for e in scancode_match.match_window(w.text, w.start)]
            found += from_scancode
        # the reference fragments are the fallback for texts and headers: ScanCode's full texts know better
        if not use_scancode or (fast_rules and not any(e.confidence >= RESOLVED for e in from_scancode)):
            found += [Evidence(lid, conf, "text", w.start + at, "reference-texts")
                      for lid, conf, at in match_reference_texts(w.text)]
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
    return _ranked(detect_licenses(text, engine=engine))


def _ranked(evidence: list[Evidence]) -> list[tuple[str, float]]:
    rank: dict[str, tuple[float, int]] = {}  # license -> its best (-confidence, position): lowest ranks first
    for e in evidence:
        key = (-round(e.confidence, 3), max(e.at, 0))
        rank[e.license] = min(rank.get(e.license, key), key)
    return [(lid, -key[0]) for lid, key in sorted(rank.items(), key=lambda kv: (kv[1], kv[0]))]


@dataclass(frozen=True)
class DocumentLicense:
    """What a document states about its license (`detect_license_expression`)."""

    expression: str       # every license it states: AND, a choice it offers as an OR within
    confidence: float     # the least of theirs
    primary: str          # the license it states first: a LICENSE file's own, before the licenses of what it bundles
    primary_confidence: float


def detect_license_expression(text: str, *, engine: Engine = "auto",
                              min_confidence: float = 0.8) -> DocumentLicense | None:
    """What `text` states about its license. Every license evidenced at `min_confidence` or more counts, in the order
    of its first evidence, combined by `combine_licenses`: a file that states several is under all of them (tqdm's
    LICENCE: MPL-2.0 for all files, MIT for some: "MIT AND MPL-2.0"), and a choice it offers ("either MIT or Apache
    2.0") is an OR. The primary license is the first one stated: what the files of a repository without a header of
    their own inherit from its LICENSE file (numpy's states BSD-3-Clause, then the GPL-3.0 text of a runtime library
    its wheels bundle). When nothing reaches `min_confidence`, the best-evidenced license alone, with its lower
    confidence; None when nothing names a license."""
    # Debian's copyright file declares its licenses by name, file by file
    declared = read_debian_copyright(text, engine)
    if declared and declared.expression:
        return DocumentLicense(declared.expression, 1.0, declared.primary or declared.expression, 1.0)
    evidence = detect_licenses(text, engine=engine)
    first: dict[str, tuple[float, int]] = {}  # license -> (best confidence, first position) at min_confidence
    for e in evidence:
        if e.confidence >= min_confidence:
            conf, at = first.get(e.license, (0.0, len(text)))
            first[e.license] = (max(conf, round(e.confidence, 3)), min(at, max(e.at, 0)))
    ordered = [(lic, conf) for lic, (conf, _) in sorted(first.items(), key=lambda kv: (kv[1][1], -kv[1][0], kv[0]))]
    if not ordered:
        ranked = _ranked(evidence)
        return DocumentLicense(ranked[0][0], ranked[0][1], ranked[0][0], ranked[0][1]) if ranked else None
    combined = combine_licenses(ordered)
    if combined is None:  # only exceptions, which are no license on their own
        return None
    for k, (first_stated, conf) in enumerate(ordered):  # the first license stated (not an exception alone)
        refined = [p for p in ordered[k + 1:] if _refines(p[0], first_stated)]
        primary = combine_licenses([(first_stated, conf)] + refined)
        if primary:
            return DocumentLicense(combined[0], combined[1], *primary)
    return DocumentLicense(combined[0], combined[1], combined[0], combined[1])


def _refines(later: str, first: str) -> bool:
    """Whether `later` says more about the license stated `first`: a choice or an exception naming it, or its "or
    later" ("GPL-2.0-or-later" in the notice after the GPL-2.0 text)."""
    ids = resolve(later).ids
    return first in ids or first.endswith("-only") and first[:-len("-only")] + "-or-later" in ids
