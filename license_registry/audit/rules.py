"""The audit's rules: one function per term type, saying what a license term means for this audit.

The YAML entries are the facts (which terms a license has, their clauses and how far they reach); the functions
here are the rules (what a term means for a given use, release and role). Licenses without an entry get the same
term objects built from their ScanCode category and CC elements (`category_terms`), so one rule judges a
NonCommercial clause whether it comes from an entry or from a license id.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from ..models import Clause, LicenseEntry, Obligation, Propagation, Restriction
from ..registry import CC_NC, CC_ND, CC_SA, Registry
from .report import SEVERITY_RANK, Finding, ObligationItem
from .request import AuditRequest

Role = Literal["data", "base_model", "generator"]


@dataclass
class Outcome:
    """What the rules found for one subject: findings, and obligations the release must carry."""

    findings: list[Finding] = field(default_factory=list)
    obligations: list[ObligationItem] = field(default_factory=list)

    def extend(self, other: "Outcome") -> None:
        self.findings += other.findings
        self.obligations += other.obligations

    @property
    def score(self) -> tuple[int, ...]:
        # Lower is better: worst severity first, then how many problems of each kind.
        counts = [sum(1 for f in self.findings if f.severity == s) for s in ("block", "review", "obligation")]
        worst = max((SEVERITY_RANK[f.severity] for f in self.findings), default=0)
        return (worst, *counts, len(self.obligations))


@dataclass
class Context:
    """The request and what the engine already knows about it."""

    req: AuditRequest
    reg: Registry
    base_family: str | None


@dataclass(frozen=True)
class Party:
    """One license term's bearer in this audit: which subject, in which role, under which license."""

    subject: str
    role: Role
    license_id: str
    license_name: str  # the entry's name, or the id for licenses without an entry


def reach(prop: Propagation, role: Role) -> str:
    """How far a term reaches into this audit's model: yes | no | uncertain."""
    if role == "generator":
        return prop.outputs
    if role == "base_model":
        # A fine-tune is a derivative of the base model: anything that reaches "a model" applies.
        return "yes" if prop.model in ("yes", "uncertain") else "no"
    return prop.model


def finding(severity: str, party: Party, clause: Clause, rule: str, message: str) -> Finding:
    section = f"{clause.document}: {clause.section}" if clause.document else clause.section
    return Finding(severity=severity, subject=party.subject, license=party.license_id, clause=section,
                   clause_text=clause.text, rule=rule, message=message)


def obligation_item(party: Party, ob: Obligation, scope: str = "model") -> ObligationItem:
    return ObligationItem(license=party.license_id, type=ob.type, text=ob.text, clause=ob.clause.section,
                          clause_text=ob.clause.text, subjects=[party.subject], scope=scope)


# -- restrictions -----------------------------------------------------------------------------------------------
def non_commercial(r: Restriction, p: Party, ctx: Context) -> Outcome:
    out, use = Outcome(), ctx.req.use
    hedge = " (conservative reading: treated as reaching the model weights)" \
        if reach(r.propagates, p.role) == "uncertain" else ""
    if use == "commercial":
        msg = (f"{p.subject} is under {p.license_id}, which allows non-commercial use only; remove it from "
               f"training a commercial model{hedge}.")
        out.findings.append(finding("block", p, r.clause, r.type, msg))
    elif use == "internal":
        msg = (f"{p.subject} is under {p.license_id} (non-commercial only); internal use inside a company can "
               f"still be 'commercial advantage' - needs a human decision.")
        out.findings.append(finding("review", p, r.clause, r.type, msg))
    else:
        msg = f"{p.subject} is non-commercial ({p.license_id}); fine for research, not for a commercial release."
        out.findings.append(finding("info", p, r.clause, r.type, msg))
    return out


def no_derivatives(r: Restriction, p: Party, ctx: Context) -> Outcome:
    out, req = Outcome(), ctx.req
    hedge = " (conservative reading: treated as reaching the model weights)" \
        if reach(r.propagates, p.role) == "uncertain" else ""
    if req.distribution in r.applies_on:
        msg = (f"{p.subject} is under {p.license_id}, which forbids sharing adapted material; releasing a model "
               f"trained on it ({req.distribution}) is treated as sharing an adaptation{hedge}.")
        out.findings.append(finding("block", p, r.clause, r.type, msg))
    else:
        msg = f"{p.subject} is no-derivatives ({p.license_id}); allowed only while the model is not shared."
        out.findings.append(finding("info", p, r.clause, r.type, msg))
    return out


def user_cap(r: Restriction, p: Party, ctx: Context) -> Outcome:
    out, mau, cap = Outcome(), ctx.req.monthly_active_users, r.threshold or 0
    if mau is not None and mau > cap:
        msg = (f"{mau:,} monthly active users exceeds the {cap:,} cap of {p.license_name}; a separate license "
               f"from the licensor is required.")
        out.findings.append(finding("block", p, r.clause, r.type, msg))
    else:
        known = "unknown" if mau is None else f"{mau:,}"
        msg = f"{p.license_name} caps monthly active users at {cap:,} (yours: {known})."
        out.findings.append(finding("info", p, r.clause, r.type, msg))
    return out


def regional(r: Restriction, p: Party, ctx: Context) -> Outcome:
    out, req = Outcome(), ctx.req
    if p.role != "base_model":
        return out
    region_hit = req.organization_region in r.regions or ("EU" in r.regions and req.in_eu)
    modality = (req.base_model.modality if req.base_model else "text").lower()
    modality_hit = not r.modalities or modality in r.modalities
    if region_hit and modality_hit:
        msg = (f"{p.license_name} does not grant rights for {modality} models to organizations in "
               f"{req.organization_region} ({', '.join(r.regions)} restriction).")
        out.findings.append(finding("block", p, r.clause, r.type, msg))
    elif region_hit:
        msg = (f"{p.license_name} restricts {', '.join(r.modalities)} models in {', '.join(r.regions)}; this base "
               f"model is {modality}, so it does not apply.")
        out.findings.append(finding("info", p, r.clause, r.type, msg))
    return out


def restricted_applications(r: Restriction, p: Party, ctx: Context) -> Outcome:
    out, application = Outcome(), ctx.req.application
    hits = match_application(application, r)
    for use in hits:
        msg = f"application {application!r} matches a restricted use of {p.license_name} ({r.policy}): {use.text}."
        out.findings.append(finding("block", p, r.clause, r.type, msg))
    if not hits:
        msg = (f"{p.license_name} restricts uses ({r.policy}); the model and its users must respect them"
               + (f"; application {application!r} matched none." if application else "."))
        out.findings.append(finding("info", p, r.clause, r.type, msg))
    return out


def no_competing_models(r: Restriction, p: Party, ctx: Context) -> Outcome:
    out, req = Outcome(), ctx.req
    if ctx.base_family and ctx.base_family in r.exempt_families:
        sev, msg = "info", (f"{p.subject}: {p.license_name} forbids using outputs to improve other models, but the "
                            f"base model is in the exempt {ctx.base_family} family.")
    elif req.use == "commercial":
        sev, msg = "block", (f"{p.subject}: {p.license_name} forbids using outputs to develop competing models; a "
                             f"commercial model trained on it is treated as competing (as the Data Provenance "
                             f"Initiative does). Remove the source or get permission.")
    elif req.distribution != "none":
        sev, msg = "review", (f"{p.subject}: {p.license_name} forbids using outputs to develop competing models; a "
                              f"released {req.use} model may still compete - needs a human decision.")
    else:
        sev, msg = "info", f"{p.subject}: {p.license_name} restricts competing models; internal experiments only."
    out.findings.append(finding(sev, p, r.clause, r.type, msg))
    return out


def no_endorsement(r: Restriction, p: Party, ctx: Context) -> Outcome:
    out = Outcome()
    out.findings.append(finding("info", p, r.clause, r.type,
                                f"Do not use the names of {p.license_id} copyright holders to endorse the model."))
    return out


RESTRICTION_RULES: dict[str, Callable[[Restriction, Party, Context], Outcome]] = {
    "non_commercial": non_commercial,
    "no_derivatives": no_derivatives,
    "user_cap": user_cap,
    "regional": regional,
    "restricted_applications": restricted_applications,
    "no_competing_models": no_competing_models,
    "no_endorsement": no_endorsement,
}


def apply_restriction(r: Restriction, p: Party, ctx: Context) -> Outcome:
    if reach(r.propagates, p.role) == "no":
        return Outcome()
    return RESTRICTION_RULES[r.type](r, p, ctx)


# -- obligations ------------------------------------------------------------------------------------------------
def share_alike(ob: Obligation, p: Party, ctx: Context) -> Outcome:
    out = Outcome()
    if p.role == "data" and reach(ob.propagates, p.role) == "uncertain":
        msg = (f"{p.subject} is share-alike ({p.license_id}); it is unsettled whether model weights are an "
               f"adaptation - a human must decide before releasing the weights under another license.")
        out.findings.append(finding("review", p, ob.clause, ob.type, msg))
        return out
    msg = f"The model must be released under {ob.text or p.license_id} (or a compatible license)."
    out.findings.append(finding("obligation", p, ob.clause, ob.type, msg))
    out.obligations.append(obligation_item(p, ob))
    return out


def name_prefix(ob: Obligation, p: Party, ctx: Context) -> Outcome:
    out, prefix, name = Outcome(), ob.text or "", ctx.req.model_name
    satisfied = bool(name) and has_prefix(name, prefix)
    item = obligation_item(p, ob)
    item.satisfied = satisfied
    out.obligations.append(item)
    if satisfied:
        msg = f"Model name {name!r} already starts with {prefix!r} as {p.license_name} requires."
        out.findings.append(finding("info", p, ob.clause, ob.type, msg))
    elif name:
        msg = f"Model name {name!r} must start with {prefix!r} (e.g. {prefix.replace(' ', '-')}-{name!s})."
        out.findings.append(finding("obligation", p, ob.clause, ob.type, msg))
    return out


_PLAIN_LABELS = {"display_attribution": "Display", "notice_file": "Ship a NOTICE file with",
                 "use_restriction_passthrough": "Pass on to users and downstream licensees:",
                 "license_copy": "Include a copy of the license", "attribution": "Give attribution",
                 "state_changes": "Mark modified files"}


def plain_obligation(ob: Obligation, p: Party, ctx: Context) -> Outcome:
    """Obligations that are met by shipping or displaying something: listed, nothing to judge."""
    out = Outcome()
    detail = f" {ob.text!r}" if ob.text else f" ({p.license_name})"
    out.findings.append(finding("obligation", p, ob.clause, ob.type, f"{_PLAIN_LABELS[ob.type]}{detail}."))
    out.obligations.append(obligation_item(p, ob))
    return out


OBLIGATION_RULES: dict[str, Callable[[Obligation, Party, Context], Outcome]] = {
    "share_alike": share_alike,
    "name_prefix": name_prefix,
    **{t: plain_obligation for t in _PLAIN_LABELS},
}


def apply_obligation(ob: Obligation, p: Party, ctx: Context) -> Outcome:
    out, req = Outcome(), ctx.req
    if p.role == "data" and req.share_dataset and ob.propagates.dataset == "yes":
        out.obligations.append(obligation_item(p, ob, scope="dataset"))
    if reach(ob.propagates, p.role) == "no" or req.distribution not in ob.applies_on:
        return out
    out.extend(OBLIGATION_RULES[ob.type](ob, p, ctx))
    return out


def apply_entry(entry: LicenseEntry, p: Party, ctx: Context) -> Outcome:
    out = Outcome()
    for restriction in entry.restrictions:
        out.extend(apply_restriction(restriction, p, ctx))
    for obligation in entry.obligations:
        out.extend(apply_obligation(obligation, p, ctx))
    return out


# -- licenses without an entry ----------------------------------------------------------------------------------
def category_terms(lid: str, category: str) -> tuple[list[Restriction], list[Obligation]]:
    """The terms a license without an entry is judged by: its CC elements, else its ScanCode category."""
    elements = Clause(section=f"{lid} license elements (NC/ND/SA in the license name)",
                      text=f"The {lid} license id names its Creative Commons elements; no clause-level entry.")
    by_category = Clause(section=f"ScanCode LicenseDB category '{category}' (no clause-level entry)",
                         text=f"ScanCode LicenseDB files {lid} under '{category}'.")
    restrictions: list[Restriction] = []
    obligations: list[Obligation] = []
    if CC_NC.match(lid):
        restrictions.append(Restriction(type="non_commercial", clause=elements))
    if CC_ND.match(lid):
        restrictions.append(Restriction(type="no_derivatives", clause=elements, applies_on=["api", "weights"]))
    if CC_SA.match(lid):
        obligations.append(Obligation(type="share_alike", clause=elements))
    if restrictions or obligations:
        return restrictions, obligations
    if category == "Permissive":
        obligations.append(Obligation(type="attribution", clause=by_category, applies_on=["api", "weights"]))
    elif category in ("Copyleft", "Copyleft Limited"):
        obligations.append(Obligation(type="share_alike", clause=by_category))
    return restrictions, obligations


def apply_category(lid: str, p: Party, ctx: Context) -> Outcome:
    """Licenses without an ML entry: the terms `category_terms` builds, through the same rules."""
    category = ctx.reg.category(lid) or "Unstated License"
    restrictions, obligations = category_terms(lid, category)
    out = Outcome()
    for r in restrictions:
        out.extend(apply_restriction(r, p, ctx))
    for ob in obligations:
        out.extend(apply_obligation(ob, p, ctx))
    clause = Clause(section=f"ScanCode LicenseDB category '{category}' (no clause-level entry)",
                    text=f"ScanCode LicenseDB files {lid} under '{category}'.")
    if restrictions or obligations:
        if not out.findings and category in ("Permissive", "Public Domain"):
            out.findings.append(finding("info", p, clause, "category", f"{lid} is permissive."))
        return out
    if category == "Public Domain":
        out.findings.append(finding("info", p, clause, "category", f"{lid} is public domain / a waiver."))
    else:
        msg = (f"{p.subject} is under {lid} ({category}); restrictive terms without an ML entry - a human must "
               f"read them.")
        out.findings.append(finding("review", p, clause, "category", msg))
    return out


# -- helpers ----------------------------------------------------------------------------------------------------
def has_prefix(name: str, prefix: str) -> bool:
    norm = lambda s: re.sub(r"[\s_\-]+", "-", s.lower())  # noqa: E731
    return norm(name.split("/")[-1]).startswith(norm(prefix))


def match_application(application: str | None, r: Restriction):
    if not application:
        return []
    app = " " + re.sub(r"[^a-z0-9]+", " ", application.lower()) + " "
    hits = []
    for use in r.uses:
        for kw in use.keywords:
            if " " + re.sub(r"[^a-z0-9]+", " ", kw.lower()).strip() + " " in app:
                hits.append(use)
                break
    return hits
