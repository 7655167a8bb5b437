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
    "document_changes",             # add documentation (a model card) describing the changes (BigCode 5.2(b))
    "offer_derived_data",           # offer the derived dataset (or the changes) to those who get the model (ODbL 4.6)
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
    "no_training_on_outputs",   # xAI Enterprise 3.2: outputs may train no AI model at all, whatever the purpose
    "no_improving_other_models",  # Llama 2/3, Tongyi Qianwen: outputs may not improve any other LLM (unconditional)
    "no_endorsement",           # BSD-3 clause 3
    "hosting_use",              # Falcon-180B: serving the model to third parties as an inference API is not licensed
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReferenceText(_Strict):
    """A published text that clauses cite: which version, where it was read, whether it ships with the package."""

    id: str                    # unique across entries; `verify-clauses --texts DIR` looks for DIR/<id>.*
    title: str
    version: str               # as the text dates itself ("Version Release Date: July 23, 2024", "4.0")
    url: str
    read_from: str             # where the copy we checked came from (repository@commit:path, or URL)
    retrieved: str             # ISO date the copy was read
    file: str | None = None    # bundled copy, relative to the package folder; only where the text's terms allow
    # a ScanCode LicenseDB record holding this very text: clauses are checked against the copy the installed
    # scancode-toolkit ships (the `licenses` extra), never bundled here
    scancode_text: str | None = None
    terms: str                 # why it is (or is not) bundled: what the text's own terms say about copying it
    outline: bool = True       # False: its numbering cannot be followed mechanically; only quotes are checked


class Clause(_Strict):
    """Where a term comes from: the section number, the exact phrase quoted from that section, a summary."""

    section: str               # as numbered in the text; several as "3(a)(2), 2(a)(1)(B)"
    text: str                  # what the term means, in a sentence (paraphrase allowed)
    quote: str | None = None   # verbatim phrase from `section` of the reference text
    document: str | None = None  # key of the entry's `texts` (default: the first, the license itself)


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


Condition = Literal["fully_automated", "without_disclosure", "without_consent", "substitute_for_professional"]


class RestrictedUse(_Strict):
    """One prohibited use, matched against the request's `application` by its conditions, not by a keyword.

    An application matches when it names one of the `activities` AND (if any are listed) one of the `domains`; its
    `conditions` (e.g. "fully automated") must then be stated as met, else the finding is a review. Phrases are
    word stems: "diagnos" matches "diagnosis" and "diagnose".
    """

    id: str
    text: str                   # the item, in a sentence
    section: str | None = None  # its own number in the policy (default: the restriction's clause)
    document: str | None = None  # key of the entry's `texts` holding the policy (default: the restriction's)
    quote: str | None = None    # verbatim phrase of the item
    activities: list[str] = Field(default_factory=list)
    domains: list[str] = Field(default_factory=list)
    conditions: list[Condition] = Field(default_factory=list)  # all must hold for the use to be restricted

    @model_validator(mode="after")
    def _matchable(self) -> "RestrictedUse":
        if not self.activities:
            raise ValueError(f"restricted use {self.id!r} needs activities to match against")
        return self


class Restriction(_Strict):
    type: RestrictionType
    clause: Clause
    propagates: Propagation = Propagation()
    applies_on: list[Distribution] = Field(default_factory=lambda: ["none", "api", "weights"])
    threshold: int | None = None            # user_cap
    counted: str | None = None              # user_cap: how the license counts the users (shown in the finding)
    commercial_use_only: bool = False       # user_cap: binds commercial use only ("If you are commercially using")
    regions: list[str] = Field(default_factory=list)     # regional (ISO codes or "EU")
    # regional: only for models of these modalities; no_competing_models: only for outputs of these modalities
    # (Mistral 3.3: image outputs), judged by the generator's modality
    modalities: list[str] = Field(default_factory=list)
    policy: str | None = None               # restricted_applications: name/URL of the policy
    uses: list[RestrictedUse] = Field(default_factory=list)
    # restricted_applications: False where the policy's text was not found, so its items are not encoded (the TII
    # Falcon Acceptable Use Policy): an application in the request then gets `review`, never a silent pass.
    policy_items_read: bool = True
    exempt_licenses: list[str] = Field(default_factory=list)  # no_improving_other_models: base models allowed
    # non_commercial: the license also excludes a company's internal use (e.g. Mistral's "Research Purposes")
    excludes_internal_business_use: bool = False
    note: str | None = None

    @model_validator(mode="after")
    def _needs_parameters(self) -> "Restriction":
        # Each restriction type is only meaningful with its parameters; catch incomplete entries.
        if self.type == "user_cap" and not self.threshold:
            raise ValueError("user_cap needs a threshold")
        if self.type == "regional" and not self.regions:
            raise ValueError("regional needs regions")
        if self.type == "restricted_applications" and not self.uses and self.policy_items_read:
            raise ValueError("restricted_applications needs uses (or policy_items_read: false)")
        if self.type == "hosting_use" and not self.uses:
            raise ValueError("hosting_use needs uses: the applications that are hosting")
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
    permissions: Permissions = Permissions()
    obligations: list[Obligation] = Field(default_factory=list)
    restrictions: list[Restriction] = Field(default_factory=list)
    # terms that expressly let outputs train other models (DeepSeek Open Platform 4.2): cited in the audit
    outputs_may_train: Clause | None = None
    texts: dict[str, ReferenceText] = Field(default_factory=dict)  # the texts its clauses cite
    # "reviewed": every term below was read from `texts`; "unreviewed": identified (ids, names, models) but its
    # terms are not encoded clause by clause - audits say `review` instead of assuming it is harmless.
    status: Literal["reviewed", "unreviewed"] = "reviewed"
    notes: str | None = None

    @model_validator(mode="after")
    def _clauses_cite_known_texts(self) -> "LicenseEntry":
        for kind, clause in self.cited_clauses():
            doc = clause.document
            if doc is not None and doc not in self.texts:
                raise ValueError(f"{self.id}: clause {clause.section} cites document {doc!r}, not in texts")
            if self.texts and not clause.quote:
                raise ValueError(f"{self.id}: clause {clause.section} ({kind}) has no quote")
        return self

    def cited_clauses(self) -> list[tuple[str, Clause]]:
        """Every term's clause, named by the kind of term ("obligation attribution", "restriction user_cap", ...)."""
        terms = [(f"obligation {o.type}", o.clause) for o in self.obligations]
        terms += [(f"restriction {r.type}", r.clause) for r in self.restrictions]
        if self.outputs_may_train:
            terms.append(("permission outputs_may_train", self.outputs_may_train))
        return terms

    @model_validator(mode="after")
    def _restricted_uses_are_quoted(self) -> "LicenseEntry":
        for r in self.restrictions:
            for use in r.uses:
                if self.texts and not use.quote:
                    raise ValueError(f"{self.id}: restricted use {use.id!r} has no quote")
        return self

    def text_for(self, clause: Clause) -> ReferenceText:
        """The reference text a clause cites."""
        return self.texts[clause.document] if clause.document else next(iter(self.texts.values()))

    def clause_source(self, clause: Clause) -> str | None:
        """"Title, version" of the text a clause cites (None for entries without texts)."""
        if not self.texts:
            return None
        ref = self.text_for(clause)
        return f"{ref.title} ({ref.version})"

    @property
    def all_ids(self) -> list[str]:
        return [self.id, *self.also_covers]

    def restriction(self, rtype: RestrictionType) -> list[Restriction]:
        return [r for r in self.restrictions if r.type == rtype]


class ModelId(_Strict):
    """A row of model_ids.yaml: model ids (globs) released under a license expression."""

    match: list[str]
    license: str                  # SPDX expression or alias ("llama3.2", "MIT AND llama3.1")
    modality: str | None = None   # text | multimodal | image | audio ...; None: not known from the id
    source: str                   # where the mapping was read


class ModelIdFile(_Strict):
    models: list[ModelId]


class EntryFile(BaseModel):
    """One YAML file: a list of entries; `shared` holds YAML anchors reused by the entries."""

    model_config = ConfigDict(extra="forbid")
    shared: object | None = None
    entries: list[LicenseEntry]
