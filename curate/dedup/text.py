"""Text normalisation and shingling for deduplication, vectorised with numpy.

Shingles are word n-grams. "Words" are runs of letters/digits, except that every Hangul syllable, CJK ideograph and
kana is a token on its own: Korean, Chinese and Japanese would otherwise become a few giant "words" (or none, when
there are no spaces), and a one-character edit would change every shingle. With the default n=5 a Korean shingle is
a character 5-gram, which is what near-duplicate detection for CJK usually uses.

Hashing is done without a Python call per token: the tokens are joined into one string, turned into a codepoint
array, and each token's polynomial hash (mod 2^64, random odd base) is a `np.add.reduceat` over its codepoints; the
n-gram hashes are n vectorised multiply-adds over the token hashes, finished with the MurmurHash3 mixer.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import xxhash
from pydantic import BaseModel, ConfigDict

# Hangul syllables and jamo, CJK ideographs (+ extension A, compatibility), kana: one token per character
_CJK = "\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
TOKEN_RE = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")
_TOKEN_PUNCT_RE = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+|[^\w\s]")  # punctuation kept: each mark a token
_PUNCT_RE = re.compile(r"[^\w\s]+")
_SPACE_RE = re.compile(r"\s+")
_DIGIT_RE = re.compile(r"\d")

_M1, _M2 = np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)
_TOKEN_BASE = np.uint64(0x9E3779B97F4A7C15)  # odd: the polynomial hash is a bijection per position
_NGRAM_BASE = np.uint64(0xD6E8FEB86659FD93)


def fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finalizer: spreads polynomial hashes over all 64 bits (uint64 arithmetic wraps)."""
    h = h ^ (h >> _S33)
    h = h * _M1
    h = h ^ (h >> _S33)
    h = h * _M2
    return h ^ (h >> _S33)


class NormConfig(BaseModel):
    """How text is normalised before hashing; the same options serve exact and MinHash dedup."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    lowercase: bool = True
    whitespace: bool = True  # collapse runs of whitespace (exact dedup; shingles ignore whitespace anyway)
    punctuation: bool = True  # drop punctuation
    digits: bool = True  # every digit becomes 0 (dates, counters and ids should not make pages distinct)
    unicode: bool = True  # NFKC: full-width forms, ligatures, compatibility jamo fold to one form

    def apply(self, text: str) -> str:
        if self.unicode and not unicodedata.is_normalized("NFKC", text):  # the check is far cheaper than the fix
            text = unicodedata.normalize("NFKC", text)
        if self.lowercase:
            text = text.lower()
        if self.digits:
            text = _DIGIT_RE.sub("0", text)
        if self.punctuation:
            text = _PUNCT_RE.sub(" " if self.whitespace else "", text)
        if self.whitespace:
            text = _SPACE_RE.sub(" ", text).strip()
        return text


def text_hash(text: str, norm: NormConfig) -> int:
    """64-bit hash of the normalised text, for exact dedup (only the hash is kept, never the text)."""
    return xxhash.xxh3_64_intdigest(norm.apply(text).encode("utf-8", "surrogatepass"))


def normalize_url(url: str) -> str:
    """Scheme and host lowercased, default port, fragment and trailing slash dropped: the same page, one string."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url.strip()
    host = (parts.hostname or "").lower()
    if parts.port and not ((parts.scheme == "http" and parts.port == 80) or (parts.scheme == "https" and parts.port == 443)):
        host = f"{host}:{parts.port}"
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), host, path, parts.query, ""))


def url_hash(url: str) -> int:
    return xxhash.xxh3_64_intdigest(normalize_url(url).encode("utf-8", "surrogatepass"))


SEP, WORD, DIGIT, SINGLE = 0, 1, 2, 3  # character classes: separator, word, digit, one-character token


@lru_cache(maxsize=2)
def char_classes(keep_punctuation: bool = False) -> np.ndarray:
    """Class of every Unicode codepoint, built once per process with the same regexes as TOKEN_RE (0.2 s)."""
    table = np.zeros(0x110000, dtype=np.uint8)
    every = "".join(map(chr, range(0x110000)))
    if keep_punctuation:
        for m in re.finditer(r"[^\w\s]+", every):
            table[m.start():m.end()] = SINGLE
    for m in re.finditer(r"\w+", every):
        table[m.start():m.end()] = WORD
    for m in re.finditer(r"\d+", every):
        table[m.start():m.end()] = DIGIT
    for m in re.finditer(rf"[{_CJK}]+", every):
        table[m.start():m.end()] = SINGLE
    return table


@dataclass
class Shingler:
    """Word n-gram shingles of normalised text as 32-bit hashes (one uint32 array per document)."""

    ngram: int = 5
    norm: NormConfig = NormConfig(whitespace=False)

    def __post_init__(self):
        self._pow = np.ones(1, dtype=np.uint64)

    def _powers(self, n: int) -> np.ndarray:
        if len(self._pow) < n:  # grown on demand: only as long as the longest token seen
            size = max(n, 2 * len(self._pow))
            pw = np.ones(size, dtype=np.uint64)
            np.cumprod(np.full(size - 1, _TOKEN_BASE, dtype=np.uint64), out=pw[1:])  # B^i mod 2^64
            self._pow = pw
        return self._pow

    def tokens(self, text: str) -> list[str]:
        # tokens are runs of word characters, so whitespace and punctuation options need no pass of their own
        norm = self.norm
        if norm.unicode and not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
        if norm.lowercase:
            text = text.lower()
        if norm.digits:
            text = _DIGIT_RE.sub("0", text)
        if not norm.punctuation:
            return _TOKEN_PUNCT_RE.findall(text)
        return TOKEN_RE.findall(text)

    def token_hashes(self, text: str) -> np.ndarray:
        """uint64 hash per token. Tokens are found on the codepoint array with a class table (no Python string per
        token): a token starts at a Hangul/CJK character or at a word character that follows a non-word one."""
        norm = self.norm
        if norm.unicode and not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
        if norm.lowercase:
            text = text.lower()
        cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        table = char_classes(keep_punctuation=not norm.punctuation)
        cls = table[cps]
        if norm.digits:
            cps = np.where(cls == DIGIT, np.uint32(48), cps)
        word = (cls == WORD) | (cls == DIGIT)
        keep = cls != SEP
        if not keep.any():
            return np.zeros(0, dtype=np.uint64)
        prev_word = np.zeros(len(cls), dtype=bool)
        prev_word[1:] = word[:-1]
        starts_mask = (~word | ~prev_word)[keep]  # CJK and punctuation tokens are one character each
        c = cps[keep].astype(np.uint64)
        starts = np.flatnonzero(starts_mask)
        lengths = np.diff(np.append(starts, len(c)))
        pos = np.arange(len(c), dtype=np.int64) - np.repeat(starts, lengths)
        pw = self._powers(int(lengths.max()))
        return fmix64(np.add.reduceat(c * pw[pos], starts) + lengths.astype(np.uint64))

    def shingles(self, text: str) -> np.ndarray:
        """uint32 hashes of the word n-grams; a text shorter than n words is one shingle; no words: empty."""
        h = self.token_hashes(text)
        n = min(self.ngram, len(h))
        if n == 0:
            return np.zeros(0, dtype=np.uint32)
        return (ngram_hashes(h, n) & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def ngram_hashes(token_hashes: np.ndarray, n: int) -> np.ndarray:
    """uint64 hash of every run of n consecutive tokens (n vectorised multiply-adds); needs len >= n."""
    k = len(token_hashes) - n + 1
    s = token_hashes[:k].copy()
    for i in range(1, n):
        s = s * _NGRAM_BASE + token_hashes[i:i + k]
    return fmix64(s)


@lru_cache(maxsize=8)
def _shingler(n: int, norm: NormConfig) -> Shingler:
    return Shingler(ngram=n, norm=norm)  # cached: its power table grows once, not once per document


def word_ngrams(text: str, n: int, norm: NormConfig) -> np.ndarray:
    """64-bit hashes of word n-grams (no 32-bit truncation): decontamination compares huge sets of 13-grams.
    A text shorter than n words has none."""
    h = _shingler(n, norm).token_hashes(text)
    if len(h) < n:
        return np.zeros(0, dtype=np.uint64)
    return ngram_hashes(h, n)
