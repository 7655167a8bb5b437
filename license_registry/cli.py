"""`license-registry` command line: show / search / check / detect for people, audit for releases, verify-clauses
for maintainers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .audit import RequestError, RunFolderError, audit, load_request, parse_request
from .audit.render import FORMATS, render
from .audit.request import ALLOWED_DISTRIBUTIONS, ALLOWED_USES
from .expression import resolve
from .model_card import model_card_section
from .policy import POLICIES, classify_policy
from .registry import get_registry
from .spdx3 import spdx_json


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """License registry for ML data and models (SPDX + ScanCode LicenseDB + ML terms)."""


def _entry_dict(lid: str) -> dict:
    reg = get_registry()
    entry = reg.entry(lid)
    row = reg.scancode_row(lid)
    out = {"id": lid, "category": reg.category(lid), "scancode_key": row.key if row else None,
           "ml_entry": entry is not None}
    if entry:
        out.update(entry.model_dump(exclude_none=True, exclude={"id"}))
        out["aliases"] = sorted(reg.aliases.spellings.get(entry.id, set()) | set(entry.aliases))
    elif row:
        out.update({"other_spdx_ids": list(row.other_spdx_ids), "is_exception": row.is_exception,
                    "is_deprecated": row.is_deprecated})
    return out


@main.command()
@click.argument("license_id")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def show(license_id: str, as_json: bool) -> None:
    """Show one license: category, permissions, obligations and restrictions with their clauses."""
    res = resolve(license_id)
    if not res.is_single or not res.known:
        similar = get_registry().search(license_id, limit=5)
        raise click.ClickException(f"{license_id!r} is not a single known license"
                                   + (f" (did you mean one of: {', '.join(similar)}?)" if similar else ""))
    data = _entry_dict(res.ids[0])
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"{data['id']}  ({data.get('name', data['scancode_key'])})")
    click.echo(f"  category: {data['category']}   kind: {data.get('kind', 'n/a (ScanCode only)')}")
    if not data["ml_entry"]:
        click.echo("  no ML-specific entry: audits judge it by its ScanCode category")
        return
    p = data["permissions"]
    click.echo("  permissions: " + ", ".join(f"{k}={'yes' if v else 'no'}" for k, v in p.items()))
    if data.get("hf_id"):
        click.echo(f"  hugging face id: {data['hf_id']}")
    for o in data.get("obligations", []):
        text = f" {o['text']!r}" if o.get("text") else ""
        prop = o["propagates"]
        click.echo(f"  obligation {o['type']}{text}  [§{o['clause']['section']}]  reaches dataset={prop['dataset']} "
                   f"model={prop['model']} outputs={prop['outputs']}")
        _echo_clause(o["clause"], data)
    for r in data.get("restrictions", []):
        extra = f" threshold={r['threshold']:,}" if r.get("threshold") else ""
        extra += f" regions={','.join(r['regions'])}" if r.get("regions") else ""
        extra += f" modalities={','.join(r['modalities'])}" if r.get("modalities") else ""
        click.echo(f"  restriction {r['type']}{extra}  [§{r['clause']['section']}]")
        _echo_clause(r["clause"], data)
        for u in r.get("uses", []):
            click.echo(f"      - {u['text']}" + (f" [§{u['section']}]" if u.get("section") else ""))
    if data.get("outputs_may_train"):
        click.echo(f"  permission: outputs may train other models  [§{data['outputs_may_train']['section']}]")
        _echo_clause(data["outputs_may_train"], data)
    for key, ref in data.get("texts", {}).items():
        bundled = f"bundled: {ref['file']}" if ref.get("file") else "not bundled"
        click.echo(f"  text {ref['id']} ({key}): {ref['title']}, {ref['version']} - {ref['url']} ({bundled})")
    click.echo(f"  aliases: {', '.join(data['aliases'])}")


def _echo_clause(clause: dict, data: dict) -> None:
    click.echo(f"      {clause['text']}")
    if clause.get("quote"):
        texts = data.get("texts", {})
        ref = texts.get(clause.get("document") or next(iter(texts), ""), {})
        click.echo(f"      quoted: \"{clause['quote']}\"" + (f" ({ref['title']}, {ref['version']})" if ref else ""))


@main.command()
@click.argument("text")
@click.option("--limit", default=25, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def search(text: str, limit: int, as_json: bool) -> None:
    """Find licenses whose id, name or aliases contain TEXT."""
    reg = get_registry()
    hits = reg.search(text, limit=limit)
    rows = [{"id": h, "category": reg.category(h), "ml_entry": reg.entry(h) is not None,
             "name": reg.entry(h).name if reg.entry(h) else None} for h in hits]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo(f"no license matches {text!r}")
        sys.exit(1)
    for r in rows:
        mark = "*" if r["ml_entry"] else " "
        click.echo(f"{mark} {r['id']:<50} {r['category'] or '-':<18} {r['name'] or ''}")


@main.command()
@click.argument("expression")
@click.option("--policy", help=f"Also check a policy (comma-separated): {', '.join(POLICIES)}.")
@click.option("--json", "as_json", is_flag=True)
def check(expression: str, policy: str | None, as_json: bool) -> None:
    """Parse, validate and normalize an SPDX expression (or alias). Exit 1 if invalid or unknown."""
    reg = get_registry()
    res = resolve(expression)
    data = res.to_dict()
    data["licenses"] = [{"id": i, "category": reg.category(i), "ml_entry": reg.entry(i) is not None} for i in res.ids]
    if policy:
        try:
            d = classify_policy(res, policy)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--policy") from None
        data["policy"] = {"policy": d.policy, "allowed": d.allowed, "reason": d.reason, "chosen": d.chosen}
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(f"input:      {expression}")
        click.echo(f"normalized: {res.expression or '-'}")
        click.echo(f"valid:      {'yes' if res.known else 'no'}" + (f" ({res.error})" if res.error else ""))
        click.echo(f"category:   {res.category or '-'}")
        for lic in data["licenses"]:
            click.echo(f"  {lic['id']}: {lic['category'] or 'unknown'}{' (ML entry)' if lic['ml_entry'] else ''}")
        if res.unknown:
            click.echo(f"unknown:    {', '.join(res.unknown)}")
        if len(res.choices) > 1:
            click.echo("choices:    " + " | ".join(" AND ".join(str(t) for t in c) for c in res.choices))
        if policy:
            p = data["policy"]
            click.echo(f"policy {p['policy']}: {'allowed' if p['allowed'] else 'rejected'} - {p['reason']}")
    if not res.known:
        sys.exit(1)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--engine", type=click.Choice(["auto", "builtin", "scancode"]), default="auto", show_default=True,
              help="builtin: the rules alone; scancode: fail without scancode-toolkit-mini.")
@click.option("--min-confidence", type=float, default=0.8, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file (JSON Lines).")
def detect(files: tuple[Path, ...], engine: str, min_confidence: float, as_json: bool) -> None:
    """The licenses each file states (notices, SPDX tags, headers, full texts, license links; a Debian copyright
    file's declarations): every one as an SPDX expression, and the one it states first. Exit 1 if a file states
    none."""
    from .detect import detect_license_expression

    if engine == "scancode":
        from .scancode_match import available

        if not available():
            raise click.UsageError("--engine scancode needs scancode-toolkit-mini (pip install -e '.[licenses]')")
    missing = 0
    for path in files:
        found = detect_license_expression(path.read_text(encoding="utf-8", errors="replace"), engine=engine,
                                          min_confidence=min_confidence)
        missing += found is None
        if as_json:
            click.echo(json.dumps({"file": str(path), "expression": found and found.expression,
                                   "confidence": found and found.confidence, "primary": found and found.primary,
                                   "primary_confidence": found and found.primary_confidence}))
        elif found is None:
            click.echo(f"{path}: no license stated")
        else:
            primary = f" (first stated: {found.primary})" if found.primary != found.expression else ""
            click.echo(f"{path}: {found.expression}{primary}  confidence {found.confidence:.2f}")
    if missing:
        sys.exit(1)


@main.command("audit")
@click.argument("target", type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write the report here instead of stdout.")
@click.option("--use", type=click.Choice(ALLOWED_USES), help="commercial | research | internal")
@click.option("--distribution", type=click.Choice(ALLOWED_DISTRIBUTIONS))
@click.option("--model-name")
@click.option("--model-license", help="License the model ships under (default: the base model's).")
@click.option("--base-model", help="Base model name or license id (e.g. meta-llama/Llama-3.2-1B, llama3.2).")
@click.option("--base-model-license")
@click.option("--modality", help="Base model modality (text, multimodal, ...).")
@click.option("--mau", "--monthly-active-users", "mau", type=int)
@click.option("--region", help="Organization region: ISO country code or EU.")
@click.option("--application", help="What the model is used for (matched against use restrictions).")
@click.option("--model-supplier", help="Who releases the model (SPDX suppliedBy), e.g. your organization.")
@click.option("--model-download-location", help="Where the weights are published (SPDX downloadLocation).")
@click.option("--model-card", type=click.Path(path_type=Path), help="Also write a model-card README section here.")
@click.option("--spdx", type=click.Path(path_type=Path), help="Also write an SPDX 3.0 JSON-LD AI BOM here.")
@click.option("--attribution", type=click.Path(path_type=Path),
              help="Also write every upstream creator to credit (ATTRIBUTION file) here.")
@click.option("--fail-on", type=click.Choice(["block", "review", "never"]), default="never", show_default=True,
              help="Exit 2 when the verdict is at least this bad (for CI).")
def audit_cmd(target: Path, fmt: str, output: Path | None, use, distribution, model_name, model_license,
              base_model, base_model_license, modality, mau, region, application, model_supplier,
              model_download_location, model_card, spdx, attribution, fail_on) -> None:
    """Audit REQUEST.yaml, or a curate RUN_DIR (its manifest.json supplies the data) plus flags."""
    flags = {"use": use, "distribution": distribution, "model_name": model_name, "model_license": model_license,
             "monthly_active_users": mau, "organization_region": region, "application": application,
             "model_supplier": model_supplier, "model_download_location": model_download_location}
    flags = {k: v for k, v in flags.items() if v is not None}
    try:
        if target.is_dir():
            data: dict = {"run_dir": str(target), **flags}
            data.setdefault("use", None)
            if data["use"] is None:
                raise click.UsageError("auditing a run folder needs --use (commercial | research | internal)")
        else:
            data = load_request(target).model_dump(exclude_none=True) | flags
        if base_model or base_model_license or modality:
            bm = dict(data.get("base_model") or {})
            if base_model:
                bm = {"name": base_model}
            if base_model_license:
                bm["license"] = base_model_license
            if modality:
                bm["modality"] = modality
            if "name" not in bm:
                raise click.UsageError("--base-model-license/--modality need --base-model (or base_model in the file)")
            data["base_model"] = bm
        req = parse_request(data, str(target))
        report = audit(req)
    except (RequestError, RunFolderError) as exc:
        raise click.ClickException(str(exc)) from None
    text = render(report, fmt)
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"verdict: {report.verdict} (report written to {output})")
    else:
        click.echo(text, nl=False)
    if model_card or attribution:
        card = model_card_section(report, request=_with_run_data(req))
        if model_card:
            model_card.write_text(card.render(), encoding="utf-8")
        if attribution:
            attribution.write_text(card.attribution_file(), encoding="utf-8")
    if spdx:
        spdx.write_text(spdx_json(req, report), encoding="utf-8")  # reads the run folder's sources itself
    severity = {"allowed": 0, "obligations": 1, "review": 2, "blocked": 3}[report.verdict]
    if (fail_on == "block" and severity >= 3) or (fail_on == "review" and severity >= 2):
        sys.exit(2)


@main.command("verify-clauses")
@click.option("--texts", "texts_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder with copies of the texts that are not bundled, named <text id>.* (see `show`).")
@click.option("--json", "as_json", is_flag=True)
def verify_clauses(texts_dir: Path | None, as_json: bool) -> None:
    """Check every cited clause: its quote must stand inside its section of the reference text. Exit 1 on a failure.

    Bundled texts are always checked; the others where --texts holds a copy."""
    from .clauses import check_entries

    checks = check_entries(get_registry().ml_entries, texts_dir)
    if as_json:
        click.echo(json.dumps([c.__dict__ | {"problems": list(c.problems)} for c in checks], indent=2))
    else:
        counts: dict[str, int] = {}
        for c in checks:
            counts[c.status] = counts.get(c.status, 0) + 1
            if c.status == "failed":
                click.echo(f"FAILED {c.license_id} {c.term} [{c.section}] in {c.text_id}: {'; '.join(c.problems)}")
        unchecked = sorted({c.text_id for c in checks if c.status == "not checked"})
        click.echo(", ".join(f"{n} {s}" for s, n in sorted(counts.items())) + f" (of {len(checks)} citations)")
        if unchecked:
            click.echo("texts not at hand: " + ", ".join(unchecked))
    if any(c.status == "failed" for c in checks):
        sys.exit(1)


def _with_run_data(req):
    """The request with the run folder's data sources inlined (for the model card and attribution)."""
    if not req.run_dir:
        return req
    from .audit.run_folder import data_sources_from_run

    return req.model_copy(update={"data": [*req.data, *data_sources_from_run(req.run_dir)], "run_dir": None})


if __name__ == "__main__":
    main()
