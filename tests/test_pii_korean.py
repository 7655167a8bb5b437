"""Korean identifiers (RRN, FRN, BRN, passport, driver's licence) and Korean context words."""

from __future__ import annotations

import os
import random

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from curate.scrub.korean import make_brn, make_rrn, rrn_checksum  # noqa: E402
from curate.scrub.pii import PiiParams, PiiScrubber  # noqa: E402


@pytest.fixture(scope="module")
def scrubber():
    return PiiScrubber()


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


def test_no_korean_pii_survives_next_to_hangul():
    """Korean attaches particles and words to numbers and addresses ("010-2345-6789로", "01023456789번으로",
    "주민번호는880101-...", "kim@naver.com으로"): every identifier written that way, with or without a space and with
    each common particle, is gone from the scrubbed text. Strong shapes (dashed or checksum-valid numbers, Korean
    mobile numbers, e-mails, cards, IPs) need no context word; the weak ones (an undashed BRN, an undashed RRN with a
    failed checksum, passports, driver's licences, a bare landline) are written after their own context word, as the
    rules ask."""
    from curate.scrub.korean import make_driver_license, make_passport

    rng = random.Random(5)
    s = PiiScrubber(PiiParams(entities=[e for e in PiiParams().entities if e not in ("PERSON", "LOCATION")]))
    strong = {"PHONE_NUMBER": ["010-2345-6789", "01023456789", "010 2345 6789", "02-312-3456", "+82 10-2345-6789"],
              "KR_RRN": [make_rrn(rng), make_rrn(rng, dashed=False), make_rrn(rng, post_2020=True)],
              "KR_FRN": [make_rrn(rng, foreigner=True), make_rrn(rng, dashed=False, foreigner=True)],
              "KR_BRN": [make_brn(rng)], "EMAIL_ADDRESS": ["hong.gildong@example.com", "kim@naver.com"],
              "CREDIT_CARD": ["4111-1111-1111-1111", "4111111111111111"], "IP_ADDRESS": ["54.240.162.118"]}
    weak = {"연락처는": ["0212345678"], "주민등록번호는": [make_rrn(rng, dashed=False, post_2020=True)],
            "사업자등록번호는": [make_brn(rng, dashed=False)], "여권번호는": [make_passport(rng)],
            "운전면허번호는": [make_driver_license(rng)]}
    particles = ["", "번으로 연락주세요", "으로 보내 주세요", "로 연락", "입니다", "이고", "에게", " 입니다", "번", "(으)로"]
    cases = [(lead, v) for vs in strong.values() for v in vs for lead in ("", "제 정보는", "제 정보는 ")]
    cases += [(word + glue, v) for word, vs in weak.items() for v in vs for glue in ("", " ")]
    survived = []
    for lead, value in cases:
        for particle in particles:
            text = f"{lead}{value}{particle}"
            if text == "01023456789":
                continue  # no Hangul: not Korean text (see below)
            out, counts = s.scrub(text)
            if value in out or not counts:
                survived.append(text)
    assert survived == []
    assert len(cases) * len(particles) > 300
    # the mobile-number exemption is for Korean text: a bare 11-digit id in English still needs a phone word
    assert s.scrub("order 01023456789 shipped")[1] == {}
    assert s.scrub("call 01023456789 today")[1] == {"PHONE_NUMBER": 1}
