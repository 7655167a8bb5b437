"""ScanCode's license matcher (`scancode-toolkit-mini`) on the windows the notices gate lets through.

ScanCode's index (about 37,500 rules: full texts, notices, references, tags, for about 2,500 licenses) ships prebuilt
inside the wheel (`licensedcode/data/cache`, no network, nothing to build). Loading it takes 11-18 s and 1.4 GB
per process (measured by `benchmarks/license_detect_eval.py`), so it is loaded lazily, once per process, the first
time a window needs it; `scancode-toolkit-mini` is an optional dependency (`pip install -e ".[licenses]"`).

A match becomes evidence by its rule's kind, the way ScanCode itself weighs them:
- full license text (`is_license_text`) with coverage >= 80%: confidence = coverage;
- notice (`is_license_notice`) matched whole (>= 90%, and not by the approximate
  sequence matcher when the rule is short): 0.9, unless the sentence explains rather than states (see
  `notices.explains`);
- tag or reference (`is_license_tag`: "License: MIT", "licenses (Apache 2)"; `is_license_reference`: a bare name,
  URL or badge): 0.85 when it is a "License:" label itself or follows the words of a notice
  (`notices.NOTICE_CONTEXT`, as for links), else 0.6 (a name in prose is not a license);
- intros, clues, false positives, `unknown*` keys and contributor agreements (category CLA) are ignored.
"""

from __future__ import annotations

import importlib.util
import re
import time
import warnings
from functools import lru_cache

from .expression import resolve
from .notices import (CONTEXT_CHARS, LEGALESE, LICENSE_LABEL, NAME_BARE, NOT_LATIN, NOTICE, NOTICE_CONTEXT,
                      NOTICE_SENTENCE, RESOLVED, Evidence, explains, resolve_name)
from .scancode import by_key

MIN_TEXT_COVERAGE = 80.0
MIN_NOTICE_COVERAGE = 90.0
SHORT_RULE_TOKENS = 20       # below this, an approximate (3-seq) match of a notice is a coincidence of words
APPROXIMATE_FROM_WORDS = 2    # distinct legal words (notices.LEGALESE) in a window before it may hold a (modified)
# license text or header: only then does ScanCode's approximate sequence matcher run (~1-5 s a window); notices need
# only its exact matchers (milliseconds)
# per window: ScanCode stops matching and returns what it has. A guard against pathological windows, not a budget:
# a window cut by the clock gets an answer that depends on how busy the machine is (5 s cut the slowest window of
# ../shared's pages, 5.7 s unbounded). Cutting windows into pieces instead bounds the work but loses long modified
# texts (hypothesis's MPL-2.0, 16,000 characters, matched only whole).
DEADLINE_SECONDS = 20.0
REFERENCE_IN_CONTEXT = 0.85
_UNDER = re.compile(r"\bunder\b", re.IGNORECASE)  # where a notice's sentence turns to its license ("release X under")
_ATTRIBUTIVE = re.compile(r"\b[\w.+]+[ -]licen[cs]ed[ \t]+(?!under\b|to\b|as\b|by\b)[a-z]", re.IGNORECASE)
IGNORED_CATEGORIES = {"CLA", "Unstated License"}  # a contributor agreement or "license unknown" is no license
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+_-]*")
_OPERATORS = {"and", "or", "with"}

LOAD_SECONDS: dict[str, float] = {}


def available() -> bool:
    """Whether scancode-toolkit(-mini) is installed."""
    return importlib.util.find_spec("licensedcode") is not None


@lru_cache(maxsize=1)
def index():
    """ScanCode's license index, loaded once per process (the prebuilt cache inside the installed package)."""
    if not available():
        raise RuntimeError("license detection engine 'scancode' needs scancode-toolkit-mini: "
                           "pip install -e '.[licenses]' (or engine: builtin)")
    started = time.perf_counter()
    with warnings.catch_warnings():  # typecode's note that it uses the system's libmagic: not ours to act on
        warnings.simplefilter("ignore", UserWarning)
        from licensedcode.cache import get_index

        idx = get_index()
    LOAD_SECONDS["index"] = time.perf_counter() - started
    return idx


@lru_cache(maxsize=4096)
def spdx_expression(scancode_expression: str) -> str | None:
    """ScanCode keys -> SPDX ids ("gpl-3.0-plus OR mit" -> "GPL-3.0-or-later OR MIT"); None for unknown keys."""
    parts = []
    for token in re.split(r"(\s+|\(|\))", scancode_expression):
        if _KEY.fullmatch(token or "") and token.lower() not in _OPERATORS:
            lic = by_key().get(token)
            if lic is None or not lic.spdx_id or token.startswith("unknown"):
                return None
            parts.append(lic.spdx_id)
        else:
            parts.append(token.upper() if token.lower() in _OPERATORS else token)
    res = resolve("".join(parts))
    return res.expression if res.expression else None


def _explained(lines: str) -> bool:
    """Whether every licensing sentence in a notice's lines explains or supposes rather than states (see
    `notices.explains`, or "GPL-licensed libraries"); the sentence turns at its verb ("released under"), or at "under"
    ("release your code under")."""
    anchors = []
    for m in NOTICE_SENTENCE.finditer(lines):
        named = resolve_name(lines[m.end():m.end() + 300])
        anchors.append((m.start(), m.end() + named[1] if named else None))
    if not anchors and _ATTRIBUTIVE.search(lines):  # "GPL-licensed libraries": another work, described
        return True
    anchors = anchors or [(m.start(), None) for m in _UNDER.finditer(lines)]
    return bool(anchors) and all(explains(lines, start, end) for start, end in anchors)


def _located(match, window_text: str, line_start: int) -> int:
    """Where the matched words start in the window (ScanCode gives lines; its matched text finds the column)."""
    found = window_text.find(match.matched_text(whole_lines=False, highlight=False).strip(), line_start)
    return found if found >= 0 else line_start


def _evidence(match, lines: list[str], window_text: str, offset: int) -> Evidence | None:
    rule = match.rule
    if getattr(rule, "is_false_positive", False) or rule.license_expression.startswith("unknown"):
        return None
    lid = spdx_expression(rule.license_expression)
    if lid is None or any(by_key()[k].category in IGNORED_CATEGORIES for k in rule.license_keys() if k in by_key()):
        return None
    coverage = match.coverage()
    line_start = sum(len(x) + 1 for x in lines[:match.start_line - 1])
    matched = "\n".join(lines[match.start_line - 1:match.end_line])
    if rule.is_license_text:
        if coverage < MIN_TEXT_COVERAGE:
            return None
        return Evidence(lid, round(min(coverage, 100.0) / 100, 3), "text", offset + line_start, "scancode")
    if not (rule.is_license_notice or rule.is_license_tag or rule.is_license_reference):
        return None
    if coverage < MIN_NOTICE_COVERAGE or (match.matcher.startswith("3") and rule.length < SHORT_RULE_TOKENS):
        return None
    if _explained(matched):
        return None
    start = _located(match, window_text, line_start)
    at = offset + start
    if rule.length < SHORT_RULE_TOKENS and NOT_LATIN.search(matched):
        # ScanCode skips words of other scripts: "`license`: 모델에 적용되는 라이선스(예: "mit")" reads "license mit"
        return Evidence(lid, NAME_BARE, "reference", at, "scancode")
    if rule.is_license_notice:
        return Evidence(lid, NOTICE, "notice", at, "scancode")
    # a tag ("License: MIT", "licenses (Apache 2)") or a reference (a name, URL, badge) is this document's license only
    # when it is a label itself or follows the words of a notice, as a link must (notices.NOTICE_CONTEXT)
    labeled = LICENSE_LABEL.match(window_text, start) is not None
    marked = labeled or NOTICE_CONTEXT.search(window_text[max(0, start - CONTEXT_CHARS):start]) is not None
    return Evidence(lid, REFERENCE_IN_CONTEXT if marked else NAME_BARE, "reference", at, "scancode")


def _matched(text: str, offset: int, approximate: bool) -> list[Evidence]:
    matches = index().match(query_string=text, approximate=approximate, deadline=time.time() + DEADLINE_SECONDS)
    lines = text.split("\n")
    # a match made of words of a license text matched (nearly) whole is part of it, not a license of its own:
    # hypothesis's "... dual licensed with the original license.\n\nMozilla Public License Version 2.0" reads as the
    # tag "license mozilla" (MPL-1.1) across its notice's last word and the first word of its MPL-2.0 text
    texts = [(m.qstart, m.qend) for m in matches if m.rule.is_license_text and m.coverage() >= MIN_TEXT_COVERAGE]
    return [ev for m in matches
            if (m.rule.is_license_text or not any(m.qstart <= end and start <= m.qend for start, end in texts))
            and (ev := _evidence(m, lines, text, offset))]


def match_window(text: str, offset: int = 0) -> list[Evidence]:
    """ScanCode's evidence in one window of text (offsets in the scanned document).

    The exact matchers (hash, Aho-Corasick: notices, tags, whole license texts) run first, in milliseconds. A window
    dense in legal words may hold a modified license text or header, which only the approximate matcher sees: it runs
    there, and its answer replaces theirs (an exact notice inside a modified MIT text is a fragment of it), unless
    they already matched a whole license text (a LICENSE file as published)."""
    found = _matched(text, offset, approximate=False)
    dense = len({m.group(0).lower()[:6] for m in LEGALESE.finditer(text)}) >= APPROXIMATE_FROM_WORDS
    if dense and not any(e.kind == "text" and e.confidence >= RESOLVED for e in found):
        found = _matched(text, offset, approximate=True)
    return found
