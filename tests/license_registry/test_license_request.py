"""Request files: safe YAML loading and validation errors that name the key and allowed values."""

import pytest

from license_registry import RequestError, load_request, parse_request


def test_example_request_loads(tmp_path):
    p = tmp_path / "req.yaml"
    p.write_text(
        "use: commercial\ndistribution: weights\nmodel_name: Acme-Chat-1B\nmonthly_active_users: 1000000\n"
        "organization_region: us\napplication: customer-support chatbot\n"
        "base_model: {name: meta-llama/Llama-3.2-1B, license: llama3.2, modality: text}\n"
        "data:\n  - {name: c4, license: ODC-BY-1.0, tokens: 1000000000}\n"
        "  - {name: alpaca, license: CC-BY-NC-4.0, generated_by: {name: text-davinci-003, terms: openai}}\n")
    req = load_request(p)
    assert req.organization_region == "US" and req.data[1].generated_by.terms == "openai"


def test_wrong_enum_value_names_key_and_allowed_values():
    with pytest.raises(RequestError) as exc:
        parse_request({"use": "comercial"})
    msg = str(exc.value)
    assert "'use'" in msg and "'commercial'" in msg and "'research'" in msg and "'internal'" in msg


def test_unknown_key_lists_allowed_keys():
    with pytest.raises(RequestError) as exc:
        parse_request({"use": "research", "data": [{"name": "x", "licence": "MIT"}]})
    assert "unknown key 'data.0.licence'" in str(exc.value) and "license" in str(exc.value)


def test_nested_distribution_and_region_errors():
    with pytest.raises(RequestError) as exc:
        parse_request({"use": "research", "distribution": "torrent", "organization_region": "Europe"})
    problems = exc.value.problems
    assert any("'distribution'" in p and "'weights'" in p for p in problems)
    assert any("'organization_region'" in p and "EU" in p for p in problems)


def test_missing_use_and_negative_numbers():
    with pytest.raises(RequestError) as exc:
        parse_request({"monthly_active_users": -1})
    text = str(exc.value)
    assert "missing required key 'use'" in text and "monthly_active_users" in text


def test_yaml_is_loaded_safely(tmp_path):
    p = tmp_path / "evil.yaml"
    p.write_text("use: !!python/object/apply:os.system ['echo hi']\n")
    with pytest.raises(RequestError, match="not valid YAML"):
        load_request(p)


def test_base_model_shorthand():
    assert parse_request({"use": "research", "base_model": "google/gemma-2-2b"}).base_model.name == "google/gemma-2-2b"
