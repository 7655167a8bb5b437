"""Each acceptance rule of the PII step (`curate.scrub.rules.RULES`), by name: a text where it fires and what is
found there, and a text with real PII of the same shape that is still found."""

from __future__ import annotations

import random

import pytest

from curate.scrub.korean import make_brn, make_rrn
from curate.scrub.pii import PiiParams, PiiScrubber
from curate.scrub.rules import RULE_NAMES, RULES


def _luhn_complete(digits: str) -> str:
    total = 0
    for i, d in enumerate(reversed(digits + "0")):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return digits + str((10 - total % 10) % 10)


_RNG = random.Random(4)
_BARE_RRN = make_rrn(_RNG, dashed=False, post_2020=True)
_BARE_RRN = _BARE_RRN[:12] + str((int(_BARE_RRN[12]) + 1) % 10) if len(_BARE_RRN) == 13 else _BARE_RRN
_BARE_BRN = make_brn(_RNG, dashed=False)
_ANY_CARD = _luhn_complete("912345678901234567")  # 19 digits, no card brand's prefix pattern

# rule -> (a text where it fires, the findings there), (a text with PII of that shape, the findings there)
CASES: dict[str, tuple[tuple[str, list], tuple[str, list]]] = {
    "email_local_part_in_url": (('git config user.email "{{Your Name|email@example.com}}"',
                                 [("EMAIL_ADDRESS", "email@example.com")]),
                                ("write to jane.roe@example.com", [("EMAIL_ADDRESS", "jane.roe@example.com")])),
    "email_without_local_part": (("https://www.google.com/maps/place/Grill/@33.7633384,-84.3869351,16z", []),
                                 ("mail me: a.b@example.org", [("EMAIL_ADDRESS", "a.b@example.org")])),
    "ssh_remote": (("git clone git@github.com:helm/helm.git", []),
                   ("git@github.com: that address bounces", [("EMAIL_ADDRESS", "git@github.com")])),
    "decimal_digits": (("[0.3712595970846668, 0.37866875250654886]", []),
                       ("card 4111 1111 1111 1111.", [("CREDIT_CARD", "4111 1111 1111 1111")])),
    "other_identifier_shape": (("tel 02-20-123456-78", []),
                               ("tel: 02-312-3456", [("PHONE_NUMBER", "02-312-3456")])),
    "holds_ipv4": (("telnet 127.0.0.1 8081", []), ("Call 1.800.555.1234 now", [("PHONE_NUMBER", "1.800.555.1234")])),
    "short_dotted_version": (("react-dom (< 16.8.0)", []), ("phone +49 1680", [("PHONE_NUMBER", "+49 1680")])),
    "after_isbn": (("ISBN 0-596-00797-3.", []), ("tel: (212) 555-0123", [("PHONE_NUMBER", "(212) 555-0123")])),
    "inside_url": (("see https://example.com/track?id=415-555-2671 now", []),
                   ("call 415-555-2671 or see https://example.com", [("PHONE_NUMBER", "415-555-2671")])),
    "starts_with_date": (("build 2018-08-06-79 passed; call on 2023 11 30", []),
                         ("call 212-555-0123 today", [("PHONE_NUMBER", "212-555-0123")])),
    "after_clock_time": (("LAST DEPLOYED: Tue Nov  1 17:45:37 2016", []),
                         ("at 17:45 call 030 901820", [("PHONE_NUMBER", "030 901820")])),
    "decimal_number": (("`round 123.555555 3` gives 123.556, Decimal('31.01875')", []),
                       ("Call 1.800.555.1234 now", [("PHONE_NUMBER", "1.800.555.1234")])),
    "page_range": (("call numbers: see pages 816-1082", []), ("call 816-1082 today", [("PHONE_NUMBER", "816-1082")])),
    "any_region_phone": (("call me later.\nthe counter read 9472 7916 today", []),
                         ("Can someone call me on 9472 7916?", [("PHONE_NUMBER", "9472 7916")])),
    "bare_digit_run": (("call me later.\norder 4155552671 shipped", []), ("call 4155552671 today", [("PHONE_NUMBER", "4155552671")])),
    "unbalanced_bracket": ((">>> '{:,}'.format(1234567890)", []),
                           ("phone (212) 555-0123", [("PHONE_NUMBER", "(212) 555-0123")])),
    "counting_or_calendar": (("24 25 26 27 28 29 30      27 28 29 30 31", []),
                             ("phone 6 7 8 9 10 11 12", [("PHONE_NUMBER", "6 7 8 9 10 11 12")])),
    "glued_to_a_word": (("fixed in ncurses-6.1-20190511, see react-v-16-4-2", []),
                        ("fax-030 901820", [("PHONE_NUMBER", "030 901820")])),
    "any_length_card": ((f"ref {_ANY_CARD} ok", []), (f"card no. {_ANY_CARD}", [("CREDIT_CARD", _ANY_CARD)])),
    "uatp_shape": (("156641360591757  function-entry", []),
                   ("UATP card 150012345678901", [("CREDIT_CARD", "150012345678901")])),
    "lower_case_iban": (("code gb42nawi04454264788619 here", []),
                        ("my iban is gb42nawi04454264788619", [("IBAN_CODE", "gb42nawi04454264788619")])),
    "undashed_brn": ((f"값 {_BARE_BRN} 입니다", []), (f"사업자등록번호 {_BARE_BRN}", [("KR_BRN", _BARE_BRN)])),
    "undashed_rrn_failed_checksum": ((f"값 {_BARE_RRN} 입니다", []),
                                     (f"주민등록번호 {_BARE_RRN}", [("KR_RRN", _BARE_RRN)])),
    "driver_license_shape": (("코드 11-22-123456-78 입니다", []),
                             ("운전면허번호 11-22-123456-78", [("KR_DRIVER_LICENSE", "11-22-123456-78")])),
    "non_public_ip": (("hosts 10.0.0.5 and 127.0.0.1", []), ("login from 8.8.4.4", [("IP_ADDRESS", "8.8.4.4")])),
    "version_or_section_before": (("version 21.2.3.4; RFC 2617, Section 31.2.2.2", []),
                                  ("server at 54.240.162.118 is down", [("IP_ADDRESS", "54.240.162.118")])),
    "software_version": (("Z_RLE (zlib 1.2.0.1), Thunderbird 1.5.0.9", []),
                         ("nameserver 1.2.3.4", [("IP_ADDRESS", "1.2.3.4")])),
    "in_domain_name": (("'1.0.0.127.in-addr.arpa'", []), ("dig -x 9.9.9.9", [("IP_ADDRESS", "9.9.9.9")])),
    "rst_literal_marker": (("a rank higher than 50::\n\n>>> x", []),
                           ("host 2a00:1450:4001:82a::200e up", [("IP_ADDRESS", "2a00:1450:4001:82a::200e")])),
    "template_placeholder": (("usql postgres://{{user}}:{{password}}@{{host}}/db", []),
                             ("db postgres://bob:hunter22@db.example.com/x", [("URL_CREDENTIALS", "bob:hunter22")])),
    "keyword_value_in_prose": (("- The release version secret: represents an application's state", []),
                               ("const password = 'correct horse battery staple';",
                                [("SECRET", "correct horse battery staple")])),
    "hex_without_credential_word": ((">>> m.hexdigest()\n'031edd7d41651593c5fe5c006fa5752b37fddff7bc4e843aa6af0c95'", []),
                                    (">>> token_hex(16)\n'f9bf78b9a18ce6d46a0cd2b0b86df9da'",
                                     [("SECRET", "f9bf78b9a18ce6d46a0cd2b0b86df9da")])),
}


@pytest.fixture(scope="module")
def scrubber():
    return PiiScrubber(PiiParams(entities=[e for e in PiiParams().entities if e not in ("PERSON", "LOCATION")]))


def _found(scrubber, text):
    return [(f.entity, text[f.start:f.end]) for f in scrubber.analyze(text)]


def test_every_rule_has_a_case():
    assert sorted(CASES) == sorted(RULE_NAMES)
    assert all(r.why and r.entities for r in RULES)


@pytest.mark.parametrize("rule", RULE_NAMES)
def test_rule(scrubber, rule):
    (fires, want), (kept, want_kept) = CASES[rule]
    scrubber.take_rule_firings()
    assert _found(scrubber, fires) == want
    assert rule in scrubber.take_rule_firings(), f"{rule} did not fire on {fires!r}"
    assert _found(scrubber, kept) == want_kept
    # switched off, the rule no longer changes what is found where it fired
    off = PiiScrubber(PiiParams(entities=scrubber.params.entities, disabled_rules=[rule]))
    assert _found(off, fires) != want
    assert rule not in off.take_rule_firings()


@pytest.mark.parametrize("text,want", [
    # another country's number, labelled after it as address blocks do (Presidio's synthetic set)
    ("Apt. 237 BUNDALAGUAH VIC\n655 437 108 office\n", ["655 437 108"]),
    ("Hungary 34796\n(37) 788-063-Office", ["(37) 788-063"]),
    ("Phone:\n51 516 33 75\n", ["51 516 33 75"]),  # the label on the line before
    # a context word starts a word: "tel" in "hotel", "cell" in "excellent" are none
    ("Hotel rooms 926-1373 and 926-1380", []),
    ("an excellent 816 1082 result", []),
    ("Tel 926-1373", ["926-1373"]),
    # a signature's desk line, with an extension (Presidio's synthetic set)
    ("Mobile: 723 813 266\nDesk: +1-903-140-4508x769\n", ["723 813 266", "+1-903-140-4508x769"]),
    ("Desk: +447700 921 916", ["+447700 921 916"]),
    ("the desk is 120 cm wide and 75 cm high", []),
    ("Build 2041 x86 with 4 cores", []),
    # "+country" numbers without separators, and after a comma in an address block (Presidio's synthetic set)
    ("930.167.3943 fax\n+447700677662 mobile", ["930.167.3943", "+447700677662"]),
    ("21 253 109 8211-Office,+447700 208 815-Fax", ["21 253 109 8211", "+447700 208 815"]),
    ("UTC offset +0100 and build +1234567", []),
    # a subscriber's part of 6 digits; digits without a separator with a label glued after (Presidio's synthetic set)
    ("mobile: 99 577450\n", ["99 577450"]),
    ("89082\n085 175 7641-Office\\,3660170548-Fax", ["085 175 7641", "3660170548"]),
    ("3660170548 (fax)", ["3660170548"]),
    ("order 3660170548 shipped, version 12 345678, 1,2345678 office", []),
    # a date written with spaces is a date; a longer number that starts like one is not judged by its start
    ("Please call on 2023 11 30 to confirm", []),
    ("phone: 2012 12 31 44", ["2012 12 31 44"]),
])
def test_phone_numbers_of_other_countries_need_a_phone_word(scrubber, text, want):
    assert [v for e, v in _found(scrubber, text) if e == "PHONE_NUMBER"] == want


def test_unknown_rule_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown PII rules"):
        PiiScrubber(PiiParams(entities=["EMAIL_ADDRESS"], disabled_rules=["no_such_rule"]))
