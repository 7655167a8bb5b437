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
