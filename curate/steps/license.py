"""License provenance: every document's `license`, where it came from, and how sure we are; and a policy step.

Precedence, most specific first: a license field in the input record (`record`), the licenses stated in the document
itself — SPDX-License-Identifier tags, notices, license headers and texts, Creative Commons links or badges, as one
expression (`detected`) — the license files of the nearest folder above it in its repository (`inherited`), and the
license the pipeline declares for the source (`declared`). Matching and normalisation are `license_registry`'s; this
module only applies them.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any, Literal

import pyarrow as pa
from datatrove.data import Document

from curate import document as D
from curate.readers.formats import ITERATORS
from curate.steps.base import CurateStep, StepParams

# LICENSE, LICENCE.md, COPYING.LESSER, LICENSE-MIT, LICENSE.APACHE, LICENSE_GPL2.0.txt, UNLICENSE; not license.py
LICENSE_FILE = re.compile(r"(?i)(?:licen[cs]e|copying|unlicense)(?:[._-][\w.+-]*)?")
CODE_EXTENSIONS = frozenset("py pyi js mjs ts tsx jsx c h cc cpp hpp go rs java kt rb php cs swift scala sh pl m r "
                            "json yaml yml toml cfg ini xml html css ipynb".split())


def is_license_file(path: str) -> bool:
    name = posixpath.basename(path.replace("\\", "/"))
    return bool(LICENSE_FILE.fullmatch(name)) and name.rpartition(".")[2].lower() not in CODE_EXTENSIONS


def is_debian_copyright(path: str) -> bool:
    """debian/copyright: a package's copyright file, in Debian's machine-readable format or not."""
    parts = path.replace("\\", "/").strip("/").split("/")
    return len(parts) >= 2 and parts[-2:] == ["debian", "copyright"]


def normalize(expression: str | None) -> str:
    """A normalised SPDX expression (or our LicenseRef-…) when the registry knows it; the input otherwise."""
    from license_registry import resolve

    if not expression:
        return "NOASSERTION"
    res = resolve(expression)
    return res.expression if res.known and res.expression else expression


class LicenseDetectParams(StepParams):
    min_confidence: float = 0.8  # below this, a match in the text is recorded but does not set `license`
    repo_field: str = "repo"  # input field naming the repository a code file belongs to
    path_field: str = "path"  # input field with the file's path inside its repository
    # read the license files in the input (LICENSE, COPYING.LESSER, LICENSE-MIT...) and the license fields of package
    # manifests (package.json, Cargo.toml, pyproject.toml, setup.py, pom.xml, *.gemspec, ...): the files below their
    # folder inherit them
    license_files: bool = True
    # characters scanned at the head of a document (tags, headers) and at its tail (footers of HTML pages)
    scan_chars: int = 20000
    # auto: built-in rules, then ScanCode's matcher on the windows they leave unexplained when scancode-toolkit-mini
    # (the `licenses` extra) is installed, else builtin alone; scancode: fail without it
    engine: Literal["auto", "builtin", "scancode"] = "auto"


class LicenseDetect(CurateStep):
    """Detect and settle each document's license (SPDX tags, notices, license links and badges, texts, headers).

    Runs on HTML (before `html_extract`: links count) or on text."""
    summary = (
        "every document's `license`, `license_source`, `license_confidence`: record field > the licenses stated "
        "in the text, as one expression (SPDX tag, \"Licensed under …\" notice, license link or badge, full text or "
        "header: a cheap pre-check, built-in rules, then ScanCode's matcher for what they leave unexplained) > the "
        "license files and package manifest (package.json, Cargo.toml, pyproject.toml, setup.py, pom.xml, "
        "*.gemspec...: their license field) of the nearest folder above it in its repository, or what its package's "
        "`debian/copyright` "
        "declares for it > the source's declared license"
    )

    type_name = "license_detect"
    doc = "docs/license_registry.md"
    tests = ("tests/test_license_provenance.py", "tests/test_license_notices_real.py")
    Params = LicenseDetectParams
    # license_inherited_from: the files an inherited license comes from ("crate/Cargo.toml, crate/LICENSE-MIT")
    columns = {"license_detected": pa.string(), "license_inherited_from": pa.string()}

    def __init__(self, params: LicenseDetectParams, ctx, name=None):
        super().__init__(params, ctx, name)
        from license_registry.scancode_match import available

        if params.engine == "scancode" and not available():
            raise ValueError(f"{self.step_name}: engine 'scancode' needs scancode-toolkit-mini "
                             "(pip install -e '.[licenses]'); use engine: auto or builtin")
        # repository -> folder -> the license its files inherit, with its confidence and the files it comes from
        # (string keys: datatrove saves the steps as JSON)
        self.folder_licenses: dict[str, dict[str, tuple[str, float, str]]] = {}
        # repository -> package root (the folder above debian/) -> its Debian copyright file's paragraphs, in order:
        # (file patterns, license)
        self.debian_copyrights: dict[str, dict[str, list[tuple[list[str], str]]]] = {}

    def prepare(self, files: list[dict[str, Any]]) -> None:
        """Before the run: find the license files in the input, so that the files of their repository can inherit
        them even when the license file comes later in the stream (or in another task). A folder's license files
        (LICENSE, LICENSE.PSF, COPYING.LESSER...) together give the license of every file below it that states none
        and has no nearer license file (vendor/llhttp/LICENSE for vendor/llhttp/): each file's primary license (what
        it states first, not the licenses of bundled code it lists after), joined with AND (greenlet: LICENSE and
        LICENSE.PSF, "MIT AND PSF-2.0"), and a file that names others ("either of the licenses found in
        LICENSE.APACHE or LICENSE.BSD") standing for them (`license_registry.license_files`). A package manifest's
        license field (package.json, composer.json, Cargo.toml, pyproject.toml, setup.cfg, setup.py, pom.xml,
        *.gemspec, *.nuspec: `license_registry.package_manifests`) is what the package declares: it gives its folder's
        license (Rust's "MIT OR Apache-2.0" next to LICENSE-MIT and LICENSE-APACHE); so does a README whose license
        section offers the folder's license files as a choice ("Licensed under either of ... LICENSE-APACHE ...
        LICENSE-MIT ... at your option"). A machine-readable Debian copyright file (`debian/copyright`) declares the
        license of each group of files of its package by pattern: those declarations are what its files inherit."""
        if not self.params.license_files:
            return
        from license_registry import folder_license, read_license_file
        from license_registry.license_files import README_FILE, read_readme
        from license_registry.debian_copyright import read_debian_copyright
        from license_registry.package_manifests import is_package_manifest, read_package_manifest

        found: dict[tuple[str, str], dict[str, Any]] = {}  # (repository, folder) -> {file name: its LicenseFile}
        for spec in files:
            if spec["format"] not in ("jsonl", "parquet"):
                continue
            for rec in ITERATORS[spec["format"]](spec["path"]):
                data = rec.data
                if not data:
                    continue
                path, repo = data.get(self.params.path_field), data.get(self.params.repo_field)
                if isinstance(path, str) and repo and is_debian_copyright(path):
                    declared = read_debian_copyright(str(data.get(spec["text_field"]) or ""), self.params.engine)
                    if declared and declared.paragraphs:
                        root = posixpath.dirname(posixpath.dirname(path.replace("\\", "/").strip("/")))
                        self.debian_copyrights.setdefault(str(repo), {})[root] = [
                            (list(p.patterns), normalize(p.license)) for p in declared.paragraphs]
                if not (isinstance(path, str) and repo):
                    continue
                path = path.replace("\\", "/").strip("/")
                name, text = posixpath.basename(path), str(data.get(spec["text_field"]) or "")
                if is_package_manifest(name):  # package.json, Cargo.toml, pom.xml, ...: the declared license
                    read = read_package_manifest(name, text)
                elif is_license_file(path):
                    read = read_license_file(name, text, engine=self.params.engine,
                                             min_confidence=self.params.min_confidence)
                elif README_FILE.fullmatch(name):  # only one whose license section offers the folder's files
                    read = read_readme(name, text)
                else:
                    continue
                if read:
                    found.setdefault((str(repo), posixpath.dirname(path)), {})[name] = read
        for (repo, folder), license_files in found.items():
            inherited = folder_license(list(license_files.values()), self.params.min_confidence)
            if inherited:
                origin = ", ".join(posixpath.join(folder, n) for n, f in sorted(license_files.items())
                                   if f.license or f.names or f.declared)
                self.folder_licenses.setdefault(repo, {})[folder] = (*inherited, origin)

    def inherited(self, doc: Document) -> tuple[str, float, str] | None:
        """The license `doc` inherits in its repository, its confidence and the files it comes from: a Debian
        copyright file's declaration for its path when a group other than `Files: *` names it, else the license files
        of the nearest folder above it, a package's `Files: *` counting as license files of its root folder (and
        winning there)."""
        repo, path = D.field(doc, self.params.repo_field), D.field(doc, self.params.path_field)
        if not repo:
            return None
        path = str(path).replace("\\", "/").strip("/") if isinstance(path, str) else ""
        declared = self._declared(str(repo), path)
        copyright_file = posixpath.join(declared[1], "debian/copyright") if declared else ""
        if declared and declared[2]:
            return declared[0], 1.0, copyright_file
        folders = self.folder_licenses.get(str(repo)) or {}
        folder = posixpath.dirname(path)
        while True:
            if declared and len(folder) <= len(declared[1]):
                return declared[0], 1.0, copyright_file
            if folder in folders:
                return tuple(folders[folder])
            if not folder:
                return None
            folder = posixpath.dirname(folder)

    def _declared(self, repo: str, path: str) -> tuple[str, str, bool] | None:
        """(license, package root, named by a pattern other than "*") from the Debian copyright file of the nearest
        package above `path`."""
        from license_registry.debian_copyright import declared_for

        roots = self.debian_copyrights.get(repo)
        folder = posixpath.dirname(path)
        while roots:
            if folder in roots:
                found = declared_for(roots[folder], path[len(folder) + 1:] if folder else path)
                return (found[0], folder, found[1]) if found else None
            if not folder:
                return None
            folder = posixpath.dirname(folder)
        return None

    def _scan_text(self, doc: Document) -> str:
        """The head and tail of a document; a license file whole (the middle of a bundled GPL text quotes the
        names of the Affero and Lesser GPL: only the whole text tells them apart), and a Debian copyright file whole
        (its paragraphs declare a license each)."""
        from license_registry.debian_copyright import is_machine_readable

        text, n = doc.text, self.params.scan_chars
        path = D.field(doc, self.params.path_field)
        if (len(text) <= 2 * n or self.params.license_files and isinstance(path, str) and is_license_file(path)
                or is_machine_readable(text)):
            return text
        return text[:n] + "\n" + text[-n:]

    def process(self, doc: Document) -> str | None:
        from license_registry import detect_license_expression, refine_generic_names

        meta = doc.metadata
        found = detect_license_expression(self._scan_text(doc), engine=self.params.engine,
                                          min_confidence=self.params.min_confidence)
        detected = normalize(found.expression) if found else None
        if detected and "LicenseRef-Unknown-" in detected and (around := self.inherited(doc)):
            detected = refine_generic_names(detected, around[0])  # "the BSD License": the one its folder has
        meta["license_detected"] = detected
        meta["license_inherited_from"] = None
        if meta.get(D.LICENSE_SOURCE) == "record":
            meta[D.LICENSE] = normalize(meta.get(D.LICENSE))
        elif found and found.confidence >= self.params.min_confidence:
            meta[D.LICENSE], meta[D.LICENSE_SOURCE] = detected, "detected"
            meta[D.LICENSE_CONFIDENCE] = found.confidence
        elif inherited := self.inherited(doc):
            meta[D.LICENSE], meta[D.LICENSE_SOURCE] = inherited[0], "inherited"
            meta[D.LICENSE_CONFIDENCE] = round(0.9 * inherited[1], 3)
            meta["license_inherited_from"] = inherited[2]
        else:
            meta[D.LICENSE] = normalize(meta.get(D.LICENSE))
        self.count(f"{meta[D.LICENSE_SOURCE]}:{meta[D.LICENSE]}")
        return None


class LicensePolicyParams(StepParams):
    # license_registry policies, all must pass: commercial-safe, permissive-only, deny-nc-nd, deny-unknown
    policy: list[str] = []
    allow: list[str] = []  # license ids always kept (checked first)
    deny: list[str] = []  # license ids always removed
    on_unknown: Literal["policy", "keep", "remove"] = "policy"  # NOASSERTION / unresolvable licenses


class LicensePolicy(CurateStep):
    """Keep only documents whose license fits a policy; a removal's reason is the license (`license:CC-BY-NC-4.0`)."""
    summary = (
        "keep only documents whose license fits a policy (`commercial-safe`, `permissive-only`, `deny-nc-nd`,"
        " `deny-unknown`, allow/deny lists); reason `license:<id>`"
    )

    type_name = "license_policy"
    doc = "docs/license_registry.md"
    tests = ("tests/test_license_provenance.py",)
    Params = LicensePolicyParams

    def __init__(self, params: LicensePolicyParams, ctx, name=None):
        super().__init__(params, ctx, name)
        from license_registry import POLICIES

        bad = [p for p in params.policy if p not in POLICIES]
        if bad:
            raise ValueError(f"{self.step_name}: unknown policy {bad}; allowed: {', '.join(POLICIES)}")
        self._cache: dict[str, bool] = {}

    def allowed(self, expression: str) -> bool:
        if expression not in self._cache:
            from license_registry import classify_policy, resolve

            p = self.params
            res = resolve(expression)
            ids = set(res.ids)
            if expression in p.allow or (ids and ids <= set(p.allow)):
                ok = True
            elif expression in p.deny or ids & set(p.deny):
                ok = False
            elif not res.known and p.on_unknown != "policy":
                ok = p.on_unknown == "keep"
            else:
                ok = classify_policy(res, p.policy).allowed if p.policy else True
            self._cache[expression] = ok
        return self._cache[expression]

    def process(self, doc: Document) -> str | None:
        expression = str(doc.metadata.get(D.LICENSE) or "NOASSERTION")
        return None if self.allowed(expression) else expression
