"""A folder's license files, read together: the license the files below the folder inherit.

Each file counts for its primary license (what it states first, not the licenses of the code it bundles, listed
after), the folder's LICENSE/COPYING first, joined with AND (greenlet: LICENSE and LICENSE.PSF, "MIT AND PSF-2.0").

A license file often holds no license text, only where to find them: packaging's and cryptography's LICENSE say
"made available under the terms of *either* of the licenses found in LICENSE.APACHE or LICENSE.BSD", tld's links
its three license files and adds "at your option". Read alone, such a file names its licenses by file name ("BSD":
which BSD?) and does not say how they combine with the files it names; read with its folder, it does: it stands for
the licenses of the files it names, offered as a choice (OR) or applying together (AND), and those files count
there only. Files are read one at a time (`read_license_file`, in a stream) and joined per folder
(`folder_license`), so that a corpus's license files are never all held as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .detect import DocumentLicense, detect_license_expression
from .expression import combine_licenses, resolve

PRIMARY_LICENSE_FILE = re.compile(r"(?i)(?:licen[cs]e|copying|unlicense)(?:\.(?:txt|md|rst))?")
# a license file's name as a text writes it: LICENSE.APACHE, LICENSE-MIT, LICENSE_GPL2.0.txt, COPYING.LESSER; a bare
# LICENSE or COPYING is the word, not a reference; a URL's path (apache.org/licenses/LICENSE-2.0) is not a file here
_FILE_NAME = re.compile(r"(?i)(?<![\w./:-])(?:licen[cs]e|copying)[._-][\w.+-]*[\w+]")
_DOC_EXTENSION = re.compile(r"(?i)\.(?:txt|md|rst)$")
# between two names, an "or" offers them as alternatives ("LICENSE-APACHE or LICENSE-MIT")
_OR_BETWEEN = re.compile(r"(?i)\bor\b")
# anywhere in the sentences that name them: a choice ("either of", "at your option", "dual-licensed")
_CHOICE = re.compile(r"(?i)\beither\b|\bat\s+(?:your|the\s+licensee'?s?|the\s+user'?s?)\s+(?:option|choice|discretion)"
                     r"|\b(?:dual|multi)[\s-]*licen[cs]ed|\byour\s+choice\b")
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|\n\s*\n")


@dataclass(frozen=True)
class LicenseFile:
    """One license file of a folder, as read alone."""

    name: str  # its file name (LICENSE, LICENSE.BSD, COPYING.LESSER.txt)
    license: DocumentLicense | None  # what it states (`detect_license_expression`)
    names: tuple[str, ...] = ()  # the license file names it mentions, as written, in the order first mentioned
    choice: bool = False  # it offers them as alternatives ("either of ...", "... or ..., at your option")
    besides: DocumentLicense | None = None  # what it states besides those names (the text with them taken out)
    declared: bool = False  # a package manifest's license field (`package_manifests`: package.json, pom.xml, ...)


def read_license_file(name: str, text: str, *, engine: str = "auto", min_confidence: float = 0.8) -> LicenseFile:
    """One license file as read alone: what it states, the license files it names, whether it offers them as a
    choice (within the sentences that name them), and what it states besides their names (read only when it names
    some)."""
    lic = detect_license_expression(text, engine=engine, min_confidence=min_confidence)
    spans = [(m.start(), m.end(), m.group()) for m in _FILE_NAME.finditer(text)]
    spans = [s for s in spans if not _same_file(s[2], name)]  # its own name ("LICENSE.BSD: BSD license")
    if not spans:
        return LicenseFile(name, lic)
    gaps = [text[a[1]:b[0]] for a, b in zip(spans, spans[1:])]
    window = text[_sentence_start(text, spans[0][0]):_sentence_end(text, spans[-1][1])]
    pieces, last = [], 0
    for start, end, _ in spans:
        pieces.append(text[last:start])
        last = end
    rest = " ".join(pieces + [text[last:]])
    names = tuple(dict.fromkeys(s[2] for s in spans))
    choice = any(_OR_BETWEEN.search(g) for g in gaps) or bool(_CHOICE.search(window))
    besides = detect_license_expression(rest, engine=engine, min_confidence=min_confidence)
    return LicenseFile(name, lic, names, choice, besides)


README_FILE = re.compile(r"(?i)readme(?:\.(?:md|markdown|rst|txt))?")
# a README's license section: a Markdown heading ("## License", "## Licensing") or a reST/setext title underlined
# ("License\n======="), to the next heading of any level
_LICENSE_HEADING = re.compile(r"(?im)^(?:#{1,6}[ \t]*licen[cs](?:e|es|ing)\b.*"
                              r"|licen[cs](?:e|es|ing)\b.*\n[=\-~^*#]{3,})[ \t]*$")
_NEXT_HEADING = re.compile(r"(?m)^(?:#{1,6}[ \t]+\S|.+\n[=\-~^*#]{3,}[ \t]*$)")


def read_readme(name: str, text: str) -> LicenseFile | None:
    """A README whose license section offers license files of its folder as a choice: clippy's "Licensed under the
    Apache License, Version 2.0 <LICENSE-APACHE or https://...> or the MIT license <LICENSE-MIT or https://...>, at
    your option", Rust's "Licensed under either of * Apache License ... ([LICENSE-APACHE](LICENSE-APACHE)) * MIT
    license ... at your option". LICENSE-APACHE and LICENSE-MIT alone apply together (AND); with such a README they
    are the choice it offers (OR), as with a Cargo.toml. It stands only for the files it names (nothing else a
    README says counts for its folder) and only when it offers a choice: "under the terms of both ... See
    LICENSE-APACHE and LICENSE-MIT" is what the files say anyway. None for any other README."""
    heading = _LICENSE_HEADING.search(text)
    if not heading:
        return None
    nxt = _NEXT_HEADING.search(text, heading.end())
    section = text[heading.end():nxt.start() if nxt else len(text)]
    spans = [(m.start(), m.end(), m.group()) for m in _FILE_NAME.finditer(section)]
    names = tuple(dict.fromkeys(s[2] for s in spans))
    gaps = [section[a[1]:b[0]] for a, b in zip(spans, spans[1:])]
    if len(names) < 2 or not (any(_OR_BETWEEN.search(g) for g in gaps) or _CHOICE.search(section)):
        return None
    return LicenseFile(name, None, names, choice=True)


def folder_license(files: list[LicenseFile], min_confidence: float = 0.8) -> tuple[str, float] | None:
    """The license the files below a folder inherit from its license files, as (expression, confidence); None when
    none states a license at `min_confidence`. A package manifest's license field is what the package declares
    (Rust's `license = "MIT OR Apache-2.0"` next to LICENSE-MIT and LICENSE-APACHE, which alone would apply
    together): it gives the folder's license, and the license files add only licenses it does not name."""
    manifests = [f for f in files if f.declared and f.license]
    if manifests:
        declared = combine_licenses([(f.license.expression, 1.0) for f in manifests])
        files_say = folder_license([f for f in files if not f.declared], min_confidence)
        if declared and files_say and not set(resolve(files_say[0]).ids) <= set(resolve(declared[0]).ids):
            declared = combine_licenses([declared, files_say])
        return (resolve(declared[0]).expression or declared[0], declared[1]) if declared else files_say
    primary = {f.name: (f.license.primary, f.license.primary_confidence) for f in files
               if f.license and f.license.primary_confidence >= min_confidence}
    # the files each names, in the order it names them
    named = {f.name: list(dict.fromkeys(g.name for n in f.names for g in files if g is not f and _same_file(n, g.name)))
             for f in files}
    pointers = {f.name for f in files if named[f.name]}
    counted_there = {n for p in pointers for n in named[p]} - pointers
    parts = []
    for f in sorted(files, key=lambda f: (not PRIMARY_LICENSE_FILE.fullmatch(f.name), f.name.lower())):
        if f.name in pointers:
            part = _pointed(f, named[f.name], primary, min_confidence) or primary.get(f.name)
        else:
            part = None if f.name in counted_there else primary.get(f.name)
        if part:
            parts.append(part)
    combined = combine_licenses(parts) if parts else None
    if not combined:
        return None
    res = resolve(combined[0])
    return (res.expression if res.known and res.expression else combined[0]), combined[1]


def _pointed(f: LicenseFile, targets: list[str], primary: dict[str, tuple[str, float]], min_confidence: float):
    """What a license file that names others of its folder states: their licenses (OR when it offers a choice), and
    what its own words state besides the names unless that is the same licenses again (tld: "GPL 2.0
    <LICENSE_GPL2.0.txt> or ..."). None when none of the files it names states a license."""
    stated = [primary[n] for n in targets if n in primary]
    if not stated:
        return None
    if f.choice and len(stated) > 1:
        named = (" OR ".join(f"({e})" for e, _ in stated), min(c for _, c in stated))
    else:
        named = combine_licenses(stated)
    own = f.besides
    if not named or not own or own.confidence < min_confidence or \
            _versions(resolve(own.expression).ids) <= _versions(resolve(named[0]).ids):
        return named
    return combine_licenses([(own.expression, own.confidence), named])


_ONLY_OR_LATER = re.compile(r"-(?:only|or-later)$")


def _versions(ids) -> set[str]:
    """License ids as the same license and version, "-only" or "-or-later" aside: a pointer's "LGPL 2.1
    <LICENSE_LGPL_2.1.txt>" (LGPL-2.1-only as a name) is the license of the file it names, whose text reads
    LGPL-2.1-or-later (its "any later version" clause)."""
    return {_ONLY_OR_LATER.sub("", i) for i in ids}


def _same_file(written: str, name: str) -> bool:
    """`written` (a name in a text) names the file `name`: equal ignoring case, the extension optional."""
    w, n = written.lower(), name.lower()
    return w == n or _DOC_EXTENSION.sub("", w) == _DOC_EXTENSION.sub("", n)


def _sentence_start(text: str, at: int) -> int:
    ends = [m.end() for m in _SENTENCE_END.finditer(text, 0, at)]
    return ends[-1] if ends else 0


def _sentence_end(text: str, at: int) -> int:
    m = _SENTENCE_END.search(text, at)
    return m.end() if m else len(text)


# license names that say the family, not the license: which one is meant, the license files around the document tell
# ("the BSD License" in a header of a repository whose LICENSE.BSD is BSD-3-Clause)
GENERIC_FAMILIES = {"bsd": "BSD-", "bsd-style": "BSD-", "new-bsd": "BSD-3-Clause", "apache": "Apache-",
                    "gpl": "GPL-", "gnu-gpl": "GPL-", "lgpl": "LGPL-", "gnu-lgpl": "LGPL-", "mpl": "MPL-",
                    "mozilla-public": "MPL-", "eclipse-public": "EPL-", "cc-by": "CC-BY-"}
_UNKNOWN_REF = re.compile(r"LicenseRef-Unknown-([A-Za-z0-9.-]+)")


def refine_generic_names(expression: str, around: str) -> str:
    """`expression` with each generic name it holds ("LicenseRef-Unknown-BSD-License": the BSD family) replaced by
    the one license of that family that `around` (the license of the document's folder) names; unchanged where
    `around` names none or several of them."""
    ids = resolve(around).ids if around else ()

    def member(m: re.Match) -> str:
        family = re.sub(r"(?i)-?licen[cs]e$", "", m.group(1)).lower()
        prefix = GENERIC_FAMILIES.get(family)
        found = sorted({i for i in ids if prefix and i.startswith(prefix)})
        return found[0] if len(found) == 1 else m.group(0)

    refined = _UNKNOWN_REF.sub(member, expression)
    if refined == expression:
        return expression
    res = resolve(refined)
    return res.expression if res.expression else refined
