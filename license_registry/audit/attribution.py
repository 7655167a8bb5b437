"""Whom to credit: per license that requires attribution, the data sources and the upstream creators behind them.

CC BY asks to retain "identification of the creator(s) of the Licensed Material" (3(a)(1)(A)(i)); a license id
alone does not name anyone. Each data source may list its `upstream` sources (a run folder fills them from the
records' own `source` field or their URLs), and they are listed here under the license that asks for credit.
"""

from __future__ import annotations

from ..expression import ResolvedLicense
from .report import AttributedSource, Attribution, ObligationItem
from .request import DataSource

CREDIT_TYPES = ("attribution",)


def attributions(obligations: list[ObligationItem], data: list[DataSource],
                 resolved: dict[str, ResolvedLicense]) -> list[Attribution]:
    by_name = {f"data {d.name}": d for d in data}
    out = []
    for ob in obligations:
        if ob.type not in CREDIT_TYPES:
            continue
        sources = []
        for subject in ob.subjects:
            src = by_name.get(subject)
            if src is None:  # a base model or a generator: credited by its own notices
                continue
            upstream = [u for u in src.upstream if not u.license or _same(u.license, ob.license, resolved, src)]
            sources.append(AttributedSource(data_source=src.name, upstream=upstream))
        if sources:
            out.append(Attribution(license=ob.license, clause=ob.clause, clause_quote=ob.clause_quote,
                                   scope=ob.scope, sources=sources))
    return out


def _same(upstream_license: str, license_id: str, resolved: dict[str, ResolvedLicense], src: DataSource) -> bool:
    """An upstream entry is credited under the license it carries; one license per source keeps them all."""
    res = resolved.get(src.name)
    if res is None or len(res.ids) <= 1:
        return True
    return upstream_license == license_id or license_id in upstream_license
