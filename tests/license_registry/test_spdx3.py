"""The SPDX 3.0.1 AI BOM: built with the SPDX bindings (spdx-python-model), read back by them, and conformant with
the AI and Dataset profiles."""

import io
import json
from datetime import datetime, timezone

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


def _read(doc) -> spdx.SHACLObjectSet:
    objects = spdx.SHACLObjectSet()
    spdx.JSONLDDeserializer().read(io.BytesIO(json.dumps(doc).encode()), objects)
    return objects


def _nodes(doc, kind):
    return [n for n in doc["@graph"] if n["type"] == kind]


def test_document_reads_back_with_the_spdx_bindings_unchanged():
    doc = _doc()
    objects = _read(doc)
    # serialized again by the bindings (which check every class's required properties and cardinalities)
    again = spdx.JSONLDSerializer().serialize_data(objects)
    assert sorted(json.dumps(n, sort_keys=True) for n in again["@graph"]) == \
        sorted(json.dumps(n, sort_keys=True) for n in doc["@graph"])
    models = list(objects.foreach_type(spdx.ai_AIPackage))
    assert {m.name for m in models} == {"Acme-Chat-1B", "meta-llama/Llama-3.2-1B"}


def test_profile_fields_are_filled():
    doc = _doc()
    assert profile_gaps(doc) == []
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
    # what the request does not know is stated as unknown, not invented
    assert datasets["mystery"]["originatedBy"] == [NO_ASSERTION]
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
    objects = _read(doc)
    try:
        spdx.JSONLDSerializer().serialize_data(objects)
    except ValueError as e:
        assert "dataset_datasetType" in str(e)
    else:
        raise AssertionError("the bindings accepted a dataset without a type")
