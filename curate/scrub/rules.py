"""The PII step's acceptance rules on top of the recognizers' scores: a table of named rules (`RULES`).

A recognizer (Presidio's, ours, a detect-secrets plugin) reports a candidate with a score. Each rule looks at the
candidate in its text and, when its test holds, does one thing:
- `reject`: the candidate is not PII (a version number, a date, a hash digest, prose after "secret:");
- `needs_context`: the shape is PII only next to a context word (a bare digit run, an undashed BRN): its score drops
  to `NEEDS_CONTEXT`, which only a context word before it (`PiiParams.context_boost`) lifts over `min_score`;
- `trim`: the span is narrowed (an e-mail's local part that runs into a URL or a template).
The rules run in table order and the scrubber counts the firings of each by name (the `pii` step's counters
`rule:<name>`), so a run says which rule kept what out. (A digits-only phone candidate in a text where
`bare_digit_run` would reject it whatever it is is not even parsed, so it is not counted: see
`RoutedPhoneRecognizer.analyze`.) tests/test_pii_rules.py tests each rule by name.

Every rule is ours, applied the same way to the gated step and to Presidio over whole texts, so the gate-equivalence
tests hold with them; they depart from plain Presidio and detect-secrets on purpose (measured on real documentation
pages: benchmarks/pii_eval.py and docs/scrubbing.md).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Callable, Literal

ANY_LENGTH_CARD = "CREDIT_CARD_ANY_LENGTH"  # internal entity of the PII step: becomes CREDIT_CARD with context
ANY_REGION_PHONE = "PHONE_NUMBER_ANY_REGION"  # internal entity of the PII step: becomes PHONE_NUMBER with context
SECRET = "SECRET"
# The score of a shape that is PII only with a context word before it: the context boost (0.4) lifts it to 0.5, over
# the default min_score (0.4); without one it stays below any min_score above it.
NEEDS_CONTEXT = 0.1
# Korean (and Chinese, Japanese) write numbers right next to words ("01012345678로", "주민번호는880101-..."): a
# mobile number with Hangul this close is Korean text, where numbers go unseparated.
KOREAN_NEAR = 16
HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")

Effect = Literal["reject", "needs_context", "trim"]


@dataclass(frozen=True)
class Candidate:
    """A recognizer's finding in its text: `kind` is the detector where it matters (a detect-secrets plugin's secret
    type, ANY_LENGTH_CARD)."""

    text: str
    entity: str
    start: int
    end: int
    score: float
    kind: str = ""

    @cached_property
    def value(self) -> str:
        return self.text[self.start:self.end]

    def before(self, n: int) -> str:
        return self.text[max(0, self.start - n):self.start]

    def after(self, n: int) -> str:
        return self.text[self.end:self.end + n]

    @cached_property
    def line(self) -> str:
        """The line the candidate starts on."""
        ls = self.text.rfind("\n", 0, self.start) + 1
        le = self.text.find("\n", self.start)
        return self.text[ls:len(self.text) if le == -1 else le]

    @cached_property
    def line_before(self) -> str:
        """The line before the candidate's line ("" on the first)."""
        ls = self.text.rfind("\n", 0, self.start)
        if ls == -1:
            return ""
        return self.text[self.text.rfind("\n", 0, ls) + 1:ls]

    @cached_property
    def token(self) -> str:
        """The whitespace-delimited token around the candidate, up to its end."""
        s = self.start
        while s > 0 and not self.text[s - 1].isspace():
            s -= 1
        return self.text[s:self.end]


@dataclass(frozen=True)
class Rule:
    name: str
    entities: frozenset[str]
    effect: Effect
    test: Callable[[Candidate], bool]
    why: str
    trim_to: Callable[[Candidate], int] | None = None  # trim: the new start


# -- tests of the rules ---------------------------------------------------------------------------------------------
_DECIMAL_BEFORE = re.compile(r"\d\.$")
_DECIMAL_AFTER = re.compile(r"\.\d")


def _decimal_digits(c: Candidate) -> bool:
    return c.value[:1].isdigit() and ":" not in c.value and bool(
        _DECIMAL_BEFORE.search(c.before(2)) or _DECIMAL_AFTER.match(c.after(2)))


# RRN/FRN shape (YYMMDD-GNNNNNN), Korean driver's licence shape
_OTHER_ID_SHAPE = re.compile(r"\(?\d{6}[-\s]\d{7}\)?|\(?\d{2}-\d{2}-\d{6}-\d{2}\)?")
_DOTTED_QUAD = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])")  # an IPv4 address, or one and a port
_SHORT_DOTTED = re.compile(r"\d{1,3}(?:\.\d{1,3}){2,}")
_DIGIT_GROUPS = re.compile(r"\d+")
_ISBN_BEFORE = re.compile(r"\bISBN(?:-1[03])?[\s:]*$", re.I)
_PAGES_BEFORE = re.compile(r"\b(?:pages?|pp?\.)\s*$", re.I)
_ISO_DATE_START = re.compile(r"(?:19|20)\d\d([-/. ])(?:0[1-9]|1[0-2])\1(?:0[1-9]|[12]\d|3[01])(?!\d)")
_CLOCK_BEFORE = re.compile(r"\d:$")
_GLUED_BEFORE = re.compile(r"[A-Za-z][-_/]$")
_LEADING_DOT_DECIMAL = re.compile(r"(?<!\d)\.\d")
_KOREAN_MOBILE = re.compile(r"01[016789]\d{7,8}")


def _digit_groups(c: Candidate) -> list[str]:
    return _DIGIT_GROUPS.findall(c.value)


def _short_dotted(c: Candidate) -> bool:
    return bool(_SHORT_DOTTED.fullmatch(c.value)) and sum(map(len, _digit_groups(c))) < 7


def _inside_url(c: Candidate) -> bool:
    token = c.token
    return "://" in token[:len(token) - len(c.value)] or token.startswith("www.")


def _decimal_number(c: Candidate) -> bool:
    return c.value.count(".") == 1 or bool(_LEADING_DOT_DECIMAL.search(c.value))


def _counting_or_calendar(c: Candidate) -> bool:
    groups = _digit_groups(c)
    if len(groups) >= 6 and max(map(len, groups)) <= 2:
        return True  # a calendar row: `6  7  8  9 10 11 12`
    numbers = [int(g) for g in groups]
    return len(numbers) >= 4 and all(b == a + 1 for a, b in zip(numbers, numbers[1:]))  # `27 28 29 30 31`


def _starts_with_date(c: Candidate) -> bool:
    date = _ISO_DATE_START.match(c.value)
    return bool(date) and (date.group(1) != " " or date.end() == len(c.value))


def _korean_mobile_in_korean_text(c: Candidate) -> bool:
    return bool(_KOREAN_MOBILE.fullmatch(c.value)) and bool(
        HANGUL.search(c.before(KOREAN_NEAR)) or HANGUL.search(c.after(KOREAN_NEAR)))


def _bare_digit_run(c: Candidate) -> bool:
    return c.value.isdigit() and not _korean_mobile_in_korean_text(c)


def _unbalanced_bracket(c: Candidate) -> bool:
    return c.value.count("(") != c.value.count(")")


def _glued_to_a_word(c: Candidate) -> bool:
    return bool(_GLUED_BEFORE.search(c.before(2)))


def _non_public_ip(c: Candidate) -> bool:
    try:
        ip = ipaddress.ip_address(c.value.split("/")[0].split("%")[0])
    except ValueError:
        return False
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_unspecified
            or (ip.version == 4 and ip.is_reserved))


# words right before a dotted quad that make it a version or a section number; a package version (`novas-3.1.1.3`,
# `novas==3.1.1.3`)
_VERSION_OR_SECTION_BEFORE = re.compile(
    r"(?:\bversion|\bver|\brelease|\bbuild|\bv|버전|\bsection|\bparagraph|\bchapter|\bclause|§|절|문단)[\s.:#`(]*$"
    r"|[A-Za-z]-$|[=<>~!]=\s*$", re.I)
_HEX_GROUP_AND_COLONS = re.compile(r"[0-9A-Fa-f]{1,4}::")  # reStructuredText's `text::` before a literal block
_VERSION_SHAPED_QUAD = re.compile(r"\d\.\d\.\d{1,3}\.\d{1,3}")
_NAME_BEFORE = re.compile(r"([A-Za-z][\w+.-]*)[ \t]*\(?$")
# words before a quad that are no software name
_NOT_A_NAME = frozenset("to from at and or is are on of via by use using with the a an as e.g eg like i.e ie than "
                        "then into for".split())
_IP_CONTEXT = re.compile(r"\bip|ipv4|address|host|server|dns|resolv|nameserver|ping|\bdig\b|nslookup|route|gateway"
                         r"|subnet|proxy|connect|주소|서버|아이피", re.I)


def _software_version(c: Candidate) -> bool:
    """A version-shaped dotted quad (`1.2.3.4`: single-digit first and second parts) right after a name, on a line
    with no word about addresses (`zlib 1.2.3.4`, `Thunderbird 1.5.0.9`, `novas (3.1.1.3)`)."""
    name = _NAME_BEFORE.search(c.before(40)) if _VERSION_SHAPED_QUAD.fullmatch(c.value) else None
    if name is None or name.group(1).lower() in _NOT_A_NAME:
        return False
    return _IP_CONTEXT.search(c.line) is None and _IP_CONTEXT.search(c.line_before) is None


_CREDENTIAL_WORD = re.compile(r"key|token|secret|passw|pwd|auth|credential|api|비밀|토큰|키", re.I)
_HEX = re.compile(r"[0-9a-fA-F]+")


def _hex_without_credential_word(c: Candidate) -> bool:
    return c.kind == "Hex High Entropy String" and bool(_HEX.fullmatch(c.value)) and not (
        _CREDENTIAL_WORD.search(c.line) or _CREDENTIAL_WORD.search(c.line_before))


def _keyword_value_in_prose(c: Candidate) -> bool:
    return c.kind == "Secret Keyword" and any(ch.isspace() for ch in c.value) and c.before(1) not in ("'", '"', "`")


_TEMPLATE = re.compile(r"\{\{|\}\}|\$\{|<[^>]*>|%\(|\{[A-Za-z_]\w*\}")
_EMAIL_LOCAL_STOP = re.compile(r"[/?=&|]")


def _email_local_part_stop(c: Candidate) -> bool:
    local = c.value.split("@", 1)[0]
    return _EMAIL_LOCAL_STOP.search(local) is not None


def _after_email_local_stop(c: Candidate) -> int:
    local = c.value.split("@", 1)[0]
    return c.start + max(m.end() for m in _EMAIL_LOCAL_STOP.finditer(local))


def _ssh_remote(c: Candidate) -> bool:
    after = c.after(2)
    return after[:1] == ":" and after[1:2] not in ("", " ", "\t", "\n")


def _no_email_local_part(c: Candidate) -> bool:
    return c.value.startswith("@")


_PHONE = frozenset({"PHONE_NUMBER"})
_NUMBERS = frozenset({"PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS", "US_SSN", "KR_RRN", "KR_FRN",
                      "KR_BRN", "KR_PASSPORT", "KR_DRIVER_LICENSE"})

RULES: tuple[Rule, ...] = (
    # -- e-mail addresses ----------------------------------------------------------------------------------------
    Rule("email_local_part_in_url", frozenset({"EMAIL_ADDRESS"}), "trim", _email_local_part_stop,
         "Presidio's local part takes `/ ? = & |`: `groups?selm=34A04430.CF9@ohioee.com`, `{{Name|email@example.com}}`"
         ": the address starts after the last of them", trim_to=_after_email_local_stop),
    Rule("email_without_local_part", frozenset({"EMAIL_ADDRESS"}), "reject", _no_email_local_part,
         "nothing left before the @ (`maps/place/.../@33.7633384`)"),
    Rule("ssh_remote", frozenset({"EMAIL_ADDRESS"}), "reject", _ssh_remote,
         "`git@github.com:org/repo.git`: a user and host of an SSH/scp remote, not an e-mail address"),
    # -- numbers of every kind -----------------------------------------------------------------------------------
    Rule("decimal_digits", _NUMBERS, "reject", _decimal_digits,
         "digits of a decimal number (`0.3712595970846668`) or of a longer dotted one (`5.2.4.2.2`: a section)"),
    # -- phone numbers -------------------------------------------------------------------------------------------
    Rule("other_identifier_shape", _PHONE, "reject", lambda c: bool(_OTHER_ID_SHAPE.fullmatch(c.value)),
         "the shape of a Korean RRN (YYMMDD-GNNNNNN) or driver's licence: judged as those"),
    Rule("holds_ipv4", _PHONE, "reject", lambda c: bool(_DOTTED_QUAD.search(c.value)),
         "holds an IPv4 address (`127.0.0.1 8081`, a netmask): judged as an address only"),
    Rule("short_dotted_version", _PHONE, "reject", _short_dotted,
         "a dotted number of < 7 digits (`16.8.0`, a German pager to python-phonenumbers) is a version"),
    Rule("after_isbn", _PHONE, "reject", lambda c: bool(_ISBN_BEFORE.search(c.before(12))), "a book number"),
    Rule("page_range", _PHONE, "reject", lambda c: bool(_PAGES_BEFORE.search(c.before(8))),
         "`pages 816-1082`, `pp. 1203-1250`: a range of pages"),
    Rule("inside_url", _PHONE, "reject", _inside_url,
         "digits in a URL are ids, dates and versions (`q-2018-08-06-79/`, `python-3000/2006-November`)"),
    Rule("starts_with_date", _PHONE, "reject", _starts_with_date,
         "`2018-08-06-79`: a date and a counter; `2023 11 30`: a date written with spaces (the whole value only: a "
         "longer number written with spaces may start like a date)"),
    Rule("after_clock_time", _PHONE, "reject", lambda c: bool(_CLOCK_BEFORE.search(c.before(2))),
         "`17:45:37 2016`: the seconds of a time and a year"),
    Rule("decimal_number", _PHONE, "reject", _decimal_number,
         "one dot (`0.954312`, `31.01875`, `123.555555 3`, `-030712.345216`) or a dot with no digit before it (`0-.65.55-1.2`, "
         "SVG path data): decimals; phone numbers written with dots use two or more"),
    Rule("any_region_phone", _PHONE, "needs_context", lambda c: c.kind == ANY_REGION_PHONE,
         "digit groups shaped as a phone number that is valid in none of `phone_regions` (a national number of "
         "another country, `9472 7916`, `(37) 788-063`): a phone number only after a phone word"),
    Rule("bare_digit_run", _PHONE, "needs_context", _bare_digit_run,
         "digits only (an id, a count, a number in code), except a Korean mobile number (`01012345678`) with "
         "Hangul next to it: Korean writes those unseparated"),
    Rule("unbalanced_bracket", _PHONE, "needs_context", _unbalanced_bracket, "`format(1234567890`: code"),
    Rule("counting_or_calendar", _PHONE, "needs_context", _counting_or_calendar,
         "six or more groups of 1-2 digits, or four or more numbers counting up by one: a calendar row"),
    Rule("glued_to_a_word", _PHONE, "needs_context", _glued_to_a_word,
         "after a word and - _ / (`ncurses-6.1-20190511`, `react-v-16-4-2`, `path/to/12345678`); a label after the "
         "number is common (`082 490 1693-Office`)"),
    # -- cards ---------------------------------------------------------------------------------------------------
    Rule("any_length_card", frozenset({"CREDIT_CARD"}), "needs_context", lambda c: c.kind == ANY_LENGTH_CARD,
         "an undelimited 12-19 digit number that passes Luhn: 1 in 10 of all numbers"),
    Rule("uatp_shape", frozenset({"CREDIT_CARD"}), "needs_context",
         lambda c: c.value.isdigit() and c.value[0] == "1",
         "undelimited UATP shape (`1...`, 15 digits): timestamps and thread ids in code"),
    # -- IBANs ---------------------------------------------------------------------------------------------------
    Rule("lower_case_iban", frozenset({"IBAN_CODE"}), "needs_context", lambda c: c.value != c.value.upper(),
         "an IBAN written in lower case (`gb42nawi0445...`, chat and forms): checksum and format hold upper-cased, "
         "but a lower-case code is more often something else; counts with a context word (iban, bank, account)"),
    # -- Korean identifiers --------------------------------------------------------------------------------------
    Rule("undashed_brn", frozenset({"KR_BRN"}), "needs_context", lambda c: "-" not in c.value,
         "ten digits that pass the BRN checksum: 1 in 10 of all 10-digit numbers"),
    Rule("undashed_rrn_failed_checksum", frozenset({"KR_RRN", "KR_FRN"}), "needs_context",
         lambda c: c.score < 1.0 and "-" not in c.value,
         "a failed checksum (maybe issued after October 2020) and no dash"),
    Rule("driver_license_shape", frozenset({"KR_DRIVER_LICENSE"}), "needs_context", lambda c: True,
         "only a region-code check"),
    # -- IP addresses --------------------------------------------------------------------------------------------
    Rule("non_public_ip", frozenset({"IP_ADDRESS"}), "reject", _non_public_ip,
         "private, loopback, link-local, multicast, reserved addresses are not personal (keep_private_ips)"),
    Rule("version_or_section_before", frozenset({"IP_ADDRESS"}), "reject",
         lambda c: bool(_VERSION_OR_SECTION_BEFORE.search(c.before(16))),
         "after version/release/build/v, section/paragraph/chapter/§, `name-` or `==`"),
    Rule("software_version", frozenset({"IP_ADDRESS"}), "reject", _software_version,
         "`zlib 1.2.3.4`, `Thunderbird 1.5.0.9`: a version-shaped quad after a name, no address word on the line"),
    Rule("in_domain_name", frozenset({"IP_ADDRESS"}), "reject", lambda c: bool(re.match(r"\.[A-Za-z]", c.after(2))),
         "`1.0.0.127.in-addr.arpa`: labels of a host name"),
    Rule("rst_literal_marker", frozenset({"IP_ADDRESS"}), "reject",
         lambda c: bool(_HEX_GROUP_AND_COLONS.fullmatch(c.value)),
         "`higher than 50::`: reStructuredText's marker before a literal block"),
    # -- credentials and secrets ---------------------------------------------------------------------------------
    Rule("template_placeholder", frozenset({"URL_CREDENTIALS", SECRET}), "reject",
         lambda c: bool(_TEMPLATE.search(c.value)),
         "`{{user}}:{{password}}`, `${TOKEN}`, `<password>`: a placeholder, not a value"),
    Rule("keyword_value_in_prose", frozenset({SECRET}), "reject", _keyword_value_in_prose,
         "detect-secrets' keyword plugin reads `secret: represents an application` as an assignment: an unquoted "
         "value with spaces is prose"),
    Rule("hex_without_credential_word", frozenset({SECRET}), "reject", _hex_without_credential_word,
         "a high-entropy hex string with no key/token/secret/password word on its line or the line before: hash "
         "digests and commit ids (`hexdigest()`, `\"digest\":`, `GitCommit:`)"),
)
RULE_NAMES = tuple(r.name for r in RULES)
assert len(set(RULE_NAMES)) == len(RULE_NAMES)


def rules_for(keep_private_ips: bool = True, disabled: tuple[str, ...] = ()) -> dict[str, tuple[Rule, ...]]:
    """The active rules per entity type, in table order."""
    off = set(disabled) | (set() if keep_private_ips else {"non_public_ip"})
    unknown = off - set(RULE_NAMES)
    if unknown:
        raise ValueError(f"unknown PII rules {sorted(unknown)}; known: {list(RULE_NAMES)}")
    by_entity: dict[str, list[Rule]] = {}
    for rule in RULES:
        if rule.name not in off:
            for entity in rule.entities:
                by_entity.setdefault(entity, []).append(rule)
    return {e: tuple(rs) for e, rs in by_entity.items()}


def apply_rules(c: Candidate, rules: tuple[Rule, ...], fired: Callable[[str], None]) -> Candidate | None:
    """The candidate after the rules (None: rejected); `fired(name)` for each rule whose test held."""
    for rule in rules:
        if not rule.test(c):
            continue
        fired(rule.name)
        if rule.effect == "reject":
            return None
        if rule.effect == "trim":
            c = replace(c, start=rule.trim_to(c))
        else:
            c = replace(c, score=min(c.score, NEEDS_CONTEXT))
    return c
