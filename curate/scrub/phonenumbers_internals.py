"""The one place that touches python-phonenumbers' private internals (names with a leading underscore).

The phone route (`curate.scrub.phone`) must decide exactly as python-phonenumbers' matcher does whether a candidate
can be a match, and the gate must read numbers with the matcher's own punctuation. That needs a few of its private
constants and functions, and a hook in the matcher's private `_parse_and_verify`. They are read here only, and
`PINNED` holds a fingerprint of each (its source, or its value): `changed_internals()` names those that differ in
the installed version, and tests/test_pii_gate_equivalence.py fails on any. After an upgrade that changes one, read
the change, adapt the route if needed, run the gate-equivalence tests, and pin the new fingerprints
(`python -m curate.scrub.phonenumbers_internals` prints them).
"""

from __future__ import annotations

import hashlib
import inspect
import re

import phonenumbers
from phonenumbers import phonenumbermatcher as _matcher
from phonenumbers import phonenumberutil as _util

# The characters python-phonenumbers accepts between the digit groups of a number (and "x" for extensions), the
# characters a match may start with, and how many of its punctuation characters may stand between two digit groups.
VALID_PUNCTUATION: str = _util._VALID_PUNCTUATION
LEAD_CLASS_CHARS: str = _matcher._LEAD_CLASS_CHARS
PUNCTUATION_LIMIT: int = int(re.fullmatch(r"\{0,(\d+)\}", _matcher._PUNCTUATION_LIMIT).group(1))
# An extension after an ambiguous mark ("x", "~", "#"-less forms) has at most this many digits
# (`_create_extn_pattern`: ext_limit_after_ambiguous_char).
MAX_EXTENSION_DIGITS = 9


def national_prefix_required(metadata, nsn: str) -> bool:
    """python-phonenumbers' `_is_national_prefix_present_if_required` for a number of the region `metadata` whose raw
    input is its national significant number `nsn` (no country code, no national prefix): True when the number's
    format writes a national prefix that is neither optional nor only the first group, so that the matcher (VALID
    leniency) rejects it without one; and python-phonenumbers could not strip a national prefix from it."""
    rule = _util._choose_formatting_pattern_for_number(metadata.number_format, nsn)
    if rule is None or not rule.national_prefix_formatting_rule or rule.national_prefix_optional_when_formatting:
        return False
    if _util._formatting_rule_has_first_group_only(rule.national_prefix_formatting_rule):
        return False
    return not _util._maybe_strip_national_prefix_carrier_code(nsn, metadata)[2]


def verify(leniency, numobj, candidate: str) -> bool:
    """The matcher's verification of a parsed candidate at a leniency (tests compare the route with it)."""
    return _matcher._verify(leniency, numobj, candidate, None)


class HookedMatcher(phonenumbers.PhoneNumberMatcher):
    """python-phonenumbers' matcher, asking `accepts(candidate)` before it parses a candidate: a candidate it does not
    accept is skipped as one that fails to parse (the matcher goes on after it the same way)."""

    def accepts(self, candidate: str) -> bool:
        return True

    def _parse_and_verify(self, candidate, offset):
        if not self.accepts(candidate):
            return None
        return super()._parse_and_verify(candidate, offset)


class CandidateProbe(phonenumbers.PhoneNumberMatcher):
    """Runs the matcher's candidate extraction (which does not depend on the region) and records every candidate it
    would parse, parsing none: `seen` after the iteration."""

    def __init__(self, text: str, leniency):
        super().__init__(text, "US", leniency=leniency)
        self.seen: list[str] = []

    def _parse_and_verify(self, candidate, offset):
        self.seen.append(candidate)
        return None  # no match: the extraction goes on after the candidate


def _fingerprint(obj) -> str:
    text = inspect.getsource(obj) if callable(obj) else repr(obj)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


_MODULES = {"phonenumberutil": _util, "phonenumbermatcher": _matcher, "PhoneNumberMatcher": phonenumbers.PhoneNumberMatcher}
# fingerprints of the internals used here, in python-phonenumbers 9.0.43
PINNED = {
    "phonenumberutil._VALID_PUNCTUATION": "b267185595a94856",
    "phonenumbermatcher._LEAD_CLASS_CHARS": "1102de4122debe56",
    "phonenumbermatcher._PUNCTUATION_LIMIT": "f352023f66d851cb",
    "phonenumberutil._create_extn_pattern": "83757aa5c96c822f",
    "phonenumberutil._choose_formatting_pattern_for_number": "08b6398e56cc4636",
    "phonenumberutil._formatting_rule_has_first_group_only": "b99c30772447ac70",
    "phonenumberutil._maybe_strip_national_prefix_carrier_code": "462428c534345d07",
    "phonenumbermatcher._verify": "6c642c22d31b02d4",
    "PhoneNumberMatcher._parse_and_verify": "d8adb854f3266ed5",
    "PhoneNumberMatcher._extract_inner_match": "3f18c77cd6a26a92",
}


def _resolve(name: str):
    owner, attr = name.split(".")
    return getattr(_MODULES[owner], attr)


def changed_internals() -> list[str]:
    """The internals whose fingerprint differs from `PINNED` (or that are gone)."""
    changed = []
    for name, pinned in PINNED.items():
        try:
            now = _fingerprint(_resolve(name))
        except (AttributeError, OSError, TypeError):
            now = None
        if now != pinned:
            changed.append(name)
    return changed


if __name__ == "__main__":
    print(f"# python-phonenumbers {phonenumbers.__version__}")
    for name in PINNED:
        print(f'    "{name}": "{_fingerprint(_resolve(name))}",')
