"""The license the model ships under (`model_license`) against what its inputs require, in the spirit of flict.

Inbound: each base model, generator and data source, with the alternatives of its license expression. Outbound:
`model_license`, whose alternatives the *recipient* chooses among. So an inbound requirement is met when SOME
inbound alternative is satisfied by EVERY outbound alternative ("Gemma OR Apache-2.0" lets a recipient drop the
Gemma use restrictions: it breaks Gemma 3.1 even though one branch is fine).

What an inbound license requires of the outbound one:
  * a model license whose terms bind derivatives (Llama, Gemma, the RAILs, DeepSeek, Qwen, NVIDIA ... - any model
    license that is not permissive) must be carried: the outbound expression contains it ("X" or "X AND yours");
  * share-alike data reaching the weights (yes: block; uncertain: review) must be carried the same way;
  * non-commercial data must not be relicensed for commercial use (review: the model would grant what the data
    may not allow).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..expression import ResolvedLicense, Term
from ..models import Clause
from ..registry import PERMISSIVE_CATEGORIES
from .report import Finding
from .rules import Context, reach


@dataclass(frozen=True)
class Inbound:
    subject: str
    role: str
    resolved: ResolvedLicense


def _requirement(term: Term, inbound: Inbound, ctx: Context) -> tuple[str, str, Clause | None] | None:
    """(severity, why, clause) if the outbound license must carry `term`, else None."""
    entry = ctx.reg.entry(term.license_id)
    if entry is None:
        return None
    if inbound.role in ("base_model", "generator") and entry.kind == "model" and ctx.reg.category(entry.id) not in PERMISSIVE_CATEGORIES:
        carried = [o for o in entry.obligations if o.type in ("use_restriction_passthrough", "license_copy")
                   and reach(o.propagates, inbound.role) == "yes"]
        if carried:
            ob = carried[0]
            return "block", f"{entry.name} binds models derived from it ({ob.type.replace('_', ' ')})", ob.clause
        return None
    if inbound.role == "data":
        for ob in entry.obligations:
            if ob.type == "share_alike" and ctx.req.distribution in ob.applies_on:
                how = reach(ob.propagates, "data")
                if how != "no":
                    return ("block" if how == "yes" else "review"), f"{entry.name} is share-alike", ob.clause
    return None


def _commercial_conflict(term: Term, outbound: ResolvedLicense, ctx: Context) -> bool:
    entry = ctx.reg.entry(term.license_id)
    if entry is None or entry.permissions.commercial_use:
        return False
    return any(all((e := ctx.reg.entry(t.license_id)) is None or e.permissions.commercial_use for t in choice)
               for choice in outbound.choices)


def check_model_license(inbound: list[Inbound], outbound: ResolvedLicense, ctx: Context) -> list[Finding]:
    findings = []
    shown = outbound.expression or outbound.input
    if not outbound.choices:
        return [Finding(severity="review", subject="model", license=outbound.input, clause="-", rule="model_license",
                        message=f"model_license {outbound.input!r} could not be resolved ({outbound.error}); "
                                f"the audit cannot check it against the inputs.")]
    for inb in inbound:
        best: list[tuple[str, str, Clause, str]] | None = None
        for choice in inb.resolved.choices:  # inbound: the licensee picks the alternative that works
            broken = []
            for term in choice:
                need = _requirement(term, inb, ctx)
                if need and not all(any(t.license_id == term.license_id for t in out) for out in outbound.choices):
                    broken.append((*need, term.license_id))
            if best is None or len(broken) < len(best):
                best = broken
        for severity, why, clause, lid in best or []:
            findings.append(Finding(
                severity=severity, subject=inb.subject, license=lid, clause=clause.section,
                clause_text=clause.text, clause_quote=clause.quote, rule="model_license",
                message=f"The model is offered under {shown}, which drops {lid}: {why}, and every alternative a "
                        f"recipient may choose must keep it. Ship the model under {lid} (or '{lid} AND <your "
                        f"license>' for your own contributions)."))
        for choice in inb.resolved.choices[:1]:
            for term in choice:
                if inb.role == "data" and ctx.req.use != "commercial" and _commercial_conflict(term, outbound, ctx):
                    findings.append(Finding(
                        severity="review", subject=inb.subject, license=term.license_id, clause="-",
                        rule="model_license",
                        message=f"The model is offered under {shown}, which lets recipients use it commercially, "
                                f"but {inb.subject} is non-commercial ({term.license_id}); a human must decide "
                                f"whether the model may grant that."))
    if not findings:
        findings.append(Finding(severity="info", subject="model", license=shown, clause="-", rule="model_license",
                                message=f"model_license {shown} carries the terms its base model and data require."))
    return findings
