"""Model-card section (Hugging Face YAML metadata + license/attribution text) for `train`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .audit.engine import audit, base_model_license
from .audit.report import AuditReport
from .audit.request import AuditRequest, load_request, parse_request
from .expression import resolve
from .registry import get_registry


@dataclass
class ModelCardSection:
    metadata: dict[str, Any]                 # goes into the README's YAML front matter
    markdown: str                            # the "License and attribution" section body
    notices: list[str] = field(default_factory=list)       # texts for the NOTICE file
    attributions: list[str] = field(default_factory=list)  # phrases to display / credit lines
    report: AuditReport | None = None
    credits: list[str] = field(default_factory=list)       # every upstream source to credit, one line each

    def front_matter(self) -> str:
        return "---\n" + yaml.safe_dump(self.metadata, sort_keys=False, allow_unicode=True) + "---\n"

    def render(self) -> str:
        """Front matter + section: a complete README.md skeleton."""
        return self.front_matter() + "\n" + self.markdown

    def notice_file(self) -> str:
        return "\n\n".join(self.notices) + ("\n" if self.notices else "")

    def attribution_file(self) -> str:
        """ATTRIBUTION: every upstream creator of the training data, per license that asks for credit."""
        return "\n".join(self.credits) + ("\n" if self.credits else "")


def model_card_section(source: AuditRequest | AuditReport | dict | str | Path,
                       request: AuditRequest | None = None) -> ModelCardSection:
    """Build the model-card section from a request (audited here) or an existing report.

    `source` may be an AuditRequest, a request dict, a REQUEST.yaml path, or an AuditReport
    (then pass `request` too if you want `datasets` and names filled from it).
    """
    if isinstance(source, AuditReport):
        report = source
        req = request or AuditRequest.model_validate({k: v for k, v in report.request.items()
                                                      if k in AuditRequest.model_fields})
    else:
        if isinstance(source, (str, Path)):
            req = load_request(source)
        elif isinstance(source, dict):
            req = parse_request(source)
        else:
            req = source
        report = audit(req)
    reg = get_registry()

    meta: dict[str, Any] = {}
    lic_text = req.model_license or base_model_license(req, reg)
    if lic_text:
        res = resolve(lic_text)
        entry = reg.entry(res.ids[0]) if res.is_single else None
        if entry and entry.hf_id:
            meta["license"] = entry.hf_id
        elif res.is_single and res.known and res.ids[0].lower() in _HF_SPDX:
            meta["license"] = res.ids[0].lower()
        else:
            # HF convention for anything not on its list: `other` + name + link.
            meta["license"] = "other"
            meta["license_name"] = (entry.id if entry else res.expression or lic_text).lower()
            if entry and entry.urls:
                meta["license_link"] = entry.urls[0]
    if req.base_model:
        meta["base_model"] = req.base_model.name
    datasets = [d.name for d in req.data]
    if datasets:
        meta["datasets"] = datasets

    model_obls = [o for o in report.obligations if o.scope == "model"]
    notices = list(dict.fromkeys(o.text for o in model_obls if o.type == "notice_file" and o.text))
    attributions = list(dict.fromkeys(o.text for o in model_obls if o.type == "display_attribution" and o.text))
    lines = ["## License and attribution", ""]
    if "license" in meta:
        lines.append(f"This model is released under `{meta.get('license_name', meta['license'])}`.")
    if req.base_model:
        lines.append(f"It is derived from `{req.base_model.name}`.")
    for a in attributions:
        lines += ["", f"**{a}**"]
    if notices:
        lines += ["", "### Notices", ""] + [f"> {n}" for n in notices]
    passthrough = list(dict.fromkeys(o.text for o in model_obls if o.type == "use_restriction_passthrough" and o.text))
    if passthrough:
        lines += ["", "### Use restrictions", "",
                  "Use of this model is subject to the following, which also bind anyone you redistribute it to:"]
        lines += [f"- {p}" for p in passthrough]
    credit_lines, credits = _credits(report)
    if credit_lines:
        lines += ["", "### Training data attribution", "",
                  "Per license that asks for credit, the training data sources and the creators behind them:", ""]
        lines += credit_lines
    return ModelCardSection(metadata=meta, markdown="\n".join(lines) + "\n", notices=notices,
                            attributions=attributions, report=report, credits=credits)


MAX_LISTED = 20  # upstream sources shown per data source in the card; all of them go to the ATTRIBUTION file


def _credits(report: AuditReport) -> tuple[list[str], list[str]]:
    """Card lines (capped per source) and the full ATTRIBUTION lines, from the report's attributions."""
    card, full = [], []
    for att in report.attributions:
        if att.scope != "model":
            continue
        for src in att.sources:
            cited = f"{att.clause_quote} - §{att.clause}" if att.clause_quote else f"§{att.clause}"
            head = f"- {src.data_source}: licensed under {att.license} ({cited})"
            card.append(head)
            full.append(head)
            for i, up in enumerate(src.upstream):
                docs = (f", {up.documents} document{'s' if up.documents != 1 else ''}"
                        if up.documents is not None else "")
                line = f"  - {up.source}{docs}" + (f" - {up.url}" if up.url else "")
                full.append(line)
                if i < MAX_LISTED:
                    card.append(line)
            if len(src.upstream) > MAX_LISTED:
                card.append(f"  - ... and {len(src.upstream) - MAX_LISTED} more (ATTRIBUTION file)")
    return card, full


# SPDX ids that are also valid Hugging Face `license:` values as-is (lower-cased).
_HF_SPDX = {"apache-2.0", "mit", "bsd-2-clause", "bsd-3-clause", "isc", "unlicense", "bsl-1.0", "cc0-1.0",
            "cc-by-4.0", "cc-by-sa-4.0", "cc-by-nc-4.0", "cc-by-nc-sa-4.0", "cc-by-nc-nd-4.0", "cc-by-nd-4.0",
            "gpl-2.0", "gpl-3.0", "lgpl-2.1", "lgpl-3.0", "agpl-3.0", "mpl-2.0", "epl-2.0", "artistic-2.0",
            "wtfpl", "zlib", "afl-3.0", "ecl-2.0", "ms-pl", "cc-by-2.0", "cc-by-2.5", "cc-by-3.0", "cc-by-sa-3.0"}
