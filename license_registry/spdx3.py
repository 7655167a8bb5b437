"""SPDX 3.0.1 JSON-LD for a trained model and its datasets (AI and Dataset profiles), built with the SPDX project's
Python bindings (`spdx-python-model`), which type-check every property on assignment and check every class's
required properties and cardinalities when the document is serialized.

One SpdxDocument with an ai_AIPackage for the model (and one for its base model), one dataset_DatasetPackage per
data source, simplelicensing_LicenseExpression elements, and Relationships (trainedOn, hasDeclaredLicense,
hasConcludedLicense, descendantOf). Beyond what the classes require, the document fills what the AI and Dataset
profiles ask of their packages (`PROFILE_FIELDS`): who supplied the model and where to get it, its version and
release time; who originated each dataset (the upstream creators when the request lists them), where it comes
from, when it was built and released. What the request does not know is not invented: a downloadLocation of the SPDX
`NoAssertionElement`, a packageVersion of "NOASSERTION"; an unknown supplier or originator is left out, because SPDX
3.0.1 has no "no assertion" Agent (`NoAssertionElement` is an IndividualElement, not an Agent, and the model's SHACL
shapes reject it where an Agent is due), and `profile_gaps()` names it. The tests check every document against the
SPDX 3.0.1 JSON schema and SHACL shapes (tests/license_registry/spdx_checks.py).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from spdx_python_model import v3_0_1 as spdx

from .audit.engine import base_model_license
from .audit.report import AuditReport
from .audit.request import AuditRequest, DataSource
from .expression import resolve

SPEC_VERSION = "3.0.1"
CONTEXT = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"
NO_ASSERTION = "https://spdx.org/rdf/3.0.1/terms/Core/NoAssertionElement"

# what the AI and Dataset profiles ask of their packages (SPDX 3.0.1, AI/AIPackage and Dataset/DatasetPackage),
# besides the AI profile's conformance rule: exactly one hasDeclaredLicense and one hasConcludedLicense per AIPackage
PROFILE_FIELDS = {
    "ai_AIPackage": ("name", "suppliedBy", "software_downloadLocation", "software_packageVersion",
                     "software_primaryPurpose", "releaseTime"),
    "dataset_DatasetPackage": ("name", "originatedBy", "software_downloadLocation", "software_primaryPurpose",
                               "builtTime", "releaseTime", "dataset_datasetType"),
}


class _Builder:
    """Elements of one document, with stable IRIs (`<namespace>#<kind>-<slug>-<hash>`) and one CreationInfo."""

    def __init__(self, namespace: str, created: datetime, tool_name: str):
        self.ns, self.created = namespace, created
        self.objects = spdx.SHACLObjectSet()
        self.elements: list[Any] = []
        self._licenses: dict[str, Any] = {}
        self._agents: dict[str, Any] = {}
        self.ci = spdx.CreationInfo(specVersion=SPEC_VERSION, created=created)
        agent = self.add(spdx.SoftwareAgent, "SoftwareAgent", tool_name, name=tool_name)
        tool = self.add(spdx.Tool, "Tool", tool_name, name=tool_name)
        self.ci.createdBy.append(agent)  # createdBy must be an Agent, createdUsing a Tool (SPDX 3.0 Core)
        self.ci.createdUsing.append(tool)

    def iri(self, kind: str, name: str) -> str:
        return f"{self.ns}#{kind}-{_slug(name)[:40]}-{hashlib.sha1(name.encode()).hexdigest()[:8]}"

    def add(self, cls, kind: str, key: str, **props):
        obj = cls(_id=self.iri(kind, key), creationInfo=self.ci, **props)
        self.objects.add(obj)
        self.elements.append(obj)
        return obj

    def organization(self, name: str):
        """One Organization element per name (the supplier, an upstream creator)."""
        if name not in self._agents:
            self._agents[name] = self.add(spdx.Organization, "Organization", name, name=name)
        return self._agents[name]

    def license(self, text: str | None):
        res = resolve(text) if text else None
        expr = res.expression if res and res.expression else "NOASSERTION"
        if expr not in self._licenses:
            self._licenses[expr] = self.add(spdx.simplelicensing_LicenseExpression, "LicenseExpression", expr,
                                            simplelicensing_licenseExpression=expr)
        return self._licenses[expr]

    def relate(self, rel_type: str, src, targets: list) -> None:
        key = f"{rel_type}-{src._id}-{'-'.join(t._id for t in targets)}"
        rel = self.add(spdx.Relationship, "Relationship", key, from_=src,
                       relationshipType=getattr(spdx.RelationshipType, rel_type))
        rel.to.extend(targets)

    def licensed(self, pkg, text: str | None) -> None:
        """One declared and one concluded license: what the source says, and (not having examined it otherwise)
        the same as the concluded one."""
        lic = self.license(text)
        self.relate("hasDeclaredLicense", pkg, [lic])
        self.relate("hasConcludedLicense", pkg, [lic])


def spdx_document(request: AuditRequest, report: AuditReport | None = None,
                  created: datetime | None = None, tool_name: str = "license-registry") -> dict:
    """The document as JSON-LD data (serialized, and so checked, by the bindings)."""
    created = (created or datetime.now(timezone.utc)).replace(microsecond=0)
    model_name = request.model_name or "unnamed-model"
    digest = hashlib.sha256(request.model_dump_json().encode()).hexdigest()[:16]
    b = _Builder(f"https://spdx.org/spdxdocs/{_slug(model_name)}-{digest}", created, tool_name)

    model = b.add(spdx.ai_AIPackage, "AIPackage", model_name, name=model_name,
                  software_primaryPurpose=spdx.software_SoftwarePurpose.model, releaseTime=created,
                  software_packageVersion=request.model_version or "NOASSERTION",
                  software_downloadLocation=request.model_download_location or NO_ASSERTION,
                  ai_autonomyType=spdx.PresenceType.noAssertion)
    if request.model_supplier:
        model.suppliedBy = b.organization(request.model_supplier)
    if request.application:
        model.ai_domain.append(request.application)
    if report is not None:
        limits = [f"{f.license} {f.clause}: {f.message}" for f in report.findings if f.severity in ("block", "review")]
        if limits:
            model.ai_limitation = " | ".join(limits)
        obligations = [f"{o.type}: {o.text or o.license} ({o.license} {o.clause})" for o in report.obligations]
        if obligations:
            model.comment = "License obligations: " + "; ".join(obligations)
        model.ai_informationAboutApplication = f"License audit verdict: {report.verdict}"
    # a curate run folder's sources are found at its shards; the request's own sources where their upstream says
    run_data = _run_sources(request.run_dir) if request.run_dir else []
    run_location = Path(request.run_dir, "data").resolve().as_uri() if request.run_dir else None
    if request.data or run_data:
        model.ai_informationAboutTraining = "Trained on: " + "; ".join(
            _describe_source(s) for s in [*request.data, *run_data])
    b.licensed(model, request.model_license or base_model_license(request))

    datasets = [_dataset(b, src, None) for src in request.data] + [_dataset(b, src, run_location) for src in run_data]
    if datasets:
        b.relate("trainedOn", model, datasets)
    if request.base_model:
        name = request.base_model.name
        hub = f"https://huggingface.co/{name}" if re.fullmatch(r"[\w.-]+/[\w.-]+", name) else NO_ASSERTION
        base = b.add(spdx.ai_AIPackage, "AIPackage", name, name=name, software_downloadLocation=hub,
                     software_primaryPurpose=spdx.software_SoftwarePurpose.model)
        b.licensed(base, base_model_license(request))
        b.relate("descendantOf", model, [base])

    doc = spdx.SpdxDocument(_id=f"{b.ns}#SpdxDocument", creationInfo=b.ci, name=f"AI BOM for {model_name}",
                            dataLicense=b.license("CC0-1.0"))
    doc.profileConformance.extend(getattr(spdx.ProfileIdentifierType, p) for p in
                                  ("core", "software", "simpleLicensing", "ai", "dataset"))
    doc.rootElement.append(model)
    doc.element.extend(b.elements)
    b.objects.add(doc)
    return spdx.JSONLDSerializer().serialize_data(b.objects)


def _dataset(b: _Builder, src: DataSource, location: str | None):
    ds = b.add(spdx.dataset_DatasetPackage, "DatasetPackage", src.name, name=src.name,
               software_primaryPurpose=spdx.software_SoftwarePurpose.data, builtTime=b.created,
               releaseTime=b.created, software_downloadLocation=_dataset_location(src, location))
    ds.dataset_datasetType.append(spdx.dataset_DatasetType.text)
    creators = [u.source for u in src.upstream] or ([src.generated_by.name] if src.generated_by else [])
    ds.originatedBy.extend(b.organization(c) for c in creators)
    if src.bytes is not None:
        ds.dataset_datasetSize = src.bytes
    if src.generated_by:
        ds.dataset_dataCollectionProcess = f"generated by {src.generated_by.name}"
    b.licensed(ds, src.license)
    return ds


def _run_sources(run_dir: str) -> list[DataSource]:
    from .audit.run_folder import data_sources_from_run  # local import: reads Parquet, only for run folders

    return data_sources_from_run(run_dir)


def _dataset_location(src: DataSource, location: str | None) -> str:
    """The one upstream URL, else where the source is known to be (a run folder's shards), else no assertion."""
    urls = {u.url for u in src.upstream if u.url}
    if len(urls) == 1:
        return urls.pop()
    return location or NO_ASSERTION


def _describe_source(src: DataSource) -> str:
    amount = next((f"{getattr(src, k):,} {k}" for k in ("tokens", "bytes", "documents") if getattr(src, k)), "")
    return f"{src.name} ({src.license or 'NOASSERTION'}{', ' + amount if amount else ''})"


def profile_gaps(document: dict) -> list[str]:
    """What keeps `document` (JSON-LD data) from conforming to the AI and Dataset profiles: per AIPackage, a count
    other than one of hasDeclaredLicense / hasConcludedLicense; and the fields of `PROFILE_FIELDS` missing on the
    packages the document describes (its root model and the datasets it was trained on; a base model is referenced
    with what is known of it)."""
    graph = document.get("@graph", [])
    described = {i for n in graph if n.get("type") == "SpdxDocument" for i in n.get("rootElement", [])}
    described |= {t for r in graph if r.get("relationshipType") == "trainedOn" for t in r.get("to", [])}
    gaps = []
    for node in graph:
        for field in PROFILE_FIELDS.get(node.get("type"), ()) if node.get("spdxId") in described else ():
            if node.get(field) in (None, [], ""):
                gaps.append(f"{node['type']} {node.get('name')!r}: no {field}")
        if node.get("type") == "ai_AIPackage":
            for rel in ("hasDeclaredLicense", "hasConcludedLicense"):
                n = sum(1 for r in graph if r.get("type") == "Relationship" and r.get("from") == node["spdxId"]
                        and r.get("relationshipType") == rel)
                if n != 1:
                    gaps.append(f"ai_AIPackage {node.get('name')!r}: {n} {rel} relationships (the AI profile "
                                "requires exactly one)")
    return gaps


def spdx_json(request: AuditRequest, report: AuditReport | None = None, **kw) -> str:
    return json.dumps(spdx_document(request, report, **kw), indent=2, ensure_ascii=False) + "\n"


def _slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "-", s).strip("-") or "x"
