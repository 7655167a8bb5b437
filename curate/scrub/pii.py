"""PII detection and replacement: a cheap gate picks candidate windows, Presidio's recognizers confirm them.

Why a gate: Presidio runs every recognizer over every character (its phone recognizer runs python-phonenumbers'
matcher once per region), about 0.1-0.6 MB/s per core. One scan (`curate.scrub.gate`) finds the places a structured
entity can be; Presidio's recognizers run on the windows around them only: each only where its own pre-gate
(`ENTITY_GATES`) finds something, the phone recognizer only for the regions a candidate can be valid in
(`curate.scrub.phone`). Secrets go through detect-secrets with their own line gates (`secrets.py`). Text with no
signature costs one scan. The results equal Presidio's over the whole text (tests/test_pii.py).

Offline: Presidio runs on its `NoOpNlpEngine` (no spaCy model, nothing downloaded), with pattern recognizers only;
the e-mail recognizer's tldextract uses its bundled public-suffix snapshot (`TLDExtract(suffix_list_urls=())`).

Context: Presidio's context enhancer compares token lemmas, which needs an NLP model and fails on Korean, where
particles attach to nouns ("주민등록번호는"). We match context words (English and Korean) as substrings of the
`context_before` characters before and `context_after` after a candidate, and add `context_boost` to its score.
Weak shapes (a bare digit run read as a phone number, an undashed BRN, an RRN with a failed checksum and no dash,
passports, driver's licences) need that context to pass `min_score`.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import os
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from curate.scrub.gate import ANY_LENGTH_CARD, ENTITY_GATE_RX, gate_for
from curate.scrub.korean import KO_CONTEXT
from curate.scrub.phone import routed_phone_recognizer_cls

log = logging.getLogger(__name__)

# entity types: Presidio's names where Presidio has the entity
STRUCTURED = ["EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS", "URL_CREDENTIALS",
              "US_SSN", "KR_RRN", "KR_FRN", "KR_BRN", "KR_PASSPORT", "KR_DRIVER_LICENSE"]
NER_ENTITIES = ["PERSON", "LOCATION"]
SECRET = "SECRET"
ALL_ENTITIES = STRUCTURED + [SECRET] + NER_ENTITIES

PLACEHOLDERS = {
    "EMAIL_ADDRESS": "<EMAIL>", "PHONE_NUMBER": "<PHONE>", "CREDIT_CARD": "<CREDIT_CARD>", "IBAN_CODE": "<IBAN>",
    "IP_ADDRESS": "<IP_ADDRESS>", "URL_CREDENTIALS": "<CREDENTIALS>", "US_SSN": "<US_SSN>", "KR_RRN": "<KR_RRN>",
    "KR_FRN": "<KR_FRN>", "KR_BRN": "<KR_BRN>", "KR_PASSPORT": "<KR_PASSPORT>",
    "KR_DRIVER_LICENSE": "<KR_DRIVER_LICENSE>", SECRET: "<SECRET>", "PERSON": "<PERSON>", "LOCATION": "<LOCATION>",
}

CONTEXT: dict[str, list[str]] = {
    "PHONE_NUMBER": ["phone", "tel", "mobile", "cell", "call", "fax", "contact", "whatsapp", "sms", "reach",
                     "dial", "전화", "연락처", "연락", "휴대폰", "핸드폰", "휴대전화", "문의", "팩스", "콜센터"],
    "CREDIT_CARD": ["credit", "card", "visa", "mastercard", "amex", "카드", "신용카드", "결제"],
    "IBAN_CODE": ["iban", "bank", "account", "계좌"],
    "IP_ADDRESS": ["ip", "ipv4", "ipv6", "address", "host", "server", "아이피", "주소"],
    "US_SSN": ["ssn", "social security", "social sec", "ssid"],
    "EMAIL_ADDRESS": ["email", "e-mail", "mail", "이메일", "메일"],
    **KO_CONTEXT,
}
# words right before a dotted quad that make it something other than an IP address; and a package version
# (`novas-3.1.1.3`, `novas==3.1.1.3`)
_IP_NEGATIVE = re.compile(r"(?:\bversion|\bver|\brelease|\bbuild|\bv|버전)[\s.:#]*$|[A-Za-z]-$|[=<>~!]=\s*$", re.I)
# a number that is the fractional part of a decimal (`0.3712595970846668`, `5.666666666666667`) or is followed by one
# more dotted group (`5.2.4.2.2`: a section number) is neither a card, a phone number nor an IPv4 address
_DECIMAL_BEFORE = re.compile(r"\d\.$")
_DECIMAL_AFTER = re.compile(r"\.\d")
_DOTTED_QUAD = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])")  # an IPv4 address, or one and a port
_ZERO_DECIMAL = re.compile(r"0\.\d+")  # 0.954312: a fraction, never how a phone number is written
_DIGIT_GROUPS = re.compile(r"\d+")
_SHORT_DOTTED = re.compile(r"\d{1,3}(?:\.\d{1,3}){2,}")  # 16.8.0: a version (with < 7 digits; see _judge)
_ISBN_BEFORE = re.compile(r"\bISBN(?:-1[03])?[\s:]*$", re.I)
# reStructuredText ends a paragraph with "::" before a literal block: `... higher than 50::` is no IPv6 address
_HEX_GROUP_AND_COLONS = re.compile(r"[0-9A-Fa-f]{1,4}::")


# phone matches that are other identifiers: RRN/FRN shape (YYMMDD-GNNNNNN), Korean driver's licence shape
_NOT_PHONE = re.compile(r"\(?\d{6}[-\s]\d{7}\)?|\(?\d{2}-\d{2}-\d{6}-\d{2}\)?")
_URL_CREDENTIALS = r"(?<=://)[^\s:/?#@\[\]]{1,256}:[^\s/?#@]{1,256}(?=@[^\s@])"


class OperatorSpec(BaseModel):
    """How one entity type is replaced: `replace` (a typed placeholder), `mask` or `hash` (salted HMAC-SHA256)."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["replace", "mask", "hash"] = "replace"
    new_value: str | None = None  # replace: default is the typed placeholder (<EMAIL>, <PHONE>, ...)
    masking_char: str = "*"  # mask: every character of the value
    hash_chars: int = Field(12, ge=4, le=64)  # hash: hex characters kept, as <EMAIL:1f3a...>


class PiiParams(BaseModel):
    """The PII step's parameters (also the defaults of `curate scrub`)."""

    model_config = ConfigDict(extra="forbid")
    entities: list[str] = Field(default_factory=lambda: list(ALL_ENTITIES))  # PERSON/LOCATION only with an NER model
    operator: OperatorSpec = OperatorSpec()  # for every entity type without its own entry in `operators`
    operators: dict[str, OperatorSpec] = {}  # per entity type, e.g. {EMAIL_ADDRESS: {type: hash}}
    hash_salt_env: str = "CURATE_PII_SALT"  # hash: the salt is read from this environment variable (>= 16 chars)
    phone_regions: list[str] = ["KR", "US", "GB", "DE", "FR", "IL", "IN", "BR"]  # Presidio's defaults (CA is US) + KR
    keep_private_ips: bool = True  # private, loopback, link-local and reserved addresses are not personal
    min_score: dict[str, float] = {}  # per entity type; default `default_min_score`
    default_min_score: float = 0.4  # Presidio score a finding needs (after context boosts)
    context_boost: float = 0.4  # added to a finding's score when a context word is near it
    context_before: int = 48  # characters before a candidate searched for context words
    context_after: int = 16  # characters after a candidate searched for context words
    gate: bool = True  # False: Presidio over the whole text, every detect-secrets plugin on every line (slow)
    presidio_nlp: Literal["noop", "blank_spacy"] = "noop"  # Presidio's NLP engine (blank_spacy: tokens, no model)
    margin: int = 32  # characters around a gate hit given to Presidio
    ner_model: str | None = "auto"  # spaCy model name or local path for PERSON/LOCATION; "auto": an installed one
    ner_max_chars: int = 100_000  # longer documents are cut to this many characters for NER

    @field_validator("entities", "operators")
    @classmethod
    def _known(cls, v):
        bad = [e for e in v if e not in ALL_ENTITIES]
        if bad:
            raise ValueError(f"unknown entity types {bad}; known: {ALL_ENTITIES}")
        return v


@dataclass(frozen=True)
class Finding:
    start: int
    end: int
    entity: str
    score: float


@lru_cache(maxsize=1)
def offline_tldextract():
    """tldextract without network: the bundled public-suffix snapshot, no cache directory writes."""
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def _email_recognizer_cls():
    from presidio_analyzer.predefined_recognizers import EmailRecognizer

    class OfflineEmailRecognizer(EmailRecognizer):
        """Presidio's e-mail recognizer, offline, that also finds addresses in URL query strings and paths.

        Presidio's pattern allows `?`, `=`, `&`, `/` in the local part (RFC 5322 does), so in
        `...?email=jane@example.org` it matches from the `?`-led query on, and its validation (tldextract over the
        whole match) then fails: the address survived. We validate the domain, and start the match after the last
        URL delimiter of its local part."""

        def validate_result(self, pattern_text: str):
            return offline_tldextract()(pattern_text.rpartition("@")[2]).fqdn != ""

        def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):
            results = super().analyze(text, entities, nlp_artifacts, regex_flags)
            for r in results:
                local = text[r.start:r.end].rpartition("@")[0]
                cut = max(local.rfind(c) for c in "?=&/#")
                if 0 <= cut < len(local) - 1:
                    r.start += cut + 1
            return results

    return OfflineEmailRecognizer



def _url_credentials_recognizer():
    from presidio_analyzer import Pattern, PatternRecognizer

    return PatternRecognizer(supported_entity="URL_CREDENTIALS", name="UrlCredentialsRecognizer",
                             patterns=[Pattern("user:password@ in a URL", _URL_CREDENTIALS, 0.9)],
                             supported_language="en")


def _credit_card_recognizer():
    """Presidio's card recognizer (Luhn-checked), plus Mastercard's 2221-2720 range, which its pattern lacks."""
    from presidio_analyzer import Pattern
    from presidio_analyzer.predefined_recognizers import CreditCardRecognizer

    patterns = list(CreditCardRecognizer.PATTERNS) + [
        Pattern("Mastercard 2-series (weak)", r"\b2[2-7]\d{2}[- ]?\d{4}[- ]?\d{4}[- ]?\d{4}\b", 0.3)]
    return CreditCardRecognizer(patterns=patterns)


def _any_length_card_recognizer():
    """Undelimited 12-19 digit numbers that pass Luhn (Maestro, 19-digit Visa...): reported as CREDIT_CARD only
    with a context word (a Luhn-valid number is 1 in 10 of all numbers)."""
    from presidio_analyzer import Pattern
    from presidio_analyzer.predefined_recognizers import CreditCardRecognizer

    return CreditCardRecognizer(patterns=[Pattern("Card, any length (very weak)", r"(?<![\d-])\d{12,19}(?![\d-])", 0.05)],
                                supported_entity=ANY_LENGTH_CARD, name="AnyLengthCardRecognizer")


def build_analyzer(params: PiiParams):
    """Presidio's AnalyzerEngine on the no-op NLP engine with the pattern recognizers for `params.entities`.
    Every recognizer is registered for one analysis language, so Korean recognizers run on Korean, English and
    mixed text alike."""
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NoOpNlpEngine
    from presidio_analyzer.predefined_recognizers import (
        IbanRecognizer,
        IpRecognizer,
        PhoneRecognizer,
        UsSsnRecognizer,
    )

    from curate.scrub.korean import (
        KoBrnRecognizer,
        KoDriverLicenseRecognizer,
        KoFrnRecognizer,
        KoPassportRecognizer,
        KoRrnRecognizer,
    )

    makers = {
        "EMAIL_ADDRESS": lambda: _email_recognizer_cls()(),
        "PHONE_NUMBER": lambda: (routed_phone_recognizer_cls() if params.gate else PhoneRecognizer)(
            supported_regions=tuple(params.phone_regions)),
        "CREDIT_CARD": _credit_card_recognizer, "IBAN_CODE": IbanRecognizer, "IP_ADDRESS": IpRecognizer,
        "URL_CREDENTIALS": _url_credentials_recognizer, "US_SSN": UsSsnRecognizer,
        "KR_RRN": KoRrnRecognizer, "KR_FRN": KoFrnRecognizer, "KR_BRN": KoBrnRecognizer,
        "KR_PASSPORT": KoPassportRecognizer, "KR_DRIVER_LICENSE": KoDriverLicenseRecognizer,
    }
    registry = RecognizerRegistry(supported_languages=["en"])
    for entity in params.entities:
        if entity in makers:
            registry.add_recognizer(makers[entity]())
    if "CREDIT_CARD" in params.entities:
        registry.add_recognizer(_any_length_card_recognizer())
    if params.presidio_nlp == "blank_spacy":
        import spacy
        from presidio_analyzer.nlp_engine import SpacyNlpEngine

        class BlankSpacyNlpEngine(SpacyNlpEngine):
            def load(self):
                self.nlp = {"en": spacy.blank("en")}

        engine = BlankSpacyNlpEngine(models=[{"lang_code": "en", "model_name": "blank"}])
    else:
        engine = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "noop"}])
    engine.load()
    return AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["en"])


def _own_patterns(rec) -> tuple | None:
    """A pattern recognizer's own regexes, compiled as `PatternRecognizer.analyze` compiles them (the `regex`
    module, its `global_regex_flags`), when its `analyze` is Presidio's: it finds nothing in a text where none of
    them matches, so it need not be called there (Presidio's per-call work: timing, logging, explanations).
    None for recognizers with their own `analyze` (IBAN, phone)."""
    from presidio_analyzer import PatternRecognizer

    if not isinstance(rec, PatternRecognizer) or type(rec).analyze is not PatternRecognizer.analyze or not rec.patterns:
        return None
    import regex

    return tuple(regex.compile(p.regex, flags=rec.global_regex_flags) for p in rec.patterns)


def _own_hit(rec, own: tuple, window: str) -> bool:
    """Can Presidio's `PatternRecognizer.analyze` return a result on `window`? Only from a non-empty match of one of
    its patterns (`own`, compiled as it compiles them) that its `validate_result` does not reject (False) and its
    `invalidate_result` does not invalidate: it gives those the minimum score and drops them. (A superset: a match
    with a positive validation or None is counted whatever its score.)"""
    for rx in own:
        for m in rx.finditer(window):
            t = m.group()
            if t and rec.validate_result(t) is not False and not rec.invalidate_result(t):
                return True
    return False


def _words_regex(words: list[str]) -> re.Pattern:
    """Any of the (lower-case) context words as a substring: one regex search instead of a `w in s` per word."""
    return re.compile("|".join(re.escape(w.lower()) for w in sorted(words, key=len, reverse=True)))


class PiiScrubber:
    """Finds PII in a string and replaces it. Build once per process (it holds Presidio's engines)."""

    def __init__(self, params: PiiParams | None = None):
        self.params = params or PiiParams()
        p = self.params
        self.presidio_entities = [e for e in p.entities if e in STRUCTURED]
        if "CREDIT_CARD" in self.presidio_entities:
            self.presidio_entities.append(ANY_LENGTH_CARD)
        self.analyzer = build_analyzer(p) if self.presidio_entities else None
        self.gate = gate_for(tuple(p.phone_regions) if "PHONE_NUMBER" in p.entities else ())
        # gated path: each entity's recognizers, called directly on the windows its pre-gate passes
        self._recognizers: list[tuple[str, object, re.Pattern | None, tuple | None]] = []
        if self.analyzer is not None:
            for rec in self.analyzer.registry.get_recognizers(language="en", entities=self.presidio_entities):
                entity = rec.supported_entities[0]
                self._recognizers.append((entity, rec, ENTITY_GATE_RX.get(entity), _own_patterns(rec)))
        self.secrets = None
        if SECRET in p.entities:
            from curate.scrub.secrets import SecretScanner

            self.secrets = SecretScanner(gated=p.gate)
        self.context = {e: _words_regex(ws) for e, ws in CONTEXT.items() if ws}
        self.nlp = None
        self.ner_note: str | None = None
        wanted_ner = [e for e in p.entities if e in NER_ENTITIES]
        if wanted_ner and p.ner_model:
            self.nlp, self.ner_note = load_ner(p.ner_model)
        self._anonymizer = None
        self._operators = None

    # -- detection ------------------------------------------------------------------------------------------------
    def windows(self, text: str) -> list[tuple[int, int, frozenset]]:
        if not self.params.gate:
            return [(0, len(text), frozenset(self.presidio_entities))] if text else []
        return self.gate.windows(text, self.params.margin)

    def analyze(self, text: str) -> list[Finding]:
        found: list[Finding] = []
        if self.analyzer is not None:
            for ws, we, ents in self.windows(text):
                if self.params.gate:
                    results = self._analyze_window(text[ws:we], ents, text, ws)
                else:
                    entities = [e for e in self.presidio_entities if e in ents]
                    if not entities:
                        continue
                    results = self.analyzer.analyze(text[ws:we], language="en", entities=entities,
                                                    score_threshold=0.0)
                for r in results:
                    f = self._judge(text, r.entity_type, ws + r.start, ws + r.end, r.score)
                    if f is not None:
                        found.append(f)
        if self.secrets is not None:
            found.extend(Finding(s.start, s.end, SECRET, 1.0) for s in self.secrets.find(text))
        if self.nlp is not None:
            found.extend(self._ner(text))
        return resolve_overlaps(found)

    def _analyze_window(self, window: str, ents: frozenset, text: str | None = None, ws: int = 0) -> list:
        """What `AnalyzerEngine.analyze(window, entities=ents, score_threshold=0)` returns, without its per-call
        overhead: the recognizers of the wanted entities whose pre-gate finds something in the window, then
        Presidio's own de-duplication. (On the no-op NLP engine, Presidio's lemma context enhancer has no tokens
        and changes no score; context is ours, in `_judge`. tests/test_pii.py checks the equality.)"""
        from presidio_analyzer import EntityRecognizer

        results = []
        for entity, rec, gate, own in self._recognizers:
            if entity not in ents or (gate is not None and gate.search(window) is None):
                continue
            if own is not None and not _own_hit(rec, own, window):
                continue  # no match of its patterns can be a result: it returns nothing (skips its overhead)
            if entity == "PHONE_NUMBER" and hasattr(rec, "skip_bare_digits"):
                rec.skip_bare_digits = text is not None and self._bare_digit_phones_rejected(text, ws, ws + len(window))
            results.extend(rec.analyze(window, [entity], None))
        return EntityRecognizer.remove_duplicates(results) if results else results

    def _bare_digit_phones_rejected(self, text: str, ws: int, we: int) -> bool:
        """Would `_judge` reject every digits-only phone match in text[ws:we]? Yes when their score (0.1) is below
        the phone min_score and no phone context word is in text[ws - context_before:we], which holds the context
        snippet (`_context_snippet(after=False)`) of every candidate in the window."""
        p = self.params
        if p.min_score.get("PHONE_NUMBER", p.default_min_score) <= 0.1:
            return False
        return self.context["PHONE_NUMBER"].search(text[max(0, ws - p.context_before):we].lower()) is None

    def _judge(self, text: str, entity: str, start: int, end: int, score: float) -> Finding | None:
        """Our acceptance rules on top of Presidio's score (see the module docstring)."""
        p = self.params
        value = text[start:end]
        if entity == ANY_LENGTH_CARD:
            entity, score = "CREDIT_CARD", 0.05  # Luhn passed, but needs a context word
        if value[:1].isdigit() and ":" not in value and (
                _DECIMAL_BEFORE.search(text, max(0, start - 2), start) or _DECIMAL_AFTER.match(text, end)):
            return None  # digits of a decimal number, or of a longer dotted one (a section or version number)
        if entity == "PHONE_NUMBER":
            if _NOT_PHONE.fullmatch(value) or _DOTTED_QUAD.search(value) or _ZERO_DECIMAL.fullmatch(value):
                return None  # shaped like a Korean RRN, a driver's licence, an IPv4 address (judged as one), a fraction
            groups = _DIGIT_GROUPS.findall(value)
            if _SHORT_DOTTED.fullmatch(value) and sum(map(len, groups)) < 7:
                return None  # a version number (Germany's 4-digit pagers read "16.8.0" as one of theirs)
            if _ISBN_BEFORE.search(text, max(0, start - 12), start):
                return None
            if value.isdigit() or value.count("(") != value.count(")") or (
                    len(groups) >= 6 and max(map(len, groups)) <= 2):
                # a bare digit run (an id, a count, a number in code), an unbalanced bracket (`format(1234567890`),
                # six or more groups of 1-2 digits (a calendar row `6  7  8  9 10 11 12`) are phone numbers only
                # with context
                score = 0.1
        elif entity == "CREDIT_CARD" and value.isdigit() and value[0] == "1":
            score = min(score, 0.05)  # undelimited UATP shape: timestamps and ids in code; needs a context word
        elif entity == "KR_BRN" and "-" not in value:
            score = min(score, 0.1)
        elif entity in ("KR_RRN", "KR_FRN") and score < 1.0 and "-" not in value:
            score = 0.1  # failed checksum (maybe issued after 2020) and no dash: needs context
        elif entity == "KR_DRIVER_LICENSE":
            score = 0.05  # region-code check only: needs context
        elif entity == "IP_ADDRESS":
            try:
                ip = ipaddress.ip_address(value.split("/")[0].split("%")[0])
            except ValueError:
                ip = None
            if ip is not None and p.keep_private_ips and (ip.is_private or ip.is_loopback or ip.is_link_local
                                                          or ip.is_multicast or ip.is_unspecified
                                                          or (ip.version == 4 and ip.is_reserved)):
                return None
            if _IP_NEGATIVE.search(text, max(0, start - 16), start):
                return None
            if _HEX_GROUP_AND_COLONS.fullmatch(value):
                return None
        words = self.context.get(entity)
        if words is not None and words.search(self._context_snippet(text, start, end, after=score >= 0.2)):
            score = min(1.0, score + p.context_boost)
        if score < p.min_score.get(entity, p.default_min_score):
            return None
        return Finding(start, end, entity, score)

    def _context_snippet(self, text: str, start: int, end: int, after: bool = True) -> str:
        """The text before a candidate on its line (or the previous line when nothing precedes it on its own, as
        in "연락처:\n010-..."), and with `after` the text after it on its line; lower case."""
        p = self.params
        before = text[max(0, start - p.context_before):start]
        nl = before.rfind("\n")
        if nl != -1:
            if before[nl + 1:].strip(" \t:：-"):
                before = before[nl + 1:]
            else:
                prev = before.rfind("\n", 0, nl)
                before = before[prev + 1:]
        snippet = before
        if after:
            snippet += " " + text[end:end + p.context_after].split("\n", 1)[0]
        return snippet.lower()

    def _ner(self, text: str) -> list[Finding]:
        labels = {"PERSON": "PERSON", "PER": "PERSON", "GPE": "LOCATION", "LOC": "LOCATION", "LC": "LOCATION",
                  "PS": "PERSON"}
        wanted = set(self.params.entities)
        out = []
        for chunk_start in range(0, len(text), self.params.ner_max_chars):
            doc = self.nlp(text[chunk_start:chunk_start + self.params.ner_max_chars])
            for ent in doc.ents:
                entity = labels.get(ent.label_)
                if entity and entity in wanted:
                    out.append(Finding(chunk_start + ent.start_char, chunk_start + ent.end_char, entity, 0.85))
        return out

    # -- replacement ----------------------------------------------------------------------------------------------
    def _operator_configs(self):
        if self._operators is None:
            from presidio_anonymizer.entities import OperatorConfig

            ops = {}
            for entity in ALL_ENTITIES:
                spec = self.params.operators.get(entity, self.params.operator)
                if spec.type == "replace":
                    ops[entity] = OperatorConfig("replace", {"new_value": spec.new_value or PLACEHOLDERS[entity]})
                elif spec.type == "mask":
                    ops[entity] = OperatorConfig("mask", {"masking_char": spec.masking_char, "chars_to_mask": 10**9,
                                                          "from_end": False})
                else:
                    salt = os.environ.get(self.params.hash_salt_env, "")
                    if len(salt) < 16:
                        raise ValueError(f"hash replacement needs a salt of >= 16 characters in "
                                         f"${self.params.hash_salt_env}")
                    ops[entity] = OperatorConfig("custom", {"lambda": _hasher(entity, salt.encode(),
                                                                              spec.hash_chars)})
            self._operators = ops
        return self._operators

    def replace(self, text: str, findings: list[Finding]) -> str:
        if not findings:
            return text
        from presidio_anonymizer import AnonymizerEngine
        from presidio_anonymizer.entities import RecognizerResult

        if self._anonymizer is None:
            self._anonymizer = AnonymizerEngine()
        results = [RecognizerResult(f.entity, f.start, f.end, f.score) for f in findings]
        return self._anonymizer.anonymize(text=text, analyzer_results=results,
                                          operators=self._operator_configs()).text

    def scrub(self, text: str) -> tuple[str, dict[str, int]]:
        """(scrubbed text, {entity type: count}); the counts hold no values."""
        findings = self.analyze(text)
        return self.replace(text, findings), dict(Counter(f.entity for f in findings))


def _hasher(entity: str, salt: bytes, n: int):
    tag = PLACEHOLDERS[entity][1:-1]

    def h(value: str) -> str:
        return f"<{tag}:{hmac.new(salt, value.encode('utf-8'), hashlib.sha256).hexdigest()[:n]}>"

    return h


# overlapping findings: the more specific type wins (each was already accepted on its own evidence)
PRIORITY = {"URL_CREDENTIALS": 0, SECRET: 1, "KR_RRN": 2, "KR_FRN": 2, "KR_BRN": 2, "KR_PASSPORT": 2,
            "KR_DRIVER_LICENSE": 2, "US_SSN": 2, "CREDIT_CARD": 2, "IBAN_CODE": 2, "EMAIL_ADDRESS": 3,
            "IP_ADDRESS": 3, "PHONE_NUMBER": 4}


def resolve_overlaps(found: list[Finding]) -> list[Finding]:
    """Non-overlapping findings: secrets and URL credentials first, then the higher score, then the longer span."""
    kept: list[Finding] = []
    for f in sorted(found, key=lambda f: (PRIORITY.get(f.entity, 5), -f.score, -(f.end - f.start), f.start)):
        if all(f.end <= k.start or f.start >= k.end for k in kept):
            kept.append(f)
    return sorted(kept, key=lambda f: f.start)


def load_ner(model: str | None):
    """A spaCy pipeline with an NER component: `model` (a package name or a local path), or with "auto"/None the
    first installed spaCy model package. Returns (nlp or None, a note for the run log)."""
    import spacy

    candidates = [model] if model and model != "auto" else sorted(spacy.util.get_installed_models())
    for name in candidates:
        try:
            nlp = spacy.load(name, exclude=["lemmatizer", "tagger", "parser", "attribute_ruler"])
        except (OSError, ImportError, ValueError) as e:
            if model and model != "auto":
                raise ValueError(f"cannot load spaCy NER model {model!r}: {e}") from None
            continue
        if "ner" in nlp.pipe_names:
            return nlp, f"PERSON/LOCATION detected with spaCy model {name}"
    return None, ("no spaCy NER model installed or given (ner_model); PERSON and LOCATION are not detected, "
                  "pattern entities only")
