"""`curate steps TYPE`: each parameter of a step with its type in words, its default and one line saying what it does;
and the tables generated from the step classes (`python -m curate.steps.help --docs`): the README's table of step
types (each class's `summary`, code, `doc`, `tests`) and each step's parameter table in its doc.

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
import re
import textwrap
import tokenize
import types
import typing
from functools import lru_cache
from pathlib import Path
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
        return f"at least {m.min_length} item{'s' if m.min_length != 1 else ''}"
    if isinstance(m, MaxLen):
        return f"at most {m.max_length} item{'s' if m.max_length != 1 else ''}"
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


# -- generated tables: the README's step types, each step's parameters in its doc ---------------------------------
GENERATE = "python -m curate.steps.help --docs"
README_BEGIN = f"<!-- step types: generated by `{GENERATE}`; edit each class's `summary`, `doc`, `tests` -->"
README_END = "<!-- end of step types -->"
PARAMS_END = "<!-- /params -->"
REPO = Path(__file__).resolve().parents[2]


def params_begin(type_name: str) -> str:
    return f"<!-- params:{type_name} (generated by `{GENERATE}` from the comments in the step's Params) -->"


def step_types_table() -> str:
    """The Markdown table of every step type (in the registry's order): what it does, its code, doc and tests."""
    from curate.steps import STEP_TYPES, step_class

    rows = ["| step type | what it does | code | doc | tests |", "| --- | --- | --- | --- | --- |"]
    for name in STEP_TYPES:
        cls = step_class(name)
        code = STEP_TYPES[name].split(":")[0].replace(".", "/") + ".py"
        tests = ", ".join(f"`{t}`" for t in cls.tests)
        rows.append(f"| `{name}` | {cls.summary} | `{code}` | [{Path(cls.doc).name}]({cls.doc}) | {tests} |")
    return "\n".join(rows)


def parameter_table(type_name: str) -> str:
    """A step's parameters as a Markdown table: name, type in words, default, meaning (`apply_to`, which every
    step takes, is left out)."""
    from curate.steps import StepParams, step_class

    rows = ["| parameter | type | default | meaning |", "| --- | --- | --- | --- |"]
    for name, type_words, default, description in parameter_rows(step_class(type_name).Params):
        if name not in StepParams.model_fields:
            default = default if default == "required" else f"`{default}`"
            rows.append(f"| `{name}` | {_cell(type_words)} | {_cell(default)} | {_cell(description)} |")
    return "\n".join(rows)


def _cell(text: str) -> str:
    """Text safe in a Markdown table cell: no column breaks, no HTML tags (`<pre>` is a word here)."""
    return re.sub(r"<(?=[A-Za-z/!])", "&lt;", text.replace("|", "\\|"))


def docs_by_file() -> dict[str, list[str]]:
    """{doc path: the step types whose class names it as their `doc`}, in the registry's order."""
    from curate.steps import STEP_TYPES, step_class

    out: dict[str, list[str]] = {}
    for name in STEP_TYPES:
        out.setdefault(step_class(name).doc, []).append(name)
    return out


def readme_with_table(readme: str) -> str:
    begin, end = readme.index(README_BEGIN), readme.index(README_END)
    return readme[:begin] + README_BEGIN + "\n" + step_types_table() + "\n" + readme[end:]


def doc_with_tables(doc: str, text: str, step_types: list[str]) -> str:
    """`text` of the file `doc` with the parameter table of each of `step_types` rewritten in its marked block."""
    found = re.findall(r"<!-- params:(\w+) ", text)
    missing = [name for name in step_types if name not in found]
    if missing:
        raise ValueError(f"{doc}: no parameter block for {missing} (their classes name this doc); add, for each, "
                         f"the lines `{params_begin('TYPE')}` and `{PARAMS_END}`")
    foreign = [name for name in found if name not in step_types]
    if foreign:
        raise ValueError(f"{doc}: a parameter block for {foreign}, whose classes name another doc")
    for name in step_types:
        begin = params_begin(name)
        if begin not in text:
            raise ValueError(f"{doc}: the block of {name} must start with the line `{begin}`")
        start = text.index(begin) + len(begin)
        end = text.index(PARAMS_END, start)
        text = text[:start] + "\n" + parameter_table(name) + "\n" + text[end:]
    return text


def generated() -> dict[Path, tuple[str, str]]:
    """{file: (its text now, its text with every generated table current)} for the README and each step's doc."""
    out = {}
    readme = REPO / "README.md"
    text = readme.read_text(encoding="utf-8")
    out[readme] = (text, readme_with_table(text))
    for doc, step_types in docs_by_file().items():
        path = REPO / doc
        text = path.read_text(encoding="utf-8")
        out[path] = (text, doc_with_tables(doc, text, step_types))
    return out


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["--docs"]:
        sys.exit(f"usage: {GENERATE}   (rewrites the step table in README.md and each step's parameter table in "
                 f"its doc)")
    for path, (now, current) in generated().items():
        if now != current:
            path.write_text(current, encoding="utf-8")
            print(f"{path.relative_to(REPO)}: rewritten")
