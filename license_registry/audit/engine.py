"""The audit engine: request -> subjects (base model, data sources, their generators) -> rules -> report.

Three roles a license can play in an audit:
  * "data"       - a training data source's own license (reach into the model: Propagation.model);
  * "base_model" - the license of the model we fine-tune (it governs the derived model);
  * "generator"  - terms of the model/API that generated a data source (Propagation.outputs), as the Data
                   Provenance Initiative propagates generator terms to the generated data; its organization is
                   its licensee too (rules.LICENSEE_TERMS).
For an `A OR B` expression every alternative is evaluated and the least severe one is chosen. What each term means
is decided in `rules.py`, one function per term type; `model_license` is checked in `outbound.py`.
"""

from __future__ import annotations

from ..expression import ResolvedLicense, Term, category_rank, resolve
from ..registry import Registry, get_registry
from .attribution import attributions
from .outbound import Inbound, check_model_license
from .report import SEVERITY_RANK, VERDICT_FOR, AuditReport, ChoiceMade, Finding, ObligationItem
from .request import AuditRequest, DataSource
from .rules import Context, Outcome, Party, apply_category, apply_entry
from .shares import license_shares


def audit(request: AuditRequest, registry: Registry | None = None) -> AuditReport:
    """Run every rule over the base model and each data source; return the report."""
    reg = registry or get_registry()
    if request.run_dir:
        from .run_folder import data_sources_from_run  # local import: only needed for run folders

        request = request.model_copy(update={"data": [*request.data, *data_sources_from_run(request.run_dir)]})
    base_text = base_model_license(request, reg)
    base_res = resolve(base_text, registry=reg) if base_text else None
    outbound = resolve(request.model_license, registry=reg) if request.model_license else None
    ctx = Context(request, reg,
                  base_license_ids=frozenset(base_res.ids) if base_res and base_res.known else frozenset(),
                  model_license_ids=frozenset(outbound.ids) if outbound else frozenset())
    total = Outcome()
    choices: list[ChoiceMade] = []
    resolved_by_source: dict[str, ResolvedLicense] = {}
    inbound: list[Inbound] = []

    if request.base_model:
        bm = request.base_model
        subject = f"base model {bm.name}"
        if base_res is None:
            total.findings.append(Finding(
                severity="review", subject=subject, license=None, clause="-", rule="unknown_license",
                message=f"Cannot tell the license of base model {bm.name!r}: add `license:` to base_model."))
        else:
            modality = bm.modality or reg.model_modality(bm.name)
            party = Party(subject, "base_model", "", model=bm.name, modality=modality)
            total.extend(_evaluate_subject(party, base_res, ctx, choices))
            inbound.append(Inbound(subject, "base_model", base_res))

    for src in request.data:
        res = resolve(src.license, license_name=src.license_name, license_link=src.license_link, registry=reg)
        resolved_by_source[src.name] = res
        subject = f"data {src.name}"
        total.extend(_evaluate_subject(Party(subject, "data", ""), res, ctx, choices))
        inbound.append(Inbound(subject, "data", res))
        if src.generated_by:
            total.extend(_evaluate_generator(src, ctx, choices, inbound))

    if request.distribution != "none" and request.model_name is None and any(
            o.type == "name_prefix" for o in total.obligations):
        total.findings.append(Finding(
            severity="obligation", subject="model", license=None, clause="-", rule="name_prefix",
            message="A name prefix is required but no model_name was given; set model_name to check it."))
    if outbound is not None and request.distribution != "none":
        total.findings += check_model_license(inbound, outbound, ctx)

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
        attributions=attributions(obligations, request.data, resolved_by_source),
        request=request.model_dump(exclude_none=True, exclude={"data"}) | {"data_sources": len(request.data)},
    )


def base_model_license(req: AuditRequest, registry: Registry | None = None) -> str | None:
    """The base model's license as written, else the one its model id is released under (or None)."""
    if not req.base_model:
        return None
    if req.base_model.license:
        return req.base_model.license
    return _model_license(req.base_model.name, registry or get_registry())


def _model_license(name: str, reg: Registry) -> str | None:
    row = reg.match_model(name)
    if row:
        return row.license
    return reg.lookup(name)  # `base_model: llama3.2` names a license directly


def _evaluate_generator(src: DataSource, ctx: Context, choices: list[ChoiceMade],
                        inbound: list[Inbound]) -> Outcome:
    gen = src.generated_by
    assert gen is not None
    subject = f"data {src.name} (generated by {gen.name})"
    text = gen.terms or gen.license or _model_license(gen.name, ctx.reg)
    if text is None:
        out = Outcome()
        out.findings.append(Finding(
            severity="review", subject=subject, license=None, clause="-", rule="unknown_generator_terms",
            message=f"Data {src.name!r} was generated by {gen.name!r} whose terms are unknown; add "
                    f"generated_by.terms (e.g. openai, anthropic, google, llama3.1) after checking them."))
        return out
    res = resolve(text, registry=ctx.reg)
    inbound.append(Inbound(subject, "generator", res))
    party = Party(subject, "generator", "", model=gen.name, modality=gen.modality or ctx.reg.model_modality(gen.name))
    return _evaluate_subject(party, res, ctx, choices)


def _evaluate_subject(party: Party, res: ResolvedLicense, ctx: Context, choices: list[ChoiceMade]) -> Outcome:
    subject = party.subject
    if not res.choices:
        out = Outcome()
        what = res.error or "unrecognised license"
        out.findings.append(Finding(
            severity="review", subject=subject, license=res.input or "NOASSERTION", clause="-",
            rule="unknown_license",
            message=f"{subject}: license {res.input or 'NOASSERTION'!r} could not be determined ({what}); "
                    f"identify the license before training on it, or drop the source."))
        return out
    evaluated = [(choice, _evaluate_choice(choice, party, ctx, res)) for choice in res.choices]
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


def _evaluate_choice(choice: tuple[Term, ...], party: Party, ctx: Context, res: ResolvedLicense) -> Outcome:
    out = Outcome()
    for term in choice:  # AND: every license applies
        out.extend(_evaluate_term(term, party, ctx, res))
    return out


def _evaluate_term(term: Term, party: Party, ctx: Context, res: ResolvedLicense) -> Outcome:
    reg, out, subject = ctx.reg, Outcome(), party.subject
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
    bound = Party(subject, party.role, lid, entry=entry, model=party.model, modality=party.modality)
    out.extend(apply_entry(entry, bound, ctx) if entry else apply_category(lid, bound, ctx))
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

