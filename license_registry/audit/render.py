"""Render an AuditReport as json | md | html | text."""

from __future__ import annotations

import html
import json

from .report import AuditReport

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


def _html(r: AuditReport) -> str:
    e = html.escape
    rows = "".join(
        f"<tr class='{f.severity}'><td>{e(f.severity)}</td><td>{e(f.subject)}</td><td>{e(f.license or '-')}</td>"
        f"<td>{e(f.clause)}</td><td>{e(f.message)}</td></tr>" for f in r.findings)
    obl = "".join(
        f"<tr><td>{e(o.license)}</td><td>{e(o.type)}</td><td>{e(o.text or '-')}</td><td>{e(o.clause)}</td>"
        f"<td>{e(o.scope)}</td><td>{'yes' if o.satisfied else 'no'}</td></tr>" for o in r.obligations)
    shares = "".join(f"<tr><td>{e(a)}</td><td>{e(b)}</td><td>{e(c)}</td><td>{e(d)}</td></tr>"
                     for a, b, c, d in _share_rows(r))
    credits = "".join(f"<tr><td>{e(a)}</td><td>{e(b)}</td><td>{e(c)}</td><td>{e(d)}</td></tr>"
                      for a, b, c, d in _credit_rows(r))
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>License audit</title><style>"
        "body{font-family:sans-serif}td,th{border:1px solid #ccc;padding:4px}table{border-collapse:collapse}"
        ".block{background:#fdd}.review{background:#ffd}.obligation{background:#eef}</style></head><body>"
        f"<h1>License audit: <span class='verdict'>{e(r.verdict)}</span></h1>"
        "<h2>Findings</h2><table><tr><th>severity</th><th>subject</th><th>license</th><th>clause</th>"
        f"<th>message</th></tr>{rows}</table>"
        "<h2>Obligations</h2><table><tr><th>license</th><th>type</th><th>text</th><th>clause</th><th>scope</th>"
        f"<th>satisfied</th></tr>{obl}</table>"
        "<h2>Attribution</h2><table><tr><th>license</th><th>clause</th><th>data source</th>"
        f"<th>creators (documents)</th></tr>{credits}</table>"
        f"<h2>License share (by {e(r.share_basis)})</h2><table><tr><th>license</th><th>sources</th>"
        f"<th>{e(r.share_basis)}</th><th>share</th></tr>{shares}</table></body></html>\n"
    )
