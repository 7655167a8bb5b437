"""The checks every SPDX 3.0.1 document the toolkit writes must pass: the official JSON schema
(tests/fixtures/spdx-3.0.1.schema.json; provenance in spdx-3.0.1.README.md beside it) with jsonschema's
Draft 2020-12 validator; the SPDX model's SHACL shapes (spdx-3.0.1.model.ttl) with pyshacl, which also check what a
reference points at (a JSON schema sees only an IRI); and a read-back by the SPDX bindings (spdx-python-model), which
check each class's required properties and cardinalities when they serialize it again."""

from __future__ import annotations

import functools
import hashlib
import io
import json
from pathlib import Path

import pyshacl
import rdflib
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from spdx_python_model import v3_0_1 as spdx

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# the published files as committed (tests/fixtures/spdx-3.0.1.README.md)
SHA256 = {
    "spdx-3.0.1.schema.json": "59f59713c7d73ff0d833f4f468df974a689fc9dd36dc5510f1875ff85d276c54",
    "spdx-3.0.1.model.ttl": "1e6df676d5a4108de90362170b0933da53f929ae8147453cea0dffadb804fae5",
    "spdx-3.0.1.context.jsonld": "c72b0928f094c83e5c127784edb1ebca2af74a104fcacc007c332b23cbc788bd",
}
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")


def _fixture(name: str) -> bytes:
    raw = (FIXTURES / name).read_bytes()
    if hashlib.sha256(raw).hexdigest() != SHA256[name]:
        raise AssertionError(f"{FIXTURES / name} is not the committed SPDX file (sha256 {SHA256[name]}); "
                             "see tests/fixtures/spdx-3.0.1.README.md")
    return raw


@functools.cache
def _schema() -> dict:
    schema = json.loads(_fixture("spdx-3.0.1.schema.json"))
    Draft202012Validator.check_schema(schema)
    return schema


def _validator(root: dict | None = None) -> Draft202012Validator:
    """The whole schema, or `root` resolved against its $defs."""
    schema = _schema()
    return Draft202012Validator(schema if root is None else {**root, "$defs": schema["$defs"]})


def schema_errors(document: dict) -> list[str]:
    """Nothing when `document` is valid against the SPDX 3.0.1 JSON schema. Otherwise what is wrong, per @graph node
    that fails: each node is any of ~100 classes, so the schema's own error says only "not valid under any of the
    given schemas"; the node is checked again against its own class to name the property."""
    if _validator().is_valid(document):
        return []
    graph = document.get("@graph")
    if not isinstance(graph, list):
        return [_describe(e) for e in _validator().iter_errors(document)]
    errors = [_describe(e) for e in _validator().iter_errors({**document, "@graph": []})]
    any_node = _validator(_schema()["oneOf"][0]["properties"]["@graph"]["items"])
    for i, node in enumerate(graph):
        if any_node.is_valid(node):
            continue
        kind = node.get("type") if isinstance(node, dict) else None
        own = _validator({"$ref": f"#/$defs/{kind}", "unevaluatedProperties": False}) \
            if isinstance(kind, str) and kind in _schema()["$defs"] else any_node
        found = _leaves(own.iter_errors(node))
        specific = [e for e in found if e.validator != "unevaluatedProperties"] or found
        errors += [f"@graph[{i}] ({kind}) {_describe(e)}" for e in specific]
    return errors


def _leaves(errors) -> list[ValidationError]:
    out = []
    for e in errors:
        out += _leaves(e.context) if e.context else [e]
    return out


def _describe(error: ValidationError) -> str:
    return f"{error.json_path}: {error.message}"


def read_back(document: dict) -> spdx.SHACLObjectSet:
    """The document's objects as the SPDX bindings read them."""
    objects = spdx.SHACLObjectSet()
    spdx.JSONLDDeserializer().read(io.BytesIO(json.dumps(document).encode()), objects)
    return objects


def bindings_errors(document: dict) -> list[str]:
    """Nothing when the bindings read the document and serialize it again; else why they refuse it."""
    try:
        spdx.JSONLDSerializer().serialize_data(read_back(document))
    except (ValueError, TypeError) as e:
        return [str(e)]
    return []


@functools.cache
def _shapes() -> rdflib.Graph:
    return rdflib.Graph().parse(data=_fixture("spdx-3.0.1.model.ttl"), format="turtle")


def shacl_errors(document: dict) -> list[str]:
    """Nothing when the document's RDF graph conforms to the SPDX 3.0.1 model's SHACL shapes; else, per violation,
    the node, the property and pyshacl's message. The JSON-LD @context is the committed copy: nothing is fetched."""
    context = json.loads(_fixture("spdx-3.0.1.context.jsonld"))["@context"]
    data = rdflib.Graph().parse(data=json.dumps({**document, "@context": context}), format="json-ld")
    # the model is also the ontology: its subclass axioms say that an Organization is an Agent
    conforms, results, _ = pyshacl.validate(data, shacl_graph=_shapes(), ont_graph=_shapes(), inference="none")
    if conforms:
        return []
    return sorted(f"{results.value(r, SH.focusNode)} {results.value(r, SH.resultPath)}: "
                  f"{results.value(r, SH.resultMessage)}"
                  for r in results.subjects(rdflib.RDF.type, SH.ValidationResult))
