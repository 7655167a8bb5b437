"""Token (or bytes / documents) share per license, for the human report formats."""

from __future__ import annotations

from ..expression import ResolvedLicense
from .report import LicenseShare
from .request import DataSource


def license_shares(data: list[DataSource], resolved: dict[str, ResolvedLicense]) -> tuple[list[LicenseShare], str]:
    if not data:
        return [], "none"
    # Tokens when every source has them; otherwise the best-covered measure (bytes, then documents).
    basis = "none"
    for measure in ("tokens", "bytes", "documents"):
        if all(getattr(d, measure) is not None for d in data):
            basis = measure
            break
    else:
        coverage = {m: sum(getattr(d, m) is not None for d in data) for m in ("tokens", "bytes", "documents")}
        best = max(coverage, key=lambda m: coverage[m])
        basis = best if coverage[best] else "none"
    groups: dict[str, LicenseShare] = {}
    for d in data:
        res = resolved.get(d.name)
        key = (res.expression if res and res.expression else None) or d.license or "NOASSERTION"
        g = groups.setdefault(key, LicenseShare(license=key, sources=[]))
        g.sources.append(d.name)
        for measure in ("tokens", "bytes", "documents"):
            value = getattr(d, measure)
            if value is not None:
                setattr(g, measure, (getattr(g, measure) or 0) + value)
    if basis != "none":
        total = sum(getattr(g, basis) or 0 for g in groups.values())
        for g in groups.values():
            value = getattr(g, basis)
            g.share = (value / total) if (total and value is not None) else None
    return sorted(groups.values(), key=lambda g: -(g.share or 0)), basis
