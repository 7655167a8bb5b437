"""PII detection and replacement: a cheap gate picks candidate windows, Presidio's recognizers confirm them.

Why a gate: Presidio runs every recognizer over every character (its phone recognizer runs python-phonenumbers'
matcher once per region), about 0.1-0.6 MB/s per core. One scan (`curate.scrub.gate`) finds the places a structured
entity can be; Presidio's recognizers run on the windows around them only: each only where its own pre-gate
(`ENTITY_GATES`) finds something, the phone recognizer only for the regions a candidate can be valid in
(`curate.scrub.phone`). Secrets go through detect-secrets with their own line gates (`secrets.py`). Text with no
signature costs one scan. The results equal Presidio's over the whole text (tests/test_pii_gate_equivalence.py).

Offline: Presidio runs on its `NoOpNlpEngine` (no spaCy model, nothing downloaded), with pattern recognizers only;
the e-mail recognizer's tldextract uses its bundled public-suffix snapshot (`TLDExtract(suffix_list_urls=())`).

Context: Presidio's context enhancer compares token lemmas, which needs an NLP model and fails on Korean, where
particles attach to nouns ("주민등록번호는"). We match context words (English and Korean) as substrings of the
`context_before` characters before and `context_after` after a candidate, and add `context_boost` to its score.
Weak shapes (a bare digit run read as a phone number, an undashed BRN, an RRN with a failed checksum and no dash,
passports, driver's licences) need that context to pass `min_score`. Those and every other acceptance rule are one
table of named rules (`curate.scrub.rules`), counted per rule.

Korean, Chinese and Japanese: the recognizers read the text with those scripts' letters masked as a symbol
(`recognizer_view`), so that numbers and addresses glued to words ("010-1234-5678로") meet Presidio's `\b`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from curate.scrub.gate import ENTITY_GATE_RX, gate_for
from curate.scrub.korean import KO_CONTEXT
from curate.scrub.phone import RoutedPhoneRecognizer
from curate.scrub.rules import ANY_LENGTH_CARD, ANY_REGION_PHONE, HANGUL, KOREAN_NEAR, NEEDS_CONTEXT, SECRET, \
    Candidate, apply_rules, rules_for

log = logging.getLogger(__name__)

# entity types: Presidio's names where Presidio has the entity
STRUCTURED = ["EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS", "URL_CREDENTIALS",
              "US_SSN", "KR_RRN", "KR_FRN", "KR_BRN", "KR_PASSPORT", "KR_DRIVER_LICENSE"]
NER_ENTITIES = ["PERSON", "LOCATION"]
ALL_ENTITIES = STRUCTURED + [SECRET] + NER_ENTITIES

PLACEHOLDERS = {
    "EMAIL_ADDRESS": "<EMAIL>", "PHONE_NUMBER": "<PHONE>", "CREDIT_CARD": "<CREDIT_CARD>", "IBAN_CODE": "<IBAN>",
    "IP_ADDRESS": "<IP_ADDRESS>", "URL_CREDENTIALS": "<CREDENTIALS>", "US_SSN": "<US_SSN>", "KR_RRN": "<KR_RRN>",
    "KR_FRN": "<KR_FRN>", "KR_BRN": "<KR_BRN>", "KR_PASSPORT": "<KR_PASSPORT>",
    "KR_DRIVER_LICENSE": "<KR_DRIVER_LICENSE>", SECRET: "<SECRET>", "PERSON": "<PERSON>", "LOCATION": "<LOCATION>",
}

CONTEXT: dict[str, list[str]] = {
    "PHONE_NUMBER": ["phone", "tel", "mobile", "cell", "call", "fax", "contact", "whatsapp", "sms", "reach",
                     "dial", "desk", "전화", "연락처", "연락", "휴대폰", "핸드폰", "휴대전화", "문의", "팩스", "콜센터"],
    "CREDIT_CARD": ["credit", "card", "visa", "mastercard", "amex", "카드", "신용카드", "결제"],
    "IBAN_CODE": ["iban", "bank", "account", "계좌"],
    "IP_ADDRESS": ["ip", "ipv4", "ipv6", "address", "host", "server", "아이피", "주소"],
    "US_SSN": ["ssn", "social security", "social sec", "ssid"],
    "EMAIL_ADDRESS": ["email", "e-mail", "mail", "이메일", "메일"],
    **KO_CONTEXT,
}
# Hangul, Han ideographs and kana are letters to Presidio's regexes (`\b`, `\w`), and these scripts write numbers
# and addresses right next to words ("010-1234-5678로", "kim@naver.com으로", "카드번호는4111..."): the recognizers read
# the text with each such letter masked as a symbol (same length, so offsets hold), our rules the text itself.
_CJK_LETTER = re.compile(r"[\u1100-\u11ff\u3041-\u309f\u30a1-\u30fa\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff"
                         r"\uac00-\ud7a3\uf900-\ufaff]")
CJK_MASK = "\u203b"  # "※": not a word character, a space, phone punctuation nor a currency sign


def recognizer_view(text: str) -> str:
    """The text the recognizers read: Hangul, Han and kana letters masked (`CJK_MASK`)."""
    return text if text.isascii() else _CJK_LETTER.sub(CJK_MASK, text)


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
    disabled_rules: list[str] = []  # names of acceptance rules (curate.scrub.rules.RULES) to switch off
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
        def validate_result(self, pattern_text: str):
            # Presidio validates the whole match as a URL; a match that starts inside a URL's query
            # (`?email=jane@example.org`: its local part allows `?` and `=`) then has no host and the address
            # survived. Its domain alone validates it too (rules.py's email_local_part_in_url trims the start).
            extract = offline_tldextract()
            return extract(pattern_text).fqdn != "" or extract(pattern_text.rpartition("@")[2]).fqdn != ""

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


# A phone number's label written after it, as address blocks and signatures do ("416 60 039 office", "...-Fax")
_LABELS = r"(?:office|fax|mobile|cell|tel|phone)\b"
_LABEL_AFTER = r"[ \t]*[-(,]?[ \t]*" + _LABELS
_PHONE_LABEL_AFTER = re.compile(_LABEL_AFTER, re.IGNORECASE)
# Phone-shaped digit groups of any country: an optional "+country" or "(area)" and 2-5 groups of 2-4 digits joined by
# one space, "-", "." or "/", the last of up to 6 (`9472 7916`, `(37) 788-063`, `21 253 109 8211`, `99 577450`);
# "+country" and digits without a separator (`+447700677662`); or 7-12 digits without a separator and a label right
# after them (`3660170548-Fax`); 7-15 digits in all, and an optional extension (`+1-903-140-4508x769`, `... ext. 12`)
_PHONE_EXTENSION = r"(?:[ ]?(?:x|ext\.?)[ ]?\d{1,5})"
_ANY_REGION_PHONE = (r"(?:(?<![\w+.,/-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ ./-]\d{2,4}){0,3}"
                     r"[ ./-]\d{2,6}"
                     r"|(?<![\w+./-])(?<!\d,)\d{7,12}(?=(?i:" + _LABEL_AFTER + r"))"  # also after a comma (`...,3660170548-Fax`)
                     # "+country" numbers also unseparated (`+447700677662`) and after a comma (`...-Office,+44...`)
                     r"|(?<![\w+./-])\+\d{1,3}(?:[ .-]?\d{2,4}(?:[ ./-]\d{2,4}){1,4}|\d{4,12}))"
                     + _PHONE_EXTENSION + r"?(?![\w+]|[.,/-]\d)")
_EXTENSION_AT_END = re.compile(_PHONE_EXTENSION + r"\Z")


_PHONE_LABEL_WORD = re.compile(_LABELS, re.IGNORECASE)  # a superset: where none is, no label follows a candidate
# internal entities of weak recognizers -> (the entity they find, the candidate's kind the rules test)
INTERNAL = {ANY_LENGTH_CARD: ("CREDIT_CARD", ANY_LENGTH_CARD), ANY_REGION_PHONE: ("PHONE_NUMBER", ANY_REGION_PHONE)}


def _any_region_phone_recognizer():
    """Phone numbers python-phonenumbers cannot validate for the configured regions (national numbers of other
    countries): a weak pattern that rule `any_region_phone` makes a PHONE_NUMBER only after a phone word."""
    from presidio_analyzer import Pattern, PatternRecognizer

    class AnyRegionPhoneRecognizer(PatternRecognizer):
        def validate_result(self, pattern_text: str):
            number = _EXTENSION_AT_END.sub("", pattern_text)
            return 7 <= sum(ch.isdigit() for ch in number) <= 15

    return AnyRegionPhoneRecognizer(patterns=[Pattern("Phone, any region (very weak)", _ANY_REGION_PHONE,
                                                      NEEDS_CONTEXT)],
                                    supported_entity=ANY_REGION_PHONE, name="AnyRegionPhoneRecognizer")


def _iban_recognizer():
    """Presidio's IBAN recognizer, also for IBANs written in lower case (`my iban is gb42nawi0445...`): Presidio
    leaves those undecided and drops them; here they are checked upper-cased (checksum and the country's format),
    and rule `lower_case_iban` lets them count only with a context word."""
    from presidio_analyzer.predefined_recognizers import IbanRecognizer

    class AnyCaseIbanRecognizer(IbanRecognizer):
        def validate_result(self, pattern_text: str):
            return super().validate_result(pattern_text.upper())

    return AnyCaseIbanRecognizer(regex_flags=re.DOTALL | re.MULTILINE | re.IGNORECASE)


def build_analyzer(params: PiiParams):
    """Presidio's AnalyzerEngine on the no-op NLP engine with the pattern recognizers for `params.entities`.
    Every recognizer is registered for one analysis language, so Korean recognizers run on Korean, English and
    mixed text alike."""
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NoOpNlpEngine
    from presidio_analyzer.predefined_recognizers import (
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
        "PHONE_NUMBER": lambda: (RoutedPhoneRecognizer if params.gate else PhoneRecognizer)(
            supported_regions=tuple(params.phone_regions)),
        "CREDIT_CARD": _credit_card_recognizer, "IBAN_CODE": _iban_recognizer, "IP_ADDRESS": IpRecognizer,
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
    if "PHONE_NUMBER" in params.entities:
        registry.add_recognizer(_any_region_phone_recognizer())
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


class ContextWords:
    """Any of the (lower-case) context words: one regex search instead of a `w in s` per word. A Latin word must
    start a word ("tel" is not in "hotel", "cell" not in "excellent"); a Korean one may carry particles and compounds
    on either side ("전화번호는" holds "전화"). The plain alternation finds the candidates (a literal alternation is
    ~15x faster for `re` than one with a lookbehind per word); the word start is checked on the few it finds."""

    def __init__(self, words: list[str]):
        self.rx = re.compile("|".join(re.escape(w.lower()) for w in sorted(words, key=len, reverse=True)))

    def search(self, text: str) -> re.Match | None:
        for m in self.rx.finditer(text):
            first = m.group()[0]
            if not (first.isascii() and first.isalpha()) or m.start() == 0 or not text[m.start() - 1].isalpha():
                return m
        return None


class PiiScrubber:
    """Finds PII in a string and replaces it. Build once per process (it holds Presidio's engines)."""

    def __init__(self, params: PiiParams | None = None):
        self.params = params or PiiParams()
        p = self.params
        self.presidio_entities = [e for e in p.entities if e in STRUCTURED]
        if "CREDIT_CARD" in self.presidio_entities:
            self.presidio_entities.append(ANY_LENGTH_CARD)
        if "PHONE_NUMBER" in self.presidio_entities:
            self.presidio_entities.append(ANY_REGION_PHONE)
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
        self.context = {e: ContextWords(ws) for e, ws in CONTEXT.items() if ws}
        self.rules = rules_for(p.keep_private_ips, tuple(p.disabled_rules))
        self.rule_firings: Counter = Counter()  # rule name -> candidates it rejected, narrowed or weakened
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
            view = recognizer_view(text)
            for ws, we, ents in self.windows(view):
                if self.params.gate:
                    if ANY_REGION_PHONE in ents and self._any_region_phones_rejected(text, ws, we):
                        ents = ents - {ANY_REGION_PHONE}
                    results = self._analyze_window(view[ws:we], ents, self._bare_digit_phones_rejected(text, ws, we))
                else:
                    entities = [e for e in self.presidio_entities if e in ents]
                    if not entities:
                        continue
                    results = self.analyzer.analyze(view[ws:we], language="en", entities=entities,
                                                    score_threshold=0.0)
                for r in results:
                    entity, kind = INTERNAL.get(r.entity_type, (r.entity_type, ""))
                    f = self._judge(Candidate(text, entity, ws + r.start, ws + r.end, r.score, kind))
                    if f is not None:
                        found.append(f)
        if self.secrets is not None:
            for s in self.secrets.find(text):
                f = self._judge(Candidate(text, SECRET, s.start, s.end, 1.0, s.kind))
                if f is not None:
                    found.append(f)
        if self.nlp is not None:
            found.extend(self._ner(text))
        return resolve_overlaps(found)

    def take_rule_firings(self) -> Counter:
        """The rule firings counted since the last call (and reset)."""
        fired, self.rule_firings = self.rule_firings, Counter()
        return fired

    def _analyze_window(self, window: str, ents: frozenset, skip_bare_digits: bool = False) -> list:
        """What `AnalyzerEngine.analyze(window, entities=ents, score_threshold=0)` returns, without its per-call
        overhead: the recognizers of the wanted entities whose pre-gate finds something in the window, then
        Presidio's own de-duplication. (On the no-op NLP engine, Presidio's lemma context enhancer has no tokens
        and changes no score; context is ours, in `_judge`. tests/test_pii_gate_equivalence.py checks the
        equality.) `skip_bare_digits`: see `RoutedPhoneRecognizer.analyze`."""
        from presidio_analyzer import EntityRecognizer

        results = []
        for entity, rec, gate, own in self._recognizers:
            if entity not in ents or (gate is not None and gate.search(window) is None):
                continue
            if own is not None and not _own_hit(rec, own, window):
                continue  # no match of its patterns can be a result: it returns nothing (skips its overhead)
            if isinstance(rec, RoutedPhoneRecognizer):
                results.extend(rec.analyze(window, [entity], None, skip_bare_digits=skip_bare_digits))
            else:
                results.extend(rec.analyze(window, [entity], None))
        return EntityRecognizer.remove_duplicates(results) if results else results

    def _any_region_phones_rejected(self, text: str, ws: int, we: int) -> bool:
        """Would `_judge` reject every match of the any-region phone recognizer in text[ws:we]? Yes when its rule is
        on, the phone min_score is above NEEDS_CONTEXT, and neither a phone context word (in text[ws - context_before:
        we], which holds every candidate's context snippet) nor a label word just after the window is there: then
        the recognizer is not run (most windows: dates, prices, ids in prose)."""
        p = self.params
        if "any_region_phone" in p.disabled_rules or p.min_score.get("PHONE_NUMBER", p.default_min_score) <= NEEDS_CONTEXT:
            return False
        return (self.context["PHONE_NUMBER"].search(text[max(0, ws - p.context_before):we].lower()) is None
                and _PHONE_LABEL_WORD.search(text, ws, we + 24) is None)

    def _bare_digit_phones_rejected(self, text: str, ws: int, we: int) -> bool:
        """Would `_judge` reject every digits-only phone match in text[ws:we]? Yes when the rule `bare_digit_run`
        is on and gives them a score (NEEDS_CONTEXT) below the phone min_score, no phone context word is in
        text[ws - context_before:we] (which holds the context snippet (`_context_snippet(after=False)`) of every
        candidate in the window), and no Hangul is within KOREAN_NEAR characters of the window (where a Korean
        mobile number is exempt from the rule)."""
        p = self.params
        if "bare_digit_run" in p.disabled_rules or p.min_score.get("PHONE_NUMBER", p.default_min_score) <= NEEDS_CONTEXT:
            return False
        if HANGUL.search(text, max(0, ws - KOREAN_NEAR), we + KOREAN_NEAR) is not None:
            return False
        return self.context["PHONE_NUMBER"].search(text[max(0, ws - p.context_before):we].lower()) is None

    def _judge(self, c: Candidate) -> Finding | None:
        """The acceptance rules (`curate.scrub.rules`), then context words and the entity's min_score."""
        p = self.params
        c = apply_rules(c, self.rules.get(c.entity, ()), self._fired)
        if c is None:
            return None
        score = c.score
        words = self.context.get(c.entity)
        # a weak candidate needs its context word before it; a phone number of another country's shape may instead
        # carry its label right after it, as address blocks write it ("416 60 039 office", "082 490 1693-Fax")
        if words is not None and (words.search(self._context_snippet(c.text, c.start, c.end, after=score >= 0.2))
                                  or c.kind == ANY_REGION_PHONE and _PHONE_LABEL_AFTER.match(c.text, c.end)):
            score = min(1.0, score + p.context_boost)
        if score < p.min_score.get(c.entity, p.default_min_score):
            return None
        return Finding(c.start, c.end, c.entity, score)

    def _fired(self, rule: str) -> None:
        self.rule_firings[rule] += 1

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
# (a 13-digit number can be a valid RRN and a Luhn-valid card: a real birth date and the RRN checksum say more)
PRIORITY = {"URL_CREDENTIALS": 0, SECRET: 1, "KR_RRN": 2, "KR_FRN": 2, "KR_BRN": 2, "KR_PASSPORT": 2,
            "KR_DRIVER_LICENSE": 2, "US_SSN": 2, "CREDIT_CARD": 3, "IBAN_CODE": 3, "EMAIL_ADDRESS": 4,
            "IP_ADDRESS": 4, "PHONE_NUMBER": 5}


def resolve_overlaps(found: list[Finding]) -> list[Finding]:
    """Non-overlapping findings: secrets and URL credentials first, then the higher score, then the longer span."""
    kept: list[Finding] = []
    for f in sorted(found, key=lambda f: (PRIORITY.get(f.entity, 6), -f.score, -(f.end - f.start), f.start)):
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
