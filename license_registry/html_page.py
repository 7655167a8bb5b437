"""Self-contained HTML pages with inline SVG charts: the audit's `--format html` and curate's `report.html`.

A page has no script and loads nothing: styles are inline, and every chart is a Vega-Lite spec (built with altair)
rendered to SVG in-process by vl-convert, so the page opens offline and can be mailed or archived as one file.
"""

from __future__ import annotations

import html
from typing import Any

import altair as alt
import vl_convert

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK KR",sans-serif;margin:0 auto;
 max-width:1180px;padding:16px 28px;color:#222;background:#fff;line-height:1.4}
h1{font-size:1.6em;margin:.2em 0 .3em} h3{font-size:1em;margin:.8em 0 .2em;color:#444} h2{font-size:1.2em;border-bottom:1px solid #ddd;padding-bottom:4px;
 margin-top:1.6em} .lead{font-size:1.05em}
table{border-collapse:collapse;margin:.5em 0;font-size:.92em} td,th{border:1px solid #ccc;padding:3px 8px;
 text-align:left;vertical-align:top} th{background:#f4f4f4} td.n{text-align:right}
.banner{padding:8px 12px;border-radius:4px;margin:6px 0} .banner.ok,.banner.allowed{background:#e3f4e3}
.banner.warning,.banner.review{background:#fff4d6} .banner.error,.banner.blocked{background:#fde0df}
.banner.obligations{background:#e6eefb} .verdict{font-size:1.4em;font-weight:bold}
.grid{display:flex;flex-wrap:wrap;gap:10px 24px} .row{display:flex;flex-wrap:wrap;gap:24px}
figure.chart{margin:4px 0} figure.chart svg{max-width:100%;height:auto}
details.reason{margin:4px 0} details.reason summary{cursor:pointer} .sample p{margin:6px 0 2px}
pre{white-space:pre-wrap;background:#f7f7f7;border:1px solid #e4e4e4;padding:6px;max-height:12em;overflow:auto;
 font-size:.85em;margin:0}
tr.block td{background:#fde0df} tr.review td{background:#fff4d6} tr.obligation td{background:#eef2fb}
"""


def page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<meta name='viewport' content='width=device-width,initial-scale=1'><style>{STYLE}</style></head>"
            f"<body>{body}</body></html>\n")


def section(title: str, content: str) -> str:
    return f"<section><h2>{html.escape(title)}</h2>{content}</section>"


def table(rows: list[dict[str, Any]], columns: list[str], row_class: str | None = None) -> str:
    """A plain table; numbers are right-aligned with thousands separators, everything is escaped."""
    if not rows:
        return "<p><i>none</i></p>"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for r in rows:
        cls = f" class='{html.escape(str(r.get(row_class)))}'" if row_class else ""
        cells = "".join(f"<td class='n'>{v:,}</td>" if isinstance(v := r.get(c), int) and not isinstance(v, bool)
                        else f"<td>{html.escape('' if v is None else str(v))}</td>" for c in columns)
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def svg(chart: alt.TopLevelMixin) -> str:
    """The chart as an inline SVG figure (vl-convert runs Vega in-process: no browser, no network)."""
    spec = chart.configure_view(stroke=None).configure_axis(labelLimit=320).to_dict()
    return f"<figure class='chart'>{vl_convert.vegalite_to_svg(spec)}</figure>"


def bar_chart(rows: list[dict[str, Any]], category: str, value: str, title: str, color: str = "#4c78a8",
              colors: dict[str, str] | None = None, color_field: str = "status", width: int = 320) -> str:
    """Horizontal bars, largest first, with the values written at their ends; `colors` maps the values of
    `color_field` to colours (bars of one category are stacked by it)."""
    y = alt.Y(f"{category}:N", sort="-x", title=None)
    base = alt.Chart(alt.Data(values=rows))
    height = 22 * len({r[category] for r in rows})
    if colors:
        bars = base.mark_bar().encode(y=y, x=alt.X(f"sum({value}):Q", title=title), color=alt.Color(
            f"{color_field}:N", scale=alt.Scale(domain=list(colors), range=list(colors.values())), title=None))
        return svg(bars.properties(width=width, height=height))
    bars = base.mark_bar(color=color).encode(y=y, x=alt.X(f"{value}:Q", title=title))
    text = base.mark_text(align="left", dx=3).encode(y=y, x=f"{value}:Q",
                                                      text=alt.Text(f"{value}:Q", format=",.6~g"))
    return svg((bars + text).properties(width=width, height=height))
