"""Lightweight license detection in text, source files and HTML.

Not a replacement for ScanCode: it recognizes the common cases a curation pipeline meets -
`SPDX-License-Identifier:` tags, Creative Commons links/badges/names, and the standard header or
notice paragraphs of common licenses (by word-trigram containment against the short reference
fragments in license_registry/reference_texts/).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .expression import resolve
from .registry import get_registry

MIN_CONFIDENCE = 0.5      # trigram containment below this is noise (shared disclaimers etc.)
FAMILY_OVERLAP = 0.5      # references this similar compete: only the best-scoring one is kept
MAX_CHARS = 200_000       # headers sit at the top and license files are short; cap the work per doc

_TOKEN = re.compile(r"[a-z0-9]+(?:\.[0-9]+)*")
_SPDX_TAG = re.compile(r"SPDX-License-Identifier:\s*([^\r\n]+)", re.IGNORECASE)
_TAG_TAIL = re.compile(r"\s*(\*/|-->|#}|%>|\*\)|\"|'|;)*\s*$")
_CC_LINK = re.compile(
    r"creativecommons\.org/(?P<kind>licenses|publicdomain)/(?P<code>[a-z+\-]+)/(?P<ver>\d\.\d)"
    r"(?:/(?P<jur>[a-z]{2})(?=[/\"'\s>]|$))?", re.IGNORECASE)
_CC_BADGE = re.compile(
    r"(?:i\.creativecommons\.org|licensebuttons\.net|mirrors\.creativecommons\.org/presskit/buttons)"
    r"/(?P<kind>l|p)/(?P<code>[a-z+\-]+)/(?P<ver>\d\.\d)(?:/(?P<jur>[a-z]{2})(?=/))?", re.IGNORECASE)
_CC_NAME = re.compile(
    r"creative\s+commons\s+attribution(?P<nc>[\s-]+non-?commercial)?"
    r"(?:[\s-]+(?P<el>share-?alike|no-?derivatives|no-?derivs))?[\s-]+(?P<ver>\d\.\d)", re.IGNORECASE)
_CC_SHORT = re.compile(r"\bCC[\s-]BY(?P<nc>-NC)?(?:-(?P<el>SA|ND))?[\s-](?P<ver>\d\.\d)\b", re.IGNORECASE)


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


@lru_cache(maxsize=1)
def references() -> tuple[_Reference, ...]:
    folder = Path(__file__).resolve().parent / "reference_texts"  # see registry.load_entries
    refs = []
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".txt"):
            stem = item.name[:-4]
            spdx_id, _, variant = stem.partition("__")
            refs.append(_Reference(spdx_id, variant or "text", _shingles(tokens(item.read_text("utf-8")))))
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
        beaten = any(
            j != i and refs[j].spdx_id != refs[i].spdx_id
            and max(fam[(i, j)], fam[(j, i)]) >= FAMILY_OVERLAP
            and (scores[j], len(refs[j].shingles)) > (scores[i], len(refs[i].shingles))
            for j in cands)
        if not beaten:
            kept.append(i)
    best: dict[str, float] = {}
    for i in kept:
        best[refs[i].spdx_id] = max(best.get(refs[i].spdx_id, 0.0), round(scores[i], 3))
    return sorted(best.items(), key=lambda kv: -kv[1])


def parse_spdx_tags(text: str) -> list[str]:
    """Normalized expressions from `SPDX-License-Identifier:` lines (unparsable tags are skipped)."""
    out = []
    for m in _SPDX_TAG.finditer(text[:MAX_CHARS]):
        raw = _TAG_TAIL.sub("", m.group(1)).strip()
        res = resolve(raw)
        if res.expression and res.expression not in out:
            out.append(res.expression)
    return out


def _cc_id(code: str, version: str, jurisdiction: str | None = None) -> str | None:
    code = code.lower()
    if code == "zero":
        base = f"CC0-{version}"
    elif code == "mark":
        base = f"CC-PDM-{version}"
    elif code.startswith("by"):
        base = f"CC-{code.upper()}-{version}"
    else:
        return None
    reg = get_registry()
    if jurisdiction:
        ported = reg.lookup(f"{base}-{jurisdiction.upper()}")
        if ported:
            return ported
    return reg.lookup(base)


def detect_cc(text: str) -> list[str]:
    """Creative Commons license ids from links, badge images and written names (HTML or text)."""
    found: list[str] = []
    text = text[:MAX_CHARS]
    for rx in (_CC_LINK, _CC_BADGE):
        for m in rx.finditer(text):
            lid = _cc_id(m.group("code"), m.group("ver"), m.group("jur"))
            if lid and lid not in found:
                found.append(lid)
    for rx in (_CC_NAME, _CC_SHORT):
        for m in rx.finditer(text):
            code = "by" + ("-nc" if m.group("nc") else "")
            el = (m.group("el") or "").lower().replace("-", "")
            code += "-sa" if el.startswith("share") or el == "sa" else "-nd" if el.startswith("no") or el == "nd" else ""
            lid = _cc_id(code, m.group("ver"))
            if lid and lid not in found:
                found.append(lid)
    return found


def detect_license_text(text: str) -> list[tuple[str, float]]:
    """Licenses evidenced in `text`, as (spdx_id_or_expression, confidence 0-1), best first.

    Confidence: explicit SPDX tag 1.0 (0.5 if it names an unknown license), CC link/badge 0.95,
    CC name 0.9, reference-text match = share of the reference's word trigrams present.
    """
    if not text:
        return []
    results: dict[str, float] = {}

    def put(lid: str, conf: float) -> None:
        results[lid] = max(results.get(lid, 0.0), conf)

    for expr in parse_spdx_tags(text):
        put(expr, 1.0 if resolve(expr).known else 0.5)
    cc = detect_cc(text)
    if cc:
        lower = text.lower()
        linked = "creativecommons.org" in lower or "licensebuttons" in lower  # a link or badge, not just a name
        for lid in cc:
            put(lid, 0.95 if linked else 0.9)
    for lid, conf in match_reference_texts(text):
        put(lid, conf)
    return sorted(results.items(), key=lambda kv: (-kv[1], kv[0]))
