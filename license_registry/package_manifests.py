"""The license a package manifest declares: what its folder's files inherit, before its license files.

Each ecosystem writes it in its own place and its own words:
- npm `package.json` and Composer `composer.json`: `license` (npm's old `licenses` list and `{"type": ...}`);
- Cargo `Cargo.toml`: `[package] license` (the old "MIT/Apache-2.0" is a choice);
- `pyproject.toml`: `[project] license` (a string or `{text = ...}`), `[tool.poetry] license`;
- setuptools `setup.cfg` (`[metadata] license_expression` / `license`) and `setup.py` (the `license=` string of its
  `setup(...)` call, read from the syntax tree: the file is never run); trove classifiers are not read (PEP 639
  deprecates them: "Apache Software License" and "BSD License" name no version);
- Maven `pom.xml`: `<licenses><license><name>` per license, its `<url>` where the name says nothing known;
- RubyGems `*.gemspec`: `spec.license = "MIT"` / `spec.licenses = ["MIT", "Ruby"]` (read as text: never run);
- NuGet `*.nuspec`: `<license type="expression">`, or the deprecated `<licenseUrl>`.

Several licenses in one manifest are a choice (OR): npm and Composer say so for their lists, Maven's POM reference
for its `<licenses>` ("If multiple licenses are listed, it is assumed that the user can select any of them"), and
RubyGems' lists are used that way (racc: `["Ruby", "BSD-2-Clause"]`, Ruby's own dual license). A value that points
to a file ("SEE LICENSE IN ...", `license-file`, `{file = ...}`, NuGet's `type="file"`) leaves the license to the
license files; so does a manifest that is not valid JSON/TOML/XML/Python, or names a license the registry does not
know.
"""

from __future__ import annotations

import ast
import configparser
import json
import re
import tomllib
import xml.etree.ElementTree as ET
from typing import Callable

from .detect import DocumentLicense
from .expression import resolve
from .license_files import LicenseFile
from .notices import license_of_url
from .registry import get_registry

_NOT_A_LICENSE_VALUE = re.compile(r"(?i)^\s*(?:see\s+licen[cs]e|file:|none$|unknown$)")
# npm: "if you do not wish to grant others the right to use a private or unpublished package under any terms"
_NPM_UNLICENSED = "LicenseRef-scancode-proprietary-license"
# NuGet's placeholder licenseUrl of packages that moved to <license>
_NUGET_NO_URL = re.compile(r"(?i)aka\.ms/deprecateLicenseUrl")


def _json(name: str, text: str) -> list[str]:
    data = json.loads(text)
    if not isinstance(data, dict):
        return []
    value = data.get("license") or data.get("licenses")
    if isinstance(value, dict):  # npm's old {"type": "MIT", "url": ...}
        value = value.get("type")
    if isinstance(value, list):
        return [v.get("type") if isinstance(v, dict) else v for v in value]
    return [value]


def _cargo(name: str, text: str) -> list[str]:
    value = (tomllib.loads(text).get("package") or {}).get("license")
    return [value.replace("/", " OR ") if isinstance(value, str) else value]


def _pyproject(name: str, text: str) -> list[str]:
    data = tomllib.loads(text)
    project, poetry = data.get("project") or {}, (data.get("tool") or {}).get("poetry") or {}
    value = project.get("license") or poetry.get("license")
    return [value.get("text") if isinstance(value, dict) else value]  # PEP 621's {text = "..."}; {file = ...}


def _setup_cfg(name: str, text: str) -> list[str]:
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read_string(text)
    return [cfg.get("metadata", "license_expression", fallback=None) or cfg.get("metadata", "license", fallback=None)]


def _setup_py(name: str, text: str) -> list[str]:
    """The `license_expression=` or `license=` string of the `setup(...)` call, or of another call when setup's
    arguments are built apart (crcmod: `setup_dict = dict(..., license="MIT")`, `setup(**setup_dict)`), as written:
    a variable or an expression there is not evaluated, and declares nothing here."""
    calls = [n for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Call)]
    calls.sort(key=lambda n: (getattr(n.func, "id", None) or getattr(n.func, "attr", None)) != "setup")
    for call in calls:
        kw = {k.arg: k.value for k in call.keywords if k.arg}
        for key in ("license_expression", "license"):
            value = kw.get(key)
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                return [value.value]
    return []


def _xml(text: str) -> ET.Element:
    """A manifest's XML; one that declares a document type is refused (ValueError) before it is parsed: neither a
    POM nor a nuspec needs one, and a corpus's file is not trusted (an entity bomb, an external entity)."""
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise ValueError("XML with a document type declaration")
    return ET.fromstring(text)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    return next((c for c in element if _local(c.tag) == name), None)


# GPLv2 with the Classpath exception as Jakarta EE's POMs name it (one name, two ids: the registry's aliases name one
# license each). Their "CDDL + GPLv2 with classpath exception" is left unread: CDDL 1.0 or 1.1 it does not say.
_GPL2_CPE = "GPL-2.0-only WITH Classpath-exception-2.0"
_COMPOUND_NAMES = {
    "gpl2 w/ cpe": _GPL2_CPE,
    "gnu general public license, version 2 (gpl2), with the classpath exception": _GPL2_CPE,
}


def _by_name_or_url(name: str | None, url: str | None) -> str | None:
    """A license's name when the registry knows it, else what its URL points at (Maven's "Apache Public License
    2.0" with the Apache URL); the name as written when neither is known (so the manifest declares nothing)."""
    name = (name or "").strip()
    if name.lower() in _COMPOUND_NAMES:
        return _COMPOUND_NAMES[name.lower()]
    if name and resolve(name).known:
        return name
    url = (url or "").strip()
    if url and not _NUGET_NO_URL.search(url):
        found = license_of_url(url) or get_registry().match_url(url)
        if found:
            return found
    return name or None


def _pom(name: str, text: str) -> list[str]:
    root = _xml(text)
    licenses = _child(root, "licenses")
    if _local(root.tag) != "project" or licenses is None:
        return []
    return [_by_name_or_url(getattr(_child(lic, "name"), "text", None), getattr(_child(lic, "url"), "text", None))
            for lic in licenses if _local(lic.tag) == "license"]


def _nuspec(name: str, text: str) -> list[str]:
    metadata = _child(_xml(text), "metadata")
    if metadata is None:
        return []
    lic = _child(metadata, "license")
    if lic is not None:  # type="expression" (an SPDX expression) or type="file" (left to that file)
        return [lic.text] if lic.get("type", "expression") == "expression" else []
    url = _child(metadata, "licenseUrl")
    return [_by_name_or_url(None, url.text)] if url is not None and url.text else []


# `spec.license = "MIT"`, `s.licenses = ["MIT", "Ruby"]`, `%w[MIT Ruby]`, a `.freeze` after a string
_GEM_LICENSE = re.compile(r"""\.licen[cs]es?\s*=\s*(?P<v>\[[^\]]*\]|%[wW](?:\[[^\]]*\]|\([^)]*\))|(["'])[^"'\n]*\2)""")
_QUOTED = re.compile(r"""(["'])([^"'\n]*)\1""")


def _gemspec(name: str, text: str) -> list[str]:
    m = _GEM_LICENSE.search(text)
    if not m:
        return []
    value = m.group("v")
    if value.startswith("%"):
        return value[3:-1].split()
    return [q.group(2) for q in _QUOTED.finditer(value)]


_BY_NAME: dict[str, Callable[[str, str], list]] = {
    "package.json": _json, "composer.json": _json, "Cargo.toml": _cargo, "pyproject.toml": _pyproject,
    "setup.cfg": _setup_cfg, "setup.py": _setup_py, "pom.xml": _pom,
}
_BY_EXTENSION: dict[str, Callable[[str, str], list]] = {".gemspec": _gemspec, ".nuspec": _nuspec}
PACKAGE_MANIFESTS = (*_BY_NAME, *(f"*{ext}" for ext in _BY_EXTENSION))


def _reader(name: str) -> Callable[[str, str], list] | None:
    stem, dot, ext = name.rpartition(".")
    return _BY_NAME.get(name) or (_BY_EXTENSION.get(dot + ext) if stem else None)


def is_package_manifest(name: str) -> bool:
    return _reader(name) is not None


def read_package_manifest(name: str, text: str) -> LicenseFile | None:
    """The license the manifest `name` declares, as a LicenseFile (`declared`); None when it declares none that the
    registry knows, or cannot be read. npm's "UNLICENSED" (no right to use granted) is proprietary."""
    reader = _reader(name)
    if reader is None:
        return None
    try:
        values = reader(name, text)
    except (ValueError, SyntaxError, RecursionError, configparser.Error, ET.ParseError):
        return None  # not JSON/TOML/INI/XML/Python (tomllib's and json's errors are ValueErrors)
    values = [v.strip() for v in values if isinstance(v, str) and v.strip()]
    if not values or any(_NOT_A_LICENSE_VALUE.match(v) for v in values):
        return None
    value = " OR ".join(f"({v})" for v in values) if len(values) > 1 else values[0]
    res = resolve(_NPM_UNLICENSED if value == "UNLICENSED" else value)
    if not (res.known and res.expression):
        return None
    return LicenseFile(name, DocumentLicense(res.expression, 1.0, res.expression, 1.0), declared=True)
