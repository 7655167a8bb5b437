"""Quality heuristics: datatrove's filters, with their parameters taken from the YAML.

Each wrapper builds one datatrove filter per document language, so a mixed English/Korean corpus is judged with
the right word segmenter (kiwipiepy for Korean) and the right thresholds (`per_language` overrides). The drop
reason is datatrove's own (`gopher_short_doc`, `top_2_gram`, ...), prefixed with the step name by the sink.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, ClassVar

import regex
from datatrove.data import Document
from datatrove.pipeline.filters import (
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
    URLFilter,
)
from datatrove.pipeline.filters.base_filter import BaseFilter, get_filter_result
from datatrove.utils.word_tokenizers import KiwiTokenizer, WhitespaceTokenizer, WordTokenizer, load_word_tokenizer
from loguru import logger

from curate.document import LANG, URL
from curate.steps.base import CurateStep, StepParams


class CjkCharTokenizer(WhitespaceTokenizer):
    """Words for text without spaces between them: every Han, Hiragana and Katakana character is a word, other
    scripts are split into runs of letters/digits, punctuation marks stand alone. Used for Chinese and Japanese
    (datatrove's spaCy segmenters need packages that are not installed, or leave a sentence as one "word"), and as
    the fallback when a language's segmenter cannot be loaded."""

    _WORDS = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}]|[^\s\p{P}\p{S}\p{Han}\p{Hiragana}\p{Katakana}]+|[\p{P}\p{S}]")

    def word_tokenize(self, text: str) -> list[str]:
        return self._WORDS.findall(text)


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
        tokenizer.word_tokenize("probe")  # segmenters load lazily: fail here, not in the middle of a document
        return tokenizer
    except (ValueError, ImportError) as e:
        logger.warning(f"no word segmenter for language {lang!r} ({e}); using character/letter-run words")
        return CjkCharTokenizer()


class DatatroveFilterParams(StepParams):
    per_language: dict[str, dict[str, Any]] = {}  # parameter overrides by document language


class DatatroveFilterStep(CurateStep):
    """Runs a datatrove `BaseFilter` per language; the filter's parameters are the Params' own fields."""

    filter_class: ClassVar[type[BaseFilter]]
    takes_language: ClassVar[bool] = True
    default_reason: ClassVar[str] = "filtered"

    def __init__(self, params, ctx, name=None):
        super().__init__(params, ctx, name)
        bad = {lang: set(over) - set(self.filter_kwargs()) for lang, over in params.per_language.items()}
        bad = {lang: keys for lang, keys in bad.items() if keys}
        if bad:
            raise ValueError(f"{self.step_name}: per_language has unknown parameters {bad}")
        self._filters: dict[str, BaseFilter] = {}

    def filter_kwargs(self) -> dict[str, Any]:
        return self.params.model_dump(exclude={"apply_to", "per_language"})

    def filter_for(self, lang: str) -> BaseFilter:
        if lang not in self._filters:
            kwargs = self.filter_kwargs() | self.params.per_language.get(lang, {})
            if self.takes_language:
                # datatrove's filters accept a WordTokenizer wherever they take a language
                kwargs["language"] = word_tokenizer_for(lang)
            self._filters[lang] = self.make_filter(kwargs)
        return self._filters[lang]

    def make_filter(self, kwargs: dict[str, Any]) -> BaseFilter:
        return self.filter_class(**kwargs)

    def process(self, doc: Document) -> str | None:
        lang = doc.metadata.get(LANG) or "en"
        keep, reason = get_filter_result(self.filter_for(lang).filter(doc))
        return None if keep else (reason or self.default_reason)


class GopherQualityParams(DatatroveFilterParams):
    min_doc_words: int | None = 50
    max_doc_words: int | None = 100000
    min_avg_word_length: int | None = 3
    max_avg_word_length: int | None = 10
    max_symbol_word_ratio: float | None = 0.1
    max_bullet_lines_ratio: float | None = 0.9
    max_ellipsis_lines_ratio: float | None = 0.3
    max_non_alpha_words_ratio: float | None = 0.8
    min_stop_words: int | None = 2
    stop_words: list[str] | None = None


class GopherQuality(DatatroveFilterStep):
    """Gopher's quality rules (word counts, word length, symbols, bullets, stop words)."""

    type_name = "gopher_quality"
    Params = GopherQualityParams
    filter_class = GopherQualityFilter


class GopherRepetitionParams(DatatroveFilterParams):
    dup_line_frac: float | None = 0.3
    dup_para_frac: float | None = 0.3
    dup_line_char_frac: float | None = 0.2
    dup_para_char_frac: float | None = 0.2
    top_n_grams: list[tuple[int, float]] = [(2, 0.2), (3, 0.18), (4, 0.16)]
    dup_n_grams: list[tuple[int, float]] = [(5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10)]


class GopherRepetition(DatatroveFilterStep):
    """Gopher's repetition rules (duplicate lines/paragraphs, top and duplicated n-grams)."""

    type_name = "gopher_repetition"
    Params = GopherRepetitionParams
    filter_class = GopherRepetitionFilter

    def make_filter(self, kwargs):
        kwargs["top_n_grams"] = tuple(tuple(x) for x in kwargs["top_n_grams"])
        kwargs["dup_n_grams"] = tuple(tuple(x) for x in kwargs["dup_n_grams"])
        return GopherRepetitionFilter(**kwargs)


class C4QualityParams(DatatroveFilterParams):
    # split_paragraph=False would need NLTK's punkt download, so it is not offered
    remove_citations: bool = True
    filter_no_terminal_punct: bool = True
    min_num_sentences: int = 5
    min_words_per_line: int = 3
    max_word_length: int = 1000
    filter_lorem_ipsum: bool = True
    filter_javascript: bool = True
    filter_curly_bracket: bool = True
    filter_policy: bool = True


class C4Quality(DatatroveFilterStep):
    """C4's line and document rules. It rewrites the text (drops lines without terminal punctuation, etc.)."""

    type_name = "c4_quality"
    Params = C4QualityParams
    filter_class = C4QualityFilter

    def make_filter(self, kwargs):
        return C4QualityFilter(split_paragraph=True, **kwargs)


class FineWebQualityParams(DatatroveFilterParams):
    line_punct_thr: float = 0.12
    line_punct_exclude_zero: bool = False
    short_line_thr: float = 0.67
    short_line_length: int = 30
    char_duplicates_ratio: float = 0.01
    new_line_ratio: float = 0.3


class FineWebQuality(DatatroveFilterStep):
    """FineWeb's line rules (terminal punctuation, short lines, duplicated characters, lists)."""

    type_name = "fineweb_quality"
    Params = FineWebQualityParams
    filter_class = FineWebQualityFilter


class UrlFilterParams(DatatroveFilterParams):
    soft_word_threshold: int = 2
    extra_domains: list[str] = []
    extra_urls: list[str] = []
    banned_words: list[str] = []
    banned_subwords: list[str] = []
    soft_banned_words: list[str] = []
    use_integrated_lists: bool = True  # the block lists bundled inside datatrove (no download)


class UrlFilter(DatatroveFilterStep):
    """datatrove's URL filter (FineWeb's block lists, bundled in the wheel). Documents without a URL pass."""

    type_name = "url_filter"
    Params = UrlFilterParams
    filter_class = URLFilter
    takes_language = False

    def make_filter(self, kwargs):
        from tldextract import TLDExtract

        f = URLFilter(**kwargs)
        # the default extractor fetches the public-suffix list over HTTP; the bundled snapshot is enough
        f.tldextractor = TLDExtract(suffix_list_urls=())
        return f

    def process(self, doc: Document) -> str | None:
        if not doc.metadata.get(URL):
            return None
        return super().process(doc)


class LengthParams(StepParams):
    min_chars: int = 0
    max_chars: int | None = None
    min_lines: int = 0


class LengthFilter(CurateStep):
    """Plain length bounds, in characters and lines, for code and other text the word heuristics do not fit."""

    type_name = "length"
    Params = LengthParams

    def process(self, doc: Document) -> str | None:
        n = len(doc.text)
        if n < self.params.min_chars:
            return "too_short"
        if self.params.max_chars is not None and n > self.params.max_chars:
            return "too_long"
        if doc.text.count("\n") + 1 < self.params.min_lines:
            return "too_few_lines"
        return None
