"""The audit's rules: one function per term type, saying what a license term means for this audit.

The YAML entries are the facts (which terms a license has, their clauses and how far they reach); the functions
here are the rules (what a term means for a given use, release and role). Licenses without an entry get the same
term objects built from their ScanCode category and CC elements (`category_terms`), so one rule judges a
NonCommercial clause whether it comes from an entry or from a license id.

Severities: `block` - the plan as written breaks a term (the message says what change makes it pass);
`review` - a human must decide (the reading is unsettled, or the request does not say enough); `obligation` -
what remains to do for a plan that complies; `info` - noted, nothing to do.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from ..clauses import use_clause
from ..models import Clause, LicenseEntry, Obligation, Propagation, Restriction
from ..registry import CC_NC, CC_ND, CC_SA, PERMISSIVE_CATEGORIES, Registry
from .report import SEVERITY_RANK, Finding, ObligationItem
from .request import AuditRequest
from .uses import match_application

Role = Literal["data", "base_model", "generator"]

# Terms that bind whoever runs the model, not only models derived from it: the organization that generates data
# with a model is its licensee too (Llama's regional and MAU terms, acceptable-use policies).
LICENSEE_TERMS = {"regional", "user_cap", "restricted_applications"}


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
    base_license_ids: frozenset[str] = frozenset()  # the base model's license ids (empty: none, or unknown)
    model_license_ids: frozenset[str] = frozenset()  # the ids in `model_license`, the license the model ships under


@dataclass(frozen=True)
class Party:
    """One license term's bearer in this audit: which subject, in which role, under which license."""

    subject: str
    role: Role
    license_id: str
    entry: LicenseEntry | None = None  # None: a license judged by its ScanCode category
    model: str | None = None           # the base or generator model the license belongs to
    modality: str | None = None        # that model's modality, None when unknown

    @property
    def license_name(self) -> str:
        return self.entry.name if self.entry else self.license_id

    def cite(self, clause: Clause) -> dict:
        """The clause fields of a finding or obligation: section (prefixed by a companion document), quote, source."""
        section = clause.section
        if self.entry and clause.document:
            section = f"{self.entry.texts[clause.document].title}: {section}"
        return {"clause": section, "clause_text": clause.text, "clause_quote": clause.quote,
                "clause_source": self.entry.clause_source(clause) if self.entry else None}


def reach(prop: Propagation, role: Role) -> str:
    """How far a term reaches into this audit's model: yes | no | uncertain."""
    if role == "generator":
        return prop.outputs
    if role == "base_model":
        # A fine-tune is a derivative of the base model: anything that reaches "a model" applies.
        return "yes" if prop.model in ("yes", "uncertain") else "no"
    return prop.model


def finding(severity: str, party: Party, clause: Clause, rule: str, message: str) -> Finding:
    return Finding(severity=severity, subject=party.subject, license=party.license_id, rule=rule, message=message,
                   **party.cite(clause))


def obligation_item(party: Party, ob: Obligation, scope: str = "model") -> ObligationItem:
    return ObligationItem(license=party.license_id, type=ob.type, text=ob.text, subjects=[party.subject],
                          scope=scope, **party.cite(ob.clause))


def _hedge(r: Restriction, p: Party) -> str:
    return (" (conservative reading: treated as reaching the model weights)"
            if reach(r.propagates, p.role) == "uncertain" else "")


# -- restrictions -----------------------------------------------------------------------------------------------
def non_commercial(r: Restriction, p: Party, ctx: Context) -> Outcome:
    out, use = Outcome(), ctx.req.use
    if use == "commercial":
        sev, msg = "block", (f"{p.subject} is under {p.license_id}, which allows non-commercial use only; remove it "
                             f"from training a commercial model{_hedge(r, p)}.")
    elif use == "internal" and r.excludes_internal_business_use:
        sev, msg = "block", (f"{p.subject} is under {p.license_id}, whose non-commercial grant excludes a company's "
                             f"internal use too; get a commercial license or remove it.")
    elif use == "internal":
        sev, msg = "review", (f"{p.subject} is under {p.license_id} (non-commercial only); internal use inside a "
                              f"company can still be 'commercial advantage' - needs a human decision.")
    else:
        sev, msg = "info", (f"{p.subject} is non-commercial ({p.license_id}); fine for research, not for a "
                            f"commercial release.")
    out.findings.append(finding(sev, p, r.clause, r.type, msg))
    return out


def no_derivatives(r: Restriction, p: Party, ctx: Context) -> Outcome:
    out, req = Outcome(), ctx.req
    if p.role == "data" and req.share_dataset:
        msg = (f"{p.subject} is under {p.license_id}: the curated dataset adapts it (cleaned, filtered, cut), and "
               f"Adapted Material may not be shared. Drop it from the published dataset, or publish it unmodified.")
        out.findings.append(finding("block", p, r.clause, r.type, msg))
    if req.distribution in r.applies_on:
        msg = (f"{p.subject} is under {p.license_id}, which forbids sharing adapted material; releasing a model "
               f"trained on it ({req.distribution}) is treated as sharing an adaptation{_hedge(r, p)}. Remove it "
               f"from training, or keep the model unreleased.")
        out.findings.append(finding("block", p, r.clause, r.type, msg))
    elif not out.findings:
        msg = f"{p.subject} is no-derivatives ({p.license_id}); allowed only while the model is not shared."
        out.findings.append(finding("info", p, r.clause, r.type, msg))
    return out


def user_cap(r: Restriction, p: Party, ctx: Context) -> Outcome:
    out, req = Outcome(), ctx.req
    mau, cap = req.monthly_active_users, r.threshold or 0
    counted = f" ({r.counted})" if r.counted else ""
    bound = "commercial use" if r.commercial_use_only else "use"
    if mau is not None and mau > cap and (req.use == "commercial" or not r.commercial_use_only):
        msg = (f"{mau:,} monthly active users exceeds the {cap:,} cap of {p.license_name}{counted}; a separate "
               f"license from the licensor is required before any {bound}.")
        out.findings.append(finding("block", p, r.clause, r.type, msg))
    elif mau is not None and mau > cap and req.use == "internal":
        msg = (f"{mau:,} monthly active users exceeds the {cap:,} cap that {p.license_name} sets on commercial use"
               f"{counted}; whether this internal use is commercial needs a human decision.")
        out.findings.append(finding("review", p, r.clause, r.type, msg))
    else:
        known = "unknown" if mau is None else f"{mau:,}"
        msg = (f"{p.license_name} caps monthly active users at {cap:,} for {bound}{counted} (yours: {known}, "
               f"use: {req.use}).")
        out.findings.append(finding("info", p, r.clause, r.type, msg))
    return out


def regional(r: Restriction, p: Party, ctx: Context) -> Outcome:
    out, req = Outcome(), ctx.req
    if p.role == "data":
        return out
    region_hit = req.organization_region in r.regions or ("EU" in r.regions and req.in_eu)
    if not region_hit:
        return out
    role = "base model" if p.role == "base_model" else "model used to generate data"
    where = f"organizations in {req.organization_region} ({', '.join(r.regions)} restriction)"
    if r.modalities and p.modality is None:
        msg = (f"{p.license_name} grants no rights for {'/'.join(r.modalities)} models to {where}, and the modality "
               f"of {p.model} ({role}) is not known: state it (`modality:`) - a text-only model is not affected.")
        out.findings.append(finding("review", p, r.clause, r.type, msg))
    elif not r.modalities or p.modality in r.modalities:
        msg = (f"{p.license_name} grants no rights for {p.modality or 'these'} models to {where}; that holds for "
               f"{p.model} as {role}, whatever role it plays. Use a text-only model, or a model under other terms.")
        out.findings.append(finding("block", p, r.clause, r.type, msg))
    else:
        msg = (f"{p.license_name} restricts {', '.join(r.modalities)} models in {', '.join(r.regions)}; {p.model} is "
               f"{p.modality}, so it does not apply.")
        out.findings.append(finding("info", p, r.clause, r.type, msg))
    return out


def restricted_applications(r: Restriction, p: Party, ctx: Context) -> Outcome:
    out, application = Outcome(), ctx.req.application
    if not r.policy_items_read:
        return _unread_policy(r, p, application)
    # A generator whose use restrictions do not follow its outputs binds us as its licensee only: whether
    # producing training data for an application is use "related to" it needs a human.
    licensee_only = p.role == "generator" and reach(r.propagates, p.role) == "no"
    matches = match_application(application, r.uses)
    for m in matches:
        clause = use_clause(r.clause, m.use)
        if m.verdict == "restricted" and not licensee_only:
            msg = (f"application {application!r} is a restricted use of {p.license_name} ({r.policy}): {m.use.text} "
                   f"[{m.why}]. Change the application, or use a model without this restriction.")
            out.findings.append(finding("block", p, clause, r.type, msg))
        else:
            why = ("it generated training data for this application" if licensee_only and m.verdict == "restricted"
                   else m.why)
            msg = (f"application {application!r} may be a restricted use of {p.license_name} ({r.policy}): "
                   f"{m.use.text} - {why}; a human must decide.")
            out.findings.append(finding("review", p, clause, r.type, msg))
    if not matches:
        msg = (f"{p.license_name} restricts uses ({r.policy}); the model and its users must respect them"
               + (f"; application {application!r} falls under none." if application else "."))
        out.findings.append(finding("info", p, r.clause, r.type, msg))
    return out


def _unread_policy(r: Restriction, p: Party, application: str | None) -> Outcome:
    """A policy incorporated by reference whose text this registry has not read: nothing to match against."""
    out = Outcome()
    if application:
        msg = (f"{p.license_name} requires use consistent with {r.policy}, whose items this registry has not read; "
               f"a human must check application {application!r} against the policy's current text.")
        out.findings.append(finding("review", p, r.clause, r.type, msg))
    else:
        msg = (f"{p.license_name} requires use consistent with {r.policy} (its items are not encoded here); the "
               f"model and its users must respect it.")
        out.findings.append(finding("info", p, r.clause, r.type, msg))
    return out


def hosting_use(r: Restriction, p: Party, ctx: Context) -> Outcome:
    """Falcon-180B §9: offering the model to third parties as an inference or fine-tuning API needs TII's separate
    license; an application or end-user product that runs the model in the background is not Hosting Use."""
    out, req = Outcome(), ctx.req
    if req.distribution != "api":
        msg = (f"{p.license_name} does not license Hosting Use (serving the model to third parties as an inference "
               f"or fine-tuning API); this plan serves no API ({req.distribution}).")
        out.findings.append(finding("info", p, r.clause, r.type, msg))
        return out
    hosting = [m for m in match_application(req.application, r.uses) if m.verdict == "restricted"]
    if hosting:
        m = hosting[0]
        msg = (f"application {req.application!r} is Hosting Use under {p.license_name}: {m.use.text} [{m.why}], "
               f"which this license does not grant. Apply to the licensor for a hosting license first, or serve an "
               f"end-user product that uses the model in the background instead.")
        out.findings.append(finding("block", p, use_clause(r.clause, m.use), r.type, msg))
    else:
        what = f"application {req.application!r}" if req.application else "the application (not stated)"
        msg = (f"The model is served as an API; {p.license_name} does not license Hosting Use - shared instances or "
               f"managed services offered to third parties in inference or fine-tuning API form - but an application "
               f"or end-user product using the model in the background is not Hosting Use. Whether {what} is "
               f"one or the other needs a human decision.")
        out.findings.append(finding("review", p, r.clause, r.type, msg))
    return out


def no_competing_models(r: Restriction, p: Party, ctx: Context) -> Outcome:
    out, req = Outcome(), ctx.req
    scope = _output_modality_scope(r, p)
    if scope is not None:
        out.findings.append(scope)
        return out
    if req.use == "commercial":
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


def _output_modality_scope(r: Restriction, p: Party) -> Finding | None:
    """For a term that binds outputs of some modalities only (Mistral 3.3: image outputs): the finding when these
    outputs are not (info) or may not be (review: modality unknown, or multimodal) of them; None when they are."""
    if not r.modalities or p.modality in r.modalities:
        return None
    kinds = "/".join(r.modalities)
    if p.modality in (None, "multimodal"):
        what = "is not known" if p.modality is None else "is multimodal"
        msg = (f"{p.subject}: {p.license_name} restricts {kinds} outputs only, and the modality of {p.model} {what}: "
               f"state the generator's output modality (`generated_by.modality`) - text outputs are not restricted.")
        return finding("review", p, r.clause, r.type, msg)
    msg = f"{p.subject}: {p.license_name} restricts {kinds} outputs only; {p.model} generates {p.modality}."
    return finding("info", p, r.clause, r.type, msg)


def no_training_on_outputs(r: Restriction, p: Party, ctx: Context) -> Outcome:
    """xAI Enterprise 3.2: outputs may train no AI model - whatever the use, research and internal included."""
    out = Outcome()
    msg = (f"{p.subject}: {p.license_name} forbids using its outputs to train any AI model, whatever the purpose "
           f"(research and internal experiments included), unless an order form expressly permits it. Remove the "
           f"source, or get that permission in writing.")
    out.findings.append(finding("block", p, r.clause, r.type, msg))
    return out


def no_improving_other_models(r: Restriction, p: Party, ctx: Context) -> Outcome:
    """Llama 2/3, Tongyi Qianwen: outputs may improve no other LLM - whatever the use, research included."""
    out = Outcome()
    exempt = ctx.base_license_ids & set(r.exempt_licenses)
    if exempt:
        msg = (f"{p.subject}: {p.license_name} lets its outputs improve only its own models and their derivatives; "
               f"the base model is one ({', '.join(sorted(exempt))}).")
        out.findings.append(finding("info", p, r.clause, r.type, msg))
    else:
        base = ", ".join(sorted(ctx.base_license_ids)) or "no base model"
        msg = (f"{p.subject}: {p.license_name} forbids using its outputs to improve any other large language model, "
               f"whatever the purpose (research included); this model ({base}) is not one it exempts. Remove the "
               f"source, or fine-tune a base model under {', '.join(r.exempt_licenses)}.")
        out.findings.append(finding("block", p, r.clause, r.type, msg))
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
    "no_training_on_outputs": no_training_on_outputs,
    "no_improving_other_models": no_improving_other_models,
    "no_endorsement": no_endorsement,
    "hosting_use": hosting_use,
}


def apply_restriction(r: Restriction, p: Party, ctx: Context) -> Outcome:
    licensee = p.role == "generator" and r.type in LICENSEE_TERMS
    dataset = p.role == "data" and ctx.req.share_dataset and r.type == "no_derivatives"
    if reach(r.propagates, p.role) == "no" and not licensee and not dataset:
        return Outcome()
    return RESTRICTION_RULES[r.type](r, p, ctx)


# -- obligations ------------------------------------------------------------------------------------------------
def share_alike(ob: Obligation, p: Party, ctx: Context) -> Outcome:
    out = Outcome()
    outbound = ctx.req.model_license
    if p.role == "data" and reach(ob.propagates, p.role) == "uncertain":
        if p.license_id in ctx.model_license_ids:
            msg = f"{p.subject} is share-alike ({p.license_id}) and the model is released under {outbound}."
            out.findings.append(finding("info", p, ob.clause, ob.type, msg))
            return out
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
        msg = (f"Model name {name!r} does not start with {prefix!r} as {p.license_name} requires; rename it to "
               f"{prefix.replace(' ', '-')}-{name.split('/')[-1]} (or another name that begins with {prefix!r}).")
        out.findings.append(finding("block", p, ob.clause, ob.type, msg))
    return out


_PLAIN_LABELS = {"display_attribution": "Display", "notice_file": "Ship a NOTICE file with",
                 "use_restriction_passthrough": "Pass on to users and downstream licensees:",
                 "license_copy": "Include a copy of the license", "attribution": "Give attribution",
                 "state_changes": "Mark modified files", "document_changes": "Document the changes:",
                 "offer_derived_data": "Offer to those who get the model:"}


def plain_obligation(ob: Obligation, p: Party, ctx: Context) -> Outcome:
    """Obligations that are met by shipping or displaying something: listed, nothing to judge. A statement that
    names the model ("<model name> is built using ...", TII Falcon 6.1) gets the request's model name."""
    out, name = Outcome(), ctx.req.model_name
    text = ob.text.replace("<model name>", name.split("/")[-1]) if ob.text and name else ob.text
    detail = f" {text!r}" if text else f" ({p.license_name})"
    out.findings.append(finding("obligation", p, ob.clause, ob.type, f"{_PLAIN_LABELS[ob.type]}{detail}."))
    item = obligation_item(p, ob)
    item.text = text
    out.obligations.append(item)
    return out


OBLIGATION_RULES: dict[str, Callable[[Obligation, Party, Context], Outcome]] = {
    "share_alike": share_alike,
    "name_prefix": name_prefix,
    **{t: plain_obligation for t in _PLAIN_LABELS},
}


def dataset_obligation(ob: Obligation, p: Party, ctx: Context) -> Outcome:
    """A term that travels with the data itself, when the curated dataset is published."""
    out = Outcome()
    what = {"share_alike": f"the published dataset's {p.subject.removeprefix('data ')} part goes out under "
                           f"{ob.text or p.license_id}",
            "license_copy": f"ship the {p.license_id} text (or its URI) with the published dataset",
            "attribution": "keep the credit to the original providers in the published dataset",
            "state_changes": "mark the files of the published dataset that were changed"}.get(ob.type)
    if what:
        out.findings.append(finding("obligation", p, ob.clause, ob.type, f"Dataset publication: {what}."))
    out.obligations.append(obligation_item(p, ob, scope="dataset"))
    return out


def apply_obligation(ob: Obligation, p: Party, ctx: Context) -> Outcome:
    out, req = Outcome(), ctx.req
    if p.role == "data" and req.share_dataset and ob.propagates.dataset == "yes":
        out.extend(dataset_obligation(ob, p, ctx))
    if reach(ob.propagates, p.role) == "no" or req.distribution not in ob.applies_on:
        return out
    out.extend(OBLIGATION_RULES[ob.type](ob, p, ctx))
    return out


def apply_entry(entry: LicenseEntry, p: Party, ctx: Context) -> Outcome:
    out = Outcome()
    if entry.status == "unreviewed":
        clause = Clause(section="-", text=entry.notes or f"{entry.name}: terms not encoded clause by clause.")
        msg = (f"{p.subject} is under {entry.name}, whose terms this registry has identified but not encoded clause "
               f"by clause; a human must read them ({', '.join(entry.urls) or entry.id}).")
        out.findings.append(finding("review", p, clause, "unreviewed_terms", msg))
    if entry.category == "First Party":
        clause = Clause(section="-", text=entry.notes or "First-party data.")
        out.findings.append(finding("info", p, clause, "first_party",
                                    f"{p.subject} is the organization's own data ({entry.id}): no license terms."))
    if entry.outputs_may_train and p.role == "generator":
        msg = f"{p.subject}: {p.license_name} expressly lets its outputs train other models (distillation included)."
        out.findings.append(finding("info", p, entry.outputs_may_train, "outputs_may_train", msg))
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
        if not out.findings and category in PERMISSIVE_CATEGORIES:
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
