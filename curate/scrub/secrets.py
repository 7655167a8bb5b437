"""Secrets in code and text, found by `detect-secrets` (Yelp, Apache-2.0) run on strings, not on temp files.

detect-secrets is line-oriented and runs ~30 plugins per line, which is slow on prose. A cheap gate picks the lines
that can hold a secret at all; the plugins then run on those lines only. The gate is a superset of what the plugins
can match: every token-regex plugin's match contains a run of >= 16 token characters or one of a few literals
(`PRIVATE KEY`, `://`, `xox`, `eyJ`, `AKC`, `AP`, `_authToken`, ...); the keyword plugin needs one of its own DENYLIST
words (`api_?key`, `password`, `pwd`, `secret`, ...: not "key" or "pass" alone, which made most prose lines candidates)
and an assignment/comparison/call mark (`:`, `=`, `(`, `;`); the high-entropy plugins look only at quoted strings
of their charset. Each group of plugins runs only on the lines its own part of the gate selects.

Spans: token plugins give their match (trimmed of the delimiters some patterns include); keyword and entropy
plugins give the secret value, located in its line. A private key is removed from its BEGIN line to its END line.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from detect_secrets.plugins.keyword import DENYLIST as _DENYLIST

# plugins whose findings are not secrets for our purpose (public IPs are an IP_ADDRESS entity of the PII step)
_SKIP_PLUGINS = {"IPPublicDetector"}


# token (regex) plugins: every match contains a long token or one of a few literals
_TOKEN_GATE = re.compile(r"(?<![A-Za-z0-9_\-+/=\\])[A-Za-z0-9_\-+/=\\]{16,}"
                         r"|PRIVATE KEY|PuTTY-User-Key|://|(?i:xox[abposr]-)|eyJ|AKC|AP[0-9A-F]|_authToken")
# (the Slack token regex is IGNORECASE: "XOXB-1-a" is a match, so the literal is looked for in any case)
# keyword plugin: every one of its regexes needs one of its DENYLIST words (api_?key, password, pwd, secret, ...;
# case-insensitive, as it compiles them) and an assignment, comparison, call or statement end (: = ( ;)
_KEYWORD = re.compile("|".join(_DENYLIST), re.IGNORECASE)
_ASSIGN = re.compile(r"[:=(;]")
# high-entropy plugins look only at quoted strings of their charset ([A-Za-z0-9+/=_-] / hex), and only at long ones:
# a string's Shannon entropy is at most log2(its length), so one of n characters passes a limit L only if
# n > 2 ** L (Base64: 4.5 -> 23 characters, hex: 3.0 -> 9); `_entropy_gate` (one length less, for float rounding)
def _entropy_gate(charset: str, limit: float) -> re.Pattern:
    return re.compile(r"[\"'][%s]{%d,}[\"']" % (re.escape(charset), max(1, math.floor(2 ** limit))))


_QUOTED_CHARSET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/\\-_="  # Base64's, holds hex
_QUOTED_LIMIT = 3.0  # the lowest default limit (hex)
_QUOTED = _entropy_gate(_QUOTED_CHARSET, _QUOTED_LIMIT)
# one scan per part; the lookahead on the keywords' first letters (case-folded like the plugin's regexes) and the
# lookbehind on the long token let the regex engine skip most positions cheaply
_KEYWORD_SCAN = re.compile(f"(?=[apsdkc])(?:{_KEYWORD.pattern})", re.IGNORECASE)
assert {w[0] for w in _DENYLIST} <= set("apsdkc"), "a DENYLIST word outside _KEYWORD_SCAN's lookahead"
_GATES = (_TOKEN_GATE, _KEYWORD_SCAN, _QUOTED)
# The same line selection without scanning every position in Python's `re` (which costs 30-70 ms/MB per regex):
# - long tokens: the UTF-8 bytes with every token character mapped to b"a" and every other byte to b" "
#   (`bytes.translate`), then `bytes.find(b"a" * 16)`; token characters are ASCII, so a run of 16 of them in the
#   text is exactly a run of 16 b"a" in the bytes;
# - the token gate's literals: `str.find` of each literal, checked with the literal regex at the hit;
# - keywords: every DENYLIST word contains "key", "pass", "pwd", "secret" or "contrase"; on the lower-cased text
#   each occurrence of one is checked with the DENYLIST regex in a window around it (DENYLIST words are <= 14
#   characters long). Lower-casing then matching case-sensitively is the plugin's IGNORECASE match except for
#   "ı", "ſ" (which IGNORECASE equates with i and s) and characters whose lower case is longer ("İ"): text with
#   those is scanned with the IGNORECASE regex instead.
_TOKEN_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-+/=\\"
_TOKEN_TABLE = bytes(ord("a") if chr(b) in _TOKEN_CHARS else ord(" ") for b in range(256))
_TOKEN_RUN = b"a" * 16
_TOKEN_LITERALS = ("PRIVATE KEY", "PuTTY-User-Key", "://", "eyJ", "AKC", "AP", "_authToken")
_TOKEN_LITERAL_RX = re.compile(r"PRIVATE KEY|PuTTY-User-Key|://|eyJ|AKC|AP[0-9A-F]|_authToken")
# xox[abposr]- in any case: "xox" on the lower-cased text (with the keywords below), or this regex where lower-casing
# is not exact
_SLACK_LITERAL = re.compile(r"xox[abposr]-", re.IGNORECASE)
_KEYWORD_LITERALS = ("key", "pass", "pwd", "secret", "contrase")
_KEYWORD_LOWER = re.compile("|".join(_DENYLIST))
assert all(any(lit in w for lit in _KEYWORD_LITERALS) for w in _DENYLIST), "a DENYLIST word without a literal"
assert all(w == w.lower() and len(w) <= 14 for w in _DENYLIST)
_TRIM = " \t\r\n=:\"'/@(),;`<>"
_KEY_BEGIN = re.compile(r"-----BEGIN[ A-Z0-9]*PRIVATE KEY[ A-Z0-9]*-----|BEGIN SSH2 ENCRYPTED PRIVATE KEY"
                        r"|PuTTY-User-Key-File-\d|BEGIN PGP PRIVATE KEY BLOCK")
_KEY_END = re.compile(r"-----END[ A-Z0-9]*PRIVATE KEY[ A-Z0-9]*-----|END SSH2 ENCRYPTED PRIVATE KEY"
                      r"|Private-MAC: [0-9a-f]+|END PGP PRIVATE KEY BLOCK-----")


# Token plugins' regexes that Python's `re` cannot skip through by a literal prefix (they start with a lookbehind,
# a group or a class): literals every match contains, checked with `in` before the regex runs on an ASCII line.
# pattern -> (case-insensitive (the regex is IGNORECASE: the literals are checked on the lower-cased line), groups):
# every group needs one of its literals in the line (or, for a compiled regex, a match of it). Why each holds: the
# required parts of the pattern (`(?:cloudant|cl|clou)` holds "cl", `(?:softlayer|sl)` "sl" or "softlayer",
# `(?:key|pwd|pw|password|pass|token)` "key", "pw", "pass" or "token"; `.` in `api.softlayer.com` is any character, so
# only "softlayer" and "://" are required there...). Only ASCII lines: IGNORECASE also equates a few non-ASCII letters
# (K, ſ, ı, İ) with k, s, i; other lines run every regex. A pattern not listed (another detect-secrets version) always
# runs. tests/test_pii_gate_equivalence.py checks each group on random matches built from the regex's own parse tree.
_KW4 = ("key", "pw", "pass", "token")
# The keyword-assignment plugins (IBM Cloud IAM, IBM COS HMAC, Cloudant, SoftLayer) start with look-behinds that
# `re` tries at every position; every match of theirs holds a keyword, an assignment and a value of >= 24
# characters, which this regex (a literal-led tail of theirs, value classes joined) finds much faster.
_ASSIGNED = re.compile(r"(?:key|pwd|pw|password|pass|token)[\"']?\]? *(?:=|:|:=|=>| +|::) *[\"']?[a-z0-9_\-]{24}",
                       re.IGNORECASE)
_TOKEN_NEEDS: dict[str, tuple[bool, tuple[tuple[str, ...], ...]]] = {
    r"""(?:\s|=|:|"|^)AKC[a-zA-Z0-9]{10,}(?:\s|"|$)""": (False, (("AKC",),)),
    r"""(?:\s|=|:|"|^)AP[\dABCDEF][a-zA-Z0-9]{8,}(?:\s|"|$)""": (False, (("AP",),)),
    r"""aws.{0,20}?(?:key|pwd|pw|password|pass|token).{0,20}?[\'\"]([0-9a-zA-Z/+]{40})[\'\"]""":
        (True, (("aws",), _KW4)),
    r"""(?:(?<=\W)|(?<=^))(?:\[|)(?:"|\'|)(?:cloudant|cl|clou)(?:_|-|)(?:api|)(?:key|pwd|pw|password|pass|token)"""
    r"""(?:"|\'|)(?:\]|)(?: *)(?:=|:|:=|=>| +|::)(?: *)(?:"|\'|)([0-9a-f]{64})(?:"|\'|)""":
        (True, (("cl",), _KW4, _ASSIGNED)),
    r"""(?:(?<=\W)|(?<=^))(?:\[|)(?:"|\'|)(?:cloudant|cl|clou)(?:_|-|)(?:api|)(?:key|pwd|pw|password|pass|token)"""
    r"""(?:"|\'|)(?:\]|)(?: *)(?:=|:|:=|=>| +|::)(?: *)(?:"|\'|)([a-z]{24})(?:"|\'|)""":
        (True, (("cl",), _KW4, _ASSIGNED)),
    r"""(?:https?\:\/\/)[\w\-]+\:([0-9a-f]{64})\@[\w\-]+\.cloudant\.com""": (True, (("://",), (".cloudant.com",))),
    r"""(?:https?\:\/\/)[\w\-]+\:([a-z]{24})\@[\w\-]+\.cloudant\.com""": (True, (("://",), (".cloudant.com",))),
    r"""[MNO][a-zA-Z\d_-]{23,25}\.[a-zA-Z\d_-]{6}\.[a-zA-Z\d_-]{27}""": (False, ((".",),)),
    r"""(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9_]{36}""": (False, (("gh",),)),
    r"""(glpat|gldt|glft|glsoat|glrt)-[A-Za-z0-9_\-]{20,50}(?!\w)""": (False, (("gl",),)),
    r"""(?:(?<=\W)|(?<=^))(?:\[|)(?:"|\'|)(?:ibm(?:_|-|)cloud(?:_|-|)iam|cloud(?:_|-|)iam|ibm(?:_|-|)cloud|"""
    r"""ibm(?:_|-|)iam|ibm|iam|cloud|)(?:_|-|)(?:api|)(?:_|-|)(?:key|pwd|password|pass|token)(?:"|\'|)(?:\]|)(?: *)"""
    r"""(?:=|:|:=|=>| +|::)(?: *)(?:"|\'|)([a-zA-Z0-9_\-]{44}(?![a-zA-Z0-9_\-]))(?:"|\'|)""":
        (True, (_KW4, _ASSIGNED)),
    r"""(?:(?<=\W)|(?<=^))(?:\[|)(?:"|\'|)(?:(?:ibm)?[-_]?cos[-_]?(?:hmac)?|)(?:_|-|)"""
    r"""(?:secret[-_]?(?:access)?[-_]?key)(?:"|\'|)(?:\]|)(?: *)(?:=|:|:=|=>| +|::)(?: *)(?:"|\'|)"""
    r"""([a-f0-9]{48}(?![a-f0-9]))(?:"|\'|)""":
        (True, (("secret",), ("key",), _ASSIGNED)),
    r"""[0-9a-z]{32}-us[0-9]{1,2}""": (False, (("-us",),)),
    r"""xox(?:a|b|p|o|s|r)-(?:\d+-)+[a-z0-9]+""": (True, (("xox",),)),
    r"""https://hooks\.slack\.com/services/T[a-zA-Z0-9_]+/B[a-zA-Z0-9_]+/[a-zA-Z0-9_]+""":
        (True, (("https://hooks.slack.com/services/",),)),
    r"""(?:(?<=\W)|(?<=^))(?:\[|)(?:"|\'|)(?:softlayer|sl)(?:_|-|)(?:api|)(?:_|-|)(?:key|pwd|password|pass|token)"""
    r"""(?:"|\'|)(?:\]|)(?: *)(?:=|:|:=|=>| +|::)(?: *)(?:"|\'|)([a-z0-9]{64})(?:"|\'|)""":
        (True, (("sl", "softlayer"), _KW4, _ASSIGNED)),
    r"""(?:http|https)://api.softlayer.com/soap/(?:v3|v3.1)/([a-z0-9]{64})""": (True, (("://",), ("softlayer",))),
    r"""(?:r|s)k_live_[0-9a-zA-Z]{24}""": (False, (("k_live_",),)),
    r"""\d{8,10}:[0-9A-Za-z_-]{35}""": (False, ((":",),)),
    r"""AC[a-z0-9]{32}""": (False, (("AC",),)),
    r"""SK[a-z0-9]{32}""": (False, (("SK",),)),
}


def _token_needs(rx: re.Pattern):
    """For a token regex in `_TOKEN_NEEDS`: (case-insensitive, its literal groups as sets, its regex groups); None
    for any other (or if its IGNORECASE flag differs from what the entry assumes)."""
    need = _TOKEN_NEEDS.get(rx.pattern)
    if need is None or bool(rx.flags & re.IGNORECASE) != need[0]:
        return None
    return (need[0], tuple(frozenset(g) for g in need[1] if not isinstance(g, re.Pattern)),
            tuple(g for g in need[1] if isinstance(g, re.Pattern)))


def needs_met(need: tuple, present: dict, line: str) -> bool:
    """Does an ASCII line hold what every match of a token regex holds? `present`: the needs' literals found in the
    line, by case-insensitivity (`SecretScanner.present`)."""
    found = present[need[0]]
    for group in need[1]:
        if found.isdisjoint(group):
            return False
    for rx in need[2]:
        if rx.search(line) is None:
            return False
    return True


@dataclass(frozen=True)
class SecretFinding:
    start: int
    end: int
    kind: str  # the detect-secrets plugin's secret type, e.g. "AWS Access Key"


@lru_cache(maxsize=1)
def _plugins():
    from detect_secrets.plugins.base import RegexBasedDetector
    from detect_secrets.settings import default_settings, get_plugins

    with default_settings():
        plugins = [p for p in get_plugins() if type(p).__name__ not in _SKIP_PLUGINS]
    token = [(p.secret_type, rx) for p in plugins if isinstance(p, RegexBasedDetector) for rx in p.denylist]
    other = [p for p in plugins if not isinstance(p, RegexBasedDetector)]
    return token, other


def _filtered(secret: str, line: str, plugin) -> bool:
    """detect-secrets' own false-positive heuristics (templated values, indirect references, UUIDs...)."""
    from detect_secrets.filters import heuristic as h

    return (h.is_sequential_string(secret) or h.is_potential_uuid(secret) or h.is_templated_secret(secret)
            or h.is_prefixed_with_dollar_sign(secret) or h.is_indirect_reference(line)
            or h.is_not_alphanumeric_string(secret) or h.is_likely_id_string(secret, line, plugin))


def _quoted_search(text: str, pos: int):
    """`_QUOTED.search(text, pos)`: every match starts at a quote, so `_QUOTED.match` is tried at each `"` and `'`
    from `pos` on, in order (found with `str.find`), instead of `re` testing every position."""
    i, j = text.find('"', pos), text.find("'", pos)
    match = _QUOTED.match
    while i != -1 or j != -1:
        if j == -1 or (i != -1 and i < j):
            m = match(text, i)
            if m is not None:
                return m
            i = text.find('"', i + 1)
        else:
            m = match(text, j)
            if m is not None:
                return m
            j = text.find("'", j + 1)
    return None


def _mark_lines(haystack: str, literal: str, confirm, add) -> None:
    """add() the start of every line holding `literal` at a position `confirm` accepts (one hit per line)."""
    i = haystack.find(literal)
    while i != -1:
        if confirm(i):
            add(haystack.rfind("\n", 0, i) + 1)
            le = haystack.find("\n", i)
            if le == -1:
                break
            i = haystack.find(literal, le + 1)
        else:
            i = haystack.find(literal, i + 1)


class SecretScanner:
    """Find secrets in a string. Keyword values are looked for as in quoted code, YAML and config files."""

    KEYWORD_FILENAMES = ("snippet.txt", "snippet.yaml", "snippet.cfg")

    def __init__(self, gated: bool = True):
        self.token_rx, self.other = _plugins()
        self.token_needs = [(kind, rx, _token_needs(rx) if gated else None) for kind, rx in self.token_rx]
        # every literal of the needs, by case-insensitivity: looked up once per line (`present`), after which each
        # regex's literal groups are set tests
        self.literals = {ci: tuple(sorted({lit for _, _, need in self.token_needs if need and need[0] == ci
                                           for g in need[1] for lit in g}))
                         for ci in (True, False)}
        self.gated = gated  # False: every plugin on every line (slow; the reference the tests compare with)
        # each high-entropy plugin runs only on lines with a quoted string of its charset long enough to pass
        self.other_gates = [_entropy_gate(p.charset, p.entropy_limit) if gated and hasattr(p, "entropy_limit")
                            else None for p in self.other]
        for p in self.other:  # the line gate (_QUOTED) must hold every string these gates can find
            if hasattr(p, "entropy_limit"):
                assert set(p.charset) <= set(_QUOTED_CHARSET) and p.entropy_limit >= _QUOTED_LIMIT, type(p).__name__

    def present(self, line: str) -> dict:
        """The needs' literals an ASCII line holds: case-insensitive ones on its lower case."""
        low = line.lower()
        return {True: {lit for lit in self.literals[True] if lit in low},
                False: {lit for lit in self.literals[False] if lit in line}}

    def candidate_lines(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of the lines the gate selects, in order."""
        if not self.gated:
            out, pos = [], 0
            for line in text.split("\n"):
                out.append((pos, pos + len(line)))
                pos += len(line) + 1
            return out
        starts: set[int] = set()
        add = starts.add
        # long tokens (bytes; positions mapped back to characters where the text is not ASCII)
        ascii_text = text.isascii()
        raw = text.encode("ascii") if ascii_text else text.encode("utf-8")
        runs = raw.translate(_TOKEN_TABLE)
        i = runs.find(_TOKEN_RUN)
        while i != -1:
            ls = raw.rfind(b"\n", 0, i) + 1
            add(ls if ascii_text else len(raw[:ls].decode("utf-8")))
            le = raw.find(b"\n", i)
            if le == -1:
                break
            i = runs.find(_TOKEN_RUN, le + 1)
        for lit in _TOKEN_LITERALS:
            _mark_lines(text, lit, lambda i: _TOKEN_LITERAL_RX.match(text, i), add)
        low = text.lower()
        if len(low) == len(text) and "ı" not in low and "ſ" not in low:
            def keyword_near(i: int) -> bool:
                ls, le = low.rfind("\n", 0, i) + 1, low.find("\n", i)
                return bool(_KEYWORD_LOWER.search(low, max(ls, i - 16), i + 16 if le == -1 else min(le, i + 16)))

            for lit in _KEYWORD_LITERALS:
                _mark_lines(low, lit, keyword_near, add)
            _mark_lines(low, "xox", lambda i: _SLACK_LITERAL.match(text, i), add)
            gates = (_QUOTED,)
        else:
            gates = (_KEYWORD_SCAN, _SLACK_LITERAL, _QUOTED)
        for rx in gates:
            pos = 0
            search = _quoted_search if rx is _QUOTED else rx.search
            while True:
                m = search(text, pos)
                if m is None:
                    break
                start = text.rfind("\n", 0, m.start()) + 1
                starts.add(start)
                end = text.find("\n", m.end())
                if end == -1:
                    break
                pos = end + 1  # one hit per line is enough
        lines = []
        for start in sorted(starts):
            end = text.find("\n", start)
            lines.append((start, len(text) if end == -1 else end))
        return lines

    def find(self, text: str) -> list[SecretFinding]:
        from detect_secrets.util.code_snippet import get_code_snippet

        out: list[SecretFinding] = []
        for ls, le in self.candidate_lines(text):
            line = text[ls:le]
            if len(line) > 20000:  # minified blobs: token plugins only
                line_other = False
            else:
                line_other = True
            token = not self.gated or _TOKEN_GATE.search(line) is not None
            if token:
                plain = line.isascii()
                present = self.present(line) if plain else None
            for kind, rx, need in (self.token_needs if token else ()):
                if need is not None and plain and not needs_met(need, present, line):
                    continue  # something every match holds is missing (`_TOKEN_NEEDS`)
                for m in rx.finditer(line):
                    s, e = m.start(), m.end()
                    while s < e and line[s] in _TRIM:
                        s += 1
                    while e > s and line[e - 1] in _TRIM:
                        e -= 1
                    if e > s:
                        out.append(SecretFinding(ls + s, ls + e, kind))
            if not line_other:
                continue
            # (_KEYWORD_SCAN: the same search as _KEYWORD, ~4x faster on prose lines)
            keyword = not self.gated or (_ASSIGN.search(line) is not None and _KEYWORD_SCAN.search(line) is not None)
            quoted = not self.gated or _QUOTED.search(line) is not None
            if not (keyword or quoted):
                continue
            context = get_code_snippet(lines=[line], line_number=1)
            for plugin, gate in zip(self.other, self.other_gates):
                is_keyword = type(plugin).__name__ == "KeywordDetector"
                if not (keyword if is_keyword else quoted):
                    continue
                if gate is not None and gate.search(line) is None:
                    continue  # no quoted string of its charset long enough to pass its entropy limit
                names = self.KEYWORD_FILENAMES if is_keyword else ("snippet.txt",)
                values = set()
                for fn in names:
                    for s in plugin.analyze_line(filename=fn, line=line, line_number=1, context=context,
                                                 enable_eager_search=False):
                        if s.secret_value and not _filtered(s.secret_value, line, plugin):
                            values.add(s.secret_value)
                for v in values:
                    pos = line.find(v)
                    while pos != -1:
                        out.append(SecretFinding(ls + pos, ls + pos + len(v), plugin.secret_type))
                        pos = line.find(v, pos + len(v))
        return self._extend_private_keys(text, out)

    @staticmethod
    def _extend_private_keys(text: str, found: list[SecretFinding]) -> list[SecretFinding]:
        """A private key block is a secret from its BEGIN marker to its END marker (or the end of the text)."""
        out = [f for f in found if f.kind != "Private Key"]
        # every _KEY_BEGIN alternative contains one of these literals (a `str` search instead of a regex scan)
        begins = _KEY_BEGIN.finditer(text) if "PRIVATE KEY" in text or "PuTTY-User-Key-File-" in text else ()
        for m in begins:
            end = _KEY_END.search(text, m.end())
            out.append(SecretFinding(m.start(), end.end() if end else len(text), "Private Key"))
        if not any(f.kind == "Private Key" for f in out):  # plugin-only matches (other markers)
            out.extend(f for f in found if f.kind == "Private Key")
        return out
