"""Debian's machine-readable copyright files (DEP-5, copyright-format 1.0): the licenses they declare, by file pattern.

A `debian/copyright` file in this format names each license by a short name (`GPL-2+`, `Expat`, `BSD-3-clause`,
`GPL-1+ or Artistic`, `GPL-3+ with Bison exception`) for each group of files, and often gives the text once in a
stand-alone `License:` paragraph. Those names are the maintainers' reading of the sources: detecting licenses from
the texts instead guesses among the many a package bundles (perl-base's copyright file read as Zlib, sqlite's as
GPL-2.0: the public-domain notice is a few words beside a GPL text). Names follow Debian's conventions, which differ
from SPDX's: `+` is "or later" on bare versions, `Artistic` is the Perl one (1.0), `with X exception` an exception;
a name neither knows (`custom`, `BSD-C3`) is read from its license text, else left as `LicenseRef-Unknown-<name>`.
https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

from .expression import combine_licenses, resolve, unknown_ref

_FORMAT = re.compile(r"\A\s*(?:Format|Format-Specification):\s*\S*(?:copyright-format|dep5|DEP-5)", re.IGNORECASE)
_FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9-]*):[ \t]?(.*)$")
_COMMA = re.compile(r"\s*,\s*(?:(and|or)\s+)?", re.IGNORECASE)
_AND_OR = re.compile(r"\s+(or|and)\s+", re.IGNORECASE)
_WITH = re.compile(r"^(.+?)\s+with\s+(.+?)(?:\s+exception)?$", re.IGNORECASE)
_PLUS = re.compile(r"^(.*?-?)(\d+(?:\.\d+)?)\+$")  # GPL-2+ -> GPL-2.0-or-later, LGPL-2.1+ -> LGPL-2.1-or-later
_GFDL_NIV = re.compile(r"^GFDL-NIV-(\d\.\d)(\+?)$", re.IGNORECASE)  # no invariant sections

# Debian short names that SPDX spells otherwise (the standard short names of copyright-format 1.0, section 7.2, and
# the most frequent others on a Debian system); the rest resolve through the registry's aliases.
DEBIAN_NAMES = {
    "artistic": "Artistic-1.0-Perl", "artistic-1": "Artistic-1.0-Perl", "artistic-1.0": "Artistic-1.0-Perl",
    "perl": "(Artistic-1.0-Perl OR GPL-1.0-or-later)",
    "lgpl": "LGPL-2.0-or-later", "gpl": "GPL-1.0-or-later", "agpl": "AGPL-3.0-or-later",
    "bsd-4-clause": "BSD-4-Clause", "bsd-4": "BSD-4-Clause", "bsd3": "BSD-3-Clause",
    "gfdl-niv": "GFDL-1.1-no-invariants-or-later", "sil-1.1": "OFL-1.1", "sil-ofl-1.1": "OFL-1.1",
    "apache-2-llvm-exceptions": "Apache-2.0 WITH LLVM-exception", "bzip": "bzip2-1.0.6",
    "zlib/libpng": "Zlib", "public-domain": "LicenseRef-scancode-public-domain",
}
DEBIAN_EXCEPTIONS = {
    "bison": "Bison-exception-2.2", "classpath": "Classpath-exception-2.0", "linux-syscall-note": "Linux-syscall-note",
    "autoconf": "Autoconf-exception-generic", "libtool": "Libtool-exception", "font": "Font-exception-2.0",
    "gcc": "GCC-exception-3.1", "qt": "Qt-GPL-exception-1.0", "texinfo": "Texinfo-exception",
}
# SPDX has no generic OpenSSL exception: ScanCode has one per license it extends (openssl-exception-gpl-2.0-plus for
# GPL-2+: slurm's and cryptsetup's "GPL-2+ with OpenSSL exception"), named by the base license's ScanCode key
_OPENSSL_EXCEPTION = "openssl-exception-{key}"


@dataclass(frozen=True)
class FilesParagraph:
    patterns: tuple[str, ...]  # as written: "*", "src/*.c", "debian/*"
    name: str                  # the License field's first line, Debian's short name expression
    license: str               # as an SPDX expression
    line: int                  # where the paragraph starts (1-based)


@dataclass(frozen=True)
class DebianCopyright:
    paragraphs: tuple[FilesParagraph, ...]
    header_license: str | None  # the header's License field: the package as a whole, where given

    @property
    def primary(self) -> str | None:
        """The license of `Files: *`: the package's own, before the licenses of files it bundles."""
        for p in self.paragraphs:
            if "*" in p.patterns:
                return p.license
        return self.header_license or (self.paragraphs[0].license if self.paragraphs else None)

    @property
    def expression(self) -> str | None:
        """Every license the file declares, joined (AND; a choice stays an OR)."""
        parts = [(p.license, 1.0) for p in self.paragraphs] or ([(self.header_license, 1.0)]
                                                                if self.header_license else [])
        combined = combine_licenses(parts)
        return combined[0] if combined else None

    def license_of(self, path: str) -> str | None:
        """The license of `path` (relative to the package root, the folder above `debian/`)."""
        found = declared_for([(p.patterns, p.license) for p in self.paragraphs], path)
        return found[0] if found else None


def declared_for(paragraphs: Iterable[tuple[Sequence[str], str]], path: str) -> tuple[str, bool] | None:
    """(license, whether a pattern other than `*` names `path`) of the last of the (patterns, license) paragraphs
    whose pattern matches `path` (copyright-format 1.0: the last match wins); None when none does."""
    found = None
    for patterns, lic in paragraphs:
        matched = [p for p in patterns if matches(p, path)]
        if matched:
            found = (lic, any(p != "*" for p in matched))
    return found


@lru_cache(maxsize=4096)
def _pattern(pattern: str) -> re.Pattern:
    out = []
    escaped = False
    for ch in pattern.removeprefix("./"):
        if escaped:
            out.append(re.escape(ch))
            escaped = False
        elif ch == "\\":
            escaped = True
        else:
            out.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
    return re.compile("".join(out), re.DOTALL)


def matches(pattern: str, path: str) -> bool:
    """A Files pattern of copyright-format 1.0: `*` any characters, `/` included; `?` one; a backslash escapes;
    nothing else is special (a `[` is a `[`)."""
    return bool(_pattern(pattern).fullmatch(path))


def is_machine_readable(text: str) -> bool:
    return bool(_FORMAT.match(text))


def _paragraphs(text: str) -> list[tuple[int, dict[str, list[str]]]]:
    """deb822 paragraphs: (first line, {field (lower case): [first line, continuation lines...]})."""
    out: list[tuple[int, dict[str, list[str]]]] = []
    fields: dict[str, list[str]] = {}
    start, current = 0, None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            if fields:
                out.append((start, fields))
            fields, current = {}, None
            continue
        if line[0] in " \t" and current is not None:
            fields[current].append("" if line.strip() == "." else line.strip())
            continue
        m = _FIELD.match(line)
        if m and not line.startswith("#"):
            if not fields:
                start = number
            current = m.group(1).lower()
            fields[current] = [m.group(2).strip()]
    if fields:
        out.append((start, fields))
    return out


def debian_name_to_spdx(name: str, texts: Mapping[str, str] | None = None, engine: str = "auto") -> str:
    """Debian's short name expression `name` as an SPDX expression; `texts` (lower-case short name -> the license's
    text, where the file gives it) decide a name neither Debian's conventions nor the registry know, read by
    `detect_license_expression` with `engine` (builtin: ScanCode's index is never loaded). A comma binds
    more loosely than "and"/"or": "GPL-2+ or AFL-2.1, and Expat" is (GPL-2+ or AFL-2.1) and Expat."""
    groups, joins, pos = [], [], 0
    for m in _COMMA.finditer(name):
        groups.append(name[pos:m.start()])
        joins.append("OR" if (m.group(1) or "").lower() == "or" else "AND")
        pos = m.end()
    groups.append(name[pos:])
    parts = [_group(g.strip(), texts or {}, engine) for g in groups if g.strip()]
    if not parts:
        return "NOASSERTION"
    out = parts[0]
    for op, part in zip(joins, parts[1:]):
        out = f"{out} {op} {part}"
    if " " not in out:
        return out
    return resolve(out).expression or out


def _group(name: str, texts: Mapping[str, str], engine: str) -> str:
    """Short names joined by "and"/"or" (AND binds tighter, as in SPDX), parenthesized when there are several."""
    operands = _AND_OR.split(name)
    spdx = [_one(o.strip(), texts.get(o.strip().lower(), ""), engine) if k % 2 == 0 else o.upper()
            for k, o in enumerate(operands)]
    return " ".join(spdx) if len(spdx) == 1 else "(" + " ".join(spdx) + ")"


@lru_cache(maxsize=64)
def _openssl_exception(base: str) -> str | None:
    """ScanCode's OpenSSL exception to the license `base` (an id), as an id usable after WITH; None when it has none."""
    from . import scancode

    rows = scancode.load_index()
    keys = [r.key for r in rows if r.spdx_id == base]  # the registry's rows merge -only and -or-later: not those
    wanted = {_OPENSSL_EXCEPTION.format(key=k) for k in keys}
    return next((r.spdx_id for r in rows if r.key in wanted and r.spdx_id), None)


def _one(name: str, text: str, engine: str) -> str:
    m = _WITH.match(name)
    if m:
        keyword = m.group(2).strip().lower().removesuffix("-exception")
        base = _one(m.group(1), "", engine)
        exception = _openssl_exception(base) if keyword == "openssl" else DEBIAN_EXCEPTIONS.get(keyword)
        resolved = exception or resolve(m.group(2) + " exception").expression
        return f"{base} WITH {resolved}" if resolved and not resolved.startswith("LicenseRef-Unknown") else base
    key = name.lower()
    if key in DEBIAN_NAMES:
        return DEBIAN_NAMES[key]
    niv = _GFDL_NIV.match(name)
    if niv:
        return f"GFDL-{niv.group(1)}-no-invariants-{'or-later' if niv.group(2) else 'only'}"
    plus = _PLUS.match(name)
    if plus:
        version = plus.group(2) if "." in plus.group(2) else plus.group(2) + ".0"
        found = resolve(f"{plus.group(1).rstrip('-')}-{version}-or-later")
        if found.known and found.expression:
            return found.expression
    found = resolve(name)
    if found.known and found.expression:
        return found.expression
    if text.strip():
        from .detect import detect_license_expression  # detect imports this module

        detected = detect_license_expression(text, engine=engine)
        if detected:
            return detected.primary
    return unknown_ref(name)


def read_debian_copyright(text: str, engine: str = "auto") -> DebianCopyright | None:
    """The licenses a machine-readable copyright file declares; None when `text` is not one. `engine` reads the
    license texts the file gives for names nobody knows (`debian_name_to_spdx`)."""
    if not is_machine_readable(text):
        return None
    paragraphs = _paragraphs(text)
    texts = {}  # stand-alone License paragraphs: short name -> text
    for _, fields in paragraphs:
        if "license" in fields and "files" not in fields and len(fields["license"]) > 1:
            texts[fields["license"][0].lower()] = "\n".join(fields["license"][1:])
    files, header = [], None
    for k, (line, fields) in enumerate(paragraphs):
        if "license" not in fields or not re.search(r"[A-Za-z]", fields["license"][0]):
            continue
        name = fields["license"][0]
        own = "\n".join(fields["license"][1:])
        spdx = debian_name_to_spdx(name, {**texts, name.lower(): own} if own else texts, engine)
        if "files" in fields:
            files.append(FilesParagraph(tuple(" ".join(fields["files"]).split()), name, spdx, line))
        elif k == 0:
            header = spdx
    return DebianCopyright(tuple(files), header)
