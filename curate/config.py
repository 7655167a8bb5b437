"""The pipeline YAML, validated up front. A mistake is reported with the key that holds it and what is allowed;
the YAML is loaded with `yaml.safe_load`, so a config never executes code."""

from __future__ import annotations

import glob
import hashlib
import json
import os
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from curate.readers.formats import FORMATS, infer_format
from curate.steps import STEP_TYPES, step_class


class ConfigError(ValueError):
    """A pipeline file that cannot run, with a message naming the file and the key."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InputSpec(Strict):
    name: str  # the source name recorded on every document
    paths: list[str]  # files, folders or globs
    format: Literal["jsonl", "parquet", "warc", "html"] | None = None  # default: from the file extension
    text_field: str | None = None  # default: "text" ("html" for warc/html inputs)
    id_field: str = "id"
    url_field: str = "url"
    license: str | None = None  # the license declared for this source (SPDX expression or LicenseRef-…)
    license_field: str | None = "license"  # a per-record license field, which wins over the declared one
    metadata: dict[str, Any] = {}  # added to every document of this source

    @field_validator("paths", mode="before")
    @classmethod
    def _one_or_many(cls, v):
        return [v] if isinstance(v, str) else v


class OutputSpec(Strict):
    dir: str = "runs/${name}"
    shard_size_mb: int = Field(256, gt=0)
    keep_removed: bool = True  # write removed documents to removed/<step>/ (the counts are always kept)
    tokenizer: str | None = None  # a local tokenizer.json (or a folder with one): count tokens per license/source


class ExecutorSpec(Strict):
    type: Literal["local", "slurm", "ray"] = "local"
    tasks: int = Field(1, ge=1)
    workers: int = Field(-1, ge=-1)  # local: parallel processes (-1: one per task)
    options: dict[str, Any] = {}  # passed to datatrove's Slurm/Ray executor (partition, time, cpus_per_task…)


class LimitsSpec(Strict):
    max_document_bytes: int = Field(10_000_000, gt=0)  # larger documents are removed as invalid:oversize


class StepSpec(BaseModel):
    """One step: `type`, an optional `name` (the prefix of its removal reasons), and the step's own parameters."""

    model_config = ConfigDict(extra="allow")
    type: str
    name: str | None = None

    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class PipelineConfig(Strict):
    name: str
    description: str = ""
    inputs: list[InputSpec] = Field(min_length=1)
    steps: list[StepSpec] = []
    output: OutputSpec = OutputSpec()
    executor: ExecutorSpec = ExecutorSpec()
    limits: LimitsSpec = LimitsSpec()

    def output_dir(self) -> str:
        return self.output.dir.replace("${name}", self.name)

    def config_hash(self) -> str:
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


def _format_validation_error(path: str, err: ValidationError, prefix: str = "") -> str:
    lines = [f"{path}: invalid pipeline"]
    for e in err.errors():
        loc = prefix + ".".join(str(p) for p in e["loc"])
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
        elif e["type"] == "literal_error":
            msg = f"must be one of {e['ctx']['expected']}"
        lines.append(f"  {loc}: {msg}")
    return "\n".join(lines)


def load_pipeline(path: str, overrides: dict[str, Any] | None = None) -> PipelineConfig:
    """Read and validate a pipeline file, including every step's parameters."""
    if not os.path.isfile(path):
        raise ConfigError(f"{path}: no such pipeline file")
    with open(path, encoding="utf-8") as f:
        try:
            raw = yaml.safe_load(f)
        except yaml.YAMLError as e:
            raise ConfigError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a pipeline is a mapping with keys name, inputs, steps, output, executor")
    for key, value in (overrides or {}).items():
        raw[key] = value
    try:
        cfg = PipelineConfig.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(_format_validation_error(path, e)) from None
    seen = set()
    for i, step in enumerate(cfg.steps):
        where = f"{path}: steps[{i}]"
        if step.type not in STEP_TYPES:
            raise ConfigError(f"{where}.type: unknown step type {step.type!r}; allowed: {', '.join(sorted(STEP_TYPES))}")
        name = step.name or step.type
        if name in seen or name in ("invalid", "input"):
            raise ConfigError(f"{where}.name: {name!r} is used twice (or reserved); give the step a distinct `name:`")
        seen.add(name)
        try:
            step_class(step.type).Params.model_validate(step.params())
        except ValidationError as e:
            raise ConfigError(_format_validation_error(path, e, prefix=f"steps[{i}] ({step.type}).")) from None
    return cfg


def expand_inputs(cfg: PipelineConfig, base_dir: str) -> list[dict[str, Any]]:
    """Resolve every input to a sorted list of files, each with its reading settings. A path that matches nothing is
    an error before any work starts. Relative paths are taken from the current folder, else from `base_dir` (the
    folder of the pipeline file), so that a pipeline can ship next to its data."""
    files = []
    for i, spec in enumerate(cfg.inputs):
        matched: list[str] = []
        for pattern in spec.paths:
            hits = _expand(pattern) or (_expand(os.path.join(base_dir, pattern)) if not os.path.isabs(pattern) else [])
            if not hits:
                raise ConfigError(f"inputs[{i}] ({spec.name}): {pattern!r} matches no file")
            matched.extend(hits)
        for path in sorted(set(matched)):
            fmt = spec.format or infer_format(path)
            files.append({
                "path": path,
                "rel": os.path.relpath(path),
                "format": fmt,
                "source": spec.name,
                "text_field": spec.text_field or ("html" if fmt in ("warc", "html") else "text"),
                "id_field": spec.id_field,
                "url_field": spec.url_field,
                "license_field": spec.license_field,
                "license": spec.license,
                "metadata": spec.metadata,
            })
    return files


def _expand(pattern: str) -> list[str]:
    if os.path.isdir(pattern):
        return [p for p in glob.glob(os.path.join(pattern, "**", "*"), recursive=True) if os.path.isfile(p)]
    return [p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p)]


__all__ = ["ConfigError", "PipelineConfig", "load_pipeline", "expand_inputs", "FORMATS"]
