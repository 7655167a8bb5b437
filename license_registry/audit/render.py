"""Render an AuditReport as json | md | html | text."""

from __future__ import annotations

import html
import json

from .report import SEVERITY_RANK, AuditReport

FORMATS = ("json", "md", "html", "text")
_ICON = {"block": "BLOCK", "review": "REVIEW", "obligation": "OBLIGATION", "info": "info"}


def render(report: AuditReport, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
    if fmt == "md":
        return _markdown(report)
    if fmt == "html":
        return _html(report)
    if fmt == "text":
        return _text(report)
    raise ValueError(f"unknown format {fmt!r}; allowed: {', '.join(FORMATS)}")


def _pct(share: float | None) -> str:
    return "n/a" if share is None else f"{share * 100:.1f}%"


def _share_rows(report: AuditReport) -> list[tuple[str, str, str, str]]:
    basis = report.share_basis
    return [(s.license, ", ".join(s.sources), str(getattr(s, basis)) if basis != "none" and getattr(s, basis)
             is not None else "-", _pct(s.share)) for s in report.license_shares]


def _credit_rows(r: AuditReport, limit: int = 20) -> list[tuple[str, str, str, str]]:
    """(license, clause, data source, creators) per attributed source; long creator lists are cut at `limit`."""
    rows = []
    for att in r.attributions:
        for src in att.sources:
            names = [f"{u.source} ({u.documents})" if u.documents is not None else u.source for u in src.upstream]
            more = f", ... {len(names) - limit} more" if len(names) > limit else ""
            rows.append((att.license, f"{att.clause} ({att.scope})", src.data_source,
                         ", ".join(names[:limit]) + more if names else "(the source itself)"))
    return rows


def _text(r: AuditReport) -> str:
    out = [f"VERDICT: {r.verdict.upper()}", ""]
    out.append(f"Findings ({len(r.findings)}):")
    for f in r.findings:
        out.append(f"  [{_ICON[f.severity]}] {f.subject} | {f.license or '-'} | clause {f.clause}")
        out.append(f"      {f.message}")
        if f.clause_quote:
            out.append(f"      quoted: \"{f.clause_quote}\"" + (f" - {f.clause_source}" if f.clause_source else ""))
    out += ["", f"Obligations ({len(r.obligations)}):"]
    for o in r.obligations:
        done = " (satisfied)" if o.satisfied else ""
        text = f": {o.text}" if o.text else ""
        out.append(f"  - {o.type}{text} [{o.license} {o.clause}] ({o.scope}){done}")
    if r.attributions:
        out += ["", "Attribution (whom to credit):"]
        out += [f"  {lic} [{clause}] {src}: {who}" for lic, clause, src, who in _credit_rows(r)]
    out += ["", f"License share (by {r.share_basis}):"]
    for lic, srcs, amount, pct in _share_rows(r):
        out.append(f"  {pct:>7}  {lic}  ({srcs}; {r.share_basis}={amount})")
    for c in r.choices:
        out.append(f"\nChoice for {c.subject}: {c.expression} -> {c.chosen}")
    return "\n".join(out) + "\n"


def _md_cell(s: object) -> str:
    return str(s if s is not None else "-").replace("|", "\\|").replace("\n", " ")


def _markdown(r: AuditReport) -> str:
    out = [f"# License audit: **{r.verdict}**", ""]
    out += ["## Findings", "", "| severity | subject | license | clause | message |", "| --- | --- | --- | --- | --- |"]
    out += [f"| {f.severity} | {_md_cell(f.subject)} | {_md_cell(f.license)} | {_md_cell(f.clause)} | "
            f"{_md_cell(f.message)} |" for f in r.findings]
    out += ["", "## Obligations", "", "| license | type | text | clause | scope | satisfied |",
            "| --- | --- | --- | --- | --- | --- |"]
    out += [f"| {_md_cell(o.license)} | {o.type} | {_md_cell(o.text)} | {_md_cell(o.clause)} | {o.scope} | "
            f"{'yes' if o.satisfied else 'no'} |" for o in r.obligations]
    if r.attributions:
        out += ["", "## Attribution", "", "| license | clause | data source | creators (documents) |",
                "| --- | --- | --- | --- |"]
        out += [f"| {_md_cell(a)} | {_md_cell(b)} | {_md_cell(c)} | {_md_cell(d)} |" for a, b, c, d in _credit_rows(r)]
    out += ["", f"## License share (by {r.share_basis})", "", f"| license | sources | {r.share_basis} | share |",
            "| --- | --- | --- | --- |"]
    out += [f"| {_md_cell(a)} | {_md_cell(b)} | {c} | {d} |" for a, b, c, d in _share_rows(r)]
    if r.choices:
        out += ["", "## Expression choices", ""]
        out += [f"- {_md_cell(c.subject)}: `{c.expression}` -> `{c.chosen}`" for c in r.choices]
    return "\n".join(out) + "\n"


_VERDICT_TEXT = {"allowed": "nothing stands in the way", "obligations": "allowed, with obligations to meet",
                 "review": "a person must review the findings below", "blocked": "the plan breaks a term (see the blocks)"}
_SEVERITY_COLORS = {"block": "#e45756", "review": "#f2a93b", "obligation": "#4c78a8", "info": "#9d9d9d"}


def _html(r: AuditReport) -> str:
    """One self-contained page: verdict banner, findings by severity (chart and table), obligations, attribution,
    license shares (chart and table). Charts are inline SVG (see license_registry.html_page)."""
    from ..html_page import bar_chart, page, section, table

    e = html.escape
    counts = [{"severity": sev, "findings": n} for sev in _SEVERITY_COLORS
              if (n := sum(1 for f in r.findings if f.severity == sev))]
    body = [f"<h1>License audit</h1><div class='banner {e(r.verdict)}'><span class='verdict'>{e(r.verdict.upper())}"
            f"</span> &mdash; {e(_VERDICT_TEXT[r.verdict])}. {len(r.findings)} findings, "
            f"{len(r.obligations)} obligations.</div>"]
    if counts:
        chart = bar_chart(counts, "severity", "findings", "findings",
                          colors={c["severity"]: _SEVERITY_COLORS[c["severity"]] for c in counts},
                          color_field="severity")
        findings = sorted(r.findings, key=lambda f: -SEVERITY_RANK[f.severity])
        body.append(section("Findings by severity", chart + table(
            [f.model_dump() | {"license": f.license or "-"} for f in findings],
            ["severity", "subject", "license", "clause", "message"], row_class="severity")))
    body.append(section("Obligations", table(
        [o.model_dump() | {"text": o.text or "-", "satisfied": "yes" if o.satisfied else "no"} for o in r.obligations],
        ["license", "type", "text", "clause", "scope", "satisfied"])))
    credits = [dict(zip(("license", "clause", "data source", "creators (documents)"), row)) for row in _credit_rows(r)]
    if credits:
        body.append(section("Attribution (whom to credit)", table(credits, list(credits[0]))))
    shares = [dict(zip(("license", "sources", r.share_basis, "share"), row)) for row in _share_rows(r)]
    chart = ""
    if r.share_basis != "none" and any(s.share for s in r.license_shares):
        chart = bar_chart([{"license": s.license, "share": round(100 * (s.share or 0), 2)} for s in r.license_shares],
                          "license", "share", f"% of the training data ({r.share_basis})")
    body.append(section(f"License share (by {r.share_basis})", chart + table(shares, ["license", "sources",
                                                                                    r.share_basis, "share"])))
    if r.choices:
        body.append(section("Expression choices", table([c.model_dump() for c in r.choices],
                                                        ["subject", "expression", "chosen"])))
    return page(f"License audit: {r.verdict}", "".join(body))
