"""PII scrubbing on generated (Faker) and hand-written English/Korean text; the `curate scrub` CLI; a real pipeline."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from conftest import shared_path  # noqa: E402

from curate.scrub.korean import make_brn, make_rrn, rrn_checksum  # noqa: E402
from curate.scrub.pii import PiiParams, PiiScrubber  # noqa: E402
from curate.scrub.synth import PiiGenerator, score  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def scrubber():
    return PiiScrubber()


def test_generated_corpus_every_planted_item_gone_negatives_untouched(scrubber):
    docs = PiiGenerator(seed=123).corpus(120)
    found = [scrubber.analyze(d.text) for d in docs]
    stats = score(docs, found)
    assert stats["_negatives"]["touched"] <= 1  # at most one phone-like hard negative in ~350
    for entity, s in stats.items():
        if entity.startswith("_"):
            continue
        assert s["fn"] == 0, (entity, s)
        assert s["leaked"] == 0, (entity, s)
        assert s["precision"] >= 0.95, (entity, s)
    # the scrubbed text holds none of the planted values, and keeps every hard negative
    for d in docs:
        out, counts = scrubber.scrub(d.text)
        for span in d.positives:
            assert d.text[span.start:span.end] not in out
        assert sum(counts.values()) == len(scrubber.analyze(d.text))


def test_placeholders_english(scrubber):
    text = ("Write to jane.roe@example.com or call +1 415-555-2671. Card 4111 1111 1111 1111, "
            "IBAN DE89 3704 0044 0532 0130 00, SSN 536-22-1234, login from 8.8.8.8 and 2a00:1450:4001:82b::200e, "
            "db postgres://bob:hunter22@db.example.com/x")
    out, counts = scrubber.scrub(text)
    assert out == ("Write to <EMAIL> or call <PHONE>. Card <CREDIT_CARD>, IBAN <IBAN>, SSN <US_SSN>, login from "
                   "<IP_ADDRESS> and <IP_ADDRESS>, db postgres://<CREDENTIALS>@db.example.com/x")
    assert counts == {"EMAIL_ADDRESS": 1, "PHONE_NUMBER": 1, "CREDIT_CARD": 1, "IBAN_CODE": 1, "US_SSN": 1,
                      "IP_ADDRESS": 2, "URL_CREDENTIALS": 1}


def test_korean_identifiers_and_context(scrubber):
    rng = random.Random(3)
    rrn, brn = make_rrn(rng), make_brn(rng)
    post2020 = make_rrn(rng, post_2020=True)
    bare = make_rrn(rng, dashed=False, post_2020=True)
    text = (f"홍길동의 주민등록번호는 {rrn}이고 연락처는 010-2345-6789입니다. 사업자등록번호 {brn}. "
            f"여권번호 M123A4567, 운전면허번호 11-22-123456-78. 신청서 ({post2020}) 접수. 주민번호:{bare}. "
            "서울 02-312-3456 / 1588-1234")
    out, counts = scrubber.scrub(text)
    for value in (rrn, brn, post2020, bare, "010-2345-6789", "M123A4567", "11-22-123456-78", "02-312-3456"):
        assert value not in out
    assert counts["KR_RRN"] == 3 and counts["KR_BRN"] == 1 and counts["KR_PASSPORT"] == 1
    assert counts["KR_DRIVER_LICENSE"] == 1 and counts["PHONE_NUMBER"] >= 2
    assert "<KR_RRN>이고" in out


def test_hard_negatives_untouched(scrubber):
    negatives = [
        "Version 1.2.3.4 was released on 2023-10-05 12:30:45.",
        "Order ORD-20231005-00042 and ISBN 978-3-16-148410-0 are listed.",
        "Sample ids 991332-1234567 and 990230-1234567 failed validation (no such dates).",
        "```python\nBATCH_SIZE = 4155552671\nfor i in range(1000000):\n    total += i * 3\n```",
        "사업자 번호 형식의 1234567890 숫자는 주문번호입니다.",  # 10 digits, fails the BRN checksum
        "Private network 192.168.0.1 and loopback 127.0.0.1 are not personal.",
        "The meeting is in room 301 at 10:30; pages 12-18.",
    ]
    for text in negatives:
        out, counts = scrubber.scrub(text)
        assert out == text and counts == {}, (text, counts)


def test_rrn_checksum_and_dates():
    rng = random.Random(0)
    for _ in range(50):
        d = make_rrn(rng, dashed=False)
        assert int(d[12]) == rrn_checksum(d[:12])
    s = PiiScrubber(PiiParams(entities=["KR_RRN"]))
    valid = make_rrn(rng, dashed=False)  # valid checksum: no context needed
    assert s.scrub(f"값 {valid} 입니다")[1] == {"KR_RRN": 1}
    wrong = valid[:12] + str((int(valid[12]) + 1) % 10)  # failed checksum, no dash, no context: not taken
    assert s.scrub(f"값 {wrong} 입니다")[1] == {}
    assert s.scrub(f"주민등록번호 {wrong}")[1] == {"KR_RRN": 1}  # ... but taken with a Korean context word


def test_private_ips_configurable():
    text = "hosts 10.0.0.5 and 8.8.4.4"
    assert PiiScrubber(PiiParams(entities=["IP_ADDRESS"])).scrub(text)[0] == "hosts 10.0.0.5 and <IP_ADDRESS>"
    assert PiiScrubber(PiiParams(entities=["IP_ADDRESS"], keep_private_ips=False)).scrub(text)[0] == \
        "hosts <IP_ADDRESS> and <IP_ADDRESS>"


def test_secrets_in_code(scrubber):
    aws = "AKIA" + "ABCDEFGHIJKLMNOP"
    gh = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    slack = "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
    gl = "glpat-" + "abcdefghij1234567890"
    code = f'''import boto3
client = boto3.client("s3", aws_access_key_id="{aws}")
GITHUB_TOKEN = "{gh}"
SLACK = "{slack}"
gitlab: {gl}
password = "Tr0ub4dor&3xyz"
api_key = "8f14e45fceea167a5a36dedd4bea2543"
-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEA7bqzQ2kLzJ9wV3
q8Zr0kP1xYc2mN4bT6vW9eR3tY5uI7oP
-----END RSA PRIVATE KEY-----
x = get_password()
print("hello world")
'''
    out, counts = scrubber.scrub(code)
    for secret in (aws, gh, slack, gl, "Tr0ub4dor&3xyz", "8f14e45fceea167a5a36dedd4bea2543", "MIIEowIBAAKCAQEA7bqzQ2kLzJ9wV3",
                   "BEGIN RSA PRIVATE KEY"):
        assert secret not in out
    assert counts["SECRET"] >= 7
    assert 'x = get_password()\nprint("hello world")' in out  # no false positives on ordinary code
    assert 'aws_access_key_id="<SECRET>"' in out


def test_mask_and_salted_hash(monkeypatch):
    monkeypatch.setenv("CURATE_PII_SALT", "a-test-salt-of-enough-length")
    p = PiiParams(entities=["EMAIL_ADDRESS", "PHONE_NUMBER"], operators={"EMAIL_ADDRESS": {"type": "hash"},
                                                                         "PHONE_NUMBER": {"type": "mask"}})
    s = PiiScrubber(p)
    out1, _ = s.scrub("a.b@example.com and 010-2345-6789")
    out2, _ = PiiScrubber(p).scrub("a.b@example.com")
    assert out1.startswith("<EMAIL:") and out1.split(" and ")[0] == out2  # deterministic for one salt
    assert out1.endswith("*************") and "a.b@example.com" not in out1
    monkeypatch.setenv("CURATE_PII_SALT", "another-salt-of-enough-length")
    assert PiiScrubber(p).scrub("a.b@example.com")[0] != out2
    monkeypatch.setenv("CURATE_PII_SALT", "short")
    with pytest.raises(ValueError):
        PiiScrubber(p).scrub("a.b@example.com")


def test_gate_equals_full_presidio_on_generated_text():
    docs = PiiGenerator(seed=9).corpus(250)
    ents = [e for e in PiiParams().entities if e not in ("SECRET", "PERSON", "LOCATION")]
    gated = PiiScrubber(PiiParams(entities=ents))
    full = PiiScrubber(PiiParams(entities=ents, gate=False))
    for d in docs:
        assert gated.analyze(d.text) == full.analyze(d.text)


def test_phone_route_never_skips_a_valid_parse():
    """The phone pre-check is a necessary condition: whenever python-phonenumbers' matcher would accept a candidate
    for a region (parse, then `_verify` at Presidio's VALID leniency: valid number, national prefix present where
    the number's format needs one), the pre-check lets that region parse it; without the national-prefix check
    (leniency below VALID), whenever the parse gives a valid number."""
    import phonenumbers
    from phonenumbers.phonenumbermatcher import _verify

    from curate.scrub.phone import PhoneRoute

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
                match = _verify(phonenumbers.Leniency.VALID, num, cand, None)
            except phonenumbers.NumberParseException:
                ok = match = False
            valid += ok
            matched += match
            assert not ok or loose.may_be_valid(cand, region), (cand, region)
            assert not match or route.may_be_valid(cand, region), (cand, region)
    assert valid > 500 and matched > 300  # the sample holds plenty of valid numbers


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


def _cli(args, stdin: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "curate.cli", *args], input=stdin, capture_output=True, text=True,
                          cwd=REPO, env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=120)


def test_cli_scrub_stdin_stdout():
    records = [{"id": 1, "text": "mail a.b@example.org, 전화 010-9876-5432", "meta": {"k": "v"}},
               {"id": 2, "text": "nothing to see", "url": "https://example.com"}]
    r = _cli(["scrub", "-", "-o", "-"], "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in records))
    assert r.returncode == 0, r.stderr
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert out[0] == {"id": 1, "text": "mail <EMAIL>, 전화 <PHONE>", "meta": {"k": "v"}}
    assert out[1] == records[1]
    assert "a.b@example.org" not in r.stderr and "EMAIL_ADDRESS: 1" in r.stderr


def test_pipeline_scrubs_kept_and_removed(tmp_path):
    from curate.runner import run

    docs = [{"id": "a", "text": "Short note: reach me at jane@example.com or 010-2345-6789."},
            {"id": "b", "text": "Another short note without anything personal at all in it."},
            {"id": "c", "text": "AKIAABCDEFGHIJKLMNOP 900101-1234568"}]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    (tmp_path / "p.yaml").write_text(f"""
name: pii_test
inputs:
  - name: t
    paths: {tmp_path / 'in.jsonl'}
    license: CC0-1.0
steps:
  - type: length
    min_chars: 40
  - type: pii
output:
  dir: {tmp_path / 'run'}
""")
    from curate.steps import step_class

    assert "min_chars" in step_class("length").Params.model_fields, "the length step's parameter name changed"
    state, manifest = run(str(tmp_path / "p.yaml"), force=True, progress=False)
    assert manifest["documents_in"] == manifest["documents_kept"] + sum(manifest["removed"].values())
    kept = pl.read_parquet(str(tmp_path / "run" / "data" / "*.parquet"))
    removed = pl.read_parquet(str(tmp_path / "run" / "removed" / "*" / "*.parquet"))
    everything = " ".join(kept["text"].to_list() + removed["text"].to_list())
    for value in ("jane@example.com", "010-2345-6789", "AKIAABCDEFGHIJKLMNOP", "900101-1234568"):
        assert value not in everything
    row = kept.filter(pl.col("id") == "a").row(0, named=True)
    assert json.loads(row["pii_counts"]) == {"EMAIL_ADDRESS": 1, "PHONE_NUMBER": 1}
    pii = next(s for s in manifest["steps"] if s["type"] == "pii")
    assert pii["counters"]["EMAIL_ADDRESS"] == 1 and pii["counters"]["removed_documents_scrubbed"] == 1
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["pii"]["data"]["PHONE_NUMBER"] == 1
    for path in (tmp_path / "run").rglob("*"):  # no value in any log, report or shard metadata
        if path.is_file() and path.suffix in (".json", ".md", ".log", ".txt"):
            assert "jane@example.com" not in path.read_text(errors="ignore")


SHARED = REPO.parent / "shared" / "eval" / "pii" / "presidio_synth_dataset_v2.json"


@pytest.mark.shared
@pytest.mark.skipif(not SHARED.exists(), reason="../shared/eval not present")
def test_presidio_synthetic_set_structured_recall():
    data = json.loads(SHARED.read_text(encoding="utf-8"))[:400]
    s = PiiScrubber(PiiParams(keep_private_ips=False))
    want = {"CREDIT_CARD": "CREDIT_CARD", "EMAIL_ADDRESS": "EMAIL_ADDRESS", "IBAN_CODE": "IBAN_CODE",
            "US_SSN": "US_SSN", "IP_ADDRESS": "IP_ADDRESS"}
    tp = fn = 0
    for rec in data:
        found = s.analyze(rec["full_text"])
        for span in rec["spans"]:
            if span["entity_type"] in want:
                hit = any(f.entity == want[span["entity_type"]] and f.start < span["end_position"]
                          and f.end > span["start_position"] for f in found)
                tp += hit
                fn += not hit
    assert tp / (tp + fn) >= 0.95


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


def test_gate_equals_presidio_for_every_phone_separator():
    """Phone numbers written with each of python-phonenumbers' punctuation characters (soft hyphen, zero-width
    space, full-width forms, "x"...), up to 4 of them in a row, and short German numbers ("16.8.0"): the gated step
    finds what Presidio finds over the whole text."""
    from phonenumbers.phonenumberutil import _VALID_PUNCTUATION

    seps = sorted(set(re.sub(r"\\(.)", r"\1", _VALID_PUNCTUATION.replace("\u2010-\u2015", "\u2010\u2015")
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


@pytest.fixture(scope="module")
def tiny_ner_model(tmp_path_factory) -> Path:
    """A small spaCy NER model trained here on template sentences (PERSON, GPE) and saved to a local folder: the
    `ner_model: PATH` route without any downloaded model."""
    import spacy
    from spacy.training import Example

    rng = random.Random(0)
    first = ["John", "Maria", "Wei", "Fatima", "Olga", "Pedro", "Aiko", "Liam", "Sofia", "Noah"]
    last = ["Smith", "Garcia", "Chen", "Khan", "Ivanova", "Silva", "Tanaka", "Murphy", "Rossi", "Brown"]
    cities = ["Berlin", "Paris", "Seoul", "Lagos", "Lima", "Oslo", "Cairo", "Dublin", "Madrid", "Tokyo"]
    templates = ["My name is {p} and I live in {c}.", "{p} moved to {c} last year.",
                 "Please contact {p} in {c} for details.", "The report was written by {p}."]
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("ner")
    for label in ("PERSON", "GPE"):
        ner.add_label(label)
    examples = []
    for _ in range(100):
        template, person, city = rng.choice(templates), f"{rng.choice(first)} {rng.choice(last)}", rng.choice(cities)
        text = template.format(p=person, c=city)
        ents = [(text.find(v), text.find(v) + len(v), label) for v, label in ((person, "PERSON"), (city, "GPE"))
                if "{" + ("p" if label == "PERSON" else "c") + "}" in template]
        examples.append(Example.from_dict(nlp.make_doc(text), {"entities": ents}))
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(12):
        rng.shuffle(examples)
        for b in range(0, len(examples), 16):
            nlp.update(examples[b:b + 16], sgd=optimizer, drop=0.1)
    path = tmp_path_factory.mktemp("ner") / "tiny_ner"
    nlp.to_disk(path)
    return path


def test_ner_model_from_a_local_path(tiny_ner_model):
    """PERSON/LOCATION with a spaCy model given as a local path: found, replaced with their placeholders, counted,
    next to the pattern entities; a path that holds no model is a clear error."""
    s = PiiScrubber(PiiParams(ner_model=str(tiny_ner_model)))
    assert s.nlp is not None and "tiny_ner" in s.ner_note
    text = "Please contact Olga Chen in Oslo for details, or mail olga.chen@example.org."
    out, counts = s.scrub(text)
    assert "Olga Chen" not in out and "Oslo" not in out and "olga.chen@example.org" not in out
    assert "<PERSON>" in out and "<LOCATION>" in out and "<EMAIL>" in out
    assert counts["PERSON"] == 1 and counts["LOCATION"] == 1 and counts["EMAIL_ADDRESS"] == 1
    # without PERSON/LOCATION among the entities the model is not loaded at all
    assert PiiScrubber(PiiParams(entities=["EMAIL_ADDRESS"], ner_model=str(tiny_ner_model))).nlp is None
    with pytest.raises(ValueError, match="cannot load spaCy NER model"):
        PiiScrubber(PiiParams(ner_model=str(tiny_ner_model.parent / "missing")))


def test_numbers_in_code_and_docs_are_not_pii():
    """Shapes from real documentation pages that Presidio reports but are not personal data: fractions, version and
    section numbers, IPs with ports or netmasks read as phone numbers, ISBNs, timestamps and thread ids read as
    UATP cards, reStructuredText's `::`; next to real items written close to them, which are still found."""
    s = PiiScrubber(PiiParams(entities=[e for e in PiiParams().entities if e not in ("PERSON", "LOCATION")]))
    negatives = ["Cosine similarity: 0.954312", "print(5.666666666666667)", "[0.3712595970846668, 0.37866875250654886]",
                 "Downloading novas-3.1.1.3.tar.gz", "novas==3.1.1.3", "section 5.2.4.2.2 of the standard",
                 "telnet 127.0.0.1 8081", "the net mask 255.255.255.0 in IPv4", "ISBN 0-596-00797-3.",
                 "owner=140737213728528)", "156641360591757  function-entry", "a rank higher than 50::\n\n>>> x",
                 "your source file should be::\n\n# -*- coding", "react-dom (< 16.8.0)",
                 ">>> '{:,}'.format(1234567890)", "     6  7  8  9 10 11 12\n13 14"]
    for text in negatives:
        assert s.analyze(text) == [], (text, s.analyze(text))
    positives = {"Call 1.800.555.1234 now": "PHONE_NUMBER", "Tel. 030 901820": "PHONE_NUMBER",
                 "card number 4111111111111111": "CREDIT_CARD", "card 4111 1111 1111 1111": "CREDIT_CARD",
                 "server at 54.240.162.118 is down": "IP_ADDRESS", "host 2a00:1450:4001:82a::200e up": "IP_ADDRESS",
                 "UATP card 150012345678901": "CREDIT_CARD", "tel: (212) 555-0123": "PHONE_NUMBER",
                 "appelez le 01 23 45 67 89": "PHONE_NUMBER", "phone 6 7 8 9 10 11 12": "PHONE_NUMBER"}
    for text, entity in positives.items():
        assert [f.entity for f in s.analyze(text)] == [entity], (text, s.analyze(text))
