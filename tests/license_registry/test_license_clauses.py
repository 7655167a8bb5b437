"""Every cited clause: its quote stands inside its section of the reference text (bundled texts here; the others
with `license-registry verify-clauses --texts DIR`, see docs/license_registry.md)."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from license_registry import get_registry
from license_registry.cli import main
from license_registry.clauses import PACKAGE_DIR, check_clause, check_entries, locate, normalize, parse_section
from license_registry.models import Clause

TEXTS = PACKAGE_DIR / "texts"


def test_every_clause_cited_from_a_bundled_text_stands_in_its_section():
    checks = check_entries(get_registry().ml_entries)
    failed = [(c.license_id, c.term, c.section, c.problems) for c in checks if c.status == "failed"]
    assert failed == []
    checked = [c for c in checks if c.status in ("ok", "quote ok")]
    # the six CC 4.0 legal codes, the five GNU licenses, MIT and the BSD licenses are bundled
    assert len(checked) >= 30
    assert {c.text_id for c in checked} >= {"cc-by-4.0", "cc-by-nc-sa-4.0", "cc-by-nc-nd-4.0", "cc-by-nd-4.0",
                                           "gpl-3.0", "agpl-3.0", "mit", "bsd-3-clause"}


def test_every_term_quotes_a_dated_text():
    for entry in get_registry().ml_entries:
        if not entry.cited_clauses():
            continue
        assert entry.texts, entry.id
        for ref in entry.texts.values():
            assert ref.url.startswith("http") and ref.version and ref.read_from and ref.retrieved[:4] == "2026", ref.id
            if ref.file:
                assert (PACKAGE_DIR / ref.file).is_file(), ref.file
        for kind, clause in entry.cited_clauses():
            assert clause.quote and len(clause.quote) >= 10, (entry.id, kind)


def test_bundled_texts_are_the_ones_whose_terms_allow_copying():
    for path in TEXTS.glob("CC-*.txt"):
        assert "dedicated to the public domain under the CC0 Public Domain Dedication" in normalize(path.read_text())
    for path in TEXTS.glob("*GPL*.txt"):
        assert "Everyone is permitted to copy and distribute verbatim copies" in normalize(path.read_text())


@pytest.mark.parametrize("section,labels", [
    ("1.b.iii", [["1", "b", "iii"]]),
    ("3(a)(1)(C)", [["3", "a", "1", "C"]]),
    ("2(a)(1)(A), 1(k)", [["2", "a", "1", "A"], ["1", "k"]]),
    ("4.2(a)", [["4.2", "a"]]),
    ("III.4(a)", [["III", "4", "a"]]),
    ("Attachment A(i)", [["Attachment A", "i"]]),
    ("3.1(a), 3.5, 1.11", [["3.1", "a"], ["3.5"], ["1.11"]]),
])
def test_section_ids_parse(section, labels):
    assert parse_section(section) == labels


def _cc(name: str) -> str:
    return (TEXTS / f"{name}.txt").read_text()


def test_a_wrong_section_number_fails():
    nc_definition = "NonCommercial means not primarily intended for or directed towards"
    # the NonCommercial definition is 1(i) in BY-NC, 1(k) in BY-NC-SA and 1(h) in BY-NC-ND (issue 12, item 5)
    assert check_clause(_cc("CC-BY-NC-4.0"), Clause(section="1(i)", text="x", quote=nc_definition)) == []
    assert check_clause(_cc("CC-BY-NC-SA-4.0"), Clause(section="1(k)", text="x", quote=nc_definition)) == []
    assert check_clause(_cc("CC-BY-NC-ND-4.0"), Clause(section="1(h)", text="x", quote=nc_definition)) == []
    wrong = check_clause(_cc("CC-BY-NC-SA-4.0"), Clause(section="1(i)", text="x", quote=nc_definition))
    assert wrong == ["quote is not inside section 1(i)"]
    gpl = (TEXTS / "GPL-3.0.txt").read_text()
    quote = "You must license the entire work, as a whole, under this License"
    assert check_clause(gpl, Clause(section="5(c)", text="x", quote=quote)) == []
    assert check_clause(gpl, Clause(section="5(b)", text="x", quote=quote)) == ["quote is not inside section 5(b)"]
    assert check_clause(gpl, Clause(section="5(z)", text="x", quote=quote)) == ["section 5/z not found"]


def test_a_misquote_fails():
    # ND licenses' attribution clause has no "(including in modified form)" (issue 12, item 5)
    modified = Clause(section="3(a)(1)", text="x", quote="If You Share the Licensed Material (including in modified form)")
    assert check_clause(_cc("CC-BY-4.0"), modified) == []
    assert check_clause(_cc("CC-BY-ND-4.0"), modified)[0].startswith("quote not in the text")


def test_sections_nest_by_the_outermost_item():
    # "b." inside 3(a)(1) comes before Section 3(b) ShareAlike: the outer one is meant
    text = _cc("CC-BY-SA-4.0")
    start, end = locate(text, ["3", "b"])
    assert normalize(text[start:end]).startswith("b. ShareAlike.")
    # "3. Term." inside Section 2 does not shadow "Section 3 -- License Conditions."
    start, _ = locate(text, ["3"])
    assert text[start:].startswith("Section 3 -- License Conditions.")


# A text of our own, numbered like the Llama agreements, for the maintainer command.
OWN_TEXT = """AGREEMENT
1. License Rights and Redistribution.
      a. Grant of Rights. You may use it.
      b. Redistribution and Use.
            i. Give recipients a copy of this Agreement.
            ii. If you receive it as part of an integrated end user product, Section 2 does not apply.
            iii. You must retain the following attribution notice within a "Notice" text file.
2. Additional Commercial Terms. Count your monthly active users.
"""


def test_verify_clauses_command_checks_copies_given_by_the_maintainer(tmp_path):
    runner = CliRunner()
    bundled = runner.invoke(main, ["verify-clauses"])
    assert bundled.exit_code == 0 and "failed" not in bundled.output and "texts not at hand" in bundled.output
    (tmp_path / "llama-3.1-license.txt").write_text(OWN_TEXT)  # stands in for the real text: quotes do not match
    r = runner.invoke(main, ["verify-clauses", "--texts", str(tmp_path)])
    assert r.exit_code == 1
    assert "FAILED LicenseRef-scancode-llama-3.1-license-2024 obligation notice_file [1.b.iii]" in r.output
    notice = Clause(section="1.b.iii", text="x", quote="retain the following attribution notice")
    assert check_clause(OWN_TEXT, notice) == []
    assert check_clause(OWN_TEXT, notice.model_copy(update={"section": "1.b.ii"})) == [
        "quote is not inside section 1.b.ii"]


def test_reference_text_ids_are_unique():
    ids = [ref.id for e in get_registry().ml_entries for ref in e.texts.values()]
    shared = {i for i in ids if ids.count(i) > 1}
    # an id appears twice only where two entries cite the very same text
    for text_id in shared:
        urls = {ref.url for e in get_registry().ml_entries for ref in e.texts.values() if ref.id == text_id}
        assert len(urls) == 1, text_id
    assert Path(PACKAGE_DIR / "texts").is_dir()
