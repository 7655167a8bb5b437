"""The audit request (REQUEST.yaml): validated with pydantic, loaded with yaml.safe_load."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..models import Distribution

Use = Literal["commercial", "research", "internal"]

# EU member states: a region restriction on "EU" applies to each of them.
EU_MEMBERS = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GeneratedBy(_Strict):
    """The model/API that generated a data source (synthetic data, distillation). Its organization is its licensee."""

    name: str
    terms: str | None = None    # e.g. "openai"; resolved like a license
    license: str | None = None  # alternative spelling of `terms` for open models (e.g. "llama3.1")
    modality: str | None = None  # text | multimodal | image ...; if absent, inferred from the name where it says so


class BaseModelSpec(_Strict):
    name: str
    license: str | None = None  # if absent, inferred from the model name (e.g. meta-llama/Llama-3.2-1B)
    modality: str | None = None  # text | multimodal | vision | ...; if absent, from the model id (else unknown)


class UpstreamSource(_Strict):
    """Where a part of a data source comes from: the creator to credit (a repository, a site), with its license."""

    source: str                 # "github.com/tldr-pages/tldr@08e345f", "en.wikipedia.org"
    url: str | None = None      # a page or repository URL
    license: str | None = None
    documents: int | None = Field(default=None, ge=0)


class DataSource(_Strict):
    name: str
    license: str | None = None  # absent = NOASSERTION
    license_name: str | None = None  # HF `license: other` companions
    license_link: str | None = None
    tokens: int | None = Field(default=None, ge=0)
    bytes: int | None = Field(default=None, ge=0)
    documents: int | None = Field(default=None, ge=0)
    generated_by: GeneratedBy | None = None
    upstream: list[UpstreamSource] = Field(default_factory=list)  # the creators behind it, for attribution


class AuditRequest(_Strict):
    use: Use
    distribution: Distribution = "weights"
    model_name: str | None = None
    model_license: str | None = None   # license the model ships under (default: the base model's)
    model_version: str | None = None
    model_supplier: str | None = None  # who releases the model (SPDX suppliedBy), e.g. your organization
    model_download_location: str | None = None  # where the weights are published (SPDX downloadLocation)
    monthly_active_users: int | None = Field(default=None, ge=0)
    organization_region: str | None = None
    application: str | None = None
    share_dataset: bool = False        # also publishing the curated dataset itself (an output of the project)?
    base_model: BaseModelSpec | None = None
    data: list[DataSource] = Field(default_factory=list)
    run_dir: str | None = None         # a curate run folder whose manifest adds data sources

    @field_validator("organization_region")
    @classmethod
    def _region(cls, v: str | None) -> str | None:
        if v is None:
            return v
        v = v.strip().upper()
        if v != "EU" and not re.fullmatch(r"[A-Z]{2}", v):
            raise ValueError("must be an ISO 3166-1 alpha-2 country code (e.g. US, DE) or EU")
        return v

    @field_validator("base_model", mode="before")
    @classmethod
    def _base_model_str(cls, v: Any) -> Any:
        # `base_model: llama3.2` or `base_model: meta-llama/Llama-3.2-1B` is a convenient shorthand.
        return {"name": v} if isinstance(v, str) else v

    @property
    def in_eu(self) -> bool:
        return self.organization_region == "EU" or self.organization_region in EU_MEMBERS


class RequestError(ValueError):
    """A request that failed validation; `problems` name each key and what is allowed."""

    def __init__(self, problems: list[str], source: str = "request"):
        self.problems = problems
        super().__init__(f"invalid {source}:\n  " + "\n  ".join(problems))


_NESTED: dict[str, type[BaseModel]] = {"base_model": BaseModelSpec, "data": DataSource, "generated_by": GeneratedBy,
                                       "upstream": UpstreamSource}


def _model_at(loc: tuple) -> type[BaseModel]:
    model: type[BaseModel] = AuditRequest
    for part in loc:
        if isinstance(part, str) and part in _NESTED:
            model = _NESTED[part]
    return model


def _describe(err: dict) -> str:
    loc = tuple(err["loc"])
    key = ".".join(str(p) for p in loc) or "(top level)"
    if err["type"] == "extra_forbidden":
        allowed = ", ".join(_model_at(loc[:-1]).model_fields)
        return f"unknown key {key!r}; allowed keys here: {allowed}"
    if err["type"] == "missing":
        return f"missing required key {key!r}"
    got = err.get("input")
    got_s = f" (got {got!r})" if not isinstance(got, (dict, list)) else ""
    # Literal errors already list the allowed values ("Input should be 'none', 'api' or 'weights'").
    return f"key {key!r}: {err['msg']}{got_s}"


def parse_request(data: Any, source: str = "request") -> AuditRequest:
    if not isinstance(data, dict):
        raise RequestError([f"expected a mapping at the top level, got {type(data).__name__}"], source)
    try:
        return AuditRequest.model_validate(data)
    except ValidationError as exc:
        raise RequestError([_describe(e) for e in exc.errors()], source) from None


def load_request(path: str | Path) -> AuditRequest:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RequestError([f"not valid YAML: {exc}"], str(path)) from None
    req = parse_request(data, str(path))
    if req.run_dir and not Path(req.run_dir).is_absolute():
        # A relative run_dir is relative to the request file, not to the current directory.
        req = req.model_copy(update={"run_dir": str((path.parent / req.run_dir).resolve())})
    return req


ALLOWED_USES = get_args(Use)
ALLOWED_DISTRIBUTIONS = get_args(Distribution)
