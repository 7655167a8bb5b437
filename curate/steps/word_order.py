"""Words in random order: the signature of word salad, scrambled and spun text, which every word statistic misses.

Gopher, C4 and FineWeb count words, lines, symbols and punctuation; none looks at the order of the words, so junk
made of real words in a random order (spam generators, keyword lists padded with filler, pages scrambled to get
past duplicate detection) passes them all. Where function words fall gives it away, cheaply and without a model:

* `function_word_ratio`: the share of words that are function words (articles, prepositions, pronouns,
  auxiliaries; RedPajama-V2's stop-word fraction with a fuller list). English prose, documentation included, is
  30-45% function words; keyword lists and content-word salad are under 25%. English only by default; give a
  list for other languages with `function_words`.
* `misplaced_ratio`: function words where grammar does not put them.
  English: an article or possessive (the, a, my, their...) or "of" directly followed by a word that cannot begin
  its noun phrase ("the of", "a and", "your is"), among all such articles and "of".
  Korean: sentence-final predicate forms (…니다, …한다, …있다, …세요) in the middle of a line, followed by another
  word of the same sentence, among all such forms. Korean ends a sentence with its predicate; a shuffled sentence
  puts it anywhere.

On the labeled documentation pages of ../shared (benchmarks/quality_eval.py) the highest `misplaced_ratio` of a
page labeled keep is 0.13 (English) and 0.21 (Korean); the words of those same pages shuffled within each line
score 0.13-0.36 and 0.68-1.0. What it gets wrong: a page that is mostly a list of names or commands has few function
words (tldr pages score ~0.2), and text shuffled only between sentences, not within them, reads as prose.
"""

from __future__ import annotations

from typing import Any, Mapping

import pyarrow as pa
import regex
from datatrove.data import Document

from curate.document import LANG
from curate.steps.prose import IDENTIFIER, INLINE_CODE, prose_view
from curate.steps.scored import ScoredParams, ScoredStep, over, under

ENGLISH_FUNCTION_WORDS = frozenset(
    "the a an of and or to in is was were are for on by with at from that it as be this not but if will can has "
    "have had which when there their we you your they its do does so than then these those into also more all any "
    "each some no may should would must been being i he she our my what how who about only such one".split())
# an article or possessive, or "of", opens a noun phrase: the next word must be able to begin one
OPENS_NOUN_PHRASE = frozenset("the a an my your their our its his her of".split())
CANNOT_BEGIN_NOUN_PHRASE = frozenset(
    "of and or is was were are be for with by from at on in as will can has have had not but if when to".split())
ARTICLES = frozenset("the a an".split())
ALL_FUNCTION_WORDS = ENGLISH_FUNCTION_WORDS | OPENS_NOUN_PHRASE | CANNOT_BEGIN_NOUN_PHRASE
# sentence-final predicate forms: polite and plain declaratives, imperatives (eojeol endings)
KOREAN_FINAL = regex.compile(
    r"(니다|세요|십시오|어요|아요|해요|이에요|예요|이다|한다|된다|있다|없다|하다|되다|였다|었다|았다|했다|같다|보다|주다|받다"
    r"|않다|싶다|진다|인다|온다|간다|준다|본다)$")
WORD = regex.compile(r"[\p{L}\p{N}']+(?:-[\p{L}\p{N}']+)*")  # "to-do" is one word, not "to" + "do"
TRAILING_MARKS = regex.compile(r"[\p{P}\p{S}]+$")
CONTINUES = regex.compile(r"[^\p{P}\p{S}\s]")  # a next token that opens with a letter or digit continues the sentence
# A word in backticks, emphasis or quotes is a name or a mention, not a word of the sentence's grammar: "the `for`
# command", "both *a* and *b*", 'a "from" revision'. Inline code that is not a name ("The ``3`` in ``3.4.1a2``")
# holds the place of one. The prose view keeps the first as its bare word and drops the second, either of which
# puts an article before a preposition; such spans are read as the noun `name` instead.
MENTIONED_WORD = regex.compile(
    r"(?<![\w*_`])(\*{1,2}|_{1,2}|\"|“|')(\p{L}[\p{L}-]*)(\*{1,2}|_{1,2}|\"|”|')(?![\w*_])")


class WordOrderParams(ScoredParams):
    min_words: int = 50  # documents with fewer words of prose are not judged (too little evidence)
    min_function_word_ratio: float | None = 0.25  # fewest function words per word; null: off
    max_misplaced_ratio: float | None = None  # most misplaced function words; null: the language's default
    min_checked: int = 5  # fewest candidate positions (articles, predicate forms) before misplaced_ratio is judged
    function_words: list[str] | None = None  # this language's function words; default: English's for `en`


# the misplaced-ratio limit of each language that has a rule (set above the labeled keep pages' maximum)
MISPLACED_LIMIT = {"en": 0.1, "ko": 0.35}


class WordOrder(ScoredStep):
    """Function words in the wrong places, or too few of them: word salad and scrambled text."""
    summary = "word salad and scrambled text: too few function words, or function words where grammar puts none"

    type_name = "word_order"
    doc = "docs/quality.md"
    tests = ("tests/test_word_order.py",)
    Params = WordOrderParams
    measures = {"words": pa.int64(), "function_word_ratio": pa.float64(), "misplaced_ratio": pa.float64(),
                "checked": pa.int64()}
    retunable = frozenset({"min_words", "min_function_word_ratio", "max_misplaced_ratio", "min_checked"})
    measure_limits = {"function_word_ratio": ("min_function_word_ratio",), "misplaced_ratio": ("max_misplaced_ratio",)}

    def measure(self, doc: Document) -> dict[str, Any]:
        lang = doc.metadata.get(LANG) or "en"
        p = self.params_for(lang)
        text = prose_view(names_as_nouns(doc.text) if lang == "en" else doc.text).text
        if lang == "ko":
            words = text.split()
            misplaced, checked = korean_misplaced(text)
        else:
            lines = [WORD.findall(line) for line in text.lower().splitlines()]
            words = [w for line in lines for w in line]
            misplaced, checked = english_misplaced(lines) if lang == "en" else (0, 0)
        listed = frozenset(p.function_words) if p.function_words is not None else (
            ENGLISH_FUNCTION_WORDS if lang == "en" else None)
        ratio = sum(w in listed for w in words) / len(words) if listed is not None and words else None
        return {"words": len(words), "function_word_ratio": ratio,
                "misplaced_ratio": misplaced / checked if checked else None, "checked": checked}

    def decide(self, v: Mapping[str, Any], lang: str | None) -> str | None:
        p = self.params_for(lang)
        if v["words"] < p.min_words:
            return None
        if under(v["function_word_ratio"], p.min_function_word_ratio):
            return "few_function_words"
        limit = p.max_misplaced_ratio if p.max_misplaced_ratio is not None else MISPLACED_LIMIT.get(lang or "en")
        if v["checked"] >= p.min_checked and over(v["misplaced_ratio"], limit):
            return "words_out_of_order"
        return None


def names_as_nouns(text: str) -> str:
    """`text` with inline code that is not a plain name, and function words written as names or mentions, replaced
    by the word `name` in the same markup (so the prose view still sees a line of inline code as code)."""
    def code(m: regex.Match) -> str:
        inner = next((g for g in m.groups() if g), "").strip()
        plain_name = IDENTIFIER.fullmatch(inner) and inner.lower() not in ALL_FUNCTION_WORDS
        return m.group(0) if plain_name else "`name`"

    def mention(m: regex.Match) -> str:
        return f"{m.group(1)}name{m.group(3)}" if m.group(2).lower() in ALL_FUNCTION_WORDS else m.group(0)

    return MENTIONED_WORD.sub(mention, INLINE_CODE.sub(code, text))


def english_misplaced(lines: list[list[str]]) -> tuple[int, int]:
    """(noun-phrase openers followed by a word that cannot begin the phrase, noun-phrase openers), over the words
    of each line: a line break in the prose view is a paragraph or block boundary (a code block or a link-only line
    set aside between "A" and "or"), not a place where grammar applies. "of the", "of a" are the normal case and
    count as checked, not misplaced."""
    misplaced = checked = 0
    for words in lines:
        for first, second in zip(words, words[1:]):
            if first in OPENS_NOUN_PHRASE:
                checked += 1
                misplaced += second in CANNOT_BEGIN_NOUN_PHRASE and not (first == "of" and second in ARTICLES)
    return misplaced, checked


def korean_misplaced(text: str) -> tuple[int, int]:
    """(predicate forms followed by another word of their sentence, predicate forms). A form ends its sentence when
    punctuation follows it, attached or as the next token ("합니다 ." where the prose view took out inline code), or
    a parenthesis opens after it ("합니다 (예: ...)")."""
    misplaced = checked = 0
    for line in text.splitlines():
        tokens = line.split()
        for token, following in zip(tokens, tokens[1:] + [""]):
            core = TRAILING_MARKS.sub("", token)
            if KOREAN_FINAL.search(core):
                checked += 1
                misplaced += core == token and CONTINUES.match(following) is not None
    return misplaced, checked
