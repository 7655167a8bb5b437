"""`resolve()`: from whatever people write to a normalized SPDX expression with metadata."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

import license_expression as le

from .registry import CATEGORY_RANK, UNKNOWN_RANK, Registry, get_registry

# Strings that explicitly mean "no license information".
NO_ASSERTION = {"", "noassertion", "none", "unknown", "unlicensed?", "n/a", "na", "other", "see license"}
_OPERATOR_SPLIT = re.compile(r"(\(|\)|\s+(?:and|or|with)\s+)", re.IGNORECASE)
_OR_LATER = re.compile(r"\s+or\s+(?:any\s+)?later(?:\s+version)?", re.IGNORECASE)
_LICENSE_REF = re.compile(r"^(DocumentRef-[A-Za-z0-9.\-]+:)?LicenseRef-[A-Za-z0-9.\-]+$")
MAX_CHOICES = 64  # DNF expansion cap: real-world expressions are tiny; this guards pathological input


@dataclass(frozen=True)
class Term:
    """One license in a choice, with its WITH-exception if any."""

    license_id: str
    exception: str | None = None

    def __str__(self) -> str:
        return f"{self.license_id} WITH {self.exception}" if self.exception else self.license_id


@dataclass(frozen=True)
class ResolvedLicense:
    input: str
    expression: str | None           # normalized SPDX expression (our LicenseRef ids for non-SPDX)
    known: bool                      # every symbol is a known license and the expression parsed
    category: str | None             # single license: its category; AND: strictest; OR: freest
    ids: tuple[str, ...] = ()        # license ids in the expression (no exceptions)
    unknown: tuple[str, ...] = ()    # the spellings we could not resolve
    error: str | None = None         # parse error, or why there is no license
    choices: tuple[tuple[Term, ...], ...] = field(default=(), repr=False)  # DNF: OR of ANDs
    placeholders: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # LicenseRef-Unknown-* -> as written

    def written(self, license_id: str) -> str:
        """How the user wrote a license we could not resolve (else the id itself)."""
        return dict(self.placeholders).get(license_id, license_id)

    @property
    def is_single(self) -> bool:
        return len(self.ids) == 1 and len(self.choices) == 1

    def to_dict(self) -> dict:
        return {
            "input": self.input,
            "expression": self.expression,
            "known": self.known,
            "category": self.category,
            "ids": list(self.ids),
            "unknown": list(self.unknown),
            "error": self.error,
            "choices": [[str(t) for t in c] for c in self.choices],
        }


def resolve(
    name_or_expr: str | None,
    *,
    license_name: str | None = None,
    license_link: str | None = None,
    registry: Registry | None = None,
) -> ResolvedLicense:
    """Resolve a license name, alias, Hugging Face id or SPDX expression.

    `license_name` / `license_link` are the Hugging Face companions of `license: other`.
    """
    reg = registry or get_registry()
    raw = (name_or_expr or "").strip()
    if raw.lower() in NO_ASSERTION:
        # HF `other` + name/link: the real identity is in the companions.
        for hint in (license_name, license_link):
            if hint:
                found = reg.match_url(hint) if "/" in hint else None
                res = _resolve_single_or_expr(found or hint, reg, original=raw or hint)
                if res.known:
                    return res
        return ResolvedLicense(input=raw, expression=None, known=False, category=None,
                               unknown=(raw or "NOASSERTION",),
                               error="no license information" if not (license_name or license_link)
                               else f"unrecognised license name/link {license_name or license_link!r}")
    return _resolve_single_or_expr(raw, reg, original=raw)


def _resolve_single_or_expr(text: str, reg: Registry, original: str) -> ResolvedLicense:
    whole = reg.lookup(text) or (reg.match_url(text) if "/" in text else None)
    if whole:
        return _from_parsed(original, le.LicenseSymbol(whole), reg, unknown=())
    rebuilt, unknown, placeholders = _substitute_symbols(_OR_LATER.sub("-or-later", text), reg)
    try:
        parsed = reg.licensing.parse(rebuilt, validate=False, simple=False)
    except le.ExpressionError as exc:
        return ResolvedLicense(input=original, expression=None, known=False, category=None,
                               unknown=tuple(unknown) or (original,), error=f"cannot parse: {exc}")
    if parsed is None:
        return ResolvedLicense(input=original, expression=None, known=False, category=None,
                               unknown=(original,), error="empty expression")
    return _from_parsed(original, parsed, reg, unknown=tuple(unknown), placeholders=placeholders)


def unknown_ref(name: str) -> str:
    """The id of a license nothing here knows, as written: "Sapiens2 License" -> LicenseRef-Unknown-Sapiens2-License."""
    return "LicenseRef-Unknown-" + (re.sub(r"[^A-Za-z0-9.]+", "-", name).strip("-") or "x")


def _substitute_symbols(text: str, reg: Registry) -> tuple[str, list[str], tuple[tuple[str, str], ...]]:
    """Replace each operand by its canonical id; unknown operands become LicenseRef-Unknown-*."""
    out, unknown, placeholders = [], [], []
    for part in _OPERATOR_SPLIT.split(text):
        token = part.strip()
        if not token or token in "()" or token.lower() in ("and", "or", "with"):
            out.append(f" {token.upper()} " if token.lower() in ("and", "or", "with") else token)
            continue
        lid = reg.lookup(token)
        if lid is None and _LICENSE_REF.match(token):
            # A well-formed LicenseRef is a legitimate (if unknown to us) id: keep it as written.
            unknown.append(token)
            lid = token
        elif lid is None:
            unknown.append(token)
            lid = unknown_ref(token)
            placeholders.append((lid, token))
        out.append(lid)
    return "".join(out), unknown, tuple(placeholders)


def _from_parsed(original: str, parsed, reg: Registry, unknown: tuple[str, ...],
                 placeholders: tuple[tuple[str, str], ...] = ()) -> ResolvedLicense:
    choices = tuple(_dnf(parsed))
    ids = tuple(dict.fromkeys(t.license_id for c in choices for t in c))
    unresolved = list(unknown) + [i for i in ids if not reg.is_known(i) and i not in unknown
                                  and not i.startswith("LicenseRef-Unknown-")]
    return ResolvedLicense(
        input=original,
        expression=parsed.render(),
        known=not unresolved,
        category=_expression_category(choices, reg),
        ids=ids,
        unknown=tuple(dict.fromkeys(unresolved)),
        choices=choices,
        placeholders=placeholders,
    )


def _dnf(node) -> list[tuple[Term, ...]]:
    """Disjunctive normal form: a list of alternatives, each a tuple of licenses that all apply."""
    if isinstance(node, le.LicenseWithExceptionSymbol):
        return [(Term(node.license_symbol.key, node.exception_symbol.key),)]
    if isinstance(node, le.LicenseSymbol):
        return [(Term(node.key),)]
    parts = [_dnf(arg) for arg in node.args]
    if isinstance(node, le.OR):
        out = [c for p in parts for c in p]
    else:  # AND: every combination of one alternative per operand
        out = [tuple(itertools.chain.from_iterable(combo)) for combo in itertools.product(*parts)]
    deduped = list(dict.fromkeys(tuple(dict.fromkeys(c)) for c in out))
    if len(deduped) > MAX_CHOICES:
        raise le.ExpressionError(f"expression expands to more than {MAX_CHOICES} alternatives")
    return deduped


def category_rank(category: str | None) -> int:
    return CATEGORY_RANK.get(category or "", UNKNOWN_RANK)


def _expression_category(choices, reg: Registry) -> str | None:
    # AND -> the strictest member decides; OR -> the freest alternative is available.
    best: tuple[int, str | None] | None = None
    for choice in choices:
        cats = [reg.category(t.license_id) for t in choice]
        worst = max(cats, key=category_rank)
        cand = (category_rank(worst), worst)
        if best is None or cand[0] < best[0]:
            best = cand
    return best[1] if best else None


_VERSION_SCOPE = re.compile(r"-(?:only|or-later)$")
_GNU = re.compile(r"^(?:A|L)?GPL-")


def _attach_exceptions(parts: dict[str, float]) -> dict[str, float]:
    """Bare exceptions joined to the nearest GNU license part before them (else after them), or dropped."""
    licensing = get_registry().licensing
    order = list(parts)

    def bare_exception(expr: str) -> bool:
        try:
            symbols = licensing.license_symbols(expr)
        except le.ExpressionError:
            return False
        return len(symbols) == 1 and bool(getattr(symbols[0], "is_exception", False))

    out = dict(parts)
    for k, expr in enumerate(order):
        if not bare_exception(expr):
            continue
        del out[expr]
        before = [e for e in reversed(order[:k]) if _GNU.match(e) and " " not in e and e in out]
        after = [e for e in order[k + 1:] if _GNU.match(e) and " " not in e and e in out]
        target = (before or after or [None])[0]
        if target:
            merged = f"{target} WITH {expr}"
            out = {merged if e == target else e: c for e, c in out.items()}
    return out


def combine_licenses(parts: list[tuple[str, float]]) -> tuple[str, float] | None:
    """One expression for licenses found together, as (expression, confidence); `parts` in the order they were
    found (a file's own license first, then what it bundles). What a file or a repository states is all of them:
    the parts are joined with AND, as ScanCode's file-level `detected_license_expression` is, leaving out what adds
    nothing:
    - a license repeated;
    - a license found after a choice or an exception that names it (any version scope of it): the texts of the
      choices, bundled after the notice that offers them ("either MIT or Apache 2.0 at your option", then both
      texts), or the GPL's text after "GPL-2.0-only WITH Classpath-exception-2.0";
    - a choice one of whose alternatives the other parts already require (Apache-2.0 AND (Apache-2.0 OR MIT) is
      Apache-2.0: the project's own license, then a bundled file's choice);
    - the version-only reading of a GNU license beside a part that says "or later" (a full text does not say which;
      the notice does).
    An exception found on its own (the GCC Runtime Library Exception's text) modifies the GNU license found with it
    ("GPL-3.0-only WITH GCC-exception-3.1"); with none, it is left out: an exception is not a license, and SPDX
    allows one only after WITH. The confidence is the least of the parts kept."""
    seen: dict[str, ResolvedLicense] = {}  # each expression resolved once (parts repeat: a text and its notice)

    def resolved_as(expr: str) -> ResolvedLicense:
        if expr not in seen:
            seen[expr] = resolve(expr)
        return seen[expr]

    best: dict[str, float] = {}  # expression -> its best confidence, in the order first found
    for lic, conf in parts:
        res = resolved_as(lic)
        expr = res.expression if res.known and res.expression else lic
        best[expr] = max(best.get(expr, 0.0), conf)
    best = _attach_exceptions(best)
    resolved = [(expr, conf, resolved_as(expr)) for expr, conf in best.items()]
    everything = {lid for _, _, r in resolved for lid in r.ids}
    kept: list[tuple[str, float, ResolvedLicense]] = []
    for expr, conf, res in resolved:
        if res.is_single and not res.choices[0][0].exception:
            lid = res.ids[0]
            if any(_VERSION_SCOPE.sub("", lid) in {_VERSION_SCOPE.sub("", i) for i in r.ids} for _, _, r in kept):
                continue
            if lid.endswith("-only") and _VERSION_SCOPE.sub("", lid) + "-or-later" in everything:
                continue
        kept.append((expr, conf, res))
    required = {r.ids[0] for _, _, r in kept if r.is_single and not r.choices[0][0].exception}
    kept = [(e, c, r) for e, c, r in kept
            if r.is_single or len(r.choices) == 1 or not any(
                all(t.license_id in required and not t.exception for t in choice) for choice in r.choices)]
    if not kept:
        return None
    if len(kept) == 1:
        return kept[0][0], kept[0][1]
    joined = " AND ".join(f"({e})" if len(r.choices) > 1 else e for e, _, r in kept)
    res = resolve(joined)
    return (res.expression if res.known and res.expression else joined), min(c for _, c, _ in kept)
