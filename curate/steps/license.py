"""License provenance: every document's `license`, where it came from, and how sure we are; and a policy step.

Precedence, most specific first: a license field in the input record (`record`), a license found in the document
itself — an SPDX-License-Identifier tag, a known license header, a Creative Commons link or badge (`detected`) — a
LICENSE/COPYING file of the same repository in the input (`inherited`), and the license the pipeline declares for
the source (`declared`). Matching and normalisation are `license_registry`'s; this module only applies them.
"""

from __future__ import annotations

import os
from typing import Any, Literal

import pyarrow as pa
from datatrove.data import Document

from curate import document as D
from curate.readers.formats import ITERATORS
from curate.steps.base import CurateStep, StepParams

LICENSE_FILE_NAMES = {"license", "license.txt", "license.md", "licence", "licence.txt", "licence.md", "copying",
                      "copying.txt", "copying.md", "license-mit", "unlicense"}


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
    license_files: bool = True  # read LICENSE/COPYING files in the input and let their repository inherit them
    # characters scanned at the head of a document (tags, headers) and at its tail (footers of HTML pages)
    scan_chars: int = 20000
    # auto: built-in rules, then ScanCode's matcher on the windows they leave unexplained when scancode-toolkit-mini
    # (the `licenses` extra) is installed, else builtin alone; scancode: fail without it
    engine: Literal["auto", "builtin", "scancode"] = "auto"


class LicenseDetect(CurateStep):
    """Detect and settle each document's license (SPDX tags, notices, license links and badges, texts, headers).

    Runs on HTML (before `html_extract`: links count) or on text."""
    summary = (
        "every document's `license`, `license_source`, `license_confidence`: record field > a license stated "
        "in the text (SPDX tag, \"Licensed under …\" notice, license link or badge, full text or header: a "
        "cheap pre-check, built-in rules, then ScanCode's matcher for what they leave unexplained) > the "
        "repository's LICENSE file > the source's declared license"
    )

    type_name = "license_detect"
    doc = "docs/license_registry.md"
    tests = ("tests/test_license_provenance.py", "tests/test_license_notices_real.py")
    Params = LicenseDetectParams
    columns = {"license_detected": pa.string()}

    def __init__(self, params: LicenseDetectParams, ctx, name=None):
        super().__init__(params, ctx, name)
        from license_registry.scancode_match import available

        if params.engine == "scancode" and not available():
            raise ValueError(f"{self.step_name}: engine 'scancode' needs scancode-toolkit-mini "
                             "(pip install -e '.[licenses]'); use engine: auto or builtin")
        self.repo_licenses: dict[str, tuple[str, float]] = {}

    def prepare(self, files: list[dict[str, Any]]) -> None:
        """Before the run: find LICENSE files in the input, so files of their repository can inherit them even when
        the LICENSE file comes later in the stream (or in another task)."""
        if not self.params.license_files:
            return
        from license_registry import detect_license_text

        for spec in files:
            if spec["format"] not in ("jsonl", "parquet"):
                continue
            for rec in ITERATORS[spec["format"]](spec["path"]):
                data = rec.data
                if not data:
                    continue
                path, repo = data.get(self.params.path_field), data.get(self.params.repo_field)
                if not (isinstance(path, str) and repo and os.path.basename(path).lower() in LICENSE_FILE_NAMES):
                    continue
                found = detect_license_text(str(data.get(spec["text_field"]) or ""), engine=self.params.engine)
                if found and found[0][1] >= self.params.min_confidence:
                    self.repo_licenses[str(repo)] = (normalize(found[0][0]), found[0][1])

    def _scan_text(self, text: str) -> str:
        n = self.params.scan_chars
        return text if len(text) <= 2 * n else text[:n] + "\n" + text[-n:]

    def process(self, doc: Document) -> str | None:
        from license_registry import detect_license_text

        meta = doc.metadata
        found = detect_license_text(self._scan_text(doc.text), engine=self.params.engine)
        best = (normalize(found[0][0]), found[0][1]) if found else None
        meta["license_detected"] = best[0] if best else None
        if meta.get(D.LICENSE_SOURCE) == "record":
            meta[D.LICENSE] = normalize(meta.get(D.LICENSE))
        elif best and best[1] >= self.params.min_confidence:
            meta[D.LICENSE], meta[D.LICENSE_SOURCE], meta[D.LICENSE_CONFIDENCE] = best[0], "detected", best[1]
        elif str(D.field(doc, self.params.repo_field)) in self.repo_licenses:
            lic, conf = self.repo_licenses[str(D.field(doc, self.params.repo_field))]
            meta[D.LICENSE], meta[D.LICENSE_SOURCE], meta[D.LICENSE_CONFIDENCE] = lic, "inherited", round(0.9 * conf, 3)
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
