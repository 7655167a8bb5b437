"""The fast half of license detection: a cheap gate, and the license notices people write.

`candidate_windows` is the gate: a handful of literals ("licen", "SPDX", "creative commons", "redistribution and use",
...) and license links; only the text around them is worth a matcher's time, and most documents have none.

`find_notices` reads, in those windows, what needs no index:
- one-line notices: "Licensed under the Apache License, Version 2.0", "Released under the MIT License", "This work
  is licensed under CC BY-SA 4.0", "License: MIT", "## License" over "MIT", "is MIT-licensed" (the name is whatever
  `resolve` knows);
- links to license pages (apache.org/licenses, opensource.org, gnu.org, creativecommons.org, spdx.org, ...) and
  badges (shields.io `License-MIT`, Creative Commons buttons);
- Creative Commons names ("Creative Commons Attribution-ShareAlike 4.0").

A name or a link counts as the page's license when something says so: a licensing verb before it, `rel="license"`,
a badge, a "License:" label or a copyright line near it. A license named in prose ("The MIT License is a permissive
license", "if you release your code under the GPL") is not a notice: such sentences are recognised by their
hypothetical or explanatory wording and left out, and a page that names three or more licenses this way is a list
(a comparison, third-party notices), whose entries stay below the tagging threshold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote

from .expression import resolve, unknown_ref
from .page import Link, Page

# Evidence strength (the `license_detect` step tags at >= 0.8 by default).
SPDX_TAG = 1.0
LINK_MARKED = 0.95      # rel="license", a badge, a Creative Commons link, or a license link in a notice
NOTICE = 0.9            # "Licensed under <name>"
LINK_BARE = 0.7         # a link to a license page with nothing saying it is this page's license
NAME_BARE = 0.6         # a license name in prose
LISTED = 0.5            # cap for a page that names/links three licenses or more: a list, not a license
UNKNOWN_NAME = 0.5      # "Licensed under the Foo License", a name the registry does not know: recorded, never tagged
LIST_SIZE = 3
RESOLVED = 0.8          # a window with evidence this strong is explained: no (further) ScanCode matching

WINDOW_CONTEXT = 400    # characters kept on each side of a gate hit
MERGE_GAP = 1000        # windows this close are one: a license text has paragraphs without any gate word
MAX_WINDOWS = 24
MAX_WINDOW_CHARS = 50_000   # the GPL-3.0 is 35,000 characters
LICENSE_FILE_SHARE = 0.5    # windows covering this share of a document: it is a license text, matched whole

# the gate's literals: `str.find` on the lowered text costs a fraction of one regex pass; the regex below runs only
# on documents holding one of them
GATE_LITERALS = ("licen", "spdx", "copyleft", "creative", "public domain", "cc by", "cc-by", "cc0", "gpl",
                 "hereby granted", "redistribution and use", "permission to use", "warrant", " liabilit",
                 "copyright holder", "/mpl/", "라이선스", "라이센스")
_GATE = re.compile(
    r"licen[cs]|spdx|copyleft|creative\s*commons|public\s+domain|\bcc[\s-]?(?:by|0)\b|\b[al]?gpl|"
    r"permission\s+is\s+hereby\s+granted|redistribution\s+and\s+use|permission\s+to\s+use,\s+copy|"
    # the last ones carry a window through a text; "라이선스" is Korean for "license"
    r"warrant(?:y|ies)|\bliabilit|copyright\s+holder|라이[선센]스", re.IGNORECASE)
# words of license texts and headers, rare in prose that only names a license: a window with two of them may hold a
# (modified) text, worth ScanCode's approximate matcher
LEGALESE = re.compile(r"warrant|\bliabilit|hereby\s+granted|redistribut|permission|free\s+software|"
                      r"terms\s+and\s+conditions|copyright\s+holder|as\s+is\b", re.IGNORECASE)

_VERB = (r"(?:(?:dual|multi)[\s-])?licen[cs]ed|release[sd]?|distributed|available|published|provided|offered|shared|"
         r"made\s+available|covered|governed|protected|placed")
# "Licensed under the Apache License", "release the work under the MIT licence", "licensed under the open source
# MIT-CMU License", "is subject to the terms of the Mozilla Public License, v. 2.0" (MPL-2.0's Exhibit A header)
NOTICE_SENTENCE = re.compile(
    rf"\b(?:(?P<verb>{_VERB})(?:\s+to\s+you)?(?:\s+freely)?"
    r"(?:\s+(?:it|them|this(?:\s+\w+)?|the\s+(?:work|code|software|project|library|content|data)))?"
    r"\s+(?:under|with)|subject\s+to)\s+"
    r"(?P<either>both\s+|[*_]{0,2}either[*_]{0,2}\s+(?:of\s+)?|(?:your\s+)?choice\s+of\s+)?"
    r"(?:(?:the\s+)?terms\s+(?:and\s+conditions\s+)?(?:of|from)\s+)?"
    r"(?:the\s+|an?\s+|its\s+)?(?:(?:very\s+)?(?:open[\s-]source|permissive|liberal|standard)\s+)?", re.IGNORECASE)
_LABEL = re.compile(r"(?m)^[ \t#*>|\-\"'`]*(?:licen[cs]e|licensing)(?:\s+type)?[*_`\"']*\s*(?:[:=]|::)[*_]*\s*[\"'`]?",
                    re.IGNORECASE)
# a Markdown "License" heading whose paragraph starts with a license name: "## License\n\n[Apache License 2.0](LICENSE)"
_HEADING = re.compile(r"(?m)^#{1,6}[ \t]*(?:licen[cs]e|licensing|라이[선센]스)[ \t]*#*[ \t]*\n\s*\[?", re.IGNORECASE)
# "is MIT-licensed" (a predicate: "a GPL-licensed book" describes another work)
_PRENAMED = re.compile(r"\b(?:is|are)\s+(?:fully\s+|entirely\s+)?(?P<name>[\w.+-]+(?:\s+v?\d[\w.]*)?)[\s-]licen[cs]ed\b",
                       re.IGNORECASE)
# what a sentence says when it explains a license instead of giving one
_HYPOTHETICAL_BEFORE = re.compile(
    # "Unless otherwise noted, the content is licensed under CC BY 4.0" is a notice, not a supposition
    r"\b(?:if|whether|unless(?!\s+otherwise\s+(?:stated|noted|specified|indicated))|can|could|should|would|might|"
    r"must|may\s+be|to\s+be|choos\w*|chose|want\w*|"
    r"often|usually|typically|commonly|many|most|not|"
    # other works' licenses: "combine Python with other software that is released under the GPL"
    r"other\s+(?:\w+\s+)?(?:software|code|projects?|works?|librar(?:y|ies)|programs?|packages?))\b[^.!?\n]*$",
    re.IGNORECASE)
_HYPOTHETICAL_AFTER = re.compile(  # (", and is a fork of ..." goes on about the work)
    r"^(?!\W*and\b)[^.!?\n]{0,12}\b(?:can|may|must|are|is\s+a|means|allows?|permits?|requires?|lets)\b", re.IGNORECASE)
# what marks a link or a name just after it as this page's license
# (in the few characters before a link or name: "Licensed under the <a>", "License: [MIT](...)", "## License\n[MIT](...)",
# "© 2024 Foo · <a>")
NOTICE_CONTEXT = re.compile(rf"licen[cs]ed\b(?:[^.!?\n]|[.!?](?!\s))*$|licen[cs]e\W*$|©|\(c\)|copyright|"
                            rf"\b(?:{_VERB})\s+under(?:\s+the\s+terms\s+of)?(?:\s+the|\s+an?)?\W*$", re.IGNORECASE)
CONTEXT_CHARS = 80
LICENSE_LABEL = re.compile(r"[\W_]*licen[cs]e[\W_]{0,4}[:=]", re.IGNORECASE)  # "License: MIT", "**License**: MIT"
# a "License:" line among other "Key: value" lines is a record describing another work (a dataset card, `pip show`,
# a package's metadata dict or trove classifiers)
_FIELD = re.compile(r"^[ \t*>|#\"'-]*\**[A-Za-z][\w .-]{1,24}[*\"']*\s*::?\**\s*\S", re.MULTILINE)  # also trove classifiers
RECORD_FIELDS = 2
RECORD_VALUE_LINES = 6
_NAME_END = re.compile(r"\n\s*\n|[;!?\[\]<>{}|`]|\.(?:\s|$)(?!\d)")
# markup opening a name: a Markdown link "[MIT License](LICENSE)", reST "`2-Clause BSD license`_" or
# "`BSD-3-Clause <https://...>`_", emphasis "**MIT**"
_MARKUP_OPEN = re.compile(r"[\[`*_]{1,3}(?=\w)")
_WORD = re.compile(r"\S+")
_BLANK = re.compile(r"\s*")
MAX_NAME_WORDS = 12

_CC_NAME = re.compile(
    r"creative\s+commons\s+attribution(?P<nc>[\s-]+non-?commercial)?"
    r"(?:[\s-]+(?P<el>share-?alike|no-?derivatives|no-?derivs))?[\s-]+(?P<ver>\d\.\d)", re.IGNORECASE)
_CC_SHORT = re.compile(r"\bCC[\s-]BY(?P<nc>-NC)?(?:-(?P<el>SA|ND))?[\s-](?P<ver>\d\.\d)\b", re.IGNORECASE)
_CC_LINK = re.compile(
    r"creativecommons\.org/(?P<kind>licenses|publicdomain)/(?P<code>[a-z+\-]+)/(?P<ver>\d\.\d)"
    r"(?:/(?P<jur>[a-z]{2})(?=[/\"'\s>]|$))?", re.IGNORECASE)
_CC_BADGE = re.compile(
    r"(?:i\.creativecommons\.org|licensebuttons\.net|mirrors\.creativecommons\.org/presskit/buttons)"
    r"/(?P<kind>l|p)/(?P<code>[a-z+\-]+)/(?P<ver>\d\.\d)(?:/(?P<jur>[a-z]{2})(?=/))?", re.IGNORECASE)
# license pages: (pattern, how to name the license from the match)
_LICENSE_URLS = [
    (re.compile(r"apache\.org/licenses/LICENSE[-_](?P<v>\d\.\d)", re.I), lambda m: f"Apache-{m['v']}"),
    # an id as the path writes it, in any case: opensource.org/licenses/mit-license.php
    (re.compile(r"opensource\.org/licenses?/(?P<id>[A-Za-z0-9.+_-]+?)(?:-license)?(?:\.php|\.html)?(?=[/?#\s\"']|$)",
                re.I), lambda m: m["id"].upper()),
    (re.compile(r"gnu\.org/licenses/(?:old-licenses/)?(?P<n>[al]?gpl|fdl)-(?P<v>\d\.\d)", re.I),
     lambda m: f"{m['n'].upper()}-{m['v']}-only"),
    (re.compile(r"mozilla\.org/(?:en-US/)?MPL/(?P<v>\d\.\d)", re.I), lambda m: f"MPL-{m['v']}"),
    (re.compile(r"spdx\.org/licenses/(?P<id>[A-Za-z0-9.+-]+?)(?:\.html|\.json)?(?=[/?#\s\"']|$)", re.I),
     lambda m: m["id"]),
    (re.compile(r"choosealicense\.com/licenses/(?P<id>[a-z0-9.-]+)", re.I), lambda m: m["id"]),
    (re.compile(r"(?:^|[/.])mit-license\.org", re.I), lambda m: "MIT"),
    (re.compile(r"(?:^|[/.])unlicense\.org", re.I), lambda m: "Unlicense"),
    (re.compile(r"boost\.org/LICENSE_1_0\.txt", re.I), lambda m: "BSL-1.0"),
    (re.compile(r"eclipse\.org/(?:legal|org/documents)/epl-v?(?P<v>[12])\.?0", re.I), lambda m: f"EPL-{m['v']}.0"),
    (re.compile(r"eclipse\.org/(?:legal|org/documents)/edl-v?1\.?0", re.I), lambda m: "BSD-3-Clause"),
]
_SHIELDS = re.compile(r"(?:shields\.io|badgen\.net)/badge/licen[cs]e[-/](?P<id>.+?)(?:-[0-9a-f]{3,6}|-[a-z]+|/[a-z]+)?"
                      r"(?:\.svg|\.png|\?|$)", re.IGNORECASE)


@dataclass(frozen=True)
class Evidence:
    """One thing in a document that says which license it is under."""

    license: str            # normalised SPDX expression (or our LicenseRef)
    confidence: float
    kind: str               # spdx-tag | notice | link | badge | name | text (full text or header) | reference
                            # | unknown-name
    at: int                 # offset in the scanned text
    source: str = "rules"   # rules | reference-texts | scancode


@dataclass(frozen=True)
class Window:
    start: int
    end: int
    text: str


def may_name_a_license(text: str) -> bool:
    """The pre-check: False for a document that holds no license word, license link or license-text phrase."""
    lower = text.lower()
    return any(literal in lower for literal in GATE_LITERALS)


def candidate_windows(page: Page, *, context: int = WINDOW_CONTEXT) -> list[Window]:
    """The stretches of `page.text` around gate hits and license links, merged; empty for most documents."""
    text = page.text
    spans = [(m.start(), m.end()) for m in _GATE.finditer(text)]
    spans += [(lk.at, lk.at + 1) for lk in page.links if license_of_url(lk.url)]
    if not spans:
        return []
    spans.sort()
    merged: list[list[int]] = []
    for s, e in spans:
        s, e = max(0, s - context), min(len(text), e + context)
        if merged and s <= merged[-1][1] + MERGE_GAP:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    if sum(e - s for s, e in merged) >= LICENSE_FILE_SHARE * len(text):  # a license file: one window, whole
        return [Window(0, min(len(text), MAX_WINDOW_CHARS), text[:MAX_WINDOW_CHARS])]
    windows, budget = [], MAX_WINDOW_CHARS
    for s, e in merged[:MAX_WINDOWS]:
        e = min(e, s + budget)
        windows.append(Window(s, e, text[s:e]))
        budget -= e - s
        if budget <= 0:
            break
    return windows


_NOT_A_LICENSE = re.compile(r"unknown|no-license|NOASSERTION|NONE", re.IGNORECASE)
NOT_LATIN = re.compile(r"[^\x00-\u024f\u2010-\u201f]")  # resolve() drops such words: "모델 라이선스 (예: mit)" is not MIT
_ONE_WORD_NAME = re.compile(r"[A-Z0-9][A-Za-z0-9.+-]*[A-Z0-9.][A-Za-z0-9.+-]*|Unlicense")  # MIT, GPLv3, CC0, Apache-2.0


@lru_cache(maxsize=8192)
def _known(name: str) -> str | None:
    """The license `name` names, if the registry knows it; "No known license" / "Unknown" name none, a single plain
    word ("Attribution", "Python") is not taken for a license, nor a phrase in another script."""
    if (" " not in name.strip() and not _ONE_WORD_NAME.fullmatch(name.strip())) or NOT_LATIN.search(name):
        return None
    res = resolve(name)
    if not (res.known and res.expression) or _NOT_A_LICENSE.search(res.expression):
        return None
    return res.expression


def resolve_name(after: str) -> tuple[str, int] | None:
    """The license named at the start of `after` ("Apache License, Version 2.0 (the "License") ...") and the length
    of the name (with the markup that opens it: "[MIT License](LICENSE)"); the longest prefix of up to a dozen words
    that the registry knows."""
    markup = _MARKUP_OPEN.match(after)
    if markup:
        named = resolve_name(after[markup.end():])
        return (named[0], markup.end() + named[1]) if named else None
    cut = _NAME_END.search(after)
    head = _korean_name_end(after[:cut.start()] if cut else after[:200])
    cc = _CC_NAME.match(head) or _CC_SHORT.match(head)
    if cc:
        lid = _known(cc.group(0))
        if lid:
            return lid, cc.end()
    words = list(_WORD.finditer(head))[:MAX_NAME_WORDS]
    for k in range(len(words), 0, -1):
        end = words[k - 1].end()
        candidate = head[:end].strip(" ,.:;\"'`*_()")
        if not candidate or candidate.lower() in ("license", "licence", "terms", "same", "following", "this"):
            continue
        lid = _known(_KO_LICENSE.sub("License", candidate))
        if lid:
            return lid, len(head[:end].rstrip(" ,.:;\"'`*_()\n\t"))  # what follows the name starts after it
    return None


# Korean: "라이선스" (or "라이센스") is "License" in a name ("Apache 라이선스 2.0"); the name ends at any other Hangul
# word, and at a particle glued to it ("CC BY 4.0에 따라", "Apache 2.0 라이선스에 따라")
_KO_LICENSE = re.compile(r"라이[선센]스")
_HANGUL_RUN = re.compile(r"[\uac00-\ud7a3]+")


def _korean_name_end(head: str) -> str:
    for run in _HANGUL_RUN.finditer(head):
        word = _KO_LICENSE.match(run.group(0))
        if not word:
            return head[:run.start()]
        if word.end() < len(run.group(0)):
            return head[:run.start() + word.end()]
    return head


# Korean notices put the name first and the verb last: "문서는 CC BY 4.0에 따라 배포된다" (distributed under),
# "모든 코드 기여는 Apache 2.0 라이선스 하에 있다" (is under), "... Apache 2.0 라이선스에 따라 라이선스가 부여됩니다"
# (licensed under: Google's Korean page footer), "MIT 라이선스로 배포됩니다"
_KO_NOTICE = re.compile(
    r"(?:[ \t]*라이[선센]스)?[ \t]*(?:에[ \t]*따라|하에|(?:으)?로)[ \t]*"
    r"(?:(?:[\uac00-\ud7a3]+[ \t]+){0,2}?[\uac00-\ud7a3]*?(?:배포|허가|부여|적용|공개|제공)|(?<=하에)[ \t]*있)")
# what a Korean sentence says when it advises or supposes: "... 배포할 수 있습니다" (can), "... 배포하려면" (to),
# "... 사용하세요" (please use), "... 배포하면" (if)
_KO_HYPOTHETICAL_AFTER = re.compile(r"[\uac00-\ud7a3]{0,3}(?:[ \t]*수[ \t]*있|려면|세요|야[ \t]|면[ \t,])")
# ... or speaks of licenses in general: "많은 프로젝트가 MIT 라이선스로 배포됩니다" (many projects), "만약" (if)
_KO_HYPOTHETICAL_BEFORE = re.compile(r"많은|대부분|일반적으로|흔히|보통|만약|다른[ \t]*(?:소프트웨어|프로젝트|코드|라이브러리|패키지)")
_LATIN_RUN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 \t.,+\-]*$")


def korean_notices(text: str, offset: int = 0) -> list[Evidence]:
    """Korean notices: the longest known license name just before a licensing phrase."""
    found = []
    for m in _KO_NOTICE.finditer(text):
        run = _LATIN_RUN.search(text, max(0, m.start() - 100), m.start())
        if not run or _KO_HYPOTHETICAL_AFTER.match(text, m.end()):
            continue
        sentence_start = max(text.rfind(". ", 0, run.start()), text.rfind("\n", 0, run.start()), run.start() - 120)
        if _KO_HYPOTHETICAL_BEFORE.search(text, sentence_start + 1, run.start()):
            continue
        words = run.group(0).split()
        for k in range(max(0, len(words) - MAX_NAME_WORDS), len(words)):
            lid = _known(" ".join(words[k:]).strip(" ,.:;"))
            if lid:
                found.append(Evidence(lid, NOTICE, "notice", offset + run.start()))
                break
    return found


# comment markers at line starts, blanked in place (same offsets) so that a notice wrapped over comment lines reads
# as one sentence: "Apache License, Version\n# 2.0, and the BSD License"
_LINE_MARKER = re.compile(r"(?m)^([ \t]*)(#+|//+|/\*+|\*+/?|--+|;+)(?=[ \t]|$)")
# after a license name, where to find its text ("(LICENSE-MIT or https://...)", "<LICENSE-APACHE or ...>", one level
# of parentheses inside: "([LICENSE-MIT](LICENSE-MIT) or ...)"): skipped
# The markup that closes a name ("](", "`_") comes first.
_POINTER = re.compile(r"[\]`*_]*(?:[\s,]*(?:\((?:[^()]|\([^()]*\)){0,200}\)|<[^<>]{0,200}>)[`_*]*)?")
# what joins the next name: "A and B", "A, or the B", "A and under the terms of the B", a list's next item
_JOIN = re.compile(r"\s*,?\s*(?P<op>and|or)\s+(?:(?:under|with)\s+)?(?:the\s+|an?\s+)?(?:terms\s+of\s+(?:the\s+)?)?",
                   re.IGNORECASE)
# a list of names, one per line ("either of\n\n * A (...)\n * B (...)"; bullets may be blanked as comment markers)
_ITEM = re.compile(r"[ \t]*\n\s*(?:[*\u2022+-]\s+)?")
_LIST_START = re.compile(r"\s*\n\s*(?:[*\u2022+-]\s+)?|\s*[*\u2022+-]\s+")
# "..., at your option" after the names: they are alternatives
_AT_OPTION = re.compile(r"[\s,.)>]*at\s+(?:your|the\s+(?:user|licensee)'?s?)\s+(?:option|choice|discretion)",
                        re.IGNORECASE)
MAX_JOINED = 4


def resolve_names(after: str, choice: bool = False) -> tuple[str, int] | None:
    """The license or licenses named at the start of `after` and the length of what names them, joined as the text
    joins them: "A or B" offers a choice (OR), "A and B" both (AND), unless the sentence offers a choice anyway
    (`choice`: "dual-licensed under", "either of") or ends by saying so ("A <...> or the B <...>, at your option",
    Rust's header), which makes every join an OR; a list's items ("either of\n * A (...)\n * B (...)") likewise.
    Where each text is found ("(LICENSE-MIT or https://...)") is skipped. Up to four names."""
    listed = _LIST_START.match(after)  # the names start a list: its next items are names too
    start = listed.end() if listed else len(after) - len(after.lstrip())
    first = resolve_name(after[start:])
    if not first:
        return None
    names, ops, end = [first[0]], [], start + first[1]
    while len(names) < MAX_JOINED:
        pointer = _POINTER.match(after, end)
        at = pointer.end() if pointer else end
        join = _JOIN.match(after, at) or (_ITEM.match(after, at) if listed else None)
        if not join:
            break
        at = len(after) - len(after[join.end():].lstrip())  # the next name's first character
        # a name nothing knows still counts in a join: "the Apache License, Version 2.0, and the BSD License" (which
        # BSD, the license files of the folder may tell: `license_files.refine_generic_names`)
        named = resolve_name(after[at:]) or unknown_license_name(after[at:])
        if not named:
            break
        names.append(named[0])
        ops.append((join.groupdict().get("op") or "item").lower())
        end = at + named[1]
    pointer = _POINTER.match(after, end)
    offered = choice or bool(_AT_OPTION.match(after, pointer.end() if pointer else end))
    if len(names) == 1:
        # the registry's own reading of "A and B" as one name: a choice when the sentence offers one
        if not (offered and " AND " in first[0] and not re.search(r"[()]| OR | WITH ", first[0])):
            return first[0], end
        names = first[0].split(" AND ")
    joined = (" OR " if offered or all(op == "or" for op in ops) else " AND ").join(
        f"({n})" if " " in n else n for n in names)
    res = resolve(joined)
    return (res.expression if res.known and res.expression else joined), end


# a license name the registry does not know, after a licensing verb: capitalised words (or digits, "eGenix.com")
# ending in "License" ("the Sapiens2 License", "the eGenix.com Public License Agreement, Version 1.1")
_NAME_WORD = r"(?:[A-Z0-9][\w.+-]*|[a-z][\w.-]*[A-Z][\w.+-]*)"
_SPACE = r"(?:[ \t]*\n[ \t]*|[ \t]+)"  # a wrapped line too
_UNKNOWN_NAME = re.compile(
    rf"[\[`*_]{{0,3}}(?P<name>{_NAME_WORD}(?:{_SPACE}(?:{_NAME_WORD}|of|for|and))*?{_SPACE}Licen[cs]e"
    r"(?:[ \t]+Agreement)?(?:,?[ \t]+(?:[Vv]ersion[ \t]+|v\.?[ \t]*)?\d+(?:\.\d+)*)?)(?![\w-]|[ \t]+[A-Z]\w)")
# words that make no name on their own: "the Same License as Python", "an Open Source License"
_GENERIC = frozenset("this the same following above open source free software original standard permissive its their "
                     "our your a an new each any other respective appropriate applicable specified public terms "
                     "project of for and".split())


def unknown_license_name(after: str) -> tuple[str, int] | None:
    """`LicenseRef-Unknown-<name>` for a license name at the start of `after` that the registry does not know, and
    the length of what names it."""
    m = _UNKNOWN_NAME.match(after)
    if not m or all(w.lower() in _GENERIC for w in m["name"].split()[:-1]):
        return None
    return unknown_ref(m["name"]), m.end()


def explains(text: str, verb_start: int, name_end: int | None = None) -> bool:
    """Whether the licensing verb at `verb_start` sits in a sentence that explains or supposes ("if you release your
    code under the GPL", "software released under the MIT License can be ...") rather than states a license."""
    sentence_start = max(text.rfind(".", 0, verb_start), text.rfind("\n", 0, verb_start), verb_start - 120)
    if _HYPOTHETICAL_BEFORE.search(text[sentence_start + 1:verb_start]):
        return True
    return name_end is not None and _HYPOTHETICAL_AFTER.search(text[name_end:name_end + 60]) is not None


def notice_sentences(text: str, offset: int = 0) -> list[Evidence]:
    """"Licensed under X", "License: X", a "## License" heading over X, "is X-licensed" in `text`."""
    found = []
    unwrapped = _LINE_MARKER.sub(lambda m: m.group(1) + " " * len(m.group(2)), text)
    for m in NOTICE_SENTENCE.finditer(unwrapped):
        offers = ((m["verb"] or "").lower().startswith(("dual", "multi"))
                  or (m["either"] or "").lower().strip("*_").startswith(("either", "your", "choice")))
        begin = m.start() + len(m.group(0).rstrip())  # the names start after the blank: a list starts on a new line
        named = resolve_names(unwrapped[begin:begin + 400], choice=offers)
        if named and not explains(unwrapped, m.start(), begin + named[1]):
            found.append(Evidence(named[0], NOTICE, "notice", offset + m.start()))
        elif not named:
            start = _BLANK.match(unwrapped, begin).end()
            unknown = unknown_license_name(unwrapped[start:start + 200])
            # what the document says it is under, though nothing here knows it: for a reader to see
            if unknown and not explains(unwrapped, m.start(), start + unknown[1]):
                found.append(Evidence(unknown[0], UNKNOWN_NAME, "unknown-name", offset + m.start()))
    for m in _LABEL.finditer(text):
        named = resolve_name(text[m.end():m.end() + 200])
        if named:
            found.append(Evidence(named[0], NOTICE, "notice", offset + m.start()))
    for m in _HEADING.finditer(text):
        named = resolve_name(text[m.end():m.end() + 200])
        if named:
            found.append(Evidence(named[0], NOTICE, "notice", offset + m.start()))
    for m in _PRENAMED.finditer(text):
        lid = _known(m.group("name"))
        if lid and not explains(text, m.start(), m.end()):
            found.append(Evidence(lid, NOTICE, "notice", offset + m.start()))
    if _HANGUL_RUN.search(text):
        found += korean_notices(text, offset)
    return found


def _cc_id(code: str, version: str, jurisdiction: str | None = None) -> str | None:
    code = code.lower()
    if code == "zero":
        base = f"CC0-{version}"
    elif code == "mark":
        base = f"CC-PDM-{version}"
    elif code.startswith("by"):
        base = f"CC-{code.upper()}-{version}"
    else:
        return None
    if jurisdiction:
        ported = _known(f"{base}-{jurisdiction.upper()}")
        if ported:
            return ported
    return _known(base)


def license_of_url(url: str) -> str | None:
    """The license a link or image URL points at (a license page, a CC deed or button, a license badge)."""
    for rx in (_CC_LINK, _CC_BADGE):
        m = rx.search(url)
        if m:
            return _cc_id(m.group("code"), m.group("ver"), m.group("jur"))
    m = _SHIELDS.search(url)
    if m:
        raw = m.group("id").replace("--", "\0").replace("-", " ").replace("\0", "-").replace("_", " ")
        return _known(unquote(raw).strip())
    for rx, name in _LICENSE_URLS:
        m = rx.search(url)
        if m:
            return _known(name(m))
    return None


def cc_names(text: str) -> list[tuple[str, int]]:
    """Creative Commons licenses written out ("Creative Commons Attribution-NonCommercial 4.0", "CC BY-SA 3.0")."""
    found = []
    for rx in (_CC_NAME, _CC_SHORT):
        for m in rx.finditer(text):
            code = "by" + ("-nc" if m.group("nc") else "")
            el = (m.group("el") or "").lower().replace("-", "")
            code += "-sa" if el.startswith("share") or el == "sa" else "-nd" if el.startswith("no") or el == "nd" else ""
            lid = _cc_id(code, m.group("ver"))
            if lid:
                found.append((lid, m.start()))
    return found


def link_evidence(page: Page) -> list[Evidence]:
    """Links and images pointing at license pages, graded by what marks them as this page's license."""
    found = []
    for link in page.links:
        lid = license_of_url(link.url)
        if not lid:
            continue
        before = page.text[max(0, link.at - CONTEXT_CHARS):link.at]
        if link.image:
            found.append(Evidence(lid, LINK_MARKED, "badge", link.at))
        elif link.rel_license or NOTICE_CONTEXT.search(before):
            found.append(Evidence(lid, LINK_MARKED, "link", link.at))
        else:
            found.append(Evidence(lid, LINK_BARE, "link", link.at))
    return found


def find_notices(page: Page, windows: list[Window]) -> list[Evidence]:
    """Notices, links, badges and Creative Commons names in the candidate windows of `page`."""
    found = link_evidence(page)
    for w in windows:
        found += notice_sentences(w.text, w.start)
        for lid, at in cc_names(w.text):
            context = NOTICE_CONTEXT.search(w.text[max(0, at - CONTEXT_CHARS):at]) is not None
            found.append(Evidence(lid, NOTICE if context else NAME_BARE, "name", w.start + at))
    return found


def in_record(text: str, at: int) -> bool:
    """Whether offset `at` is in the value of a "License: ..." field among other "Key: value" lines (**Version**,
    Author, Splits): the license of the thing the record describes, not of the page. The value may run over a few
    lines ("**License**: \nThis work includes data from ConceptNet 5 ... available under CC BY SA 3.0")."""
    line_start = text.rfind("\n", 0, at) + 1
    for _ in range(RECORD_VALUE_LINES):
        line_end = text.find("\n", line_start)
        line = text[line_start:line_end if line_end >= 0 else len(text)]
        if not line.strip():
            return False
        if _LABEL.match(line):
            around = text[max(0, line_start - 300):line_start] + "\n" + text[line_end:line_end + 600]
            return line_end >= 0 and len(_FIELD.findall(around)) >= RECORD_FIELDS
        if line_start == 0:
            return False
        line_start = text.rfind("\n", 0, line_start - 1) + 1
    return False


def demote_records(text: str, evidence: list[Evidence]) -> list[Evidence]:
    """Evidence on a record's "License:" line stays below the tagging threshold (`in_record`)."""
    return [Evidence(e.license, min(e.confidence, NAME_BARE), e.kind, e.at, e.source)
            if e.kind != "spdx-tag" and in_record(text, e.at) else e for e in evidence]


def cap_lists(evidence: list[Evidence]) -> list[Evidence]:
    """A page naming or linking three licenses or more is a list of licenses: none of them is the page's own."""
    listed = {e.license for e in evidence if e.kind in ("notice", "link", "badge", "name", "reference")}
    # a choice and its alternatives are one statement ("either of Apache-2.0 or MIT", then a link to each)
    choices = [set(re.findall(r"[\w.+:-]+", lic)) - {"OR", "AND", "WITH"} for lic in listed if " OR " in lic]
    listed = {lic for lic in listed if not any(lic in ids for ids in choices)}
    if len(listed) < LIST_SIZE:
        return evidence
    return [Evidence(e.license, min(e.confidence, LISTED), e.kind, e.at, e.source)
            if e.kind in ("notice", "link", "badge", "name", "reference") else e for e in evidence]
