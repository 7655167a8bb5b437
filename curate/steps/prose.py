"""The prose of a technical document: what the word heuristics should judge.

Gopher, C4 and FineWeb count words, symbols, lines and punctuation as if every character were running prose. On
documentation that is not so: a config block, `inline code`, a URL, `/usr/local/apache2/conf`, a `<tag>`, a
`:func:` role or a `| table | row |` are not words, and they push good pages below the alpha-ratio, repetition
and punctuation thresholds. `prose_view` sets these spans aside (counting them by kind) and returns the prose the
rules should judge:

* code blocks: Markdown fences and indented blocks, reST literal blocks (the paragraph after one ending in `::`),
  shell/REPL prompts, lines that are only inline code, and paragraphs whose lines read as code;
* inline code, reST roles and `{{placeholders}}`; URLs, link targets, file paths and lines that are only links;
  HTML tags, table rows and rules, directives and admonitions, heading/quote/emphasis markers. List bullets stay
  (Gopher's bullet rule is about page structure).

Lines are logical lines: a line broken only to wrap a sentence (Markdown source, HTML source newlines) is joined
with its continuation, so that the line rules (terminal punctuation, short lines) see sentences, as they do on the
one-paragraph-per-line text they were made for. A prose line ending in ":" that introduces a code block counts as
ending a sentence: its object is the code.

Set-aside text never reaches the rules, so a page that is *only* code, links or markup has no prose left and
fails the length rules: junk hidden in markup still goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import regex

FENCE = regex.compile(r"^\s{0,3}(`{3,}|~{3,})")
INDENTED = regex.compile(r"^(?: {4}|\t)")
PROMPT = regex.compile(r"^\s*(\$|>>>|\.\.\.|%|PS>|C:\\>|#!)\s")
RST_DIRECTIVE = regex.compile(r"^\s*\.\.\s+[\w-]+(::|\s*$)")
SETEXT_OR_RULE = regex.compile(r"^\s*([=\-~^*_+#|:]\s*){3,}$")
TABLE_ROW = regex.compile(r"^\s*\|.*\||^[^|\n]*\|[^|\n]*\|")
HEADING = regex.compile(r"^\s{0,3}#{1,6}\s+")
QUOTE = regex.compile(r"^\s{0,3}(>\s?)+")
BULLET = regex.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+")
ADMONITION = regex.compile(r"^\s*:::+\s*\w*.*$")

# inline spans, in the order they are taken out (links before URLs, so the link text stays)
INLINE_CODE = regex.compile(r"``([^`\n]+)``|`([^`\n]+)`|\{\{[^{}\n]*\}\}|[$%]\{[^{}\n]*\}")
RST_ROLE = regex.compile(r":[\w:.-]+:`([^`\n]*)`")
# inline code that is a name (`mod_deflate`, `useState`, `--force`, :class:`Message`) reads as a word of the
# sentence: it stays in the prose (without backticks), so that two sentences about different names stay different
IDENTIFIER = regex.compile(r"[~!]?(-{0,2}[A-Za-z_][\w.:-]*?)(?:\(\))?(?:\s*<[^<>]+>)?")
MD_LINK = regex.compile(r"!?\[([^\]\n]*)\]\(([^)\s]*)(?:\s+\"[^\"]*\")?\)")
AUTOLINK = regex.compile(r"<(?:https?|ftp|mailto):[^>\s]+>")
URL = regex.compile(r"(?:https?://|ftp://|www\.)[^\s<>()\[\]\"'`]+")
TAG = regex.compile(r"</?[A-Za-z][\w:.-]*(?:\s[^<>\n]*)?/?>|<!--.*?-->")
# kramdown's attribute lists after a link or a heading, or on a line of their own: "{:.external}", "{: #id }"
ATTRIBUTE_LIST = regex.compile(r"\{:[^{}\n]*\}")
OPEN_SPAN = regex.compile(r"(`{1,2})[^`]*$")  # the last backticks of a line whose whole spans were taken out
PATH = regex.compile(r"(?<![\w/])(?:~?/|\.{1,2}/|[A-Za-z]:\\)[^\s,;:!?()\[\]{}<>\"'`]+|"
                     r"(?<![\w/])[\w.-]+(?:/[\w.-]+){2,}/?|(?<![\w/])[\w-]+/[\w-]+\.[A-Za-z0-9]{1,5}\b")
EMPHASIS = regex.compile(r"(?<!\w)(\*{1,3}|_{1,3})(?=\S)|(?<=\S)(\*{1,3}|_{1,3})(?!\w)")
TABLE_PIPE = regex.compile(r"\s*\|\s*")
ESCAPE = regex.compile(r"\\(?=[\\`*_{}\[\]()#+\-.!|<>])")
SPACE_OR_PUNCT = regex.compile(r"[\s\p{P}]")
SPACE_PUNCT_OR_SYMBOL = regex.compile(r"[\s\p{P}\p{S}]")

CODE_TOKEN = regex.compile(r"[(){}\[\];=<>$\\|&]|::|->|=>|^-{1,2}\w|^\w+_\w+$|^\w+\.\w+\(|^[A-Z_]{3,}$|^@\w|[─-╿]")
# a statement: one call, `print(f"the sum of {a} and {b}")`, or an assignment of a literal or an expression,
# `values = {'name': 'x',`; its string may hold English, so its stop words do not make it a sentence
STATEMENT = regex.compile(r"[A-Za-z_][\w.]*\(.*\)[;,]?|"  # a call
                          r"[A-Za-z_][\w.]*(?:\[[^\]]*\])?\s*(?:=|\+=|-=|:=)\s*"  # an assignment: name, [key], =
                          r"(?:[rbfuRBFU]{0,2}[\[{(\"'\d-]|[A-Za-z_][\w.]*[(.\[]).*")  # a literal or an expression
WIDE_WORD = regex.compile(r"[\p{Hangul}\p{Han}\p{Hiragana}\p{Katakana}]{2,}")
STOP_HINT = regex.compile(r"(?i)\b(the|is|are|a|an|of|to|and|in|that|this|for|with|you|it|be|can|not|if|or)\b")
ENDS_MID_SENTENCE = regex.compile(r"(?i)\b(the|a|an|of|to|and|or|in|on|for|with|by|from|as|at|is|are|that|this)$")
SENTENCE_END = (".", "!", "?", "。", "！", "？", "…", '"', "'", "”", "’", ")")

# a character or string every match of a pattern holds: most lines hold none, and a substring test is ~50x cheaper
# than running the pattern (the prose view was half of the quality steps' time)
NEEDS = {INLINE_CODE: ("`", "{"), RST_ROLE: ("`",), MD_LINK: ("](",), AUTOLINK: ("<",), URL: ("://", "www."),
         PATH: ("/", "\\"), TAG: ("<",), ATTRIBUTE_LIST: ("{:",), HEADING: ("#",), QUOTE: (">",),
         EMPHASIS: ("*", "_"), ESCAPE: ("\\",)}


def _may_match(pattern: regex.Pattern, text: str) -> bool:
    for needed in NEEDS[pattern]:
        if needed in text:
            return True
    return False


def _sub(pattern: regex.Pattern, replacement, text: str) -> str:
    return pattern.sub(replacement, text) if _may_match(pattern, text) else text


@dataclass(frozen=True)
class Line:
    """One line of a text: `kind` is "code" (a code block line), "markup" (a table row, a rule, a directive...),
    "blank" or "prose"; `prose` is what is left of a prose line for the word rules."""

    text: str
    kind: str
    prose: str
    code_chars: int
    link_chars: int
    markup_chars: int


@dataclass(frozen=True)
class ProseView:
    """The prose of a text (logical lines) and what was set aside, in characters (whitespace not counted)."""

    lines: tuple[str, ...]  # prose lines, "" between paragraphs (a code block also separates paragraphs)
    introduces_code: frozenset[int]  # indices of lines ending in ":" that a code block follows
    headings: frozenset[int]  # indices of heading lines (Markdown `#` headings): structure, repeated by design
    chars: int  # non-space characters of the whole text
    code_chars: int  # code blocks, inline code, roles, template placeholders
    link_chars: int  # URLs, link targets, file paths
    markup_chars: int  # tags, table rows and rules, directives, heading/emphasis/quote markers

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def fraction(self, part: int) -> float:
        return part / self.chars if self.chars else 0.0


def _nonspace(s: str) -> int:
    return sum(map(len, s.split()))  # str.split() splits on exactly the characters str.isspace() accepts


def _bare(line: str) -> str:
    """A line without its inline code, links, URLs and list/quote markers: what is left to read as code or prose."""
    for pattern in (RST_ROLE, INLINE_CODE):
        line = _sub(pattern, " ", line)
    line = _sub(MD_LINK, r" \1 ", line)  # before URLs: a link's target is a URL, and `[text]( )` would read as code
    for pattern in (AUTOLINK, URL):
        line = _sub(pattern, " ", line)
    return BULLET.sub("", _sub(QUOTE, "", line)).strip()


def _looks_like_code(line: str) -> bool:
    """A line outside fences that reads as code or configuration: a prompt, or mostly code-like tokens and no
    prose hints (stop words before a terminal punctuation mark)."""
    if PROMPT.match(line):
        return True
    bare = _bare(line)
    if not bare:
        return False
    if STATEMENT.fullmatch(bare) and not bare.endswith(".") and not WIDE_WORD.search(bare):
        return True  # (a sentence that begins with `x=1` ends with a full stop, or is Korean, Chinese, Japanese)
    tokens = bare.split()
    codeish = sum(1 for t in tokens if CODE_TOKEN.search(t))
    if bare.endswith((";", "{", "}", "};", "});", "])", "),")) and codeish:
        return True
    prose_hints = len(STOP_HINT.findall(bare))
    if prose_hints >= 2 and bare[-1] in ".?!:":
        return False
    return codeish >= max(1, 0.5 * len(tokens)) and prose_hints <= len(tokens) * 0.2


COMMENT = regex.compile(r"^\s*(#|//|/\*|--\s|;)")
WORDS_SENTENCE = regex.compile(r"\p{L}[\p{L}'’-]*(?:,?\s+\p{L}[\p{L}'’-]*){2,}([.:!?])")  # "- Preview an SVG:"


def _reads_as_sentence(line: str) -> bool:
    """A line of running text in English, Korean, Chinese or Japanese (two stop words, two words of a script
    without English stop words, or three or more plain words and a full stop, or a colon after a list bullet), not
    a code comment: what tells a code block from the prose around it."""
    if COMMENT.match(line) or _looks_like_code(line):
        return False
    bare = _bare(line)
    if len(STOP_HINT.findall(bare)) >= 2 or len(WIDE_WORD.findall(bare)) >= 2:
        return True
    plain = WORDS_SENTENCE.fullmatch(bare)
    return bool(plain) and (plain.group(1) != ":" or bool(BULLET.match(QUOTE.sub("", line))))  # not "async with x:"


def _only_inline_code(line: str) -> bool:
    """A line that is nothing but inline code (a command in a tldr page, a signature)."""
    stripped = BULLET.sub("", line.strip())
    return (_may_match(INLINE_CODE, stripped) and bool(INLINE_CODE.search(stripped))
            and not SPACE_OR_PUNCT.sub("", INLINE_CODE.sub("", stripped)))


def _only_links(line: str) -> bool:
    """A line that is nothing but links (a table of contents entry, "[Edit on GitHub](...)", a bare URL): set
    aside as links, as a bare URL always was; its link text is navigation, not a sentence."""
    stripped = BULLET.sub("", _sub(QUOTE, "", line.strip()))
    if not any(_may_match(p, stripped) and p.search(stripped) for p in (MD_LINK, AUTOLINK, URL)):
        return False
    for pattern in (MD_LINK, AUTOLINK, URL):
        stripped = _sub(pattern, " ", stripped)
    return not SPACE_PUNCT_OR_SYMBOL.sub("", stripped)


def _paragraphs(lines: list[str]) -> list[tuple[int, int]]:
    """(start, end) line ranges of blank-line-separated paragraphs."""
    out, start = [], None
    for i, line in enumerate(lines + [""]):
        if line.strip():
            if start is None:
                start = i
        elif start is not None:
            out.append((start, i))
            start = None
    return out


def _open_block_end(lines: list[str], opened: int, is_sentence) -> int:
    """Where a fence left open at line `opened` ends: CommonMark runs it to the end of the document, which is right
    for a page cut inside a code block; but after a stray fence (a page cut mid-block, whose closing fence then
    reads as an opening one) the rest is prose. So the block ends before the first paragraph whose lines mostly
    read as prose."""
    start = opened + 1
    for stop, line in enumerate(lines[start:] + [""], start):
        if line.strip():
            continue
        paragraph = [i for i in range(start, stop) if lines[i].strip()]
        if paragraph and sum(is_sentence(i) for i in paragraph) * 2 >= len(paragraph):
            return paragraph[0]
        start = stop + 1
    return len(lines)


def _pair_fences(lines: list[str], is_sentence, stray: int | None = None) -> tuple[list[bool], bool]:
    """CommonMark's fence pairing, with line `stray` read as a stray fence (markup: it neither opens nor closes).
    Returns the lines inside fences (delimiters included) and whether the pairing is in doubt: a fence is left
    open at the end (it then ends before the next prose paragraph rather than at the end), or a block holds a
    line that would close it but for an info string ("```python" inside a ``` block: in a crawled page, an opening
    fence read as content because an earlier fence went unpaired)."""
    code = [False] * len(lines)
    fence: str | None = None
    opened, doubtful = 0, False
    for i, line in enumerate(lines):
        m = FENCE.match(line)
        if i == stray:
            code[i] = True
        elif fence is not None:
            code[i] = True
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                if line.strip()[len(m.group(1)):].strip():
                    doubtful = True
                else:
                    fence = None
        elif m:
            code[i] = True
            fence, opened = m.group(1), i
    if fence is not None:
        doubtful = True
        for i in range(_open_block_end(lines, opened, is_sentence), len(lines)):
            code[i] = False
    return code, doubtful


MAX_FENCES_TO_REPAIR = 200  # past this many fence lines, only the CommonMark reading (repair costs fences x lines)


def _fenced(lines: list[str]) -> list[bool]:
    """Lines inside fenced code blocks. One stray fence line in a crawled page (a page cut mid-block, so that its
    closing fence reads as an opening one; a fence lost in extraction) shifts CommonMark's pairing and sets the
    prose after it aside as code, and the page can go as empty. So when the pairing is in doubt, each fence line in
    turn is read as the stray one, and the reading that puts the fewest prose lines inside code blocks wins (ties:
    CommonMark's). Lines outside fences are judged by the paragraph rules, which still find code that reads as
    code."""
    memo: dict[int, bool] = {}

    def is_sentence(i: int) -> bool:  # `_reads_as_sentence` of line i, once per line
        if i not in memo:
            memo[i] = _reads_as_sentence(lines[i])
        return memo[i]

    code, doubtful = _pair_fences(lines, is_sentence)
    if not doubtful:
        return code
    delimiters = {i for i, line in enumerate(lines) if FENCE.match(line)}
    if len(delimiters) > MAX_FENCES_TO_REPAIR:
        return code

    def prose_inside(flags: list[bool]) -> int:
        return sum(is_sentence(i) for i, inside in enumerate(flags) if inside and i not in delimiters)

    best, fewest = code, prose_inside(code)
    for stray in sorted(delimiters):
        if fewest == 0:
            break
        flags, _ = _pair_fences(lines, is_sentence, stray)
        if (n := prose_inside(flags)) < fewest:
            best, fewest = flags, n
    return best


def _code_lines(lines: list[str], closed: list[str], fenced: list[bool], continued: list[bool]) -> list[bool]:
    """Which lines are code: fenced blocks, reST literal blocks after `::`, indented blocks whose lines mostly do
    not read as sentences, paragraphs that read as code (at least half their lines), and single code lines inside
    prose. Lines are read with the inline code spans they share with their neighbours closed (`closed`); a line
    that begins inside the span of the line before (`continued`) is that line's sentence going on, not a line of
    inline code."""
    code = list(fenced)
    previous_ends_literal = False
    for start, end in _paragraphs(lines):
        block = range(start, end)
        if all(code[i] for i in block):
            previous_ends_literal = False
            continue
        if previous_ends_literal and not any(code[i] for i in block):
            for i in block:
                code[i] = True
        elif all(INDENTED.match(lines[i]) for i in block) and not any(code[i] for i in block) and (
                sum(_reads_as_sentence(closed[i]) for i in block) * 2 < len(block)):
            for i in block:
                code[i] = True
        else:
            # table rows and rules are markup whatever their pipes look like: they do not vote
            # (nor do lines that are only links)
            voters = [i for i in block if not (TABLE_ROW.match(lines[i]) or SETEXT_OR_RULE.match(lines[i])
                                               or _only_links(closed[i]))]
            votes = [_looks_like_code(closed[i]) or (_only_inline_code(closed[i]) and not continued[i])
                     for i in block]
            ayes = sum(v for i, v in zip(block, votes) if i in voters)
            if voters and ayes * 2 >= len(voters) and ayes >= min(2, len(voters)):
                for i in block:
                    code[i] = True
            else:
                for i, vote in zip(block, votes):
                    # a single code line (a command, a directive) inside prose; its indented continuation too
                    if i in voters and (vote or (i > start and code[i - 1] and lines[i][:1].isspace())):
                        code[i] = True
        last = lines[end - 1].rstrip()
        previous_ends_literal = last.endswith("::") and not code[end - 1]
    return code


def _take(pattern: regex.Pattern, text: str, keep_group: int | None = None) -> tuple[str, int]:
    """Replace `pattern` by a space (or by its group `keep_group`); returns the new text and the characters taken."""
    taken = 0

    def sub(m: regex.Match) -> str:
        nonlocal taken
        kept = m.group(keep_group) if keep_group else ""
        taken += _nonspace(m.group(0)) - _nonspace(kept or "")
        return f" {kept} " if kept else " "

    return _sub(pattern, sub, text), taken


def _take_code(pattern: regex.Pattern, text: str) -> tuple[str, int]:
    """Take inline code out, leaving the names (an identifier, an option, a role's target) as words."""
    taken = 0

    def sub(m: regex.Match) -> str:
        nonlocal taken
        inner = next((g for g in m.groups() if g), "")
        name = IDENTIFIER.fullmatch(inner.strip())
        kept = name.group(1) if name else ""
        taken += _nonspace(m.group(0)) - len(kept)
        return f" {kept} "

    return _sub(pattern, sub, text), taken


def _prose_line(line: str) -> tuple[str, int, int, int]:
    """One non-code line -> (prose, code chars, link chars, markup chars)."""
    code = link = markup = 0
    for pattern in (RST_ROLE, INLINE_CODE):
        line, n = _take_code(pattern, line)
        code += n
    line, n = _take(MD_LINK, line, keep_group=1)
    link += n
    for pattern in (AUTOLINK, URL, PATH):
        line, n = _take(pattern, line)
        link += n
    for pattern in (TAG, ATTRIBUTE_LIST, HEADING, QUOTE, EMPHASIS, ESCAPE):
        line, n = _take(pattern, line)
        markup += n
    return " ".join(line.split()), code, link, markup


def _open_span(line: str) -> str | None:
    """The backticks of an inline code span that `line` opens and does not close, or None."""
    if "`" not in line:
        return None
    m = OPEN_SPAN.search(_sub(INLINE_CODE, " ", _sub(RST_ROLE, " ", line)))
    return m.group(1) if m else None


def _span_edges(lines: list[str], fenced: list[bool]) -> list[tuple[str, str]]:
    """Per line, the backticks that close the inline code spans it shares with its neighbours: (those that close
    the span the line before opened, those that close the span this line opens). Markdown wraps a span across a
    line break like any text ("`--set" + "name={a, b}` translates to" is one span); read line by line, the first
    half is left in the prose and the second half reads as code."""
    edges = [("", "")] * len(lines)
    carried = ""
    for i, line in enumerate(lines):
        if fenced[i] or not line.strip():
            carried = ""
            continue
        opened = _open_span(carried + line)
        if opened and i + 1 < len(lines) and not fenced[i + 1] and opened in lines[i + 1]:
            edges[i], carried = (carried, opened), opened
        else:
            edges[i], carried = (carried, ""), ""
    return edges


@lru_cache(maxsize=64)
def classify_lines(text: str) -> tuple[Line, ...]:
    """Every line of `text` with its kind and prose (cached: every filter of a document asks)."""
    lines = text.split("\n")
    fenced = _fenced(lines)
    edges = _span_edges(lines, fenced)
    closed = [f"{before}{line}{after}" for line, (before, after) in zip(lines, edges)]
    out = []
    code_lines = _code_lines(lines, closed, fenced, [bool(before) for before, _ in edges])
    for line, whole, (before, after), is_code in zip(lines, closed, edges, code_lines):
        if not line.strip():
            out.append(Line(line, "blank", "", 0, 0, 0))
        elif is_code:
            out.append(Line(line, "code", "", _nonspace(line), 0, 0))
        elif (RST_DIRECTIVE.match(line) or TABLE_ROW.match(line) or SETEXT_OR_RULE.match(line)
              or ADMONITION.match(line)):
            out.append(Line(line, "markup", "", 0, 0, _nonspace(line)))
        elif _only_links(whole):
            out.append(Line(line, "blank", "", 0, _nonspace(line), 0))
        else:
            prose, code, link, markup = _prose_line(whole)
            code -= len(before) + len(after)  # the backticks added to close spans are not the text's
            out.append(Line(line, "prose" if prose else "blank", prose, code, link, markup))
    return tuple(out)


def _continues(previous: str, line: Line) -> bool:
    """Whether `line` continues the sentence of the prose line before it (a soft line break): the previous line
    ends mid-sentence and is long enough to have been wrapped, and this one is not a new block (bullet, heading,
    quote) and starts with a lower-case letter, a digit or a letter without case (Hangul, CJK)."""
    if previous.endswith(SENTENCE_END + (":",)) or len(previous) < 40:
        return False
    if BULLET.match(line.text) or HEADING.match(line.text) or QUOTE.match(line.text):
        return False
    first = line.prose[:1]
    if first.islower() or first.isdigit() or (first.isalpha() and not first.isupper()):
        return True
    return previous.endswith(",") or bool(ENDS_MID_SENTENCE.search(previous))  # "...with the" + "Name ..."


@lru_cache(maxsize=64)
def prose_view(text: str) -> ProseView:
    """The prose of `text` as logical lines, and the characters set aside by kind."""
    out: list[str] = []
    introduces_code: set[int] = set()
    headings: set[int] = set()
    code = link = markup = 0
    previous_kind = "blank"
    for line in classify_lines(text):
        code, link, markup = code + line.code_chars, link + line.link_chars, markup + line.markup_chars
        if line.kind == "prose":
            if out and out[-1] and previous_kind == "prose" and _continues(out[-1], line):
                out[-1] = f"{out[-1]} {line.prose}"
            else:
                out.append(line.prose)
                if HEADING.match(line.text):
                    headings.add(len(out) - 1)
        elif line.kind == "code" and previous_kind != "code":
            last = len(out) - 1 - (1 if out and not out[-1] else 0)
            if last >= 0 and out[last].endswith(":"):
                introduces_code.add(last)
        if line.kind != "prose" and out and out[-1]:
            out.append("")  # a blank line, a code block or a table ends the paragraph
        if line.kind != "blank" or previous_kind == "prose":
            previous_kind = line.kind if line.kind != "markup" else "blank"
    while out and not out[-1]:
        out.pop()
    return ProseView(lines=tuple(out), introduces_code=frozenset(introduces_code), headings=frozenset(headings),
                     chars=_nonspace(text),
                     code_chars=code, link_chars=link, markup_chars=markup)
