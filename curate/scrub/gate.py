"""The PII gate: one cheap scan that finds every place a structured entity can be, and per-entity pre-gates.

Every structured entity we look for contains one of a few signatures: an `@`, a run of >= 5 digits joined by
python-phonenumbers' own punctuation (`curate.scrub.phone.PUNCTUATION`, up to 4 between digits, as its matcher
allows), a dotted quad, `::` or `h:h:` (IPv6), a passport shape (`A000A0000`), or one of the short national phone
numbers of the configured regions (Germany's 4-digit pagers: `16.8.0` is one to python-phonenumbers). Each hit
becomes a window (the hit +- `margin` characters, widened to the nearest whitespace so that regex boundaries behave
as in the full text); overlapping windows are merged and carry the entity types their hits can start.
"""

from __future__ import annotations

import re
from functools import lru_cache

from curate.scrub.phone import MIN_GATE_DIGITS, PUNCTUATION, PUNCTUATION_RUN, short_national_numbers
from curate.scrub.rules import ANY_LENGTH_CARD, ANY_REGION_PHONE

_SEP = f"{PUNCTUATION}{{0,{PUNCTUATION_RUN}}}"
_DIGIT_ENTITIES = ("PHONE_NUMBER", ANY_REGION_PHONE, "CREDIT_CARD", ANY_LENGTH_CARD, "IBAN_CODE", "US_SSN", "KR_RRN",
                   "KR_FRN", "KR_BRN", "KR_DRIVER_LICENSE", "KR_PASSPORT", "IP_ADDRESS", "EMAIL_ADDRESS",
                   "URL_CREDENTIALS")
# Every branch starts with `@`, `:` or a digit. The compiled regex consumes that first character with one character
# class and each branch checks it with a lookbehind and matches the rest: the same matches (start, end, branch) as
# the plain alternation of the branches, but a regex that begins with a character class lets Python's `re` skip
# every other position with a set test in its search loop (~18 ms/MB instead of ~30 on web text).
# IBANs need no branch of their own: every IBAN has a run of >= 5 digits (its account number) within `margin`
# characters of its start.
# (name, the branch as a plain regex (documentation and tests), its first character, the rest after it, entities)
_N = MIN_GATE_DIGITS - 1
_GATE_PARTS = [
    ("at", r"@", "@", r"", ("EMAIL_ADDRESS", "URL_CREDENTIALS")),
    ("digits", rf"\d(?:{_SEP}\d){{{_N},}}", r"\d", rf"(?:{_SEP}\d){{{_N},}}", _DIGIT_ENTITIES),  # >= 5 digits
    ("ipv4", r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}", r"\d", r"\d{0,2}\.\d{1,3}\.\d{1,3}\.\d{1,3}",
     ("IP_ADDRESS",)),  # as few as 4 digits
    ("ipv6", r"::|:[0-9A-Fa-f]{1,4}:", ":", r":|[0-9A-Fa-f]{1,4}:", ("IP_ADDRESS",)),  # every IPv6 form: "::" or ":h:"
    ("passport", r"\d{3}[A-Za-z]\d{4}", r"\d", r"\d{2}[A-Za-z]\d{4}", ("KR_PASSPORT",)),  # Korean passport (A000A0000)
]


def _digits_trie(numbers) -> dict:
    trie: dict = {}
    for number in numbers:
        node = trie
        for d in number:
            node = node.setdefault(d, {})
        node[""] = {}
    return trie


def _after(node: dict) -> str:
    """A regex for the digits that may follow a trie node, each after a run of separators."""
    alts = [d + _after(child) for d, child in sorted(node.items()) if d]
    if not alts:
        return ""
    body = f"{_SEP}(?:{'|'.join(alts)})"
    return f"(?:{body})?" if "" in node else body


def _short_phone_part(numbers: tuple[str, ...]) -> tuple:
    """The gate branch for short national phone numbers: their digits, any separator run between them."""
    trie = _digits_trie(numbers)
    plain = "(?:" + "|".join(d + _after(child) for d, child in sorted(trie.items())) + ")"
    rest = "(?:" + "|".join(f"(?<={d}){_after(child)}" for d, child in sorted(trie.items())) + ")"
    return ("short_phone", plain, r"\d", rest, ("PHONE_NUMBER",))


# The fewest digits of a match of these recognizers (Presidio's and ours: SSN 3-2-4, 5-4, 3-6 or 9; cards 4+3+3+3;
# any-length cards 12; RRN/FRN 6+7; BRN 3-2-5 or 10; driver's licence 2-2-6-2; passports M + 8 digits, or
# M123X4567: 7 digits in one run when the letter is "x"/"X", which is a gate separator as it is python-phonenumbers').
# Their separators are gate separators, so all their digits lie in one run the digits branch matches whole; a run with
# fewer digits cannot hold one. (Unless an earlier gate match took the start of the run: see `Gate.windows`.)
_MIN_DIGITS = {"US_SSN": 9, "CREDIT_CARD": 13, ANY_LENGTH_CARD: 12, ANY_REGION_PHONE: 7, "KR_RRN": 13, "KR_FRN": 13,
               "KR_BRN": 10, "KR_DRIVER_LICENSE": 12, "KR_PASSPORT": 7}
_NON_DIGIT = re.compile(r"\D")


@lru_cache(maxsize=64)
def _digit_entities(digits: int) -> frozenset:
    return frozenset(e for e in _DIGIT_ENTITIES if digits >= _MIN_DIGITS.get(e, 0))


# bytes.translate table: the gate's first characters in ASCII text ([@:\d]) -> 0, every other byte -> 1
_GATE_FIRST = bytes(0 if chr(i) in "@:0123456789" else 1 for i in range(256))


class Gate:
    """The gate for one set of phone regions: `regex` (fast form), `plain` (the plain alternation of the same
    branches, for tests), `entities` per branch name."""

    def __init__(self, short_numbers: tuple[str, ...] = ()):
        parts = _GATE_PARTS + ([_short_phone_part(short_numbers)] if short_numbers else [])
        self.plain = re.compile("|".join(f"(?P<{name}>{rx})" for name, rx, _, _, _ in parts))
        self.regex = re.compile("[@:\\d](?:" + "|".join(f"(?<={first})(?P<{name}>{rest})"
                                                      for name, _, first, rest, _ in parts) + ")")
        self.entities = {name: frozenset(ents) for name, _, _, _, ents in parts}

    def matches(self, text: str):
        """The matches of `self.regex.finditer(text)`. In ASCII text (where `\d` is [0-9]) a match can only start
        at one of `@:0-9`: those positions are found with `bytes.translate` + `bytes.find` (C loops) and
        `regex.match` is tried at each, resuming after a match's end as `finditer` does (no gate match is empty),
        instead of `re`'s search loop testing every position against the character class (~17 -> ~4 ms/MB on web
        text)."""
        if not text.isascii():
            yield from self.regex.finditer(text)
            return
        find = text.encode("ascii").translate(_GATE_FIRST).find
        match = self.regex.match
        pos = find(0)
        while pos != -1:
            m = match(text, pos)
            if m is None:
                pos = find(0, pos + 1)
            else:
                yield m
                pos = find(0, m.end())

    def windows(self, text: str, margin: int = 32, max_widen: int = 256) -> list[tuple[int, int, frozenset]]:
        """Merged (start, end, entity types) windows around every gate hit, widened to whitespace."""
        n = len(text)
        spans: list[list] = []
        prev_end = -PUNCTUATION_RUN - 1
        for m in self.matches(text):
            s, e = max(0, m.start() - margin), min(n, m.end() + margin)
            ents = self.entities[m.lastgroup]
            # a digits hit right after another gate match may have lost the start of its run to it: all entities
            if m.lastgroup == "digits" and m.start() - prev_end > PUNCTUATION_RUN:
                ents = _digit_entities(len(_NON_DIGIT.sub("", m.group())))
            prev_end = m.end()
            if spans and s <= spans[-1][1]:  # overlaps the current window: extend it
                spans[-1][1] = max(spans[-1][1], e)
                spans[-1][2] = spans[-1][2] | ents
                continue
            spans.append([s, e, ents])
        out: list[tuple[int, int, frozenset]] = []
        for s, e, ents in spans:
            lo = max(0, s - max_widen)
            k = max(text.rfind(" ", lo, s), text.rfind("\n", lo, s), text.rfind("\t", lo, s))
            s = 0 if s == 0 else (k + 1 if k != -1 else lo)
            hi = min(n, e + max_widen)
            ends = [x for x in (text.find(" ", e, hi), text.find("\n", e, hi), text.find("\t", e, hi)) if x != -1]
            e = n if e >= n else (min(ends) if ends else hi)
            if out and s <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], e), out[-1][2] | ents)
            else:
                out.append((s, e, ents))
        return out


@lru_cache(maxsize=8)
def gate_for(phone_regions: tuple[str, ...]) -> Gate:
    return Gate(short_national_numbers(phone_regions))


# Per entity: a regex every match of its Presidio recognizer's patterns contains (Presidio compiles them with
# IGNORECASE | MULTILINE | DOTALL; so are these, so character classes mean the same). A window where it finds
# nothing cannot give that recognizer a result, so the recognizer is not run there. Phone numbers have their own
# exact pre-check (`curate.scrub.phone`).
ENTITY_GATES = {
    "EMAIL_ADDRESS": r"@",
    "URL_CREDENTIALS": r"://",
    "CREDIT_CARD": r"\d(?:[- ]?\d){12}",  # >= 13 digits, single - or space between (Mastercard 2-series: 16)
    ANY_LENGTH_CARD: r"\d{12}",
    # its first group and what follows it (a label's separator after unseparated digits: `...48(fax)`, `...48\tfax`);
    # "+" and unseparated digits
    ANY_REGION_PHONE: r"\d{2}[ \t./)(,-]|\+\d{7}",
    "IBAN_CODE": r"[A-Z]{2}[0-9]{2}",
    # a dotted quad, or an IPv6 form: each of Presidio's IPv6 alternatives has "::" except the full 8-group form
    # (7 colons between hex groups) and the 6-group IPv4-embedded form (which holds a dotted quad)
    "IP_ADDRESS": r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]|::|[0-9A-F]:[0-9A-F]{1,4}:[0-9A-F]{1,4}:[0-9A-F]",
    "US_SSN": r"[0-9]{3}[- .]?[0-9]{2}[- .]?[0-9]{4}",
    "KR_RRN": r"\d{6}-?\d{7}",
    "KR_FRN": r"\d{6}-?\d{7}",
    "KR_BRN": r"\d{3}-\d{2}-\d{5}|\d{10}",
    "KR_PASSPORT": r"[MmSsRrOoDd]\d{3}(?:[A-Za-z]\d{4}|\d{5})",
    "KR_DRIVER_LICENSE": r"\d{2}[- ]?\d{2}[- ]?\d{6}[- ]?\d{2}",
}
ENTITY_GATE_RX = {e: re.compile(rx, re.IGNORECASE | re.MULTILINE | re.DOTALL) for e, rx in ENTITY_GATES.items()}
