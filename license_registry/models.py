"""Typed schema for the project's ML license entries (license_registry/entries/*.yaml).

The YAML files are data; this module is the contract they are validated against at load time,
so a typo in an entry fails loudly instead of silently weakening an audit.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Kind = Literal["software", "data", "model", "terms-of-service"]
# Whether a term follows the licensed thing into something built from it.
Reach = Literal["yes", "no", "uncertain"]
Distribution = Literal["none", "api", "weights"]

ObligationType = Literal[
    "attribution",                  # credit the author / keep copyright notices
    "license_copy",                 # ship the license text (or its URI)
    "notice_file",                  # ship a NOTICE file with given text
    "state_changes",                # mark modified files
    "share_alike",                  # derived work under the same (or compatible) license
    "name_prefix",                  # derived model name must start with a given prefix
    "display_attribution",          # display a phrase such as "Built with Llama"
    "use_restriction_passthrough",  # pass the use restrictions on to downstream users
]

RestrictionType = Literal[
    "non_commercial",
    "no_derivatives",
    "user_cap",                 # e.g. Llama: 700M monthly active users
    "regional",                 # e.g. Llama 3.2 multimodal: not granted in the EU
    "restricted_applications",  # acceptable-use / prohibited-use policies, RAIL attachment A
    "no_competing_models",      # API terms: outputs may not train competing models
    "no_endorsement",           # BSD-3 clause 3
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Clause(_Strict):
    """Where a term comes from: section number plus a short quote or paraphrase."""

    section: str
    text: str
    document: str | None = None  # when the clause lives in a companion document (e.g. an AUP)


class Propagation(_Strict):
    """How far a term reaches: to a redistributed dataset, to a model trained on it, to outputs.

    For a *model* license, `model` means a model derived from it (fine-tune) and `outputs` means
    models trained on what it generates (synthetic data / distillation).
    """

    dataset: Reach = "yes"
    model: Reach = "uncertain"
    outputs: Reach = "no"


class Permissions(_Strict):
    commercial_use: bool = True
    redistribution: bool = True
    modification: bool = True


class Obligation(_Strict):
    type: ObligationType
    text: str | None = None  # exact text to display/ship, or the name prefix
    clause: Clause
    propagates: Propagation = Propagation()
    # Which kinds of model release trigger it: shipping weights, serving an API, or both.
    applies_on: list[Distribution] = Field(default_factory=lambda: ["weights"])
    note: str | None = None


class RestrictedUse(_Strict):
    id: str
    text: str
    keywords: list[str] = Field(default_factory=list)  # phrases matched against `application`


class Restriction(_Strict):
    type: RestrictionType
    clause: Clause
    propagates: Propagation = Propagation()
    applies_on: list[Distribution] = Field(default_factory=lambda: ["none", "api", "weights"])
    threshold: int | None = None            # user_cap
    regions: list[str] = Field(default_factory=list)     # regional (ISO codes or "EU")
    modalities: list[str] = Field(default_factory=list)  # regional: only for these base-model modalities
    policy: str | None = None               # restricted_applications: name/URL of the policy
    uses: list[RestrictedUse] = Field(default_factory=list)
    exempt_families: list[str] = Field(default_factory=list)  # no_competing_models: allowed base families
    note: str | None = None

    @model_validator(mode="after")
    def _needs_parameters(self) -> "Restriction":
        # Each restriction type is only meaningful with its parameters; catch incomplete entries.
        if self.type == "user_cap" and not self.threshold:
            raise ValueError("user_cap needs a threshold")
        if self.type == "regional" and not self.regions:
            raise ValueError("regional needs regions")
        if self.type == "restricted_applications" and not self.uses:
            raise ValueError("restricted_applications needs uses")
        return self


class LicenseEntry(_Strict):
    id: str                          # SPDX id or LicenseRef-...; the canonical key in expressions
    name: str
    kind: Kind
    scancode_key: str | None = None  # must exist in the ScanCode index when given
    category: str | None = None      # defaults to the ScanCode category
    family: str | None = None        # e.g. "llama"; used for exemptions such as Llama 2 outputs
    also_covers: list[str] = Field(default_factory=list)  # ids with identical terms (e.g. -or-later)
    hf_id: str | None = None         # Hugging Face hub `license:` value
    urls: list[str] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)
    model_patterns: list[str] = Field(default_factory=list)  # globs for model names under these terms
    permissions: Permissions = Permissions()
    obligations: list[Obligation] = Field(default_factory=list)
    restrictions: list[Restriction] = Field(default_factory=list)
    notes: str | None = None

    @property
    def all_ids(self) -> list[str]:
        return [self.id, *self.also_covers]

    def restriction(self, rtype: RestrictionType) -> list[Restriction]:
        return [r for r in self.restrictions if r.type == rtype]


class EntryFile(BaseModel):
    """One YAML file: a list of entries; `shared` holds YAML anchors reused by the entries."""

    model_config = ConfigDict(extra="forbid")
    shared: object | None = None
    entries: list[LicenseEntry]
