"""`curate report RUN --html`: RUN/report.html, one self-contained page (no script, no network: every chart is a
Vega-Lite spec built with altair and rendered to inline SVG by vl-convert, offline).

What a data engineer reads instead of the tables: the funnel of documents and bytes through the steps, removals by
reason x source and reason x language, the distribution of every stored score with the config's thresholds on it,
dedup cluster sizes, licenses by documents and tokens (bytes without a tokenizer), the license names documents
state that no one here knows, PII found per entity, and a few removed documents per reason with the values that
removed them. It reads only report.json's content (built from the run's shards, whose text the PII step already
scrubbed) and the manifest: never the input files.
"""

from __future__ import annotations

import html
import math
from typing import Any

import altair as alt

from license_registry.html_page import bar_chart, page, section, svg, table

KEPT, REMOVED = "#4c78a8", "#e45756"
WIDTH = 640


def _data(rows: list[dict[str, Any]]) -> alt.Data:
    return alt.Data(values=rows)


def funnel_chart(rep: dict[str, Any]) -> str:
    """Documents and MB left after each step, in pipeline order."""
    left_bytes = rep["bytes_in"]
    rows = [{"step": "read", "documents": rep["documents_in"], "MB": round(left_bytes / 1e6, 4), "removed": 0}]
    for s in rep["steps"]:
        left_bytes -= s["bytes_removed"]
        rows.append({"step": "valid records" if s["step"] == "input" else s["step"], "documents": s["documents_out"], "MB": round(max(left_bytes, 0) / 1e6, 4),
                     "removed": s["removed"]})
    order = [r["step"] for r in rows]
    base = alt.Chart(_data(rows)).encode(y=alt.Y("step:N", sort=order, title=None))
    docs = base.mark_bar(color=KEPT).encode(x=alt.X("documents:Q", title="documents left after the step"))
    docs_text = base.mark_text(align="left", dx=3).encode(x="documents:Q", text="documents:Q")
    mb = base.mark_bar(color="#72b7b2").encode(x=alt.X("MB:Q", title="MB left after the step"))
    mb_text = base.mark_text(align="left", dx=3).encode(x="MB:Q", text=alt.Text("MB:Q", format=",.2f"))
    height = 22 * len(rows)
    return svg(alt.hconcat((docs + docs_text).properties(width=WIDTH // 2, height=height),
                           (mb + mb_text).properties(width=WIDTH // 3, height=height)))


def heatmap(rows: list[dict[str, Any]], key: str, title: str) -> str:
    """Removed documents per reason (rows) and `key` (columns), with the counts written in the cells."""
    data = [{"reason": r["reason"], key: r[key] if r[key] is not None else "(none)", "documents": r["documents"]}
            for r in rows]
    reasons = sorted({d["reason"] for d in data})
    columns = sorted({d[key] for d in data})
    base = alt.Chart(_data(data)).encode(
        x=alt.X(f"{key}:N", title=title, axis=alt.Axis(orient="top", labelAngle=0), sort=columns),
        y=alt.Y("reason:N", title=None, sort=reasons))
    cells = base.mark_rect().encode(color=alt.Color("documents:Q", scale=alt.Scale(scheme="orangered"),
                                                    title="documents"))
    text = base.mark_text(fontSize=11).encode(
        text="documents:Q",
        color=alt.condition(alt.datum.documents > max(d["documents"] for d in data) / 2, alt.value("white"),
                            alt.value("black")))
    return svg((cells + text).properties(width=min(WIDTH, 70 * len(columns)), height=20 * len(reasons)))


def score_chart(dist: dict[str, Any]) -> str:
    """Histogram of one stored score, kept and removed documents stacked, a rule per configured threshold."""
    rows = [{"start": b["start"], "end": b["end"], "status": status, "documents": b.get(status, 0)}
            for b in dist["bins"] for status in ("kept", "removed") if b.get(status)]
    ends = [b["start"] for b in dist["bins"]] + [b["end"] for b in dist["bins"]] + [t["value"] for t in
                                                                                    dist["thresholds"]]
    domain = [min(ends), max(ends)]
    place = (lambda v: math.log10(v) if v > 0 else 0) if dist["log_scale"] else (lambda v: v)
    span = (place(domain[1]) - place(domain[0])) or 1
    limits = [t | {"label": f"{t['parameter']} = {t['value']:g}", "y": 8 + 12 * i,
                   "right": (place(t["value"]) - place(domain[0])) / span > 0.6}
              for i, t in enumerate(dist["thresholds"])]
    scale = alt.Scale(type="log", domain=domain) if dist["log_scale"] else alt.Scale(domain=domain, nice=False)
    title = dist["column"] + (" (characters, log scale)" if dist["log_scale"] else "")
    bars = alt.Chart(_data(rows)).mark_bar(opacity=0.85).encode(
        x=alt.X("start:Q", bin="binned", scale=scale, title=title), x2="end:Q",
        y=alt.Y("documents:Q", stack=True, title="documents"),
        color=alt.Color("status:N", scale=alt.Scale(domain=["kept", "removed"], range=[KEPT, REMOVED]),
                        title=None, legend=alt.Legend(orient="top")))
    layers = [bars]
    if limits:  # one dashed rule per threshold, labels stacked so that close thresholds stay readable
        rule = alt.Chart(_data(limits)).encode(x=alt.X("value:Q", scale=scale))
        layers.append(rule.mark_rule(color="black", strokeDash=[4, 3], size=2))
        for align, dx in (("left", 4), ("right", -4)):  # labels of rules near the right edge go to their left
            side = alt.Chart(_data([t for t in limits if t["right"] == (align == "right")]))
            layers.append(side.mark_text(align=align, dx=dx, baseline="middle", fontSize=10).encode(
                x=alt.X("value:Q", scale=scale), text="label:N", y=alt.Y("y:Q", scale=None)))
    return svg(alt.layer(*layers).properties(width=WIDTH // 2 + 60, height=160, title=dist["column"]))


def cluster_chart(name: str, sizes: dict[str, int]) -> str:
    rows = [{"cluster size": k, "clusters": v} for k, v in sizes.items()]
    base = alt.Chart(_data(rows)).encode(x=alt.X("cluster size:N", sort=list(sizes), axis=alt.Axis(labelAngle=0)))
    return svg((base.mark_bar(color=KEPT).encode(y=alt.Y("clusters:Q")) +
                base.mark_text(dy=-6).encode(y="clusters:Q", text="clusters:Q"))
               .properties(width=WIDTH // 2, height=140, title=f"{name}: clusters by size"))


def license_rows(rep: dict[str, Any], manifest: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """(rows, measure): documents and tokens per license, or bytes when the run counted no tokens."""
    licenses = manifest.get("licenses", {})
    measure = "tokens" if any("tokens" in v for v in licenses.values()) else "bytes"
    rows = []
    for name, v in licenses.items():
        rows.append({"license": name, "measure": "documents", "amount": v.get("documents", 0)})
        rows.append({"license": name, "measure": measure, "amount": v.get(measure, 0)})
    return rows, measure


def licenses_chart(rows: list[dict[str, Any]], measure: str) -> str:
    charts = [bar_chart([r for r in rows if r["measure"] == m], "license", "amount", m) for m in ("documents", measure)]
    return "<div class='row'>" + "".join(charts) + "</div>"


def samples_html(samples: list[dict[str, Any]]) -> str:
    e = html.escape
    out, current = [], None
    for s in samples:
        if s["removed_reason"] != current:
            if current is not None:
                out.append("</div></details>")
            current = s["removed_reason"]
            out.append(f"<details class='reason'><summary><code>{e(current)}</code></summary><div>")
        values = ", ".join(f"<code>{e(k)}</code> = {e(_fmt(v))}" for k, v in s["values"].items())
        out.append(f"<div class='sample'><p><b>{e(str(s['id']))}</b> ({e(str(s['source']))})"
                   f"{' &middot; ' + values if values else ''}</p><pre>{e(s['text'] or '')}</pre></div>")
    if current is not None:
        out.append("</div></details>")
    return "".join(out) or "<p>No removed documents were written (output.keep_removed is off, or none removed).</p>"


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def health_html(health: dict[str, Any]) -> str:
    items = [("error", f) for f in health.get("errors", [])] + [("warning", f) for f in health.get("warnings", [])]
    if not items:
        return (f"<div class='banner ok'>Kept {100 * health['kept_fraction']:.1f}% of the input; no health "
                "warnings.</div>")
    return "".join(f"<div class='banner {kind}'><b>{kind}:</b> {html.escape(f['message'])}</div>" for kind, f in items)


def render_html(rep: dict[str, Any], manifest: dict[str, Any]) -> str:
    pct = 100 * rep["documents_kept"] / max(rep["documents_in"], 1)
    body = [f"<h1>Curation report: {html.escape(str(rep['pipeline']))}</h1>",
            f"<p class='lead'>{rep['documents_in']:,} documents in ({rep['bytes_in'] / 1e6:,.2f} MB), "
            f"<b>{rep['documents_kept']:,} kept</b> ({pct:.1f}%, {rep['bytes_kept'] / 1e6:,.2f} MB), "
            f"{rep['documents_removed']:,} removed. Run folder <code>{html.escape(rep['run_dir'])}</code>.</p>",
            health_html(rep["health"]),
            section("Funnel: documents and bytes through the steps", funnel_chart(rep))]
    if rep["removed_by_reason_source"]:
        body.append(section("Removed, by reason and source",
                            heatmap(rep["removed_by_reason_source"], "source", "source")))
        body.append(section("Removed, by reason and language",
                            heatmap(rep["removed_by_reason_language"], "lang", "language")))
    if rep["score_distributions"]:
        groups: dict[str, list[str]] = {}  # one group per step (a filter may store a dozen measures)
        for d in rep["score_distributions"]:
            groups.setdefault(", ".join(d["steps"]) or "every document", []).append(score_chart(d))
        charts = "".join(f"<h3>{html.escape(name)}</h3><div class='grid'>{''.join(c)}</div>"
                         for name, c in groups.items())
        body.append(section("Stored scores (kept and removed documents; dashed: the config's thresholds)", charts))
    dedup = [(k, v["data"]) for k, v in rep.items() if isinstance(v, dict) and "size_distribution" in
             (v.get("data") or {})]
    if dedup:
        body.append(section("Duplicate clusters", "<div class='grid'>" + "".join(
            cluster_chart(k, d["size_distribution"]) for k, d in dedup) + "</div>"))
    rows, measure = license_rows(rep, manifest)
    if rows:
        body.append(section(f"Kept, by license (documents and {measure})", licenses_chart(rows, measure)))
    if rep.get("licenses_stated_unknown"):
        body.append(section("Kept documents stating a license no one here knows (the license they were given instead)",
                            table(rep["licenses_stated_unknown"], ["stated", "documents", "licenses_given"])))
    if rep["pii_by_entity"]:
        body.append(section("PII found, by entity (replaced by placeholders)",
                            bar_chart(rep["pii_by_entity"], "entity", "found", "found",
                                      colors={"kept": KEPT, "removed": REMOVED})))
    body.append(section("Sources", table(rep["sources_in"], ["source", "documents_in", "documents_kept",
                                                             "documents_removed"])))
    body.append(section("Samples of removed documents, per reason (PII already scrubbed)",
                        samples_html(rep["removed_samples"])))
    return page(f"Curation report: {rep['pipeline']}", "".join(body))
