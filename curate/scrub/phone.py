"""Phone numbers: Presidio's PhoneRecognizer with python-phonenumbers' matcher parsing each candidate only for the
regions that can make it valid, and the short national numbers the PII gate must look for.

Presidio's PhoneRecognizer runs python-phonenumbers' PhoneNumberMatcher once per region; each run parses every
digit-run candidate (and its inner sub-candidates) with that region as the default (~50-100 us a parse). Whether a
region can make a candidate valid is decided by a necessary condition that costs a few regex calls: a candidate
of digits and separators only (no '+', letters or extension marks) is parsed, with default region R, either as an
international number after R's international (IDD) prefix, or as a national one whose national significant number
(NSN) is its digits less R's country code and/or national prefix (carrier code), stripped as it strips them;
is_valid_number requires the NSN to match the description (possible lengths and pattern) of one number type
(fixed line, mobile, toll free, ...) of a region of its country code. When none of those NSNs does for R, and R's
IDD prefix does not start the digits, the parse for R cannot give a valid number and is skipped. When neither R's
country code nor its national prefix starts the digits, the NSN is the digits themselves and the matcher (VALID
leniency) also needs the national prefix where the number's format writes one (`_national_prefix_ok`: Germany's
`551-1473`, `20250612-11131` are valid fixed-line NSNs, but need a leading 0 to be a match there); every other
candidate goes to python-phonenumbers as before. The matcher, its
candidate extraction, date/time-stamp skips, inner matches and verification are python-phonenumbers' own, so the
results are the same as Presidio's (tests/test_pii_gate_equivalence.py checks the condition against parse() + the matcher's
`_verify` on random candidates and the recognizer against Presidio's).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneMetadata
from curate.scrub import import_presidio

import_presidio()  # without torch (see curate/scrub/__init__.py)

from presidio_analyzer import EntityRecognizer
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

from curate.scrub import phonenumbers_internals as internals

# Candidates whose digits are all python-phonenumbers parses: digits and punctuation it drops (`normalize_digits_only`)
# and that mean nothing else to it; with "x", "~" (extension marks) the number is the digits before an extension of
# at most 9 digits (`_EXTN_PATTERNS_FOR_PARSING`). Any other character (a "+", letters, "ext", "#"): always parsed.
_SAFE_CHARS = (r"\d \t\n\-.()/\[\]\u00a0\u00ad\u200b\u2060\u2010-\u2015\u2212\u2053\u223c\u30fc\u3000"
               r"\uff08\uff09\uff0d-\uff0f\uff3b\uff3d")
_PHONE_SAFE = re.compile(f"[{_SAFE_CHARS}]+")
_PHONE_SAFE_EXT = re.compile(f"[{_SAFE_CHARS}xX~\uff5e]+")
# Every number written in international form has >= 6 digits (the shortest: a 2-digit country code and a 4-digit
# NSN, as in Austria, Germany, Iran; tests/test_pii_gate_equivalence.py checks it against the metadata of every
# country).
MIN_INTERNATIONAL_DIGITS = 6
_NON_DIGIT = re.compile(r"\D")


_PHONE_TYPES = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan", "voicemail",
                "fixed_line", "mobile")


@dataclass(frozen=True)
class RegionRule:
    """What python-phonenumbers' parse does with a national number of one region, as regexes."""

    idd: re.Pattern  # the international (IDD) prefix
    country_code: str
    national_prefix: re.Pattern | None  # national prefix (and carrier code) for parsing
    transform: str | None  # the national prefix transform rule
    nsn_by_length: dict[int, re.Pattern]  # valid NSNs of each possible length (every number type of the country)
    nsn_any_length: re.Pattern | None  # valid NSNs of number types that list no possible lengths


class PhoneRoute:
    """Per region: can a candidate made of digits and separators be a valid number when parsed for it?"""

    def __init__(self, regions, national_prefix_check: bool = True):
        self.rules: dict[str, RegionRule] = {}
        # region -> metadata of the main region of its country code (python-phonenumbers' national-prefix check);
        # only for matchers of VALID leniency or stricter, which make that check (`_verify`)
        self.main_md: dict[str, object] = {}
        self._cache: dict[tuple, frozenset] = {}
        self.all_regions = tuple(regions)
        for region in regions:
            md = PhoneMetadata.metadata_for_region(region)
            if md is None:
                continue  # unknown to python-phonenumbers: always parsed (it raises or finds nothing)
            by_len: dict[int | None, list[str]] = {}
            for r in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(md.country_code, (region,)):
                rmd = PhoneMetadata.metadata_for_region(r) or PhoneMetadata.metadata_for_nongeo_region(md.country_code)
                if rmd is None:
                    continue
                for desc in (getattr(rmd, t, None) for t in _PHONE_TYPES):  # valid = of one of these types
                    if desc is None or not desc.national_number_pattern:
                        continue
                    for n in desc.possible_length or (None,):
                        by_len.setdefault(n, []).append(desc.national_number_pattern)
            anylen = by_len.pop(None, [])
            self.rules[region] = RegionRule(
                idd=re.compile(md.international_prefix or r"(?!)"), country_code=str(md.country_code),
                national_prefix=re.compile(md.national_prefix_for_parsing) if md.national_prefix_for_parsing else None,
                transform=md.national_prefix_transform_rule or None,
                nsn_by_length={n: re.compile("|".join(f"(?:{x})" for x in ps + anylen)) for n, ps in by_len.items()},
                nsn_any_length=re.compile("|".join(f"(?:{x})" for x in anylen)) if anylen else None)
            main = PhoneMetadata.metadata_for_region(phonenumbers.region_code_for_country_code(md.country_code))
            if national_prefix_check and main is not None:
                self.main_md[region] = main

    @staticmethod
    def _strip(number: str, prefix, transform) -> str | None:
        """The number after python-phonenumbers' national-prefix (carrier code) strip, as it does it; None when
        the prefix does not match."""
        m = prefix.match(number) if prefix is not None else None
        if m is None:
            return None
        if transform is not None and m.groups() and m.groups()[-1] is not None:
            return prefix.sub(transform, number, count=1)
        return number[m.end():]

    def regions(self, candidate: str, regions) -> frozenset:
        """The regions among `regions` for which parsing `candidate` may give a valid number (cached)."""
        key = (candidate, regions)
        hit = self._cache.get(key)
        if hit is None:
            if len(self._cache) > 50_000:
                self._cache.clear()
            hit = self._cache[key] = frozenset(self._valid_in(candidate, regions))
        return hit

    def _national_prefix_ok(self, region: str, nsn: str) -> bool:
        """Can the digits `nsn`, parsed for `region` with no country code and no national prefix (its raw input's
        digits are `nsn`), be a match? Not when its format needs the national prefix, which the raw input lacks."""
        md = self.main_md.get(region)
        return md is None or not internals.national_prefix_required(md, nsn)

    def may_be_valid(self, candidate: str, region: str) -> bool:
        return bool(self._valid_in(candidate, (region,)))

    def _valid_in(self, candidate: str, regions) -> list:
        """The regions among `regions` for which parsing `candidate` may give a valid number (regions unknown to
        python-phonenumbers' metadata always)."""
        valid = self._validity(candidate)
        return [r for r in regions if r not in self.rules or valid(r)]

    def _validity(self, candidate: str):
        """A test, per region known to the metadata, of `candidate` read once (its digits, its kind)."""
        if not candidate:
            return lambda region: False  # python-phonenumbers: NOT_A_NUMBER
        if _PHONE_SAFE.fullmatch(candidate):
            digits = self._digits(candidate)
            return lambda region: self._digits_may_be_valid(digits, region)
        if candidate[0] in "+\uff0b" and _PHONE_SAFE.fullmatch(candidate.lstrip("+\uff0b")):
            # international after a plus sign, whatever the region: a country code and an NSN
            international = len(self._digits(candidate)) >= MIN_INTERNATIONAL_DIGITS
            return lambda region: international
        if _PHONE_SAFE_EXT.fullmatch(candidate):  # maybe an extension: the number is a prefix of the digits
            digits = self._digits(candidate)
            n = len(digits)
            heads = [digits[:k] for k in range(max(1, n - internals.MAX_EXTENSION_DIGITS), n + 1)]
            return lambda region: any(self._digits_may_be_valid(h, region) for h in heads)
        return lambda region: True

    @staticmethod
    def _digits(candidate: str) -> str:
        if candidate.isascii():
            return _NON_DIGIT.sub("", candidate)
        return phonenumbers.normalize_digits_only(candidate)

    def _digits_may_be_valid(self, digits: str, region: str) -> bool:
        if not digits:
            return False
        m = self.rules[region].idd.match(digits)
        # python-phonenumbers strips R's international (IDD) prefix only when a digit other than 0 follows it
        # (`_parse_prefix_as_idd`); the number is then international: a country code and its NSN
        if m is not None and digits[m.end():m.end() + 1] != "0":
            return len(digits) - m.end() >= MIN_INTERNATIONAL_DIGITS
        return self.national_may_be_valid(digits, region)

    def national_may_be_valid(self, digits: str, region: str) -> bool:
        """`may_be_valid` for a national number of `region` written with these digits (no IDD prefix)."""
        rule = self.rules[region]
        cc, prefix, transform, nsn, any_rx = (rule.country_code, rule.national_prefix, rule.transform,
                                              rule.nsn_by_length, rule.nsn_any_length)
        # the national significant number: the digits, less the country code and/or the national prefix (which
        # python-phonenumbers may strip twice after a country code: once to test it, once more in parse())
        if not digits.startswith(cc) and (prefix is None or prefix.match(digits) is None):
            # no country code, no national prefix: parsed as a national number of R with exactly these digits as
            # its NSN (country code source FROM_DEFAULT_COUNTRY)
            rx = nsn.get(len(digits))
            if not ((rx is not None and rx.fullmatch(digits)) or (any_rx is not None and any_rx.fullmatch(digits))):
                return False
            return self._national_prefix_ok(region, digits)
        tails = [digits]
        if digits.startswith(cc):
            tails.append(digits[len(cc):])
        for tail in tails:
            for _ in range(3):
                rx = nsn.get(len(tail))
                if (rx is not None and rx.fullmatch(tail)) or (any_rx is not None and any_rx.fullmatch(tail)):
                    return True
                tail = self._strip(tail, prefix, transform)
                if not tail:
                    break
        return False


# The digits of a number python-phonenumbers' matcher finds are blocks of digits joined by up to PUNCTUATION_RUN of
# its punctuation characters (after an optional lead of "(", "[" or "+"): this class, with any whitespace. (The
# matcher compiles with IGNORECASE, so its "x" is also "X"; its punctuation starts with "-", a literal there.)
PUNCTUATION = f"[{internals.VALID_PUNCTUATION}{internals.LEAD_CLASS_CHARS}X\\s]"
PUNCTUATION_RUN = internals.PUNCTUATION_LIMIT
# A national number has as many digits as its NSN at least, an international one MIN_INTERNATIONAL_DIGITS. So a phone
# match with fewer than 5 digits is a national number of a configured region with a short NSN: `short_national_numbers`.
MIN_GATE_DIGITS = 5


@lru_cache(maxsize=8)
def short_national_numbers(regions: tuple[str, ...]) -> tuple[str, ...]:
    """Every digit string of fewer than MIN_GATE_DIGITS digits that may be a valid national number of one of
    `regions` (`PhoneRoute.national_may_be_valid`, a necessary condition), e.g. Germany's pagers 164x/168x/169x:
    "16.8.0" is a valid German number to python-phonenumbers and to Presidio."""
    route = PhoneRoute(regions)
    out: set[str] = set()
    for region, rule in route.rules.items():
        if rule.nsn_any_length is None and min(rule.nsn_by_length, default=MIN_GATE_DIGITS) >= MIN_GATE_DIGITS:
            continue  # no NSN of this region is that short
        for n in range(1, MIN_GATE_DIGITS):
            for i in range(10 ** n):
                digits = str(i).zfill(n)
                if route.national_may_be_valid(digits, region):
                    out.add(digits)
    return tuple(sorted(out))


class RoutedPhoneMatcher(internals.HookedMatcher):
    """python-phonenumbers' matcher for one region, parsing only the candidates that may be valid there."""

    def __init__(self, text: str, region: str, leniency, route: PhoneRoute, skip_bare_digits: bool = False):
        super().__init__(text, region, leniency=leniency)
        self.route = route
        self.skip_bare_digits = skip_bare_digits  # see RoutedPhoneRecognizer.analyze

    def accepts(self, candidate: str) -> bool:
        if self.skip_bare_digits and candidate.isdigit():
            return False
        # (cached: candidate_regions asked the same for every region)
        return self.preferred_region in self.route.regions(candidate, self.route.all_regions)


class RoutedPhoneRecognizer(PhoneRecognizer):
    """Presidio's PhoneRecognizer (same matcher, leniency, regions, score and dedup), with python-phonenumbers'
    matcher skipping the parses that cannot give a valid number for its region (`PhoneRoute`). A matcher's run for
    region R differs from the probe's only where a parse for R succeeds; when no candidate the probe saw may be valid
    for R, R's run parses the same candidates and finds nothing."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.route = PhoneRoute(self.supported_regions,
                                 national_prefix_check=self.leniency >= phonenumbers.Leniency.VALID)
        self.regions = self.route.all_regions

    def candidate_regions(self, text: str, skip_bare_digits: bool = False) -> set:
        probe = internals.CandidateProbe(text, self.leniency)
        for _ in probe:
            pass
        wanted: set = set()
        for c in probe.seen:
            if not (skip_bare_digits and c.isdigit()):
                wanted |= self.route.regions(c, self.regions)
        return wanted

    def analyze(self, text, entities, nlp_artifacts=None, skip_bare_digits: bool = False):
        """Presidio's `analyze`. With `skip_bare_digits` (the PII scrubber passes it for a text where its rules would
        reject any match made of digits only, whatever it is: `PiiScrubber._bare_digit_phones_rejected`), such
        candidates are not parsed: a digits-only candidate has no inner candidates (python-phonenumbers' inner
        patterns split at separators), so the matcher goes on after it exactly as after a match of it; its match
        could only have removed other digits-only phone matches (Presidio's dedup: same type, contained), rejected
        just the same."""
        wanted = self.candidate_regions(text, skip_bare_digits)
        results = []
        for region in self.supported_regions:
            if region not in wanted:
                continue
            for match in RoutedPhoneMatcher(text, region, self.leniency, self.route, skip_bare_digits):
                # Presidio re-parses the match only to name its region in the explanation: skipped here
                results.append(self._get_recognizer_result(match, text, region, nlp_artifacts))
        return EntityRecognizer.remove_duplicates(results)
