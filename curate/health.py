"""Is a finished run plausible? Checks a scheduler can act on, computed from the report's counts.

A run can end without an error and still be useless: a wrong `text_field` leaves every document `invalid:`, a
language threshold meant for another model removes a whole source. These checks warn about such runs (the warning
names the reason and one removed document's id, so that a person can look at it), and `curate run
--fail-if-kept-below FRACTION` turns "too little kept" into a failed run (exit code `EXIT_UNHEALTHY`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

EXIT_FAILED = 1  # the run did not finish (a task failed, the accounting check failed, a bad config)
EXIT_UNHEALTHY = 3  # the run finished but a check made an error by the user failed (--fail-if-kept-below)

MOST_REMOVED = 0.95  # warn when more than this share of the input is removed
DOMINANT_REASON = 0.5  # warn when one reason removes more than this share of one source's documents
MIN_SOURCE_DOCUMENTS = 10  # ... of a source with at least this many documents (1 of 1 says nothing)


@dataclass
class Finding:
    check: str  # kept_nothing | removed_most | reason_dominates_source | kept_below | no_input
    message: str
    reason: str | None = None
    source: str | None = None
    sample_id: str | None = None
    share: float | None = None


@dataclass
class Health:
    kept_fraction: float
    warnings: list[Finding] = field(default_factory=list)
    errors: list[Finding] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.errors)

    def to_dict(self) -> dict[str, Any]:
        return {"kept_fraction": self.kept_fraction, "failed": self.failed,
                "warnings": [asdict(w) for w in self.warnings], "errors": [asdict(e) for e in self.errors]}


def assess(report: dict[str, Any], fail_if_kept_below: float | None = None) -> Health:
    """The checks, on a report from `curate.report.build_report` (counts by reason and by reason x source)."""
    n_in, kept = report["documents_in"], report["documents_kept"]
    health = Health(kept_fraction=round(kept / n_in, 6) if n_in else 0.0)
    by_reason = sorted(report["removed_by_reason"], key=lambda r: -r["documents"])
    top = by_reason[0] if by_reason else None
    top_sample = _sample(report, top["reason"]) if top else None
    because = (f"; the main reason is {top['reason']} ({top['documents']:,} documents, e.g. id {top_sample!r})"
               if top else "")
    if n_in == 0:
        health.warnings.append(Finding("no_input", "the run read no documents: are the input paths right?"))
    elif kept == 0:
        health.warnings.append(Finding("kept_nothing", f"the run kept nothing of {n_in:,} documents{because}",
                                       reason=top and top["reason"], sample_id=top_sample, share=1.0))
    elif (n_in - kept) / n_in > MOST_REMOVED:
        health.warnings.append(Finding(
            "removed_most", f"the run removed {100 * (n_in - kept) / n_in:.1f}% of its {n_in:,} documents{because}",
            reason=top and top["reason"], sample_id=top_sample, share=round((n_in - kept) / n_in, 6)))
    sources_in = {s["source"]: s["documents_in"] for s in report.get("sources_in", [])}
    for row in report.get("removed_by_reason_source", []):
        total = sources_in.get(row["source"], 0)
        if total >= MIN_SOURCE_DOCUMENTS and row["documents"] / total > DOMINANT_REASON:
            health.warnings.append(Finding(
                "reason_dominates_source",
                f"{row['reason']} removed {row['documents']:,} of the {total:,} documents of source "
                f"{row['source']!r} ({100 * row['documents'] / total:.0f}%), e.g. id {row['sample_id']!r}",
                reason=row["reason"], source=row["source"], sample_id=row["sample_id"],
                share=round(row["documents"] / total, 6)))
    if fail_if_kept_below is not None and n_in and health.kept_fraction < fail_if_kept_below:
        health.errors.append(Finding(
            "kept_below", f"the run kept {100 * health.kept_fraction:.1f}% of its documents, below the "
            f"{100 * fail_if_kept_below:.1f}% required by --fail-if-kept-below{because}",
            reason=top and top["reason"], sample_id=top_sample, share=health.kept_fraction))
    return health


def _sample(report: dict[str, Any], reason: str) -> str | None:
    return next((r["sample_id"] for r in report.get("removed_by_reason_source", []) if r["reason"] == reason), None)
