"""Audit result types (serialized as the JSON answer)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from .request import UpstreamSource

Severity = Literal["block", "review", "obligation", "info"]
Verdict = Literal["allowed", "obligations", "review", "blocked"]
SEVERITY_RANK: dict[str, int] = {"info": 0, "obligation": 1, "review": 2, "block": 3}
VERDICT_FOR: dict[str, Verdict] = {"info": "allowed", "obligation": "obligations", "review": "review", "block": "blocked"}


class Finding(BaseModel):
    severity: Severity
    subject: str             # which data source or model
    license: str | None      # the license id the finding is about
    clause: str              # section number, or where the judgement comes from
    clause_text: str | None = None  # what the clause says, in a sentence
    clause_quote: str | None = None  # the exact phrase of the text the clause is read from
    clause_source: str | None = None  # which text and version ("Llama 3.1 Community License Agreement (...)")
    rule: str                # which rule produced it (non_commercial, share_alike, unknown_license, ...)
    message: str             # what a person should do


class ObligationItem(BaseModel):
    license: str
    type: str
    text: str | None = None
    clause: str
    clause_text: str | None = None
    clause_quote: str | None = None
    clause_source: str | None = None
    subjects: list[str] = Field(default_factory=list)
    scope: Literal["model", "dataset"] = "model"  # what must carry it: the model release or the dataset
    satisfied: bool = False                        # e.g. model name already carries the prefix


class LicenseShare(BaseModel):
    license: str
    sources: list[str]
    tokens: int | None = None
    bytes: int | None = None
    documents: int | None = None
    share: float | None = None  # fraction of the total on `AuditReport.share_basis`


class AttributedSource(BaseModel):
    """A data source of the model and the upstream creators behind it (repositories, sites), to be credited."""

    data_source: str
    upstream: list[UpstreamSource] = Field(default_factory=list)  # empty: the data source itself is the creator


class Attribution(BaseModel):
    """Per license that requires attribution: the clause, and whom to credit."""

    license: str
    clause: str
    clause_quote: str | None = None
    scope: Literal["model", "dataset"] = "model"
    sources: list[AttributedSource] = Field(default_factory=list)


class ChoiceMade(BaseModel):
    subject: str
    expression: str
    chosen: str
    alternatives: list[str]


class AuditReport(BaseModel):
    verdict: Verdict
    findings: list[Finding]
    obligations: list[ObligationItem]
    license_shares: list[LicenseShare]
    share_basis: Literal["tokens", "bytes", "documents", "none"]
    choices: list[ChoiceMade] = Field(default_factory=list)
    attributions: list[Attribution] = Field(default_factory=list)
    request: dict
    summary: dict[str, int] = Field(default_factory=dict)

    def findings_for(self, subject_prefix: str) -> list[Finding]:
        return [f for f in self.findings if f.subject.startswith(subject_prefix)]
