"""Model-card section and SPDX 3.0 JSON-LD."""

import json
from datetime import datetime, timezone

from license_registry import audit, model_card_section, parse_request, spdx_document

REQ = {
    "use": "commercial", "distribution": "weights", "model_name": "Llama-Acme-1B",
    "base_model": {"name": "meta-llama/Llama-3.2-1B", "license": "llama3.2"},
    "data": [{"name": "allenai/c4", "license": "ODC-BY-1.0", "tokens": 100, "bytes": 400},
             {"name": "wiki", "license": "CC-BY-SA-4.0", "tokens": 50}],
}


def test_model_card_section_from_request():
    card = model_card_section(REQ)
    assert card.metadata == {"license": "llama3.2", "base_model": "meta-llama/Llama-3.2-1B",
                             "datasets": ["allenai/c4", "wiki"]}
    assert card.attributions == ["Built with Llama"]
    assert card.notices[0].startswith("Llama 3.2 is licensed under the Llama 3.2 Community License")
    text = card.render()
    assert text.startswith("---\nlicense: llama3.2\n") and "**Built with Llama**" in text
    assert "Llama Acceptable Use Policy" in text and "allenai/c4: licensed under ODC-By-1.0" in text
    assert card.notice_file().strip() == card.notices[0]


def test_model_card_other_license_and_spdx_license():
    gemma = model_card_section({"use": "research", "base_model": "google/gemma-2-2b"})
    assert gemma.metadata["license"] == "gemma"
    other = model_card_section({"use": "research", "model_license": "Zlib"})
    assert other.metadata["license"] == "zlib"
    llama4 = model_card_section({"use": "research", "model_license": "LicenseRef-scancode-llama-4-cla-2025"})
    assert llama4.metadata["license"] == "llama4"
    # ScanCode's `llama-4-license-2025` record is the Llama 4 Acceptable Use Policy: its id means Llama 4's terms
    aup_id = model_card_section({"use": "research", "model_license": "LicenseRef-scancode-llama-4-license-2025"})
    assert aup_id.metadata["license"] == "llama4"
    custom = model_card_section({"use": "research", "model_license": "LicenseRef-scancode-falcon-2-11b-1.0"})
    assert custom.metadata["license"] == "other" and custom.metadata["license_name"]


def test_model_card_credits_each_dataset_under_its_license_and_clause():
    """ODC-By §4.3 and CC BY-SA §3(a)(1) ask for credit: each dataset gets a line with its license and the clause."""
    card = model_card_section(REQ)
    assert card.credits == [
        "- allenai/c4: licensed under ODC-By-1.0 (if you Publicly Use a Produced Work, You must include a notice "
        "associated with the Produced Work - §4.3)",
        "- wiki: licensed under CC-BY-SA-4.0 (If You Share the Licensed Material (including in modified form), You "
        "must - §3(a)(1))"]
    assert card.attribution_file() == "\n".join(card.credits) + "\n"
    section = card.markdown.split("### Training data attribution", 1)[1]
    assert all(line in section for line in card.credits)
    # the Llama license's use restriction binds whoever receives the model
    assert "### Use restrictions" in card.markdown and "- Llama Acceptable Use Policy" in card.markdown


def test_model_card_from_report_says_what_the_request_does():
    """A card built from an existing report (and its request) carries the same license, notices, attributions
    and credits as one audited from the request."""
    req = parse_request(REQ)
    report = audit(req)
    card, direct = model_card_section(report, request=req), model_card_section(REQ)
    assert card.report is report
    assert card.metadata == {"license": "llama3.2", "base_model": "meta-llama/Llama-3.2-1B",
                             "datasets": ["allenai/c4", "wiki"]}
    assert card.attributions == ["Built with Llama"] and card.notices == direct.notices
    assert card.credits == direct.credits and len(card.credits) == 2
    assert card.render() == direct.render()
    # the obligations the card shows are the report's model-scope obligations, by type
    shown = {(o.type, o.text) for o in report.obligations if o.scope == "model"}
    assert {("display_attribution", "Built with Llama"), ("notice_file", card.notices[0]),
            ("use_restriction_passthrough", "Llama Acceptable Use Policy")} <= shown


def test_spdx3_document_structure():
    req = parse_request(REQ)
    doc = spdx_document(req, audit(req), created=datetime(2025, 1, 2, tzinfo=timezone.utc))
    assert doc["@context"] == "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"
    graph = doc["@graph"]
    by_type = {}
    for node in graph:
        by_type.setdefault(node["type"], []).append(node)
    assert by_type["CreationInfo"][0]["specVersion"] == "3.0.1"
    assert by_type["CreationInfo"][0]["created"] == "2025-01-02T00:00:00Z"
    model = next(n for n in by_type["ai_AIPackage"] if n["name"] == "Llama-Acme-1B")
    assert model["software_primaryPurpose"] == "model"
    datasets = by_type["dataset_DatasetPackage"]
    assert {d["name"] for d in datasets} == {"allenai/c4", "wiki"}
    assert all(d["dataset_datasetType"] == ["text"] for d in datasets)
    rels = by_type["Relationship"]
    trained = [r for r in rels if r["relationshipType"] == "trainedOn"]
    assert trained[0]["from"] == model["spdxId"] and set(trained[0]["to"]) == {d["spdxId"] for d in datasets}
    assert any(r["relationshipType"] == "descendantOf" and r["from"] == model["spdxId"] for r in rels)
    exprs = {n["simplelicensing_licenseExpression"] for n in by_type["simplelicensing_LicenseExpression"]}
    assert {"ODC-By-1.0", "CC-BY-SA-4.0", "LicenseRef-scancode-llama-3.2-license-2024"} <= exprs
    # AI profile: exactly one declared and one concluded license per AIPackage.
    for pkg in by_type["ai_AIPackage"]:
        for rt in ("hasDeclaredLicense", "hasConcludedLicense"):
            assert sum(1 for r in rels if r["from"] == pkg["spdxId"] and r["relationshipType"] == rt) == 1
    # Every referenced id is defined in the document.
    ids = {n.get("spdxId") for n in graph}
    for r in rels:
        assert r["from"] in ids and all(t in ids for t in r["to"])
    document = by_type["SpdxDocument"][0]
    assert set(document["element"]) <= ids and {"ai", "dataset"} <= set(document["profileConformance"])
    assert "review" in model["ai_informationAboutApplication"]  # CC-BY-SA on weights
    json.dumps(doc)
