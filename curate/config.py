"""The pipeline YAML, validated up front. A mistake is reported with the key that holds it and what is allowed;
the YAML is loaded with `yaml.safe_load`, so a config never executes code."""

from __future__ import annotations

import difflib
import fnmatch
import glob
import hashlib
import inspect
import json
import os
import re
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from curate.fs import glob_urls, is_url, local
from curate.readers.formats import FORMATS, infer_format, sniff_format


class ConfigError(ValueError):
    """A pipeline file that cannot run, with a message naming the file and the key."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InputSpec(Strict):
    name: str  # the source name recorded on every document
    paths: list[str]  # files, folders or globs
    format: Literal["jsonl", "parquet", "warc", "wet", "html"] | None = None  # default: from the file extension
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
    dir: str = "runs/${name}"  # a folder, or an object-store URL (s3://bucket/runs/x): then built in `stage_dir`
    # and published there when complete, manifest.json last
    stage_dir: str | None = None  # for a URL `dir`: where the run is built (default ~/.cache/curate/runs/<hash>;
    # on Slurm/Ray over several machines, a folder they all share)
    shard_size_mb: int = Field(256, gt=0)
    keep_removed: bool = True  # write removed documents to removed/<step>/ (the counts are always kept)
    tokenizer: str | None = None  # a local tokenizer.json (or a folder with one): count tokens per license/source


class ExecutorSpec(Strict):
    type: Literal["local", "slurm", "ray"] = "local"
    tasks: int = Field(1, ge=1)
    workers: int = Field(-1, ge=-1)  # parallel tasks (-1: as many as `tasks`)
    # with tasks > 1, an uncompressed JSONL or a Parquet file larger than this is cut into parts of about this size
    # that several tasks read (docs/scale.md); 0: one task per file
    split_mb: int = Field(256, ge=0)
    address: str | None = None  # ray: the cluster to attach to (default: $RAY_ADDRESS, else a local instance)
    options: dict[str, Any] = {}  # passed to datatrove's Slurm/Ray executor (partition, time, cpus_per_task…)

    @model_validator(mode="after")
    def _slurm_options(self):
        # checked here, not when the jobs are submitted: by then the run folder has been started with this config
        if self.type == "slurm":
            from datatrove.executor import SlurmPipelineExecutor

            allowed = set(inspect.signature(SlurmPipelineExecutor).parameters) - {"pipeline", "tasks", "logging_dir",
                                                                                 "depends"}
            if unknown := sorted(set(self.options) - allowed):
                raise ValueError(f"unknown Slurm option(s) {unknown}; datatrove's SlurmPipelineExecutor takes "
                                 f"{sorted(allowed)}")
            if missing := [k for k in ("partition", "time") if not self.options.get(k)]:
                raise ValueError(f"Slurm needs options.{' and options.'.join(missing)} (e.g. partition: cpu, "
                                 "time: '02:00:00')")
        return self


class LimitsSpec(Strict):
    max_document_bytes: int = Field(10_000_000, gt=0)  # larger documents are removed as invalid:oversize


class StepSpec(BaseModel):
    """One step: `type`, an optional `name` (the prefix of its removal reasons, and a folder name under removed/),
    and the step's own parameters."""

    model_config = ConfigDict(extra="allow")
    type: str
    name: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

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
        """Where the run folder is built: `output.dir`, or its local stage when `output.dir` is a URL."""
        target = self.publish_url()
        if target is None:
            return local(self.output.dir.replace("${name}", self.name))
        if self.output.stage_dir:
            return self.output.stage_dir
        digest = hashlib.sha256(target.encode()).hexdigest()[:16]
        return os.path.join(os.path.expanduser("~"), ".cache", "curate", "runs", digest)

    def publish_url(self) -> str | None:
        """The object-store URL the complete run is published to, when `output.dir` is one."""
        target = self.output.dir.replace("${name}", self.name)
        return target.rstrip("/") if is_url(target) else None

    def config_hash(self) -> str:
        """What decides the result: everything but where and how fast it runs (a run started locally may be
        resumed on Ray or with more workers; the number of tasks and the part size stay: they decide how the input
        is split)."""
        config = self.model_dump(mode="json")
        config["executor"] = {"tasks": self.executor.tasks, "split_mb": self.executor.split_mb}
        canonical = json.dumps(config, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


def did_you_mean(word: str, choices) -> str:
    """ " (did you mean 'threshold'?)" for a near miss, else ""."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _keys_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """The keys allowed at `loc` (a pydantic error location) below `model`."""
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return []
        inner = [a for a in (field.annotation, *get_args(field.annotation)) if isinstance(a, type)
                 and issubclass(a, BaseModel)]
        if not inner:
            return []
        model = inner[0]
    return list(model.model_fields)


def _format_validation_error(path: str, err: ValidationError, prefix: str = "",
                             model: type[BaseModel] | None = None) -> str:
    lines = [f"{path}: invalid pipeline"]
    for e in err.errors():
        loc = prefix + ".".join(str(p) for p in e["loc"])
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown key" + (did_you_mean(e["loc"][-1], _keys_at(model, e["loc"][:-1])) if model else "")
        elif e["type"] == "literal_error":
            msg = f"must be one of {e['ctx']['expected']}"
        lines.append(f"  {loc}: {msg}")
    return "\n".join(lines)


MAX_CONFIG_BYTES = 1 << 20
MAX_CONFIG_NODES = 100_000  # values in the config once every YAML alias is expanded


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """How many values `node` stands for with aliases expanded (an alias is the same node object again), computed
    without expanding anything: a few hundred bytes of nested aliases ("billion laughs") can stand for 10**9."""
    key = id(node)
    if key not in memo:
        memo[key] = 1  # a (malformed) cycle counts once instead of recursing forever
        children = node.value if isinstance(node.value, list) else []
        memo[key] = 1 + sum(_expanded_size(c, memo) for item in children
                            for c in (item if isinstance(item, tuple) else (item,)))
    return memo[key]


def _read_yaml(path: str) -> Any:
    if os.path.getsize(path) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: a pipeline file is at most {MAX_CONFIG_BYTES // 1024} KiB")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is not None and (n := _expanded_size(node, {})) > MAX_CONFIG_NODES:
            raise ConfigError(f"{path}: the YAML expands to {n:,} values (aliases included); at most "
                              f"{MAX_CONFIG_NODES:,} are allowed")
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    except RecursionError:
        raise ConfigError(f"{path}: the YAML is nested too deeply") from None


def load_pipeline(path: str, overrides: dict[str, Any] | None = None, steps: bool = True) -> PipelineConfig:
    """Read and validate a pipeline file, including every step's parameters (`steps=False`: all but those, which
    spares importing the steps' modules when only the config's identity is needed)."""
    if not os.path.isfile(path):
        raise ConfigError(f"{path}: no such pipeline file")
    raw = _read_yaml(path)
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a pipeline is a mapping with keys name, inputs, steps, output, executor")
    for key, value in (overrides or {}).items():
        raw[key] = value
    try:
        cfg = PipelineConfig.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(_format_validation_error(path, e, model=PipelineConfig)) from None
    if not steps:
        return cfg
    from curate.steps import STEP_TYPES, step_class  # the step registry brings datatrove in

    seen = set()
    for i, step in enumerate(cfg.steps):
        where = f"{path}: steps[{i}]"
        if step.type not in STEP_TYPES:
            raise ConfigError(f"{where}.type: unknown step type {step.type!r}{did_you_mean(step.type, STEP_TYPES)}; "
                              f"allowed: {', '.join(sorted(STEP_TYPES))}")
        name = step.name or step.type
        if name in seen or name in ("invalid", "input"):
            raise ConfigError(f"{where}.name: {name!r} is used twice (or reserved); give the step a distinct `name:`")
        seen.add(name)
        try:
            step_class(step.type).Params.model_validate(step.params())
        except ValidationError as e:
            raise ConfigError(_format_validation_error(path, e, prefix=f"steps[{i}] ({step.type}).",
                                                       model=step_class(step.type).Params)) from None
    return cfg


def expand_inputs(cfg: PipelineConfig, base_dir: str) -> list[dict[str, Any]]:
    """Resolve every input to a sorted list of files, each with its reading settings. A path that matches nothing, or
    a file whose content is not the format it is read as, is an error before any work starts. Relative paths are
    taken from the current folder, else from `base_dir` (the folder of the pipeline file), so that a pipeline can
    ship next to its data. A file reached twice (two globs, a symbolic link, a link loop) is read once."""
    files: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, spec in enumerate(cfg.inputs):
        matched: list[str] = []
        roots: dict[str, str] = {}  # file -> the folder its pattern starts from (ids are relative to it)
        for pattern in spec.paths:
            pattern = local(pattern)
            if is_url(pattern):  # an object store: the error names the URL, before any work starts
                try:
                    hits = glob_urls(pattern)
                except Exception as e:  # noqa: BLE001 - credentials, network, bucket: fsspec backends vary
                    raise ConfigError(f"inputs[{i}] ({spec.name}): {pattern}: cannot list it "
                                      f"({type(e).__name__}: {e})") from None
                if not hits:
                    raise ConfigError(f"inputs[{i}] ({spec.name}): {pattern!r} matches no file")
                matched.extend(hits)
                for hit in hits:
                    roots.setdefault(hit, _root(pattern.split("://", 1)[1]))
                continue
            hits, used = _expand(pattern), pattern
            if not hits and not os.path.isabs(pattern):
                used = os.path.join(base_dir, pattern)
                hits = _expand(used)
            if not hits:
                raise ConfigError(f"inputs[{i}] ({spec.name}): {pattern!r} matches no file")
            matched.extend(hits)
            for hit in hits:
                roots.setdefault(hit, _root(used))
        for path in sorted(set(matched)):
            real = path if is_url(path) else os.path.realpath(path)
            if real in seen:
                continue
            seen.add(real)
            fmt = spec.format or infer_format(path)
            if fmt is None:
                raise ConfigError(f"inputs[{i}] ({spec.name}): {path}: cannot tell the format from the file name; "
                                  f"set `format:` ({', '.join(FORMATS)})")
            found = sniff_format(path)
            if found is not None and found != fmt:
                raise ConfigError(f"inputs[{i}] ({spec.name}): {path} holds {found.upper()} but is read as {fmt} "
                                  f"(`format: {spec.format}` in the pipeline)" if spec.format else
                                  f"inputs[{i}] ({spec.name}): {path} holds {found.upper()}, its name says {fmt}")
            files.append({
                "path": path,
                # the id of a record without one: <rel>:<line>
                "rel": os.path.relpath(path.split("://", 1)[-1], roots[path]),
                "index": len(files),
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


def _root(pattern: str) -> str:
    """The folder a path pattern starts from: a folder itself, else the folder before the first wildcard (a file's
    own folder), so that ids made from file names do not depend on where `curate run` was started."""
    if os.path.isdir(pattern):
        return pattern
    return os.path.dirname(re.split(r"[*?\[]", pattern, maxsplit=1)[0]) or "."


def _walk(folder: str) -> list[str]:
    """Every file below `folder`, following links to folders but entering each real folder once (no loops)."""
    out, visited = [], set()
    for root, dirs, names in os.walk(folder, followlinks=True):
        real = os.path.realpath(root)
        if real in visited:
            dirs[:] = []
            continue
        visited.add(real)
        dirs.sort()
        out.extend(os.path.join(root, n) for n in sorted(names) if os.path.isfile(os.path.join(root, n)))
    return out


def _expand(pattern: str) -> list[str]:
    if os.path.isdir(pattern):
        return _walk(pattern)
    if "**" in pattern:  # glob's recursive walk follows link loops until the OS refuses: walk the folders ourselves
        head = pattern.split("**", 1)[0]
        root = os.path.dirname(head) or "."
        return [p for p in _walk(root) if fnmatch.fnmatch(p, pattern) or
                fnmatch.fnmatch(p, pattern.replace("**/", ""))] if os.path.isdir(root) else []
    return [p for p in glob.glob(pattern) if os.path.isfile(p)]


__all__ = ["ConfigError", "PipelineConfig", "load_pipeline", "expand_inputs", "FORMATS"]
