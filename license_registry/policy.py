"""License policies for the curation side: is a document's license acceptable for a policy?"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .expression import ResolvedLicense, Term, resolve
from .registry import CC_NC, CC_ND, PERMISSIVE_CATEGORIES, Registry, get_registry

POLICIES = ("commercial-safe", "permissive-only", "deny-nc-nd", "deny-unknown")
_COMMERCIAL_OK_CATEGORIES = PERMISSIVE_CATEGORIES | {"Copyleft Limited", "Copyleft"}


@dataclass(frozen=True)
class PolicyDecision:
    allowed: bool
    reason: str
    policy: str
    expression: str | None
    chosen: str | None = None  # for OR expressions: the alternative that satisfies the policy


def classify_policy(expr: str | ResolvedLicense, policy: str | Iterable[str],
                    registry: Registry | None = None) -> PolicyDecision:
    """Decide whether `expr` passes `policy` (one name, "a,b" or a list: all must pass).

    `A OR B` passes if any alternative passes (and says which); `A AND B` needs every license to pass.
    """
    reg = registry or get_registry()
    names = [p.strip() for p in (policy.split(",") if isinstance(policy, str) else policy) if p.strip()]
    bad = [p for p in names if p not in POLICIES]
    if bad or not names:
        raise ValueError(f"unknown policy {bad or names!r}; allowed: {', '.join(POLICIES)}")
    res = expr if isinstance(expr, ResolvedLicense) else resolve(expr, registry=reg)
    label = ",".join(names)
    if not res.choices:
        # Nothing to judge: only a policy that does not care about unknowns lets it pass.
        ok = not {"deny-unknown", "commercial-safe", "permissive-only"} & set(names)
        why = f"license unknown ({res.error or res.input!r})"
        return PolicyDecision(ok, why if not ok else f"{why}; {label} does not reject unknown licenses",
                              label, res.expression)
    first_failure = None
    for choice in res.choices:
        failures = [why for term in choice for name in names if (why := _check(term, name, reg))]
        chosen = " AND ".join(str(t) for t in choice)
        if not failures:
            via = f" (choosing {chosen})" if len(res.choices) > 1 else ""
            return PolicyDecision(True, f"{res.expression} passes {label}{via}", label, res.expression, chosen)
        first_failure = first_failure or failures[0]
    return PolicyDecision(False, first_failure or "rejected", label, res.expression)


def _check(term: Term, policy: str, reg: Registry) -> str | None:
    """Why `term` fails `policy`, or None if it passes."""
    lid = term.license_id
    known = reg.is_known(lid)
    entry = reg.entry(lid)
    category = reg.category(lid)
    restrictions = {r.type for r in entry.restrictions} if entry else set()
    nc = "non_commercial" in restrictions or bool(CC_NC.match(lid))
    nd = "no_derivatives" in restrictions or bool(CC_ND.match(lid))
    if not known:
        return f"{lid.removeprefix('LicenseRef-Unknown-')} is unknown" if policy != "deny-nc-nd" else None
    if policy == "deny-unknown":
        return None
    if policy == "deny-nc-nd":
        return f"{lid} is non-commercial" if nc else f"{lid} is no-derivatives" if nd else None
    if policy == "permissive-only":
        ok = category in PERMISSIVE_CATEGORIES and not (nc or nd)
        return None if ok else f"{lid} is {category}, not permissive"
    # commercial-safe: commercial training and release must be possible.
    if nc or (entry and not entry.permissions.commercial_use):
        return f"{lid} forbids commercial use"
    if nd:
        return f"{lid} forbids sharing derivatives"
    if "no_competing_models" in restrictions:
        return f"{lid} forbids training competing models on outputs"
    if entry is None and category not in _COMMERCIAL_OK_CATEGORIES:
        return f"{lid} is {category}: restrictive terms need review"
    return None
