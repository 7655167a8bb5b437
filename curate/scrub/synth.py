"""A labelled PII corpus generated offline with Faker (en_US, ko_KR) for tests and benchmarks: realistic English,
Korean and mixed documents (prose, forms, logs, code) with planted PII at known character offsets, and hard
negatives that look like PII but are not (RRN-shaped numbers with impossible dates, dates, version numbers, order
numbers, ISBNs, phone-like numbers in code).

Values a real person could own are valid by construction: RRNs/BRNs carry correct dates and checksums (Faker's
ko_KR `ssn()` makes invalid ones), Korean phone numbers use real prefixes, US phone numbers are kept only when
python-phonenumbers accepts them (Faker draws unassigned area codes), cards pass Luhn (Faker), IBANs their checksum.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Span:
    start: int
    end: int
    entity: str  # our entity type; "NEGATIVE" for a hard negative


@dataclass
class SynthDoc:
    text: str
    lang: str
    spans: list[Span] = field(default_factory=list)

    @property
    def positives(self) -> list[Span]:
        return [s for s in self.spans if s.entity != "NEGATIVE"]

    @property
    def negatives(self) -> list[Span]:
        return [s for s in self.spans if s.entity == "NEGATIVE"]


class _Builder:
    def __init__(self, lang: str):
        self.parts: list[str] = []
        self.n = 0
        self.spans: list[Span] = []
        self.lang = lang

    def add(self, *pieces):
        """pieces: plain strings, or (value, entity) tuples."""
        for p in pieces:
            if isinstance(p, tuple):
                value, entity = p
                self.spans.append(Span(self.n, self.n + len(value), entity))
                p = value
            self.parts.append(p)
            self.n += len(p)

    def doc(self) -> SynthDoc:
        return SynthDoc("".join(self.parts), self.lang, self.spans)


class PiiGenerator:
    def __init__(self, seed: int = 0):
        from faker import Faker

        self.rng = random.Random(seed)
        self.en = Faker("en_US")
        self.ko = Faker("ko_KR")
        self.en.seed_instance(seed)
        self.ko.seed_instance(seed + 1)

    # -- values -----------------------------------------------------------------------------------------------------
    def us_phone(self) -> str:
        import phonenumbers

        while True:
            p = self.en.phone_number()
            core = p.split("x")[0]
            try:
                if phonenumbers.is_valid_number(phonenumbers.parse(core, "US")):
                    return core if self.rng.random() < 0.7 else p
            except phonenumbers.NumberParseException:
                pass

    def kr_phone(self) -> str:
        r = self.rng
        kind = r.random()
        if kind < 0.5:
            return f"010-{r.randint(2000, 9999)}-{r.randint(0, 9999):04d}"
        if kind < 0.6:
            return f"010{r.randint(2000, 9999)}{r.randint(0, 9999):04d}"
        if kind < 0.75:
            return f"02-{r.randint(200, 9999)}-{r.randint(0, 9999):04d}"
        if kind < 0.9:
            area = r.choice(["031", "032", "033", "041", "042", "043", "051", "052", "053", "054", "055", "061",
                             "062", "063", "064"])
            return f"{area}-{r.randint(200, 999)}-{r.randint(0, 9999):04d}"
        return f"+82 10-{r.randint(2000, 9999)}-{r.randint(0, 9999):04d}"

    def ip(self) -> str:
        import ipaddress

        while True:  # private ranges are kept by default (not personal), so plant public addresses
            ip = self.en.ipv4_public() if self.rng.random() < 0.7 else self.en.ipv6()
            if not ipaddress.ip_address(ip).is_private:
                return ip

    def card(self) -> str:
        n = self.en.credit_card_number(card_type=self.rng.choice(["visa", "mastercard", "amex", "discover"]))
        if self.rng.random() < 0.4 and len(n) == 16:
            n = " ".join(n[i:i + 4] for i in range(0, 16, 4))
        return n

    def iban(self) -> str:
        v = self.en.iban()
        return " ".join(v[i:i + 4] for i in range(0, len(v), 4)) if self.rng.random() < 0.3 else v

    def bad_rrn(self) -> str:
        r = self.rng
        month, day = r.choice([(13, 1), (0, 12), (2, 30), (4, 31), (14, 5), (6, 31), (11, 31), (2, 31)])
        return f"{r.randint(0, 99):02d}{month:02d}{day:02d}-{r.randint(1, 4)}{r.randint(0, 999999):06d}"

    def isbn(self) -> str:
        d = [9, 7, 8] + [self.rng.randint(0, 9) for _ in range(9)]
        check = (10 - sum(x * (1 if i % 2 == 0 else 3) for i, x in enumerate(d)) % 10) % 10
        s = "".join(map(str, d + [check]))
        return f"{s[:3]}-{s[3]}-{s[4:6]}-{s[6:12]}-{s[12]}"

    # -- documents --------------------------------------------------------------------------------------------------
    def negative(self, b: _Builder) -> None:
        r = self.rng
        kind = r.randrange(8)
        if kind == 0:
            b.add("Release ", (f"v{r.randint(0, 9)}.{r.randint(0, 30)}.{r.randint(0, 99)}", "NEGATIVE"),
                  " ships with build ", (f"{r.randint(1, 9)}.{r.randint(0, 9)}.{r.randint(0, 9)}.{r.randint(100, 9999)}",
                                          "NEGATIVE"), ". ")
        elif kind == 1:
            b.add("Updated on ", (f"{r.randint(2000, 2025)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d} "
                                  f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}", "NEGATIVE"),
                  ". ")
        elif kind == 2:
            b.add("Order number ", (f"ORD-{r.randint(2019, 2025)}{r.randint(1, 12):02d}{r.randint(1, 28):02d}-"
                                    f"{r.randint(0, 99999):05d}", "NEGATIVE"), " has shipped. ")
        elif kind == 3:
            b.add("ISBN ", (self.isbn(), "NEGATIVE"), " is on the reading list. ")
        elif kind == 4:
            b.add("Sample id ", (self.bad_rrn(), "NEGATIVE"), " failed validation. ")
        elif kind == 5:
            b.add("\n```python\nBATCH = ", (str(r.randint(10**9, 10**10 - 1)), "NEGATIVE"), "\nseed = ",
                  (str(r.randint(10**7, 10**8 - 1)), "NEGATIVE"), "\nfor i in range(BATCH):\n    pass\n```\n")
        elif kind == 6:
            b.add("The invoice totals ", (f"{r.randint(1, 999)},{r.randint(0, 999):03d},{r.randint(0, 999):03d}",
                                          "NEGATIVE"), " KRW. ")
        else:
            b.add("See pages ", (f"{r.randint(100, 999)}-{r.randint(1000, 1999)}", "NEGATIVE"), " and timestamp ",
                  (str(r.randint(1_500_000_000, 1_800_000_000)), "NEGATIVE"), ". ")

    def en_pii(self, b: _Builder) -> None:
        f, r = self.en, self.rng
        kind = r.randrange(9)
        name = f.name()
        if kind == 0:
            b.add(f"Please contact {name} at ", (f.email(), "EMAIL_ADDRESS"), " about the renewal. ")
        elif kind == 1:
            b.add(f"You can reach {name} on ", (self.us_phone(), "PHONE_NUMBER"), " after 5pm. ")
        elif kind == 2:
            b.add("The order was paid with card ", (self.card(), "CREDIT_CARD"), f", billed to {name}. ")
        elif kind == 3:
            b.add("Wire the deposit to IBAN ", (self.iban(), "IBAN_CODE"), ". ")
        elif kind == 4:
            b.add("Failed login for admin from ", (self.ip(), "IP_ADDRESS"), " was blocked. ")
        elif kind == 5:
            b.add(f"{name}'s SSN is ", (f.ssn(), "US_SSN"), ". ")
        elif kind == 6:
            user, pw = f.user_name(), f.password(length=12, special_chars=False)
            b.add("DATABASE_URL=postgres://", (f"{user}:{pw}", "URL_CREDENTIALS"), f"@{f.domain_name()}:5432/app\n")
        elif kind == 7:
            key = "AKIA" + "".join(r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
            b.add('\n```python\nimport boto3\nclient = boto3.client("s3", aws_access_key_id="', (key, "SECRET"),
                  '")\n```\n')
        else:
            tok = "ghp_" + "".join(r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
                                   for _ in range(36))
            b.add("export GITHUB_TOKEN=", (tok, "SECRET"), "\n")

    def ko_pii(self, b: _Builder) -> None:
        from curate.scrub.korean import make_brn, make_driver_license, make_passport, make_rrn

        f, r = self.ko, self.rng
        kind = r.randrange(8)
        name = f.name()
        if kind == 0:
            b.add(f"{name}님의 주민등록번호는 ", (make_rrn(r, dashed=r.random() < 0.8), "KR_RRN"), "입니다. ")
        elif kind == 1:
            b.add("신청자 ", f"{name} (", (make_rrn(r, post_2020=True), "KR_RRN"), ") 님의 서류가 접수되었습니다. ")
        elif kind == 2:
            b.add(f"{name} 고객님 연락처: ", (self.kr_phone(), "PHONE_NUMBER"), " 로 안내 문자를 보냈습니다. ")
        elif kind == 3:
            b.add(f"{f.company()} 사업자등록번호 ", (make_brn(r, dashed=r.random() < 0.8), "KR_BRN"), ". ")
        elif kind == 4:
            b.add(f"{name}님의 여권번호는 ", (make_passport(r), "KR_PASSPORT"), "이며 만료일은 내년입니다. ")
        elif kind == 5:
            b.add("운전면허번호 ", (make_driver_license(r), "KR_DRIVER_LICENSE"), " 확인 완료. ")
        elif kind == 6:
            b.add("외국인등록번호: ", (make_rrn(r, foreigner=True), "KR_FRN"), " ")
        else:
            b.add("문의는 이메일 ", (f.email(), "EMAIL_ADDRESS"), " 또는 전화 ", (self.kr_phone(), "PHONE_NUMBER"),
                  "으로 해 주세요. ")

    def filler(self, b: _Builder, lang: str) -> None:
        f = self.ko if lang == "ko" else self.en
        b.add(f.paragraph(nb_sentences=self.rng.randint(2, 6)), " ")

    def document(self, lang: str | None = None, n_pii: int | None = None, n_neg: int | None = None) -> SynthDoc:
        r = self.rng
        lang = lang or r.choice(["en", "ko", "mixed"])
        b = _Builder(lang)
        events = ["pii"] * (n_pii if n_pii is not None else r.randint(1, 4)) + \
                 ["neg"] * (n_neg if n_neg is not None else r.randint(1, 3)) + ["fill"] * r.randint(3, 8)
        r.shuffle(events)
        for e in events:
            el = lang if lang != "mixed" else r.choice(["en", "ko"])
            if e == "fill":
                self.filler(b, el)
            elif e == "neg":
                self.negative(b)
            else:
                (self.ko_pii if el == "ko" else self.en_pii)(b)
            if r.random() < 0.3:
                b.add("\n\n")
        return b.doc()

    def corpus(self, n: int, **kw) -> list[SynthDoc]:
        return [self.document(**kw) for _ in range(n)]


def score(docs: list[SynthDoc], findings: list[list], entities: list[str] | None = None) -> dict[str, dict]:
    """Per entity: tp/fn (a planted item counts as found when a finding of its type overlaps it), fp (findings
    overlapping no planted item of their type), leaked (planted items not fully covered by findings of any type),
    negatives_touched (hard negatives overlapped by any finding)."""
    stats: dict[str, dict] = {}

    def st(e):
        return stats.setdefault(e, {"tp": 0, "fn": 0, "fp": 0, "leaked": 0})

    neg_total = neg_touched = 0
    for doc, found in zip(docs, findings):
        for s in doc.positives:
            same = [f for f in found if f.entity == s.entity and f.start < s.end and f.end > s.start]
            st(s.entity)["tp" if same else "fn"] += 1
            covered = set()
            for f in found:
                covered.update(range(max(f.start, s.start), min(f.end, s.end)))
            if len(covered) < (s.end - s.start):
                st(s.entity)["leaked"] += 1
        for f in found:
            if not any(s.entity == f.entity and f.start < s.end and f.end > s.start for s in doc.positives):
                st(f.entity)["fp"] += 1
        for s in doc.negatives:
            neg_total += 1
            if any(f.start < s.end and f.end > s.start for f in found):
                neg_touched += 1
    for e, d in stats.items():
        d["precision"] = d["tp"] / max(1, d["tp"] + d["fp"])
        d["recall"] = d["tp"] / max(1, d["tp"] + d["fn"])
    stats["_negatives"] = {"total": neg_total, "touched": neg_touched}
    return stats
