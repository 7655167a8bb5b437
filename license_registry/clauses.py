"""Checking cited clauses against license texts: the quoted phrase must stand inside the cited section.

Every term in the entries cites a clause (`section`, e.g. "1.b.iii", "3(a)(1)", "4.2(a)", "Attachment A(i)") and
quotes a short phrase from the reference text it names. `check_clause` finds the cited section in the text by its
numbering (markers such as "Section 3 --", "a.", "(e)", "4.2" at the start of a line, nested in order) and
requires the quote inside it, so a wrong section number or a misquote fails.

The texts whose own terms allow copying are bundled (`ReferenceText.file`); texts that ScanCode's LicenseDB holds
are checked against the copy the installed scancode-toolkit ships (`ReferenceText.scancode_text`); the others are
named by URL and version, and a maintainer checks them with `license-registry verify-clauses --texts DIR` against
copies in DIR.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .models import Clause, LicenseEntry, ReferenceText
from .scancode import license_text

PACKAGE_DIR = Path(__file__).resolve().parent  # bundled texts are named relative to the package
_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "\u00a0": " "})
_ROMAN = ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii", "xiii", "xiv", "xv"]
_HEADING_WORDS = r"(?:Attachment|Appendix|Exhibit|Schedule)"


def normalize(text: str) -> str:
    """Compare texts as words: typographic quotes, hyphens, markdown emphasis/escapes and line wrapping do not count."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    text = re.sub(r"\*\*|__|\\(?=[_*\[\]()#.-])", "", text)
    text = text.replace("-", " ")  # "human-generated" and "human generated" are one phrase in two versions
    return re.sub(r"\s+", " ", text).strip()


def parse_section(section: str) -> list[list[str]]:
    """Cited sections as label paths: "1.b.iii" -> [["1", "b", "iii"]]; "3(a)(2), 2(a)(1)(B)" -> two paths."""
    paths = []
    for part in re.split(r"\s*(?:;|,| and )\s*", section.strip()):
        part = part.strip().lstrip("§").strip()
        if not part:
            continue
        labels = []
        head = re.match(rf"{_HEADING_WORDS}\s+[A-Z0-9]+", part)
        if head:
            labels.append(head.group(0))
            part = part[head.end():]
        for dotted, paren, word in re.findall(r"(\d+(?:\.\d+)+)|\(([^)]+)\)|([A-Za-z]+|\d+)", part):
            labels.append(dotted or paren or word)
        paths.append(labels)
    return paths


def _next_labels(label: str) -> list[str]:
    """What the next sibling of a numbered item is called ("i" may be a letter or a roman numeral)."""
    if re.fullmatch(rf"{_HEADING_WORDS}\s+[A-Z]", label):
        return [label[:-1] + chr(ord(label[-1]) + 1)]
    if re.fullmatch(r"\d+(?:\.\d+)+", label):
        head, _, last = label.rpartition(".")
        return [f"{head}.{int(last) + 1}"]
    if label.isdigit():
        return [str(int(label) + 1)]
    out = []
    low = label.lower()
    if low in _ROMAN[:-1]:
        nxt = _ROMAN[_ROMAN.index(low) + 1]
        out.append(nxt.upper() if label.isupper() else nxt)
    if len(label) == 1:
        out.append(chr(ord(label) + 1))
    return out


def _marker(label: str, heading: bool = False) -> re.Pattern:
    """A line that starts the item called `label` (after indentation and markdown list/heading marks); with
    `heading`, only a "Section <label>" / "§<label>" heading."""
    # one markdown list/heading/quote mark at most, then optional bold: no nested repetition (no backtracking blow-up)
    lead = r"^(?P<indent>[ \t]*)(?:[>#*-]+[ \t]+)?(?:\*\*)?"
    if re.match(_HEADING_WORDS, label):
        return re.compile(lead + re.escape(label) + r"\b", re.M | re.I)
    numeric = bool(re.fullmatch(r"[\d.]+", label))
    tail = r"(?:\\?[.):]|\s+--|\s+-\s|\s(?=\S))" if numeric else r"\\?[.):]"
    prefix = r"(?:Section\s+|§\s*)" if heading else r"(?:Section\s+|§\s*)?\(?"
    return re.compile(lead + prefix + re.escape(label) + tail, re.M | re.I)


def _indent(match: re.Match) -> int:
    return len(match.group("indent").expandtabs(8))


def _find_item(text: str, label: str, start: int, end: int) -> tuple[re.Match, bool] | None:
    """The line starting item `label` in text[start:end], and whether it is a "Section" heading.

    The outermost item of that name wins ("Section 3 --" over an item "3." nested in Section 2; "  b. ShareAlike"
    over "            b. indicate ..." inside 3(a)(1)); among equals, the first."""
    headings = list(_marker(label, heading=True).finditer(text, start, end))
    items = list(_marker(label).finditer(text, start, end))
    found = min(headings + items, key=lambda m: (_indent(m), m.start()), default=None)
    return (found, any(found.start() == h.start() for h in headings)) if found else None


def _inline_item(text: str, label: str, start: int, end: int) -> tuple[int, int] | None:
    """An item numbered inside a sentence, "(iii) use output ...", up to the next "(iv)"."""
    found = re.compile(r"\(" + re.escape(label) + r"\)", re.I).search(text, start, end)
    if not found:
        return None
    nexts = [m.start() for n in _next_labels(label)
             if (m := re.compile(r"\(" + re.escape(n) + r"\)", re.I).search(text, found.end(), end))]
    return found.start(), min(nexts, default=end)


def locate(text: str, labels: list[str]) -> tuple[int, int] | None:
    """(start, end) of the item a label path names, or None when the numbering is not in the text. A number not at
    the start of a line ("(iii)" inside a sentence) is looked for inline."""
    start, end = 0, len(text)
    for label in labels:
        hit = _find_item(text, label, start, end)
        if hit is None:
            span = _inline_item(text, label, start, end)
            if span is None:
                return None
            start, end = span
            continue
        found, heading = hit
        item_end = end
        for nxt in _next_labels(label):
            sibling = next((m for m in _marker(nxt, heading=heading).finditer(text, found.end(), end)
                            if _indent(m) == _indent(found)), None)
            if sibling:
                item_end = min(item_end, sibling.start())
        start, end = found.start(), item_end
    return start, end


def check_clause(text: str, clause: Clause, outline: bool = True) -> list[str]:
    """Problems with one citation against its reference text (empty when the quote stands in the section).

    `outline=False`: the text's numbering cannot be followed mechanically (markdown lists renumbered on display),
    so only the quote is checked."""
    if not clause.quote:
        return ["no quote"]
    quote = normalize(clause.quote)
    if quote not in normalize(text):
        return [f"quote not in the text: {clause.quote!r}"]
    if not outline:
        return []
    problems = []
    spans = []
    for labels in parse_section(clause.section):
        span = locate(text, labels)
        if span is None:
            problems.append(f"section {'/'.join(labels)} not found")
        else:
            spans.append(span)
    if not problems and not any(quote in normalize(text[a:b]) for a, b in spans):
        problems.append(f"quote is not inside section {clause.section}")
    return problems


@dataclass(frozen=True)
class ClauseCheck:
    license_id: str
    term: str            # "obligation attribution", "restriction non_commercial"
    section: str
    text_id: str
    status: str          # "ok" | "quote ok" (section not checkable) | "failed" | "not checked"
    problems: tuple[str, ...] = ()


def use_clause(restriction: Clause, use) -> Clause:
    """A restricted use as a citation of its own (its section and document default to the restriction's)."""
    return Clause(section=use.section or restriction.section, text=use.text, quote=use.quote,
                  document=use.document or restriction.document)


def reference_text(ref: ReferenceText, texts_dir: Path | None = None) -> str | None:
    """The text to check against: the bundled copy, else `<id>.*` in texts_dir, else the installed ScanCode
    LicenseDB copy the text names, else None."""
    if ref.file:
        return (PACKAGE_DIR / ref.file).read_text(encoding="utf-8")
    if texts_dir:
        hits = sorted(texts_dir.glob(f"{ref.id}.*"))
        if hits:
            return hits[0].read_text(encoding="utf-8")
    return license_text(ref.scancode_text) if ref.scancode_text else None


def check_entries(entries: list[LicenseEntry], texts_dir: Path | None = None) -> list[ClauseCheck]:
    """Every cited clause of every entry, checked where its reference text is at hand."""
    out = []
    for entry in entries:
        terms = entry.cited_clauses()
        # each restricted use is a citation too: its item number and quote, in the policy the restriction names
        terms += [(f"restricted use {u.id}", use_clause(r.clause, u)) for r in entry.restrictions for u in r.uses]
        for term, clause in terms:
            ref = entry.text_for(clause)
            text = reference_text(ref, texts_dir)
            if text is None:
                out.append(ClauseCheck(entry.id, term, clause.section, ref.id, "not checked"))
                continue
            problems = tuple(check_clause(text, clause, ref.outline))
            status = "failed" if problems else "ok" if ref.outline else "quote ok"
            out.append(ClauseCheck(entry.id, term, clause.section, ref.id, status, problems))
    return out
