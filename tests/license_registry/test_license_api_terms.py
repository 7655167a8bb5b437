"""API providers' terms on training with their outputs (Mistral AI, DeepSeek, xAI): for each, a plan the terms
allow and one they forbid, with the clause and the quote the finding rests on."""

from audit_cases import findings, run, severities
from click.testing import CliRunner

from license_registry import get_registry
from license_registry.cli import main

BASE = {"name": "mistralai/Mistral-7B-v0.3"}  # Apache-2.0 by the model-id table: no terms of its own in the way


def synthetic(generator: dict) -> list[dict]:
    return [{"name": "syn", "license": "CC0-1.0", "generated_by": generator}]


def only_the_base_models_obligations(report) -> bool:
    """Nothing to do but what the Apache-2.0 base model asks (its license copy, notices)."""
    return ({o.license for o in report.obligations} == {"Apache-2.0"}
            and not [f for f in report.findings if f.severity in ("block", "review")])


# -- Mistral AI Commercial Terms of Service (Effective May 28, 2026) ------------------------------------------------
def test_mistral_text_outputs_may_train_a_commercial_model():
    r = run(base_model=BASE, data=synthetic({"name": "mistral-large-latest"}))
    assert r.verdict == "obligations" and only_the_base_models_obligations(r)
    (f,) = findings(r, "no_competing_models")
    assert f.severity == "info" and f.clause == "3.3" and "image outputs only" in f.message
    assert f.clause_quote.startswith("Customer may not use image Outputs") and "May 28, 2026" in f.clause_source


def test_mistral_image_outputs_may_not_train_a_competing_commercial_image_model():
    r = run(base_model=BASE, data=synthetic({"name": "mistral-medium-latest", "terms": "mistral", "modality": "image"}))
    assert r.verdict == "blocked"
    (f,) = findings(r, "no_competing_models", "block")
    assert f.clause == "3.3" and "image generation product that competes" in f.clause_quote


def test_mistral_outputs_of_unknown_or_multimodal_kind_need_review_never_a_pass():
    unknown = run(base_model=BASE, data=synthetic({"name": "mistral/some-new-model"}))
    assert unknown.verdict == "review" and "is not known" in findings(unknown, "no_competing_models", "review")[0].message
    pixtral = run(base_model=BASE, data=synthetic({"name": "pixtral-large-latest"}))
    assert pixtral.verdict == "review" and "is multimodal" in findings(pixtral, "no_competing_models")[0].message


def test_mistral_image_outputs_for_an_unreleased_research_model_are_info():
    r = run(use="research", distribution="none", base_model=BASE,
            data=synthetic({"name": "mistral-small-latest", "modality": "image"}))
    assert r.verdict == "allowed" and severities(r, "no_competing_models") == {"info"}


def test_mistral_api_names_and_open_weights_keep_their_own_terms():
    reg = get_registry()
    assert reg.model_entry("mistral-large-latest").id == "LicenseRef-Mistral-AI-Commercial-Terms"
    assert reg.model_entry("mistralai/Pixtral-Large-Instruct-2411").id == "LicenseRef-Mistral-Research-License"
    assert reg.match_model("mistralai/Mistral-7B-Instruct-v0.3").license == "Apache-2.0"


# -- DeepSeek Open Platform Terms of Service (Effective April 29, 2026) ---------------------------------------------
def test_deepseek_api_outputs_may_train_other_models_and_the_audit_cites_the_grant():
    r = run(base_model=BASE, data=synthetic({"name": "deepseek-reasoner"}))
    assert r.verdict == "obligations" and only_the_base_models_obligations(r)
    (f,) = findings(r, "outputs_may_train", "info")
    assert f.clause == "4.2" and "training other models (such as model distillation)" in f.clause_quote
    assert "April 29, 2026" in f.clause_source


def test_deepseek_weights_are_under_the_deepseek_license_not_the_platform_terms():
    # DeepSeek-V3 run from its weights: the DeepSeek License (use restrictions follow outputs), no platform grant
    r = run(base_model=BASE, application="automated loan approval",
            data=synthetic({"name": "deepseek-ai/DeepSeek-V3"}))
    assert not findings(r, "outputs_may_train")
    assert r.verdict in ("blocked", "review")
    assert any(f.license == "LicenseRef-scancode-deepseek-la-1.0" for f in findings(r, "restricted_applications"))


# -- xAI Terms of Service - Enterprise (Last Updated August 14, 2026) and its Acceptable Use Policy -----------------
def test_xai_outputs_may_train_no_model_even_for_internal_research():
    r = run(use="research", distribution="none", base_model=BASE, data=synthetic({"name": "grok-4"}))
    assert r.verdict == "blocked"
    (f,) = findings(r, "no_training_on_outputs", "block")
    assert f.clause == "3.2" and "research and internal experiments included" in f.message
    assert "except as may be expressly permitted in an Order Form" in f.clause_quote
    assert "August 14, 2026" in f.clause_source
    # the AUP's competing-models item only notes an unreleased model; 3.2 is what blocks it
    assert severities(r, "no_competing_models") == {"info"}


def test_xai_outputs_for_a_commercial_model_break_both_the_terms_and_the_acceptable_use_policy():
    r = run(base_model=BASE, data=synthetic({"name": "xai/grok-3-mini", "terms": "xai"}))
    assert r.verdict == "blocked"
    aup = findings(r, "no_competing_models", "block")[0]
    assert aup.clause.startswith("SpaceXAI Acceptable Use Policy: ") and "compete with SpaceXAI" in aup.clause_quote
    assert findings(r, "no_training_on_outputs", "block")


def test_xai_terms_do_not_reach_data_that_grok_did_not_generate():
    # the same xAI-licensed name as a plain data license: its terms bind outputs only
    r = run(base_model=BASE, data=[{"name": "notes", "license": "CC0-1.0"}, {"name": "x", "license": "xai"}])
    assert not findings(r, "no_training_on_outputs") and not findings(r, "no_competing_models")


def test_released_grok_weights_are_not_read_as_the_api_terms():
    r = run(base_model=BASE, data=synthetic({"name": "xai-org/grok-2"}))
    assert r.verdict == "review" and findings(r, "unknown_generator_terms", "review")


def test_show_prints_the_deepseek_grant_and_the_mistral_image_scope():
    runner = CliRunner()
    deepseek = runner.invoke(main, ["show", "deepseek-api"])
    assert deepseek.exit_code == 0 and "permission: outputs may train other models  [§4.2]" in deepseek.output
    mistral = runner.invoke(main, ["show", "mistral"])
    assert "restriction no_competing_models modalities=image  [§3.3]" in mistral.output
