"""Korean identifiers: Presidio's Korean recognizers with Korean context words and stricter validation, plus
generators of valid numbers (for tests and benchmarks: Faker's `ko_KR` `ssn()` makes invalid RRNs).

Presidio ships KrRrnRecognizer, KrFrnRecognizer, KrBrnRecognizer, KrPassportRecognizer and
KrDriverLicenseRecognizer, off by default and with English context words only. Here they are registered for every
language we analyse (Korean and mixed text alike) and given Korean context words. Korean attaches particles to nouns
("주민등록번호는", "연락처:"), so context is matched as a substring of the text just before the entity, not as a
token lemma (see `pii.py`).
"""

from __future__ import annotations

import datetime as _dt
import random
from typing import Optional

from curate.scrub import import_presidio

import_presidio()  # without torch (see curate/scrub/__init__.py)

from presidio_analyzer import EntityRecognizer, Pattern  # noqa: E402
from presidio_analyzer.predefined_recognizers import (
    KrBrnRecognizer,
    KrDriverLicenseRecognizer,
    KrFrnRecognizer,
    KrPassportRecognizer,
    KrRrnRecognizer,
)

# context words, matched case-insensitively as substrings of the text before an entity
KO_CONTEXT: dict[str, list[str]] = {
    "KR_RRN": ["주민등록번호", "주민번호", "주민등록", "주민 번호", "resident registration", "rrn"],
    "KR_FRN": ["외국인등록번호", "외국인 등록번호", "외국인번호", "외국인등록", "foreigner registration", "frn"],
    "KR_BRN": ["사업자등록번호", "사업자 등록번호", "사업자번호", "사업자", "business registration", "brn",
               "tax registration", "business number"],
    "KR_PASSPORT": ["여권번호", "여권 번호", "여권", "passport"],
    "KR_DRIVER_LICENSE": ["운전면허번호", "운전면허", "면허번호", "면허증", "driver's license", "driver license",
                          "drivers license", "driving licence", "driver's licence", "licence no", "license no"],
}


def _century(g: int) -> Optional[int]:
    """Century of birth from the 7th digit (gender/century digit) of an RRN or FRN."""
    return {9: 1800, 0: 1800, 1: 1900, 2: 1900, 5: 1900, 6: 1900, 3: 2000, 4: 2000, 7: 2000, 8: 2000}.get(g)


def rrn_date_ok(digits: str) -> bool:
    """The first six digits are a real calendar date in the century the seventh digit gives."""
    century = _century(int(digits[6]))
    if century is None:
        return False
    try:
        _dt.date(century + int(digits[:2]), int(digits[2:4]), int(digits[4:6]))
    except ValueError:
        return False
    return True


def rrn_checksum(digits12: str, foreigner: bool = False) -> int:
    weights = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]
    s = sum(int(d) * w for d, w in zip(digits12, weights))
    return ((13 if foreigner else 11) - s % 11) % 10


def brn_checksum(digits9: str) -> int:
    keys = [1, 3, 7, 1, 3, 7, 1, 3, 5]
    s = sum(int(d) * k for d, k in zip(digits9[:8], keys))
    last = int(digits9[8]) * 5
    s += last // 10 + last
    return (10 - s % 10) % 10


def birth_date_checked(recognizer: EntityRecognizer, pattern_text: str) -> bool:
    """RRN and FRN share their first 7 digits' layout: 13 digits whose first six are a real birth date."""
    digits = EntityRecognizer.sanitize_value(pattern_text, recognizer.replacement_pairs)
    return len(digits) == 13 and digits.isdigit() and rrn_date_ok(digits)


class _KoreanContext:
    """Presidio's Korean recognizer with our Korean context words added to its English ones."""

    ENTITY: str

    def __init__(self, supported_language: str = "en"):
        super().__init__(context=KO_CONTEXT[self.ENTITY] + list(self.CONTEXT), supported_language=supported_language)


class KoRrnRecognizer(_KoreanContext, KrRrnRecognizer):
    """RRN: a real birth date (not only month 01-12 / day 01-31) is required; a valid checksum gives full
    confidence. RRNs issued since October 2020 end in random digits, so a failed checksum keeps the pattern score
    (it lowers confidence, it does not prove a non-RRN); the scrubber then asks for the dashed form or a context
    word."""

    ENTITY = "KR_RRN"

    def validate_result(self, pattern_text: str):
        return birth_date_checked(self, pattern_text) and super().validate_result(pattern_text)


class KoFrnRecognizer(_KoreanContext, KrFrnRecognizer):
    ENTITY = "KR_FRN"

    def validate_result(self, pattern_text: str):
        return birth_date_checked(self, pattern_text) and super().validate_result(pattern_text)


class KoBrnRecognizer(_KoreanContext, KrBrnRecognizer):
    ENTITY = "KR_BRN"


class KoPassportRecognizer(_KoreanContext, KrPassportRecognizer):
    ENTITY = "KR_PASSPORT"


class KoDriverLicenseRecognizer(_KoreanContext, KrDriverLicenseRecognizer):
    ENTITY = "KR_DRIVER_LICENSE"
    PATTERNS = [Pattern("Driver License (very weak)",
                        r"(?<!\d)(\d{2})[- ]?(\d{2})[- ]?(\d{6})[- ]?(\d{2})(?!\d)", 0.05)]


def korean_recognizers(language: str = "en") -> list[EntityRecognizer]:
    return [KoRrnRecognizer(language), KoFrnRecognizer(language), KoBrnRecognizer(language),
            KoPassportRecognizer(language), KoDriverLicenseRecognizer(language)]


# -- generators of valid identifiers (tests, benchmarks) ----------------------------------------------------------
def make_rrn(rng: random.Random, dashed: bool = True, foreigner: bool = False, post_2020: bool = False) -> str:
    """A syntactically valid RRN (or FRN): real birth date, matching century digit, valid checksum (or, with
    post_2020, a random last digit as issued since October 2020)."""
    year = rng.randint(1940, 2019)
    date = _dt.date(year, 1, 1) + _dt.timedelta(days=rng.randint(0, 364))
    male = rng.random() < 0.5
    if year < 2000:
        g = (5 if male else 6) if foreigner else (1 if male else 2)
    else:
        g = (7 if male else 8) if foreigner else (3 if male else 4)
    first12 = f"{date:%y%m%d}{g}{rng.randint(0, 95):02d}{rng.randint(0, 999):03d}"
    last = rng.randint(0, 9) if post_2020 else rrn_checksum(first12, foreigner)
    digits = first12 + str(last)
    return f"{digits[:6]}-{digits[6:]}" if dashed else digits


def make_brn(rng: random.Random, dashed: bool = True) -> str:
    first9 = f"{rng.randint(101, 999)}{rng.randint(1, 99):02d}{rng.randint(0, 9999):04d}"
    digits = first9 + str(brn_checksum(first9))
    return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}" if dashed else digits


def make_passport(rng: random.Random) -> str:
    return f"{rng.choice('MSRODM')}{rng.randint(0, 999):03d}{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}" \
           f"{rng.randint(0, 9999):04d}"


def make_driver_license(rng: random.Random) -> str:
    region = rng.choice(sorted(KrDriverLicenseRecognizer.REGION_CODES))
    return f"{region}-{rng.randint(0, 99):02d}-{rng.randint(0, 999999):06d}-{rng.randint(0, 99):02d}"
