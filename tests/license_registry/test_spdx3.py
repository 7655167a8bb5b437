"""The SPDX 3.0.1 AI BOM: built with the SPDX bindings (spdx-python-model), read back by them, valid against the
official SPDX 3.0.1 JSON schema and the model's SHACL shapes, and conformant with the AI and Dataset profiles."""

import copy
import json
from datetime import datetime, timezone

import pytest
from spdx_checks import bindings_errors, read_back, schema_errors, shacl_errors
from spdx_python_model import v3_0_1 as spdx

from license_registry import audit, parse_request, spdx_document
from license_registry.spdx3 import NO_ASSERTION, PROFILE_FIELDS, profile_gaps

REQ = {
    "use": "commercial", "model_name": "Acme-Chat-1B", "model_version": "1.2.0", "model_supplier": "Acme Labs",
    "model_download_location": "https://huggingface.co/acme/acme-chat-1b", "base_model": "meta-llama/Llama-3.2-1B",
    "data": [
        {"name": "wiki", "license": "CC-BY-SA-4.0", "bytes": 1000,
         "upstream": [{"source": "en.wikipedia.org", "url": "https://en.wikipedia.org", "documents": 10}]},
        {"name": "docs", "license": "MIT", "upstream": [{"source": "github.com/a/b"}, {"source": "github.com/c/d"}]},
        {"name": "synthetic", "license": "Apache-2.0", "generated_by": {"name": "gpt-x", "terms": "openai"}},
        {"name": "mystery"},
    ],
}


def _doc():
    req = parse_request(REQ)
    return spdx_document(req, audit(req), created=datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc))


def _nodes(doc, kind):
    return [n for n in doc["@graph"] if n["type"] == kind]


def test_document_reads_back_with_the_spdx_bindings_unchanged():
    doc = _doc()
    objects = read_back(doc)
    # serialized again by the bindings (which check every class's required properties and cardinalities)
    again = spdx.JSONLDSerializer().serialize_data(objects)
    assert sorted(json.dumps(n, sort_keys=True) for n in again["@graph"]) == \
        sorted(json.dumps(n, sort_keys=True) for n in doc["@graph"])
    models = list(objects.foreach_type(spdx.ai_AIPackage))
    assert {m.name for m in models} == {"Acme-Chat-1B", "meta-llama/Llama-3.2-1B"}


def test_profile_fields_are_filled():
    doc = _doc()
    # nobody is named for the "mystery" source, and SPDX has no "no assertion" Agent to put there
    assert profile_gaps(doc) == ["dataset_DatasetPackage 'mystery': no originatedBy"]
    model = next(n for n in _nodes(doc, "ai_AIPackage") if n["name"] == "Acme-Chat-1B")
    assert model["software_packageVersion"] == "1.2.0" and model["releaseTime"] == "2025-01-02T03:04:05Z"
    assert model["software_downloadLocation"] == "https://huggingface.co/acme/acme-chat-1b"
    supplier = next(n for n in doc["@graph"] if n.get("spdxId") == model["suppliedBy"])
    assert supplier["type"] == "Organization" and supplier["name"] == "Acme Labs"
    assert "wiki (CC-BY-SA-4.0, 1,000 bytes)" in model["ai_informationAboutTraining"]
    datasets = {d["name"]: d for d in _nodes(doc, "dataset_DatasetPackage")}
    orgs = {n["spdxId"]: n["name"] for n in _nodes(doc, "Organization")}
    assert [orgs[o] for o in datasets["wiki"]["originatedBy"]] == ["en.wikipedia.org"]
    assert datasets["wiki"]["software_downloadLocation"] == "https://en.wikipedia.org"
    assert sorted(orgs[o] for o in datasets["docs"]["originatedBy"]) == ["github.com/a/b", "github.com/c/d"]
    assert [orgs[o] for o in datasets["synthetic"]["originatedBy"]] == ["gpt-x"]
    # what the request does not know is not invented
    assert "originatedBy" not in datasets["mystery"]
    assert datasets["mystery"]["software_downloadLocation"] == NO_ASSERTION
    base = next(n for n in _nodes(doc, "ai_AIPackage") if n["name"] == "meta-llama/Llama-3.2-1B")
    assert base["software_downloadLocation"] == "https://huggingface.co/meta-llama/Llama-3.2-1B"


def test_profile_gaps_finds_what_is_missing():
    doc = _doc()
    model = next(n for n in _nodes(doc, "ai_AIPackage") if n["name"] == "Acme-Chat-1B")
    del model["suppliedBy"]
    ds = _nodes(doc, "dataset_DatasetPackage")[0]
    del ds["builtTime"]
    doc["@graph"] = [n for n in doc["@graph"] if not (n["type"] == "Relationship" and n["from"] == model["spdxId"]
                                                      and n["relationshipType"] == "hasConcludedLicense")]
    gaps = profile_gaps(doc)
    assert "ai_AIPackage 'Acme-Chat-1B': no suppliedBy" in gaps
    assert f"dataset_DatasetPackage {ds['name']!r}: no builtTime" in gaps
    assert any("0 hasConcludedLicense" in g for g in gaps)
    assert set(PROFILE_FIELDS) == {"ai_AIPackage", "dataset_DatasetPackage"}


def test_bindings_refuse_a_document_that_breaks_the_model():
    doc = _doc()
    ds = _nodes(doc, "dataset_DatasetPackage")[0]
    ds["dataset_datasetType"] = []  # the Dataset class requires at least one type
    errors = bindings_errors(doc)
    assert len(errors) == 1 and "dataset_datasetType" in errors[0]


def test_every_part_the_builder_writes_is_valid():
    """One document with every class and property the builder writes (a model with all its optional fields and an
    audit report, its base model; datasets with upstream creators, a generator or nothing known) against the
    official SPDX 3.0.1 JSON schema and the model's SHACL shapes. (A run folder's sources differ only in their
    downloadLocation: test_license_cli.py. One document, because jsonschema takes seconds per document here.)"""
    doc = _doc()
    assert schema_errors(doc) == []
    assert shacl_errors(doc) == []


def _smallest():
    """No data, no base model, no supplier, no audit report."""
    return spdx_document(parse_request({"use": "research"}), created=datetime(2025, 1, 2, tzinfo=timezone.utc))


def test_smallest_document_is_valid():
    doc = _smallest()
    assert schema_errors(doc) == [] and shacl_errors(doc) == [] and bindings_errors(doc) == []
    assert profile_gaps(doc) == ["ai_AIPackage 'unnamed-model': no suppliedBy"]


def test_shacl_shapes_check_what_a_reference_points_at():
    """A supplier must be an Agent. The JSON schema sees an IRI and lets a Tool or NoAssertionElement (which the
    builder used to write for an unknown supplier) through; the SHACL shapes refuse both."""
    doc = _smallest()
    model = _nodes(doc, "ai_AIPackage")[0]
    for not_an_agent in (_nodes(doc, "Tool")[0]["spdxId"], NO_ASSERTION):
        model["suppliedBy"] = not_an_agent
        assert schema_errors({"@context": doc["@context"], "@graph": [model]}) == []
        errors = shacl_errors(doc)
        assert len(errors) == 1 and errors[0].endswith("Agent"), errors
        assert errors[0].startswith(f"{model['spdxId']} https://spdx.org/rdf/3.0.1/terms/Core/suppliedBy: "
                                    "Value does not have class")


# (node type, what breaks it, what the schema check must say); each on a document of that one node, so that the
# message is about the change and the check stays fast
BROKEN = [
    ("ai_AIPackage", lambda n: n.pop("creationInfo"), "$: 'creationInfo' is a required property"),
    ("ai_AIPackage", lambda n: n.update(software_packageVersion=1),
     "$.software_packageVersion: 1 is not of type 'string'"),
    ("ai_AIPackage", lambda n: n.update(releaseTime="2025-01-02T03:04:05.5Z"),  # SPDX times have no fractions
     "$.releaseTime: '2025-01-02T03:04:05.5Z' does not match"),
    ("ai_AIPackage", lambda n: n.update(license="MIT"), "'license' was unexpected"),
    ("ai_AIPackage", lambda n: n.update(software_primaryPurpose="weights"),
     "$.software_primaryPurpose: 'weights' is not one of"),
    ("dataset_DatasetPackage", lambda n: n.update(dataset_datasetType=[]),
     "$.dataset_datasetType: [] should be non-empty"),
    ("Relationship", lambda n: n.pop("relationshipType"), "$: 'relationshipType' is a required property"),
]


@pytest.mark.parametrize("kind,breaks,message", BROKEN, ids=[f"{kind}-{i}" for i, (kind, _, _) in enumerate(BROKEN)])
def test_json_schema_rejects_a_broken_node(kind, breaks, message):
    doc = _doc()
    node = copy.deepcopy(_nodes(doc, kind)[0])
    one = {"@context": doc["@context"], "@graph": [node]}
    assert schema_errors(one) == []
    breaks(node)
    errors = schema_errors(one)
    assert errors and all(e.startswith(f"@graph[0] ({kind}) ") for e in errors), errors
    assert any(message in e for e in errors), errors


def test_json_schema_rejects_another_spdx_version():
    doc = _doc()
    one = {"@context": "https://spdx.org/rdf/3.0.0/spdx-context.jsonld", "@graph": _nodes(doc, "Tool")}
    assert schema_errors(one) == ["$['@context']: 'https://spdx.org/rdf/3.0.1/spdx-context.jsonld' was expected"]
