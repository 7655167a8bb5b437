"""SPDX expression parsing, normalization and the OR/AND structure used by audits."""

from license_registry import resolve


def test_or_expression():
    res = resolve("MIT OR GPL-2.0-only")
    assert res.expression == "MIT OR GPL-2.0-only" and res.known
    assert [[str(t) for t in c] for c in res.choices] == [["MIT"], ["GPL-2.0-only"]]
    assert res.category == "Permissive"  # OR: the freest alternative


def test_and_expression():
    res = resolve("Apache-2.0 AND CC-BY-4.0")
    assert res.expression == "Apache-2.0 AND CC-BY-4.0" and res.known
    assert len(res.choices) == 1 and {t.license_id for t in res.choices[0]} == {"Apache-2.0", "CC-BY-4.0"}


def test_and_category_is_the_strictest():
    assert resolve("MIT AND GPL-3.0-only").category == "Copyleft"


def test_normalizes_case_and_aliases_inside_expressions():
    assert resolve("(mit or apache 2) and cc by 4.0").expression == "(MIT OR Apache-2.0) AND CC-BY-4.0"
    assert resolve("GPL 2.0 or later").expression == "GPL-2.0-or-later"


def test_nested_expression_expands_to_alternatives():
    res = resolve("(MIT OR GPL-2.0-only) AND Apache-2.0")
    assert sorted(sorted(str(t) for t in c) for c in res.choices) == [
        ["Apache-2.0", "GPL-2.0-only"], ["Apache-2.0", "MIT"]]


def test_with_exception():
    res = resolve("GPL-2.0-or-later WITH Classpath-exception-2.0")
    assert res.known and res.choices[0][0].exception == "Classpath-exception-2.0"
    assert res.ids == ("GPL-2.0-or-later",)


def test_unknown_symbol_is_kept_and_flagged():
    res = resolve("MIT OR Acme-Proprietary")
    assert not res.known and res.unknown == ("Acme-Proprietary",)
    assert "MIT" in res.expression and len(res.choices) == 2


def test_unparsable_and_missing():
    bad = resolve("MIT AND (")
    assert bad.expression is None and bad.error.startswith("cannot parse")
    for empty in ("NOASSERTION", "", None, "other"):
        res = resolve(empty)
        assert not res.known and res.choices == ()


def test_licenseref_ids_from_scancode_validate():
    res = resolve("LicenseRef-scancode-llama-3.2-license-2024 AND CC-BY-4.0")
    assert res.known and res.category == "Proprietary Free"
