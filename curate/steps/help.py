"""`curate steps TYPE`: each parameter of a step with its type in words, its default and one line saying what it does.

The one line is the parameter's comment in the code, written where the parameter is declared:
    min_chars: int = 0  # shorter documents are removed
(or, for a long declaration, the comment lines right above it). Parsing the Params classes' own source keeps the
help and the code in one place, with the YAML names unchanged; a `Field(description=...)` is used if one is given.
"""

from __future__ import annotations

import ast
import inspect
import io
import json
import textwrap
import tokenize
import types
import typing
from functools import lru_cache
from typing import Any, Literal, Union

import yaml
from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined


@lru_cache(maxsize=None)
def field_comments(model: type[BaseModel]) -> dict[str, str]:
    """{field: its comment} over the class and its bases (a subclass's comment wins)."""
    out: dict[str, str] = {}
    for klass in reversed(model.__mro__):
        if isinstance(klass, type) and issubclass(klass, BaseModel) and klass is not BaseModel:
            out.update(_class_comments(klass))
    return out


def _class_comments(klass: type) -> dict[str, str]:
    try:
        source = textwrap.dedent(inspect.getsource(klass))
    except (OSError, TypeError):  # defined in a REPL or a zip: no source to read
        return {}
    comments: dict[int, str] = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string.lstrip("#").strip()
    lines = source.splitlines()
    out = {}
    body = ast.parse(source).body[0].body  # type: ignore[attr-defined]
    for node in body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        trailing = [comments[n] for n in range(node.lineno, node.end_lineno + 1) if n in comments]
        above, n = [], node.lineno - 1
        while n in comments and lines[n - 1].lstrip().startswith("#"):  # a comment block right above
            above.insert(0, comments[n])
            n -= 1
        text = trailing[0] if trailing else " ".join(above)
        if text:
            out[node.target.id] = text
    return out


def describe(model: type[BaseModel], name: str) -> str:
    info = model.model_fields[name]
    return info.description or field_comments(model).get(name, "")


def type_in_words(annotation: Any, info: FieldInfo | None = None) -> str:
    """`int | None` -> "integer, or null"; `list[tuple[int, float]]` -> "list of [integer, number]"..."""
    words = _words(annotation)
    bounds = [_bound(m) for m in (info.metadata if info is not None else [])]
    bounds = [b for b in bounds if b]
    return words + (f" ({', '.join(bounds)})" if bounds else "")


_NAMES = {int: "integer", float: "number", bool: "true/false", str: "text", type(None): "null", Any: "any value"}


def _words(t: Any) -> str:
    if t in _NAMES:
        return _NAMES[t]
    origin, args = typing.get_origin(t), typing.get_args(t)
    if origin in (Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        words = " or ".join(_words(a) for a in rest)
        return words + (", or null" if len(rest) < len(args) else "")
    if origin is Literal:
        return "one of " + ", ".join(str(a) for a in args)
    if origin in (list, set, frozenset) or origin is typing.Sequence:
        return f"list of {_words(args[0])}" if args else "list"
    if origin is tuple:
        return "[" + ", ".join(_words(a) for a in args if a is not Ellipsis) + "]"
    if origin is dict:
        return f"mapping of {_words(args[0])} to {_words(args[1])}" if args else "mapping"
    if origin is typing.Annotated:
        return _words(args[0])
    if isinstance(t, type) and issubclass(t, BaseModel):
        return "mapping with " + ", ".join(t.model_fields)
    return getattr(t, "__name__", str(t)).replace("typing.", "")


def _bound(m: Any) -> str | None:
    for cls, sign, attr in ((Ge, ">=", "ge"), (Gt, ">", "gt"), (Le, "<=", "le"), (Lt, "<", "lt")):
        if isinstance(m, cls):
            return f"{sign} {getattr(m, attr)}"
    if isinstance(m, MinLen):
        return f"at least {m.min_length} items"
    if isinstance(m, MaxLen):
        return f"at most {m.max_length} items"
    return None


def default_in_words(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    value = info.default_factory() if info.default_factory is not None else info.default  # type: ignore[call-arg]
    if value is PydanticUndefined:
        return "required"
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    # as it would be written in the pipeline YAML (flow style: one line)
    plain = json.loads(json.dumps(value, default=list))
    text = yaml.safe_dump(plain, default_flow_style=True, width=10**6, allow_unicode=True, sort_keys=False)
    return text.strip().removesuffix("...").strip()  # a bare scalar's document ends with "..."


def format_parameters(model: type[BaseModel], width: int = 80) -> list[str]:
    """The help text: per parameter a line `name: type, default D` and its description, wrapped to `width`."""
    out = []
    for name, type_words, default, description in parameter_rows(model):
        out.append(f"  {name}: {type_words}; default {default}" if default != "required" else
                   f"  {name}: {type_words}; required")
        if description:
            out += textwrap.wrap(description, width=max(width, 40), initial_indent="      ",
                                 subsequent_indent="      ")
    return out


def parameter_rows(model: type[BaseModel]) -> list[tuple[str, str, str, str]]:
    """(name, type in words, default, description) for each parameter, in declaration order."""
    return [(name, type_in_words(info.annotation, info), default_in_words(info), describe(model, name))
            for name, info in model.model_fields.items()]


# -- the README's table of step types ------------------------------------------------------------------------------
README_BEGIN = "<!-- step types: generated by `python -m curate.steps.help --readme`; edit each class's `summary` -->"
README_END = "<!-- end of step types -->"


def step_types_table() -> str:
    """The Markdown table of every step type (in the registry's order) and its class's `summary`."""
    from curate.steps import STEP_TYPES, step_class

    rows = ["| step type | what it does | code |", "| --- | --- | --- |"]
    rows += [f"| `{name}` | {step_class(name).summary} | `{STEP_TYPES[name].split(':')[0].replace('.', '/')}.py` |"
             for name in STEP_TYPES]
    return "\n".join(rows)


def readme_with_table(readme: str) -> str:
    begin, end = readme.index(README_BEGIN), readme.index(README_END)
    return readme[:begin] + README_BEGIN + "\n" + step_types_table() + "\n" + readme[end:]


if __name__ == "__main__":
    import sys
    from pathlib import Path

    if sys.argv[1:] != ["--readme"]:
        sys.exit("usage: python -m curate.steps.help --readme   (rewrites the step table in README.md)")
    path = Path(__file__).resolve().parents[2] / "README.md"
    path.write_text(readme_with_table(path.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"{path}: step table rewritten")
