"""Quality heuristics: the Gopher, C4 and FineWeb rules, measured on the prose of a document and stored.

The rules and their order are datatrove's (`GopherQualityFilter`, `GopherRepetitionFilter`, `C4QualityFilter`,
`FineWebQualityFilter`); with `view: raw` a step decides exactly as the datatrove filter does (a test checks it on
real documents). Two things differ:

* `view: prose` (the default) runs the rules on the prose of the document (curate/steps/prose.py): code blocks,
  inline code, URLs, paths and markup are set aside and counted (`code_fraction`, `link_fraction`,
  `markup_fraction`), so that a config block or a directive name is not judged as a malformed English sentence.
* every rule's value is computed and stored (`<step>_<measure>` columns), not only the first failing one, so that
  `curate retune` can re-decide with other thresholds.

Each step builds one word segmenter per document language (kiwipiepy for Korean) and takes `per_language`
threshold overrides. The drop reason is datatrove's own (`gopher_short_doc`, `top_2_gram`, ...).
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from typing import Any, ClassVar, Literal, Mapping

import numpy as np
import pyarrow as pa
import regex
from datatrove.data import Document
from datatrove.pipeline.filters import URLFilter
from datatrove.pipeline.filters.base_filter import get_filter_result
from datatrove.pipeline.filters.c4_filters import CITATION_REGEX, ELLIPSIS, END_PUNCTUATION, POLICY_SUBSTRINGS
from datatrove.pipeline.filters.gopher_quality_filter import STOP_WORDS
from datatrove.pipeline.filters.gopher_repetition_filter import find_all_duplicate, find_duplicates, find_top_duplicate, get_n_grams
from datatrove.utils.text import PUNCTUATION_SET, TERMINAL_PUNCTUATION, split_into_sentences, split_into_words
from datatrove.utils.word_tokenizers import (KiwiTokenizer, SpaCyTokenizer, WhitespaceTokenizer, WordTokenizer,
                                             load_word_tokenizer)
from loguru import logger
from pydantic import field_validator

from curate.document import LANG, URL
from curate.steps.base import CurateStep, StepParams
from curate.steps.prose import ProseView, classify_lines, prose_view
from curate.steps.scored import ScoredParams, ScoredStep, over, under


class CjkCharTokenizer(WhitespaceTokenizer):
    """Words for text without spaces between them: every Han, Hiragana and Katakana character is a word, other
    scripts are split into runs of letters/digits, punctuation marks stand alone. Used for Chinese and Japanese
    (datatrove's spaCy segmenters need packages that are not installed, or leave a sentence as one "word"), and as
    the fallback when a language's segmenter cannot be loaded."""

    _WORDS = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}]|[^\s\p{P}\p{S}\p{Han}\p{Hiragana}\p{Katakana}]+|[\p{P}\p{S}]")

    def word_tokenize(self, text: str) -> list[str]:
        return self._WORDS.findall(text)


class WarmVocabSpaCyTokenizer(SpaCyTokenizer):
    """datatrove's spaCy segmenter, with the words of the first documents kept in its vocabulary.

    datatrove tokenizes inside spaCy's `memory_zone`, so that a worker's memory stays flat over millions of
    documents; but then every word of every document becomes a new lexeme again, and creating lexemes is about half
    of spaCy's time. So the first documents a process sees are also tokenized once outside the zone, until the
    vocabulary has grown by `WARM_STRINGS` strings (bounded: ~8 MB per 25,000): the common words of the corpus are
    then looked up, not re-created. The tokens are the same either way (a test checks it on real pages);
    `benchmarks/word_tokenizer.py` measures the speed-up."""

    WARM_STRINGS = 50_000

    def __init__(self, language: str, config=None):
        super().__init__(language, config)
        self._warm_until: int | None = None

    def _warm(self, text: str) -> None:
        nlp = self.tokenizer
        if self._warm_until is None:
            self._warm_until = len(nlp.vocab.strings) + self.WARM_STRINGS
        if len(nlp.vocab.strings) >= self._warm_until or self.language == "ja":  # ja: chunked by bytes; not used
            return
        nlp.max_length = max(nlp.max_length, len(text) + 10)
        try:
            nlp.make_doc(text)  # outside a memory zone: the lexemes it creates stay
        except Exception:  # a string that breaks spaCy's tokenizer: datatrove's own call handles it
            pass

    def word_tokenize(self, text: str) -> list[str]:
        self._warm(text)
        return super().word_tokenize(text)

    def sent_tokenize(self, text: str) -> list[str]:
        self._warm(text)
        return super().sent_tokenize(text)

    def span_tokenize(self, text: str) -> list[tuple[int, int]]:
        self._warm(text)
        return super().span_tokenize(text)


CHARACTER_WORDS = {"zh", "ja"}


@lru_cache(maxsize=None)
def word_tokenizer_for(lang: str) -> WordTokenizer:
    """datatrove's word tokenizer for an ISO 639-1 code; Korean gets Kiwi's `cong` model, which kiwipiepy ships
    (datatrove asks for `sbg`, which kiwipiepy >= 0.22 no longer bundles); Chinese and Japanese get character words.
    Cached: every filter of a process shares one segmenter per language, since loading Kiwi or spaCy costs seconds.
    A segmenter that cannot be loaded (a missing optional package) is reported once and replaced, not fatal."""
    if lang == "ko":
        return KiwiTokenizer(model_type="cong")
    if lang in CHARACTER_WORDS:
        return CjkCharTokenizer()
    try:
        tokenizer = load_word_tokenizer(lang)
        if type(tokenizer) is SpaCyTokenizer:
            tokenizer = WarmVocabSpaCyTokenizer(tokenizer.language, tokenizer.config)
        tokenizer.word_tokenize("probe")  # segmenters load lazily: fail here, not in the middle of a document
        return tokenizer
    except (ValueError, ImportError) as e:
        logger.warning(f"no word segmenter for language {lang!r} ({e}); using character/letter-run words")
        return CjkCharTokenizer()


class HeuristicParams(ScoredParams):
    view: Literal["prose", "raw"] = "prose"  # prose: code, URLs, paths and markup set aside; raw: datatrove's input


class HeuristicStep(ScoredStep):
    """A word/line heuristic over the document's prose (or its raw text), in the document's language."""

    Params: ClassVar[type[HeuristicParams]] = HeuristicParams

    @staticmethod
    def lang_of(doc: Document) -> str:
        return doc.metadata.get(LANG) or "en"

    def judged_text(self, doc: Document) -> str:
        return prose_view(doc.text).text if self.params.view == "prose" else doc.text

    def words(self, text: str, lang: str) -> list[str]:
        return split_into_words(text, word_tokenizer_for(lang))


# -- Gopher quality -------------------------------------------------------------------------------------------------
class GopherQualityParams(HeuristicParams):
    min_doc_words: int | None = 50  # fewer words of prose (code and links not counted) is too short; null: off
    max_doc_words: int | None = 100000  # more words is too long; null: off
    min_avg_word_length: int | None = 3  # shorter mean word length (characters) is removed; null: off
    max_avg_word_length: int | None = 10  # longer mean word length is removed; null: off
    max_symbol_word_ratio: float | None = 0.1  # most "#" or ellipses per word (each counted on its own); null: off
    max_bullet_lines_ratio: float | None = 0.9  # most lines starting with a bullet (•, -); null: off
    max_ellipsis_lines_ratio: float | None = 0.3  # most lines ending in an ellipsis; null: off
    max_non_alpha_words_ratio: float | None = 0.8  # datatrove's name: the *minimum* share of words with a letter
    min_stop_words: int | None = 2  # fewest distinct stop words (the, of, and...) a document must hold; null: off
    stop_words: list[str] | None = None  # default: Gopher's English ones


class GopherQuality(HeuristicStep):
    """Gopher's quality rules (word counts, word length, symbols, bullets, stop words) on the document's prose."""
    summary = (
        "Gopher's quality rules (as `GopherQualityFilter`) on the document's prose: code, URLs, paths and "
        "markup set aside"
    )

    type_name = "gopher_quality"
    doc = "docs/quality.md"
    tests = ("tests/test_quality.py", "tests/test_retune.py")
    Params = GopherQualityParams
    measures = {"words": pa.int64(), "avg_word_length": pa.float64(), "hash_ratio": pa.float64(),
                "ellipsis_ratio": pa.float64(), "bullet_lines_ratio": pa.float64(),
                "end_ellipsis_lines_ratio": pa.float64(), "alpha_words_ratio": pa.float64(),
                "stop_words": pa.int64(), "code_fraction": pa.float64(), "link_fraction": pa.float64(),
                "markup_fraction": pa.float64()}
    retunable = frozenset({"min_doc_words", "max_doc_words", "min_avg_word_length", "max_avg_word_length",
                           "max_symbol_word_ratio", "max_bullet_lines_ratio", "max_ellipsis_lines_ratio",
                           "max_non_alpha_words_ratio", "min_stop_words"})
    # the parameters that limit each measure (report.html draws them on the measure's histogram)
    measure_limits = {"words": ("min_doc_words", "max_doc_words"), "hash_ratio": ("max_symbol_word_ratio",),
                      "ellipsis_ratio": ("max_symbol_word_ratio",), "bullet_lines_ratio": ("max_bullet_lines_ratio",),
                      "end_ellipsis_lines_ratio": ("max_ellipsis_lines_ratio",),
                      "alpha_words_ratio": ("max_non_alpha_words_ratio",), "stop_words": ("min_stop_words",)}

    def measure(self, doc: Document) -> dict[str, Any]:
        lang = self.lang_of(doc)
        p = self.params_for(lang)
        text = self.judged_text(doc)
        words = self.words(text, lang)
        content = [w for w in words if any(ch not in PUNCTUATION_SET for ch in w)]
        # raw: datatrove's ratios over every token, punctuation included; prose: over words (Gopher's "words" were
        # whitespace-separated, punctuation attached: a bullet or a colon token is not a word without a letter)
        counted = words if self.params.view == "raw" else content
        n_words = len(counted) or 1  # datatrove divides by the word count; an empty text fails the length rule first
        lines = text.splitlines() or [""]
        stop_words = set(STOP_WORDS if p.stop_words is None else p.stop_words)
        view: ProseView = prose_view(doc.text)
        return {
            "words": len(content),
            "avg_word_length": float(np.mean([len(w) for w in content])) if content else float("nan"),
            "hash_ratio": text.count("#") / n_words,
            "ellipsis_ratio": (text.count("...") + text.count("…")) / n_words,
            "bullet_lines_ratio": sum(s.lstrip().startswith(("•", "-")) for s in lines) / len(lines),
            "end_ellipsis_lines_ratio": sum(s.rstrip().endswith(("...", "…")) for s in lines) / len(lines),
            "alpha_words_ratio": sum(any(c.isalpha() for c in w) for w in counted) / n_words,
            "stop_words": len(stop_words.intersection(words)),
            "code_fraction": view.fraction(view.code_chars),
            "link_fraction": view.fraction(view.link_chars),
            "markup_fraction": view.fraction(view.markup_chars),
        }

    # (measure, parameter, comparison, reason), in datatrove's order: the first rule that fails names the removal
    RULES = (("words", "min_doc_words", under, "gopher_short_doc"), ("words", "max_doc_words", over, "gopher_long_doc"),
             ("avg_word_length", "min_avg_word_length", under, "gopher_below_avg_threshold"),
             ("avg_word_length", "max_avg_word_length", over, "gopher_above_avg_threshold"),
             ("hash_ratio", "max_symbol_word_ratio", over, "gopher_too_many_hashes"),
             ("ellipsis_ratio", "max_symbol_word_ratio", over, "gopher_too_many_ellipsis"),
             ("bullet_lines_ratio", "max_bullet_lines_ratio", over, "gopher_too_many_bullets"),
             ("end_ellipsis_lines_ratio", "max_ellipsis_lines_ratio", over, "gopher_too_many_end_ellipsis"),
             ("alpha_words_ratio", "max_non_alpha_words_ratio", under, "gopher_below_alpha_threshold"),
             ("stop_words", "min_stop_words", under, "gopher_enough_stop_words"))

    def decide(self, v: Mapping[str, Any], lang: str | None) -> str | None:
        p = self.params_for(lang or "en")
        return next((reason for measure, limit, fails, reason in self.RULES if fails(v[measure], getattr(p, limit))),
                    None)


# -- Gopher repetition ----------------------------------------------------------------------------------------------
TOP_NS = (2, 3, 4)
DUP_NS = (5, 6, 7, 8, 9, 10)
PARAGRAPH = regex.compile(r"\n{2,}")
LINES = regex.compile(r"\n+")


class GopherRepetitionParams(HeuristicParams):
    dup_line_frac: float | None = 0.3  # most lines that repeat an earlier line (share of lines); null: off
    dup_para_frac: float | None = 0.3  # most paragraphs that repeat an earlier one (share of paragraphs); null: off
    dup_line_char_frac: float | None = 0.2  # most characters in repeated lines (share of characters); null: off
    dup_para_char_frac: float | None = 0.2  # most characters in repeated paragraphs; null: off
    # [n, limit]: the most frequent n-gram's characters may cover at most this share of the text (n: 2, 3, 4)
    top_n_grams: list[tuple[int, float]] = [(2, 0.2), (3, 0.18), (4, 0.16)]
    # [n, limit]: characters in n-grams that occur more than once, as a share of the text (n: 5 to 10)
    dup_n_grams: list[tuple[int, float]] = [(5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10)]

    @field_validator("top_n_grams", "dup_n_grams")
    @classmethod
    def _measured_n(cls, value, info):
        allowed = TOP_NS if info.field_name == "top_n_grams" else DUP_NS
        bad = [n for n, _ in value if n not in allowed]
        if bad:
            raise ValueError(f"n must be one of {allowed} (the n-gram sizes that are measured and stored); got {bad}")
        return value


class GopherRepetition(HeuristicStep):
    """Gopher's repetition rules (duplicate lines/paragraphs, top and duplicated n-grams) on the document's prose."""
    summary = "Gopher's repetition rules (as `GopherRepetitionFilter`) on the document's prose"

    type_name = "gopher_repetition"
    doc = "docs/quality.md"
    tests = ("tests/test_quality.py", "tests/test_retune.py")
    Params = GopherRepetitionParams
    measures = {"chars": pa.int64(), "dup_para_frac": pa.float64(), "dup_para_char_frac": pa.float64(), "dup_line_frac": pa.float64(),
                "dup_line_char_frac": pa.float64(),
                **{f"top_{n}_gram": pa.float64() for n in TOP_NS}, **{f"dup_{n}_gram": pa.float64() for n in DUP_NS}}
    retunable = frozenset({"dup_line_frac", "dup_para_frac", "dup_line_char_frac", "dup_para_char_frac",
                           "top_n_grams", "dup_n_grams"})

    def measure(self, doc: Document) -> dict[str, Any]:
        text = self.judged_text(doc)
        if not text:
            return {"chars": 0}  # "empty"
        n_chars = len(text)
        paragraphs = PARAGRAPH.split(text.strip())
        para_dups, para_dup_chars = find_duplicates(paragraphs)
        lines = LINES.split(text)
        line_dups, line_dup_chars = find_duplicates(lines)
        words = self.words(text, self.lang_of(doc))
        values = {"chars": n_chars, "dup_para_frac": para_dups / len(paragraphs), "dup_para_char_frac": para_dup_chars / n_chars,
                  "dup_line_frac": line_dups / len(lines), "dup_line_char_frac": line_dup_chars / n_chars}
        for n in TOP_NS:
            grams = get_n_grams(words, n)
            values[f"top_{n}_gram"] = find_top_duplicate(grams) / n_chars if grams else None
        for n in DUP_NS:
            values[f"dup_{n}_gram"] = find_all_duplicate(words, n) / n_chars
        return values

    def decide(self, v: Mapping[str, Any], lang: str | None) -> str | None:
        if not v["chars"]:
            return "empty"
        p = self.params_for(lang or "en")
        for measure, limit in (("dup_para_frac", p.dup_para_frac), ("dup_para_char_frac", p.dup_para_char_frac),
                               ("dup_line_frac", p.dup_line_frac), ("dup_line_char_frac", p.dup_line_char_frac)):
            if over(v[measure], limit):
                return measure
        for n, limit in p.top_n_grams:
            if v[f"top_{n}_gram"] is not None and v[f"top_{n}_gram"] > limit:
                return f"top_{n}_gram"
        for n, limit in p.dup_n_grams:
            if v[f"dup_{n}_gram"] > limit:
                return f"duplicated_{n}_n_grams"
        return None



# -- C4 -------------------------------------------------------------------------------------------------------------
class C4QualityParams(HeuristicParams):
    # split_paragraph=False would need NLTK's punkt download, so it is not offered
    remove_citations: bool = True  # strip Wikipedia-style citation marks ([1], [citation needed]) from lines
    filter_no_terminal_punct: bool = True  # drop prose lines that do not end in terminal punctuation
    min_num_sentences: int = 5  # fewer sentences left after the line rules removes the document
    min_words_per_line: int = 3  # drop prose lines with fewer words
    max_word_length: int = 1000  # drop prose lines holding a longer word (characters); -1: off
    filter_lorem_ipsum: bool = True  # remove a document with "lorem ipsum" in its prose
    filter_javascript: bool = True  # drop prose lines mentioning "javascript" (C4's cookie/JS notices)
    filter_curly_bracket: bool = True  # remove a document with a "{" in its prose (code, in C4's view)
    filter_policy: bool = True  # drop prose lines naming a terms of use, privacy or cookie policy


class C4Quality(HeuristicStep):
    """C4's line and document rules. It rewrites the text: prose lines failing a line rule are dropped (with
    `view: prose`, code blocks and markup lines are kept as they are and are not counted as sentences)."""
    summary = "C4's line rules (as `C4QualityFilter`)"

    type_name = "c4_quality"
    doc = "docs/quality.md"
    tests = ("tests/test_quality.py", "tests/test_retune.py")
    Params = C4QualityParams
    measures = {"sentences": pa.int64(), "lines_dropped": pa.int64(), "lorem_ipsum_line": pa.int64(),
                "curly_bracket_line": pa.int64()}
    retunable = frozenset({"min_num_sentences", "filter_lorem_ipsum", "filter_curly_bracket"})
    measure_limits = {"sentences": ("min_num_sentences",)}
    rewrites_text = True

    def lines(self, doc: Document) -> list[tuple[str, str | None]]:
        """(line to keep, text the rules judge or None for a line kept as it is)."""
        if self.params.view == "raw":
            return [(line, line) for line in doc.text.splitlines()]
        # code, markup and blank lines are kept as they are (blank lines hold the paragraph structure that the
        # next steps' prose view reads code blocks from)
        return [(line.text, line.prose if line.kind == "prose" else None) for line in classify_lines(doc.text)]

    def measure(self, doc: Document) -> dict[str, Any]:
        p = self.params_for(self.lang_of(doc))
        tokenizer = word_tokenizer_for(self.lang_of(doc))
        sentences, dropped, lorem, curly = 0, 0, None, None
        kept: list[str] = []
        for i, (line, judged) in enumerate(self.lines(doc)):
            if judged is None:
                kept.append(line)
                continue
            line, judged = line.strip(), judged.strip()
            words = judged.split()
            if p.max_word_length != -1 and any(len(w) > p.max_word_length for w in words):
                dropped += 1
                continue
            if p.remove_citations:
                line, judged = CITATION_REGEX.sub("", line), CITATION_REGEX.sub("", judged)
            if p.filter_no_terminal_punct and (not judged.endswith(END_PUNCTUATION) or judged.endswith(ELLIPSIS)):
                dropped += 1
                continue
            if len(words) < p.min_words_per_line:
                dropped += 1
                continue
            lowered = judged.lower()
            if "lorem ipsum" in lowered and lorem is None:
                lorem = i
            if p.filter_javascript and "javascript" in lowered:
                dropped += 1
                continue
            if "{" in judged and curly is None:
                curly = i
            if p.filter_policy and any(s in lowered for s in POLICY_SUBSTRINGS):
                dropped += 1
                continue
            sentences += len(split_into_sentences(judged, tokenizer))
            kept.append(line)
        rewritten = "\n".join(kept).strip()
        if self.params.view == "prose":
            rewritten = regex.sub(r"\n\s*\n(\s*\n)+", "\n\n", rewritten)  # dropped lines leave one blank line
        doc.metadata["_c4_text"] = rewritten  # becomes the text if the document is kept
        return {"sentences": sentences, "lines_dropped": dropped, "lorem_ipsum_line": lorem,
                "curly_bracket_line": curly}

    def decide(self, v: Mapping[str, Any], lang: str | None) -> str | None:
        p = self.params_for(lang or "en")
        # datatrove stops at the first such line; on one line, lorem ipsum is checked before the bracket
        found = [(line, order, reason) for order, (line, reason, on) in enumerate((
            (v["lorem_ipsum_line"], "lorem_ipsum", p.filter_lorem_ipsum),
            (v["curly_bracket_line"], "curly_bracket", p.filter_curly_bracket))) if on and line is not None]
        if found:
            return min(found)[2]
        if v["sentences"] < p.min_num_sentences:
            return "too_few_sentences"
        return None

    def process(self, doc: Document) -> str | None:
        reason = super().process(doc)
        rewritten = doc.metadata.pop("_c4_text")
        if reason is None:
            doc.text = rewritten
        return reason


# -- FineWeb --------------------------------------------------------------------------------------------------------
class FineWebQualityParams(HeuristicParams):
    line_punct_thr: float = 0.12  # fewest lines ending in terminal punctuation (share of lines)
    line_punct_exclude_zero: bool = False  # true: a document with no such line at all passes that rule (FineWeb-2)
    short_line_thr: float = 0.67  # most lines of at most short_line_length characters (share of lines)
    short_line_length: int = 30  # a line this long or shorter (characters) is short
    char_duplicates_ratio: float = 0.01  # most characters in lines that repeat an earlier line (share of characters)
    new_line_ratio: float = 0.3  # most line breaks per word (lists and menus have many)


class FineWebQuality(HeuristicStep):
    """FineWeb's line rules (terminal punctuation, short lines, duplicated characters, lists) on the prose."""
    summary = "FineWeb's rules (as `FineWebQualityFilter`)"

    type_name = "fineweb_quality"
    doc = "docs/quality.md"
    tests = ("tests/test_quality.py", "tests/test_retune.py")
    Params = FineWebQualityParams
    measures = {"lines": pa.int64(), "line_punct_ratio": pa.float64(), "short_line_ratio": pa.float64(), "char_dup_ratio": pa.float64(),
                "list_ratio": pa.float64()}
    retunable = frozenset({"line_punct_thr", "line_punct_exclude_zero", "short_line_thr", "char_duplicates_ratio",
                           "new_line_ratio"})
    measure_limits = {"line_punct_ratio": ("line_punct_thr",), "short_line_ratio": ("short_line_thr",),
                      "char_dup_ratio": ("char_duplicates_ratio",), "list_ratio": ("new_line_ratio",)}
    stop_chars = tuple(TERMINAL_PUNCTUATION)

    def measure(self, doc: Document) -> dict[str, Any]:
        if self.params.view == "raw":
            text = doc.text
            lines = [(line, False, False) for line in text.split("\n") if line.strip() != ""]
        else:
            view = prose_view(doc.text)
            text = view.text
            lines = [(line, i in view.introduces_code, i in view.headings) for i, line in enumerate(view.lines)
                     if line.strip()]
        if not lines:
            return {"lines": 0}  # "empty"
        lang = self.lang_of(doc)
        p = self.params_for(lang)
        words = self.words(text, lang)
        return {
            "lines": len(lines),
            # a line ending in ":" before a code block ends its sentence with the code (prose view only)
            "line_punct_ratio": sum(1 for line, intro, _ in lines if intro or line.endswith(self.stop_chars)) / len(lines),
            "short_line_ratio": sum(1 for line, _, _ in lines if len(line) <= p.short_line_length) / len(lines),
            # (prose view: a heading repeated per section, "Parameters", "Example", is structure, not a copy)
            "char_dup_ratio": find_duplicates([line for line, _, heading in lines if not heading])[1]
            / max(1, len(text.replace("\n", ""))),
            "list_ratio": text.count("\n") / len(words) if words else float("inf"),
        }

    def decide(self, v: Mapping[str, Any], lang: str | None) -> str | None:
        if not v["lines"]:
            return "empty"
        p = self.params_for(lang or "en")
        if v["line_punct_ratio"] < p.line_punct_thr and not (v["line_punct_ratio"] == 0 and p.line_punct_exclude_zero):
            return "line_punct_ratio"
        if v["short_line_ratio"] > p.short_line_thr:
            return "short_line_ratio"
        if v["char_dup_ratio"] > p.char_duplicates_ratio:
            return "char_dup_ratio"
        if v["list_ratio"] > p.new_line_ratio:
            return "list_ratio"
        return None



# -- URL and length -------------------------------------------------------------------------------------------------
class UrlFilterParams(StepParams):
    soft_word_threshold: int = 2  # a URL holding this many soft-banned words is removed
    extra_domains: list[str] = []  # domains to block, besides the bundled list
    extra_urls: list[str] = []  # full URLs to block
    banned_words: list[str] = []  # words that block a URL when they appear as a token of it
    banned_subwords: list[str] = []  # strings that block a URL wherever they appear in it
    soft_banned_words: list[str] = []  # words counted towards soft_word_threshold
    use_integrated_lists: bool = True  # the block lists bundled inside datatrove (no download)


class UrlFilter(CurateStep):
    """datatrove's URL filter (FineWeb's block lists, bundled in the wheel). Documents without a URL pass."""
    summary = "FineWeb's URL block lists, bundled in datatrove (`URLFilter`)"

    type_name = "url_filter"
    doc = "docs/quality.md"
    tests = ("tests/test_pipeline.py",)
    Params = UrlFilterParams

    def __init__(self, params, ctx, name=None):
        super().__init__(params, ctx, name)
        self._filter: URLFilter | None = None

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_filter"] = None
        return state

    def process(self, doc: Document) -> str | None:
        if not doc.metadata.get(URL):
            return None
        if self._filter is None:
            from tldextract import TLDExtract

            self._filter = URLFilter(**self.params.model_dump(exclude={"apply_to"}))
            # the default extractor fetches the public-suffix list over HTTP; the bundled snapshot is enough
            self._filter.tldextractor = TLDExtract(suffix_list_urls=())
        keep, reason = get_filter_result(self._filter.filter(doc))
        return None if keep else (reason or "filtered")


class LengthParams(ScoredParams):
    min_chars: int = 0  # shorter documents (characters) are removed
    max_chars: int | None = None  # longer documents are removed; null: no limit
    min_lines: int = 0  # documents with fewer lines are removed


class LengthFilter(ScoredStep):
    """Plain length bounds, in characters and lines, for code and other text the word heuristics do not fit."""
    summary = "character / line bounds, e.g. for code"

    type_name = "length"
    doc = "docs/quality.md"
    tests = ("tests/test_quality.py",)
    Params = LengthParams
    measures = {"chars": pa.int64(), "lines": pa.int64()}
    retunable = frozenset({"min_chars", "max_chars", "min_lines"})
    measure_limits = {"chars": ("min_chars", "max_chars"), "lines": ("min_lines",)}

    def measure(self, doc: Document) -> dict[str, Any]:
        return {"chars": len(doc.text), "lines": doc.text.count("\n") + 1}

    def decide(self, v: Mapping[str, Any], lang: str | None) -> str | None:
        p = self.params_for(lang)
        if v["chars"] < p.min_chars:
            return "too_short"
        if p.max_chars is not None and v["chars"] > p.max_chars:
            return "too_long"
        if v["lines"] < p.min_lines:
            return "too_few_lines"
        return None
