"""Audit rules: what each license term means for a given use of data and models.

Three roles a license can play in an audit:
  * "data"       - a training data source's own license (reach into the model: Propagation.model);
  * "base_model" - the license of the model we fine-tune (it governs the derived model);
  * "generator"  - terms of the model/API that generated a data source (Propagation.outputs), as the
                   Data Provenance Initiative propagates generator terms to the generated data.
For an `A OR B` expression every alternative is evaluated and the least severe one is chosen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from ..expression import ResolvedLicense, Term, category_rank, resolve
from ..models import LicenseEntry, Obligation, Propagation, Restriction
from ..registry import CC_NC, CC_ND, CC_SA, Registry, get_registry
from .report import SEVERITY_RANK, VERDICT_FOR, AuditReport, ChoiceMade, Finding, ObligationItem
from .request import AuditRequest, DataSource
from .shares import license_shares

Role = Literal["data", "base_model", "generator"]


@dataclass
class _Result:
    findings: list[Finding] = field(default_factory=list)
    obligations: list[ObligationItem] = field(default_factory=list)

    def extend(self, other: "_Result") -> None:
        self.findings += other.findings
        self.obligations += other.obligations

    @property
    def score(self) -> tuple[int, ...]:
        # Lower is better: worst severity first, then how many problems of each kind.
        counts = [sum(1 for f in self.findings if f.severity == s) for s in ("block", "review", "obligation")]
        worst = max((SEVERITY_RANK[f.severity] for f in self.findings), default=0)
        return (worst, *counts, len(self.obligations))


@dataclass
class _Ctx:
    req: AuditRequest
    reg: Registry
    base_family: str | None


def audit(request: AuditRequest, registry: Registry | None = None) -> AuditReport:
    """Run every rule over the base model and each data source; return the report."""
    reg = registry or get_registry()
    if request.run_dir:
        from .run_folder import data_sources_from_run  # local import: only needed for run folders

        request = request.model_copy(update={"data": [*request.data, *data_sources_from_run(request.run_dir)]})
    base_entry = _base_model_entry(request, reg)
    ctx = _Ctx(request, reg, base_entry.family if base_entry else None)
    total = _Result()
    choices: list[ChoiceMade] = []
    resolved_by_source: dict[str, ResolvedLicense] = {}

    if request.base_model:
        bm = request.base_model
        subject = f"base model {bm.name}"
        text = bm.license or (base_entry.id if base_entry else None)
        if text is None:
            total.findings.append(Finding(
                severity="review", subject=subject, license=None, clause="-", rule="unknown_license",
                message=f"Cannot tell the license of base model {bm.name!r}: add `license:` to base_model."))
        else:
            total.extend(_evaluate_subject(subject, resolve(text, registry=reg), "base_model", ctx, choices))

    for src in request.data:
        res = resolve(src.license, license_name=src.license_name, license_link=src.license_link, registry=reg)
        resolved_by_source[src.name] = res
        total.extend(_evaluate_subject(f"data {src.name}", res, "data", ctx, choices))
        if src.generated_by:
            total.extend(_evaluate_generator(src, ctx, choices))

    if request.distribution != "none" and request.model_name is None and any(
            o.type == "name_prefix" for o in total.obligations):
        total.findings.append(Finding(
            severity="obligation", subject="model", license=None, clause="-", rule="name_prefix",
            message="A name prefix is required but no model_name was given; set model_name to check it."))

    obligations = _merge_obligations(total.obligations)
    worst = max((SEVERITY_RANK[f.severity] for f in total.findings), default=0)
    if obligations:
        worst = max(worst, SEVERITY_RANK["obligation"])
    verdict = VERDICT_FOR[next(s for s, r in SEVERITY_RANK.items() if r == worst)]
    findings = sorted(total.findings, key=lambda f: -SEVERITY_RANK[f.severity])
    shares, basis = license_shares(request.data, resolved_by_source)
    summary = {s: sum(1 for f in findings if f.severity == s) for s in SEVERITY_RANK}
    return AuditReport(
        verdict=verdict, findings=findings, obligations=obligations, license_shares=shares,
        share_basis=basis, choices=choices, summary=summary,
        request=request.model_dump(exclude_none=True, exclude={"data"}) | {"data_sources": len(request.data)},
    )


def base_model_license(req: AuditRequest, registry: Registry | None = None) -> str | None:
    """The base model's license as written, else the one inferred from its name (or None)."""
    if not req.base_model:
        return None
    if req.base_model.license:
        return req.base_model.license
    entry = _base_model_entry(req, registry or get_registry())
    return entry.id if entry else None


def _base_model_entry(req: AuditRequest, reg: Registry) -> LicenseEntry | None:
    if not req.base_model:
        return None
    if req.base_model.license:
        res = resolve(req.base_model.license, registry=reg)
        return reg.entry(res.ids[0]) if res.is_single else None
    if entry := reg.match_model(req.base_model.name):
        return entry
    lid = reg.lookup(req.base_model.name)
    return reg.entry(lid) if lid else None


def _evaluate_generator(src: DataSource, ctx: _Ctx, choices: list[ChoiceMade]) -> _Result:
    gen = src.generated_by
    assert gen is not None
    subject = f"data {src.name} (generated by {gen.name})"
    text = gen.terms or gen.license
    if text is None:
        entry = ctx.reg.match_model(gen.name)
        text = entry.id if entry else None
    if text is None:
        out = _Result()
        out.findings.append(Finding(
            severity="review", subject=subject, license=None, clause="-", rule="unknown_generator_terms",
            message=f"Data {src.name!r} was generated by {gen.name!r} whose terms are unknown; add "
                    f"generated_by.terms (e.g. openai, anthropic, google, llama3.1) after checking them."))
        return out
    return _evaluate_subject(subject, resolve(text, registry=ctx.reg), "generator", ctx, choices)


def _evaluate_subject(subject: str, res: ResolvedLicense, role: Role, ctx: _Ctx,
                      choices: list[ChoiceMade]) -> _Result:
    if not res.choices:
        out = _Result()
        what = res.error or "unrecognised license"
        out.findings.append(Finding(
            severity="review", subject=subject, license=res.input or "NOASSERTION", clause="-",
            rule="unknown_license",
            message=f"{subject}: license {res.input or 'NOASSERTION'!r} could not be determined ({what}); "
                    f"identify the license before training on it, or drop the source."))
        return out
    evaluated = [(choice, _evaluate_choice(choice, subject, role, ctx, res)) for choice in res.choices]
    # Least severe alternative wins; ties go to the freer category, then to the written order.
    best_choice, best = min(
        evaluated,
        key=lambda cr: (cr[1].score, max(category_rank(ctx.reg.category(t.license_id)) for t in cr[0])))
    if len(res.choices) > 1:
        chosen = " AND ".join(str(t) for t in best_choice)
        alternatives = [" AND ".join(str(t) for t in c) for c in res.choices]
        choices.append(ChoiceMade(subject=subject, expression=res.expression or res.input,
                                  chosen=chosen, alternatives=alternatives))
        best.findings.append(Finding(
            severity="info", subject=subject, license=res.expression, clause="SPDX OR",
            rule="expression_choice",
            message=f"{res.expression}: using {chosen} (the most permissive alternative that works for this use)."))
    return best


def _evaluate_choice(choice: tuple[Term, ...], subject: str, role: Role, ctx: _Ctx,
                     res: ResolvedLicense) -> _Result:
    out = _Result()
    for term in choice:  # AND: every license applies
        out.extend(_evaluate_term(term, subject, role, ctx, res))
    return out


def _evaluate_term(term: Term, subject: str, role: Role, ctx: _Ctx, res: ResolvedLicense) -> _Result:
    reg, out = ctx.reg, _Result()
    lid = term.license_id
    if not reg.is_known(lid):
        shown = res.written(lid)
        out.findings.append(Finding(
            severity="review", subject=subject, license=shown, clause="-", rule="unknown_license",
            message=f"{subject}: license {shown!r} is not in the registry or the ScanCode index; "
                    f"identify it (and its terms) before use."))
        return out
    if term.exception:
        out.findings.append(Finding(
            severity="info", subject=subject, license=str(term), clause=term.exception, rule="exception",
            message=f"{lid} carries the exception {term.exception}; the base license terms below still apply."))
    entry = reg.entry(lid)
    if entry is None:
        return _fallback_by_category(lid, subject, role, ctx)
    for restriction in entry.restrictions:
        out.extend(_apply_restriction(entry, lid, restriction, subject, role, ctx))
    for obligation in entry.obligations:
        out.extend(_apply_obligation(entry, lid, obligation, subject, role, ctx))
    return out


def _reach(prop: Propagation, role: Role) -> str:
    if role == "generator":
        return prop.outputs
    if role == "base_model":
        # A fine-tune is a derivative of the base model: anything that reaches "a model" applies.
        return "yes" if prop.model in ("yes", "uncertain") else "no"
    return prop.model


def _finding(sev: str, subject: str, lid: str, clause, rule: str, message: str) -> Finding:
    section = f"{clause.document}: {clause.section}" if clause.document else clause.section
    return Finding(severity=sev, subject=subject, license=lid, clause=section, clause_text=clause.text,
                   rule=rule, message=message)


def _apply_restriction(entry: LicenseEntry, lid: str, r: Restriction, subject: str, role: Role,
                       ctx: _Ctx) -> _Result:
    out, req = _Result(), ctx.req
    reach = _reach(r.propagates, role)
    if reach == "no":
        return out
    add = lambda sev, msg: out.findings.append(_finding(sev, subject, lid, r.clause, r.type, msg))  # noqa: E731
    hedge = " (conservative reading: treated as reaching the model weights)" if reach == "uncertain" else ""
    if r.type == "non_commercial":
        if req.use == "commercial":
            add("block", f"{subject} is under {lid}, which allows non-commercial use only; remove it from "
                         f"training a commercial model{hedge}.")
        elif req.use == "internal":
            add("review", f"{subject} is under {lid} (non-commercial only); internal use inside a company can "
                          f"still be 'commercial advantage' - needs a human decision.")
        else:
            add("info", f"{subject} is non-commercial ({lid}); fine for research, not for a commercial release.")
    elif r.type == "no_derivatives":
        if req.distribution in r.applies_on:
            add("block", f"{subject} is under {lid}, which forbids sharing adapted material; releasing a model "
                         f"trained on it ({req.distribution}) is treated as sharing an adaptation{hedge}.")
        else:
            add("info", f"{subject} is no-derivatives ({lid}); allowed only while the model is not shared.")
    elif r.type == "user_cap":
        mau = req.monthly_active_users
        if mau is not None and mau > (r.threshold or 0):
            add("block", f"{mau:,} monthly active users exceeds the {r.threshold:,} cap of {entry.name}; "
                         f"a separate license from the licensor is required.")
        else:
            known = "unknown" if mau is None else f"{mau:,}"
            add("info", f"{entry.name} caps monthly active users at {r.threshold:,} (yours: {known}).")
    elif r.type == "regional":
        if role != "base_model":
            return out
        region_hit = req.organization_region in r.regions or ("EU" in r.regions and req.in_eu)
        modality = (req.base_model.modality if req.base_model else "text").lower()
        modality_hit = not r.modalities or modality in r.modalities
        if region_hit and modality_hit:
            add("block", f"{entry.name} does not grant rights for {modality} models to organizations in "
                         f"{req.organization_region} ({', '.join(r.regions)} restriction).")
        elif region_hit:
            add("info", f"{entry.name} restricts {', '.join(r.modalities)} models in {', '.join(r.regions)}; "
                        f"this base model is {modality}, so it does not apply.")
    elif r.type == "restricted_applications":
        hits = _match_application(req.application, r)
        for use in hits:
            add("block", f"application {req.application!r} matches a restricted use of {entry.name} "
                         f"({r.policy}): {use.text}.")
        if not hits:
            add("info", f"{entry.name} restricts uses ({r.policy}); the model and its users must respect them"
                        + (f"; application {req.application!r} matched none." if req.application else "."))
    elif r.type == "no_competing_models":
        if ctx.base_family and ctx.base_family in r.exempt_families:
            add("info", f"{subject}: {entry.name} forbids using outputs to improve other models, but the base "
                        f"model is in the exempt {ctx.base_family} family.")
        elif req.use == "commercial":
            add("block", f"{subject}: {entry.name} forbids using outputs to develop competing models; a "
                         f"commercial model trained on it is treated as competing (as the Data Provenance "
                         f"Initiative does). Remove the source or get permission.")
        elif req.distribution != "none":
            add("review", f"{subject}: {entry.name} forbids using outputs to develop competing models; a "
                          f"released {req.use} model may still compete - needs a human decision.")
        else:
            add("info", f"{subject}: {entry.name} restricts competing models; internal experiments only.")
    elif r.type == "no_endorsement":
        add("info", f"Do not use the names of {lid} copyright holders to endorse the model.")
    return out


def _apply_obligation(entry: LicenseEntry, lid: str, ob: Obligation, subject: str, role: Role,
                      ctx: _Ctx) -> _Result:
    out, req = _Result(), ctx.req
    reach = _reach(ob.propagates, role)
    if role == "data" and req.share_dataset and ob.propagates.dataset == "yes":
        out.obligations.append(_item(lid, ob, subject, scope="dataset"))
    if reach == "no" or req.distribution not in ob.applies_on:
        return out
    add = lambda sev, msg: out.findings.append(_finding(sev, subject, lid, ob.clause, ob.type, msg))  # noqa: E731
    if ob.type == "share_alike":
        if role == "data" and reach == "uncertain":
            add("review", f"{subject} is share-alike ({lid}); it is unsettled whether model weights are an "
                          f"adaptation - a human must decide before releasing the weights under another license.")
            return out
        add("obligation", f"The model must be released under {ob.text or lid} (or a compatible license).")
    elif ob.type == "name_prefix":
        prefix = ob.text or ""
        name = req.model_name
        satisfied = bool(name) and _has_prefix(name, prefix)
        item = _item(lid, ob, subject)
        item.satisfied = satisfied
        out.obligations.append(item)
        if satisfied:
            add("info", f"Model name {name!r} already starts with {prefix!r} as {entry.name} requires.")
        elif name:
            add("obligation", f"Model name {name!r} must start with {prefix!r} (e.g. "
                              f"{prefix.replace(' ', '-')}-{name!s}).")
        return out
    else:
        label = {"display_attribution": "Display", "notice_file": "Ship a NOTICE file with",
                 "use_restriction_passthrough": "Pass on to users and downstream licensees:",
                 "license_copy": "Include a copy of the license", "attribution": "Give attribution",
                 "state_changes": "Mark modified files"}[ob.type]
        detail = f" {ob.text!r}" if ob.text else f" ({entry.name})"
        add("obligation", f"{label}{detail}.")
    out.obligations.append(_item(lid, ob, subject))
    return out


def _item(lid: str, ob: Obligation, subject: str, scope: str = "model") -> ObligationItem:
    return ObligationItem(license=lid, type=ob.type, text=ob.text, clause=ob.clause.section,
                          clause_text=ob.clause.text, subjects=[subject], scope=scope)


def _has_prefix(name: str, prefix: str) -> bool:
    norm = lambda s: re.sub(r"[\s_\-]+", "-", s.lower())  # noqa: E731
    return norm(name.split("/")[-1]).startswith(norm(prefix))


def _match_application(application: str | None, r: Restriction):
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


def _fallback_by_category(lid: str, subject: str, role: Role, ctx: _Ctx) -> _Result:
    """Licenses without an ML entry: judge by the ScanCode category (and CC elements in the id)."""
    out, req = _Result(), ctx.req
    category = ctx.reg.category(lid) or "Unstated License"
    clause = f"ScanCode LicenseDB category '{category}' (no clause-level entry)"
    add = lambda sev, rule, msg: out.findings.append(Finding(  # noqa: E731
        severity=sev, subject=subject, license=lid, clause=clause, rule=rule, message=msg))
    if CC_NC.match(lid) or CC_ND.match(lid) or CC_SA.match(lid):
        clause = f"{lid} license elements (NC/ND/SA in the license name)"
        if CC_NC.match(lid) and req.use != "research":
            add("block" if req.use == "commercial" else "review", "non_commercial",
                f"{subject} is under {lid} (NonCommercial); not usable for {req.use} training "
                f"(conservative reading).")
        if CC_ND.match(lid) and req.distribution != "none":
            add("block", "no_derivatives", f"{subject} is under {lid} (NoDerivatives); sharing a model "
                                           f"trained on it is treated as sharing an adaptation.")
        if CC_SA.match(lid) and req.distribution == "weights":
            add("review", "share_alike", f"{subject} is share-alike ({lid}); decide whether it reaches the weights.")
        if out.findings:
            return out
    if category == "Public Domain":
        add("info", "category", f"{lid} is public domain / a waiver.")
    elif category == "Permissive":
        if req.distribution != "none":
            out.obligations.append(ObligationItem(
                license=lid, type="attribution", text=None, clause=clause, subjects=[subject]))
            add("obligation", "attribution", f"Keep the {lid} license text and copyright notices with the release.")
        else:
            add("info", "category", f"{lid} is permissive.")
    elif category in ("Copyleft", "Copyleft Limited"):
        add("review", "share_alike", f"{subject} is under {lid} ({category}) with no ML entry; decide whether its "
                                     f"copyleft reaches the model before release.")
    else:
        add("review", "category", f"{subject} is under {lid} ({category}); restrictive terms without an ML "
                                  f"entry - a human must read them.")
    return out


def _merge_obligations(items: list[ObligationItem]) -> list[ObligationItem]:
    merged: dict[tuple, ObligationItem] = {}
    for it in items:
        key = (it.license, it.type, it.text, it.clause, it.scope)
        if key in merged:
            m = merged[key]
            m.subjects = list(dict.fromkeys(m.subjects + it.subjects))
            m.satisfied = m.satisfied and it.satisfied
        else:
            merged[key] = it.model_copy(deep=True)
    return list(merged.values())
