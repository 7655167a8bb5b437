"""What the PII step finds and what it leaves alone: planted items in generated English/Korean/mixed text, typed
placeholders, hard negatives, numbers in code and documentation, secrets in code, Presidio's labeled set."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

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
