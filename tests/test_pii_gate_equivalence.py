"""The gates drop nothing: the gated step (windows, per-entity pre-gates, phone routing, the bare-digit skip, the
secrets' line gates and literal pre-checks) finds exactly what Presidio's AnalyzerEngine over whole texts plus every
detect-secrets plugin on every line finds, with the same acceptance rules (`curate.scrub.rules`) on both sides.
Where those depart from plain Presidio on purpose: the rules (precision on real pages, docs/scrubbing.md) and the
text the recognizers read (Hangul/Han/kana masked as a symbol, `recognizer_view`), the same on both sides here."""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

from conftest import shared_path

from curate.scrub.pii import PiiParams, PiiScrubber
from fixtures.pii_synth import PiiGenerator

REPO = Path(__file__).resolve().parents[1]


def test_gate_equals_full_presidio_on_generated_text():
    docs = PiiGenerator(seed=9).corpus(250)
    ents = [e for e in PiiParams().entities if e not in ("SECRET", "PERSON", "LOCATION")]
    gated = PiiScrubber(PiiParams(entities=ents))
    full = PiiScrubber(PiiParams(entities=ents, gate=False))
    for d in docs:
        assert gated.analyze(d.text) == full.analyze(d.text)


def test_gate_equals_full_presidio_on_web_like_text():
    """Windows, per-entity pre-gates, phone routing and direct recognizer calls vs Presidio's AnalyzerEngine on
    whole documents (web-like text: prose with dates, prices, ids, ISBNs and some PII)."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from pii_throughput import web_corpus

    ents = [e for e in PiiParams().entities if e not in ("SECRET", "PERSON", "LOCATION")]
    gated = PiiScrubber(PiiParams(entities=ents))
    full = PiiScrubber(PiiParams(entities=ents, gate=False))
    for d in web_corpus(60, seed=3):
        assert gated.analyze(d.text) == full.analyze(d.text)


def test_gated_step_equals_ungated_on_real_documents():
    """Real documents (../shared: English/Korean documentation pages full of code, numbers, versions, URLs): the
    gated step (windows, pre-gates, phone routing, secret line gates) finds exactly what Presidio over whole
    documents plus every detect-secrets plugin on every line finds."""
    import gzip

    path = shared_path("corpora", "web_en_ko.jsonl.gz")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for _, line in zip(range(120), f)]
    ents = [e for e in PiiParams().entities if e not in ("PERSON", "LOCATION")]
    gated = PiiScrubber(PiiParams(entities=ents))
    full = PiiScrubber(PiiParams(entities=ents, gate=False))
    found = 0
    for text in texts:
        a = gated.analyze(text)
        assert a == full.analyze(text)
        found += len(a)
    assert found > 5  # (e-mails, public IPs, secrets in those pages)


def test_gate_equals_presidio_for_every_phone_separator():
    """Phone numbers written with each of python-phonenumbers' punctuation characters (soft hyphen, zero-width
    space, full-width forms, "x"...), up to 4 of them in a row, and short German numbers ("16.8.0"): the gated step
    finds what Presidio finds over the whole text."""
    from curate.scrub.phonenumbers_internals import VALID_PUNCTUATION

    seps = sorted(set(re.sub(r"\\(.)", r"\1", VALID_PUNCTUATION.replace("\u2010-\u2015", "\u2010\u2015")
                                     .replace("\uff0d-\uff0f", "\uff0d\uff0e\uff0f"))) | {"X", "\t"})
    ents = [e for e in PiiParams().entities if e not in ("SECRET", "PERSON", "LOCATION")]
    gated = PiiScrubber(PiiParams(entities=ents))
    full = PiiScrubber(PiiParams(entities=ents, gate=False))
    rng = random.Random(11)
    numbers = ["010 1234 5678", "02 312 3456", "(212) 555 0123", "+44 20 7946 0958", "030 901820", "16 8 0",
               "+49 1680", "0049 30 901820", "4155552671"]
    found = 0
    for sep in seps:
        for number in numbers:
            for run in (1, 2, 4):
                text = "Please phone " + number.replace(" ", sep * run) + " today. v" + "16" + sep + "9.1"
                assert gated.analyze(text) == full.analyze(text), (sep, number, run)
                found += bool(full.analyze(text))
        text = "".join(rng.choice(["tel ", "call ", sep, " ", "1", "6", "8", "0", "5", "(", "+", "x"])
                       for _ in range(rng.randint(4, 40)))
        assert gated.analyze(text) == full.analyze(text), text
    assert found > len(seps) * 10


def test_gate_equals_presidio_on_glued_identifiers():
    """Identifiers glued to each other and to letters, IPs and passports (so that one gate match can take the start
    of another's digit run): the gated step still finds what Presidio finds over the whole text."""
    from curate.scrub.korean import make_rrn

    rng = random.Random(13)
    parts = ["M123A4567", "M12345678", "M123X4567", "여권번호 D849x3304", "123-45-6789", "123456789", "4111 1111 1111 1111", "4111111111111111",
             "123-45-67890", "1234567890", "11-22-333333-44", "192.168.10.77", "8.8.8.8", "::1", "2001:db8::7",
             "16.8.0", "010-1234-5678", "+49 30 901820", "A", "x", "a@b.co", "DE89 3704 0044 0532 0130 00", "99"]
    ents = [e for e in PiiParams().entities if e not in ("SECRET", "PERSON", "LOCATION")]
    gated = PiiScrubber(PiiParams(entities=ents))
    full = PiiScrubber(PiiParams(entities=ents, gate=False))
    # a passport-shaped gate match takes "123A5710" from the RRN's digit run
    rrn = make_rrn(random.Random(1), dashed=False)
    text = f"주민등록번호 M123A{rrn}"
    assert [(f.entity, text[f.start:f.end]) for f in gated.analyze(text)] == [("KR_RRN", rrn)]
    found = 0
    for _ in range(600):
        pieces = [rng.choice(parts + [make_rrn(rng)]) for _ in range(rng.randint(1, 4))]
        text = rng.choice(["", "ssn ", "주민등록번호 ", "card ", "tel "]) + "".join(
            p + rng.choice(["", "", "-", " ", ".", "A", "x"]) for p in pieces)
        want = full.analyze(text)
        assert gated.analyze(text) == want, text
        found += bool(want)
    assert found > 200


def test_bare_digit_phone_skip_only_without_context():
    """Digits-only phone candidates are not parsed only where _judge would reject them anyway: with a context
    word, or with a phone min_score that lets a bare digit run through, the gated step still equals Presidio."""
    texts = ["order 4155552671 shipped", "call 4155552671 today", "전화 01012345678", "id 02071838750 and 4155552671",
             "tel:\n4155552671", "ref 20230512-11131, 551-1473, 4000690003 and 030 1234567"]
    ents = ["PHONE_NUMBER", "KR_RRN", "KR_DRIVER_LICENSE"]
    for extra in ({}, {"min_score": {"PHONE_NUMBER": 0.1}}):
        gated = PiiScrubber(PiiParams(entities=ents, **extra))
        full = PiiScrubber(PiiParams(entities=ents, gate=False, **extra))
        for text in texts:
            assert gated.analyze(text) == full.analyze(text), (extra, text)
    assert PiiScrubber(PiiParams(entities=ents)).analyze("call 4155552671 today")
    assert not PiiScrubber(PiiParams(entities=ents)).analyze("order 4155552671 shipped")
    assert PiiScrubber(PiiParams(entities=ents, min_score={"PHONE_NUMBER": 0.1})).analyze("order 4155552671 shipped")


def test_any_region_phone_skip_only_without_context():
    """The any-region phone recognizer is not run on a window without a phone word or label (its rule would reject
    every match there): with one, without one, and with a min_score that lets its matches through, the gated step
    still equals Presidio over the whole text."""
    texts = ["the counter read 9472 7916 today", "Can someone call me on 9472 7916?", "Phone:\n51 516 33 75",
             "Apt. 237 VIC\n655 437 108 office\n", "(37) 788-063-Office", "See pages 816-1082 in 2024-01-02 10 20",
             "hotel 926-1373 and 99 577 450", "call me later.\nthe counter read 9472 7916 today",
             "Desk: +1-903-140-4508x769", "a desk 140 4508 x769 wide", "mobile: 99 577450",
             "89082\n085 175 7641-Office\\,3660170548-Fax", "3660170548(fax)", "3660170548,Fax", "3660170548\tfax",
             "order 3660170548 shipped", "Returns 3660170548 (cell value)"]
    ents = ["PHONE_NUMBER"]
    for extra in ({}, {"min_score": {"PHONE_NUMBER": 0.1}}, {"disabled_rules": ["any_region_phone"]}):
        gated = PiiScrubber(PiiParams(entities=ents, **extra))
        full = PiiScrubber(PiiParams(entities=ents, gate=False, **extra))
        for text in texts:
            assert gated.analyze(text) == full.analyze(text), (extra, text)


def test_gate_regex_equals_the_plain_alternation():
    """The gate regex (first character consumed by one class, branches behind a lookbehind) finds exactly the
    matches (start, end, branch) of the plain alternation of its branches, on random strings and on web text; and
    `Gate.matches` (the ASCII shortcut: translate + find + match) finds exactly the matches of `regex.finditer`."""
    from curate.scrub.gate import gate_for

    sys.path.insert(0, str(REPO / "benchmarks"))
    from pii_throughput import web_corpus

    gate = gate_for(tuple(PiiParams().phone_regions))
    assert "short_phone" in gate.entities  # Germany's 4-digit numbers

    def hits(rx, t):
        return [(m.start(), m.end(), m.lastgroup) for m in rx.finditer(t)]

    def fast(t):
        return [(m.start(), m.end(), m.lastgroup) for m in gate.matches(t)]

    rng = random.Random(5)
    alpha = "0123456789@:.-/ ()+~abcdefxABCDEFX\n\t٣०\u2013\uff0d\u00ad\u200b\uff0e16896"
    ascii_alpha = "0123456789@:.-/ ()+~abcdefxABCDEFX\n\t16896"
    for _ in range(60000):
        t = "".join(rng.choice(alpha) for _ in range(rng.randint(0, 30)))
        assert hits(gate.regex, t) == hits(gate.plain, t) == fast(t), t
        t = "".join(rng.choice(ascii_alpha) for _ in range(rng.randint(0, 30)))
        assert hits(gate.regex, t) == fast(t), t
    for d in web_corpus(40, seed=4):
        assert hits(gate.regex, d.text) == hits(gate.plain, d.text) == fast(d.text)


def test_ip_pre_gate_holds_every_presidio_ip_match():
    import ipaddress

    from presidio_analyzer.predefined_recognizers import IpRecognizer

    from curate.scrub.gate import ENTITY_GATE_RX

    rec, gate, rng = IpRecognizer(), ENTITY_GATE_RX["IP_ADDRESS"], random.Random(3)
    hits = 0
    for _ in range(1500):
        v6 = ipaddress.IPv6Address(rng.getrandbits(128) & ~((1 << rng.choice([0, 16, 32, 64, 96, 112, 128])) - 1)
                                   if rng.random() < 0.7 else rng.getrandbits(128))
        v4 = ipaddress.IPv4Address(rng.getrandbits(32))
        value = rng.choice([v6.compressed, v6.exploded, str(v4), f"::ffff:{v4}", f"64:ff9b::{v4}",
                            f"{v6.compressed}/64", f"{v4}/24", "::", "::1"])
        text = f"host {value} up"
        if rec.analyze(text, ["IP_ADDRESS"], None):
            hits += 1
            assert gate.search(text), value
    assert hits > 1000


def test_phone_route_never_skips_a_valid_parse():
    """The phone pre-check is a necessary condition: whenever python-phonenumbers' matcher would accept a candidate
    for a region (parse, then `_verify` at Presidio's VALID leniency: valid number, national prefix present where
    the number's format needs one), the pre-check lets that region parse it; without the national-prefix check
    (leniency below VALID), whenever the parse gives a valid number."""
    import phonenumbers

    from curate.scrub.phone import PhoneRoute
    from curate.scrub.phonenumbers_internals import verify

    regions = PiiParams().phone_regions
    route = PhoneRoute(regions)
    loose = PhoneRoute(regions, national_prefix_check=False)
    rng = random.Random(7)
    seps = " -.()/[]\u00ad\u200b\u2060\u2013\u2053\u223c\u3000\uff08\uff0e\uff0f\uff3b"
    valid = matched = 0
    for _ in range(12000):
        first = rng.choice(["", "", "", "0", "00", "01", "010", "02", "1", "82", "49", "44", "33", "91", "55", "972",
                            "0049", "011", "0082", "000", "0000", "00001", "0110"])
        digits = first + "".join(rng.choice("0123456789") for _ in range(rng.randint(0 if first else 1, 14)))
        cand = "".join(d + (rng.choice(seps) if rng.random() < 0.3 else "") for d in digits).strip(" -./")
        if rng.random() < 0.1:
            cand = rng.choice(["+", "+ ", "\uff0b", "++"]) + cand
        if rng.random() < 0.15:  # an extension
            cand += rng.choice([" x ", "x", " X", "~", "\uff5e", " x", "x "]) + str(rng.randint(0, 10 ** rng.randint(1, 9)))
        for region in regions:
            try:
                num = phonenumbers.parse(cand, region, keep_raw_input=True)
                ok = phonenumbers.is_valid_number(num)
                match = verify(phonenumbers.Leniency.VALID, num, cand)
            except phonenumbers.NumberParseException:
                ok = match = False
            valid += ok
            matched += match
            assert not ok or loose.may_be_valid(cand, region), (cand, region)
            assert not match or route.may_be_valid(cand, region), (cand, region)
    assert valid > 500 and matched > 300  # the sample holds plenty of valid numbers


def test_phonenumbers_internals_unchanged():
    """The private parts of python-phonenumbers the phone route and the gate rely on (constants, the matcher's
    verification and parse hook, its national-prefix functions) are those the route was checked against: an upgrade
    that changes one fails here (`curate.scrub.phonenumbers_internals` says what to do)."""
    from curate.scrub import phonenumbers_internals as internals

    assert internals.changed_internals() == []
    assert internals.PUNCTUATION_LIMIT == 4 and "-" in internals.VALID_PUNCTUATION and "(" in internals.LEAD_CLASS_CHARS


def test_min_international_digits():
    """No country code and NSN of any region in python-phonenumbers' metadata are shorter together than
    MIN_INTERNATIONAL_DIGITS (which the gate and the phone route rely on)."""
    import phonenumbers
    from phonenumbers import PhoneMetadata

    from curate.scrub.phone import _PHONE_TYPES, MIN_GATE_DIGITS, MIN_INTERNATIONAL_DIGITS

    shortest = []
    for cc, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items():
        for r in regions:
            md = PhoneMetadata.metadata_for_region(r) or PhoneMetadata.metadata_for_nongeo_region(cc)
            lengths = [n for t in _PHONE_TYPES if (d := getattr(md, t, None)) is not None and d.national_number_pattern
                       for n in d.possible_length]
            if lengths:
                shortest.append(len(str(cc)) + min(lengths))
    assert min(shortest) == MIN_INTERNATIONAL_DIGITS >= MIN_GATE_DIGITS


def test_short_national_numbers_hold_every_short_match():
    """Every digit string of < 5 digits that python-phonenumbers' matcher (Presidio's leniency) finds as a number of
    a default region is in the gate's short-number list (Germany's pagers 164x, 168x, 169x)."""
    import phonenumbers

    from curate.scrub.phone import short_national_numbers

    regions = tuple(PiiParams().phone_regions)
    short = set(short_national_numbers(regions))
    found = set()
    for n in range(1, 5):
        for i in range(10 ** n):
            s = str(i).zfill(n)
            for region in regions:
                if any(m.raw_string == s for m in phonenumbers.PhoneNumberMatcher(s, region,
                                                                                  leniency=phonenumbers.Leniency.VALID)):
                    found.add(s)
    assert found and found <= short


def test_secret_gate_equals_every_plugin_on_every_line():
    from curate.scrub.secrets import SecretScanner

    gated, full = SecretScanner(), SecretScanner(gated=False)
    texts = [d.text for d in PiiGenerator(seed=4).corpus(60)]
    texts.append('''password = "Tr0ub4dor&3xyz"
api_key: 8f14e45fceea167a5a36dedd4bea2543
db_pass := "s3cr3tV4lu3!"
if (secret == "hunter2hunter2") {}
token = "aGVsbG8gd29ybGQgdGhpcyBpcyBhIHRlc3Q="
conn = "postgres://bob:hunter22@db.example.com/x"
The key to success is to pass the ball; ask a monkey.
AKIAABCDEFGHIJKLMNOP xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx''')
    def key(f):
        return f.start, f.end, f.kind

    for text in texts:
        assert sorted(gated.find(text), key=key) == sorted(full.find(text), key=key)


def test_secret_line_gate_equals_the_gate_regexes():
    """The byte/str.find line gate selects exactly the lines where one of the gate regexes (long token or literal,
    DENYLIST keyword case-insensitively, quoted string) matches; random strings full of near misses."""
    from curate.scrub import secrets as S

    def reference(text):
        return sorted({text.rfind("\n", 0, m.start()) + 1 for rx in S._GATES for m in rx.finditer(text)})

    scanner = S.SecretScanner()
    rng = random.Random(5)
    alphabet = "aAkKeEyYpPsSwWdD_=:;(\n \"'-/+xXoOJCTıſİKñÑ한글0123456789"
    words = list(S._DENYLIST) + ["key", "pass", "PRIVATE KEY", "://", "xoxb-", "xoxz-", "eyJ", "AKC", "APF", "AP",
                                 "_authToken", "API_KEY", "PassWord", "a" * 16, "Ab1/" * 5, "İ", "ſecret", "CONTRASEÑA"]
    texts = [d.text for d in PiiGenerator(seed=4).corpus(30)]
    for _ in range(4000):
        texts.append("".join(rng.choice(words) if rng.random() < 0.4 else
                             "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 20)))
                             for _ in range(rng.randint(1, 12))))
    for text in texts:
        assert [s for s, _ in scanner.candidate_lines(text)] == reference(text), text


def _random_match(rx, rng):
    """A random string made by walking the parse tree of `rx` (literals, classes, repeats, branches, groups;
    look-arounds and anchors are skipped), with random case for IGNORECASE patterns: candidate matches."""
    import re._parser as sre_parse
    from re._constants import (ANY, ASSERT, ASSERT_NOT, AT, BRANCH, CATEGORY, CATEGORY_DIGIT, CATEGORY_SPACE,
                               CATEGORY_WORD, IN, LITERAL, MAX_REPEAT, MIN_REPEAT, NEGATE, RANGE, SUBPATTERN)

    pool = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+/=:.\"' @"
    cats = {CATEGORY_DIGIT: "0123456789", CATEGORY_SPACE: " \t", CATEGORY_WORD: pool[:63]}

    def one_of(items):
        chars = []
        neg = False
        for op, av in items:
            if op is NEGATE:
                neg = True
            elif op is LITERAL:
                chars.append(chr(av))
            elif op is RANGE:
                chars.extend(chr(c) for c in range(av[0], av[1] + 1))
            elif op is CATEGORY:
                chars.extend(cats.get(av, "x"))
        if neg:
            chars = [c for c in pool if c not in chars] or ["x"]
        return rng.choice(chars)

    def walk(tree):
        out = []
        for op, av in tree:
            if op is LITERAL:
                out.append(chr(av))
            elif op is IN:
                out.append(one_of(av))
            elif op is ANY:
                out.append(rng.choice(pool))
            elif op in (MAX_REPEAT, MIN_REPEAT):
                lo, hi, sub = av
                hi = min(hi, lo + 3)
                out.extend(walk(sub) for _ in range(rng.randint(lo, hi)))
            elif op is BRANCH:
                out.append(walk(rng.choice(av[1])))
            elif op is SUBPATTERN:
                out.append(walk(av[-1]))
            elif op in (ASSERT, ASSERT_NOT, AT):
                pass
        return "".join(out)

    s = walk(sre_parse.parse(rx.pattern, rx.flags))
    if rx.flags & re.IGNORECASE:
        s = "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in s)
    return s


def test_secret_token_needs_hold_for_every_match():
    """Every literal group of `_TOKEN_NEEDS` is met by every match of its regex: random strings built from each
    regex's own parse tree (in random context, random case), and the full secret scan with and without the
    literal pre-checks on them gives the same findings."""
    from curate.scrub import secrets as S

    rng = random.Random(9)
    gated, full = S.SecretScanner(), S.SecretScanner(gated=False)
    checked = 0
    for kind, rx, need in gated.token_needs:
        if need is None:
            continue
        for _ in range(400):
            line = _random_match(rx, rng)
            line = rng.choice(["", " ", "x = ", "[", "'"]) + line + rng.choice(["", " ", "\"", "'"])
            if not line.isascii() or rx.search(line) is None:
                continue
            checked += 1
            assert S.needs_met(need, gated.present(line), line), (rx.pattern, line)
            assert gated.find(line) == full.find(line), line
    assert checked > 2000
