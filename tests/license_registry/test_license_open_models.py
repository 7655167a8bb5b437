"""Qwen LICENSE AGREEMENT (2024), TII Falcon 2 11B / TII Falcon License / Falcon-180B: audits on real requests,
each license with a plan that passes with its obligations and one that breaks (or may break) a term."""

import pytest

from audit_cases import findings, run, severities
from license_registry import get_registry
from license_registry.clauses import check_clause, check_entries
from license_registry.scancode import license_text

MISTRAL = "mistralai/Mistral-7B-v0.3"  # Apache-2.0 by the model-id table


def obligation(report, otype):
    return [o for o in report.obligations if o.type == otype]


# -- the citations, against ScanCode's copies of the texts ------------------------------------------------------
@pytest.mark.skipif(license_text("qwen-2024") is None, reason="scancode-toolkit (the `licenses` extra) not installed")
def test_qwen_falcon_2_and_llama_citations_stand_in_scancodes_copies_of_their_texts():
    entries = [e for e in get_registry().ml_entries if any(t.scancode_text for t in e.texts.values())]
    in_scancode = {t.id for e in entries for t in e.texts.values() if t.scancode_text}
    checks = [c for c in check_entries(entries) if c.text_id in in_scancode]
    assert {c.text_id for c in checks} >= {"qwen-license-2024", "falcon-2-11b-tii-license-1.0",
                                           "tongyi-qianwen-license", "llama-2-license", "llama-3.1-license",
                                           "llama-3.2-license", "llama-3.3-license", "llama-4-license", "llama-4-aup"}
    assert [(c.license_id, c.section, c.problems) for c in checks if c.status not in ("ok", "quote ok")] == []
    # the section is checked where the copy keeps its numbering: the MAU clause is Qwen §4, not §3
    qwen = get_registry().entry("LicenseRef-Qwen-License")
    cap = qwen.restriction("user_cap")[0].clause
    text = license_text("qwen-2024")
    assert check_clause(text, cap) == []
    assert check_clause(text, cap.model_copy(update={"section": "3"})) == ["quote is not inside section 3"]
    # Llama 4: ScanCode's `llama-4-license-2025` is the Acceptable Use Policy, not the agreement (`llama-4-cla-2025`)
    llama4 = get_registry().entry("LicenseRef-scancode-llama-4-cla-2025")
    notice = llama4.obligations[3].clause
    assert notice.section == "1.b.iii" and check_clause(license_text("llama-4-cla-2025"), notice) == []
    assert check_clause(license_text("llama-4-license-2025"), notice)[0].startswith("quote not in the text")


# -- Qwen LICENSE AGREEMENT (Qwen2.5-72B, Qwen2.5-VL-72B) ---------------------------------------------------------
def test_qwen_72b_fine_tune_passes_with_built_with_qwen_and_the_notice():
    r = run(base_model="Qwen/Qwen2.5-72B-Instruct", model_license="qwen", monthly_active_users=5_000_000)
    assert r.verdict == "obligations"
    [shown] = obligation(r, "display_attribution")
    assert shown.text == "Built with Qwen" and shown.clause == "5(b)" and "Improved using Qwen" in shown.clause_quote
    assert [o.text for o in obligation(r, "notice_file")] == [
        "Qwen is licensed under the Qwen LICENSE AGREEMENT, Copyright (c) Alibaba Cloud. All Rights Reserved."]
    assert obligation(r, "license_copy")[0].clause == "3(a)"
    assert findings(r, "user_cap")[0].severity == "info"
    assert "September 19, 2024" in shown.clause_source


def test_qwen_commercial_use_above_100_million_monthly_users_is_blocked():
    r = run(base_model="Qwen/Qwen2.5-VL-72B-Instruct", model_license="qwen", monthly_active_users=150_000_000)
    f = findings(r, "user_cap", "block")[0]
    assert r.verdict == "blocked" and f.clause == "4" and "100 million monthly active users" in f.clause_quote
    assert "150,000,000" in f.message and "your product or service" in f.message
    assert "affiliates" not in f.message  # Qwen counts the product's users, not Llama's affiliates on a release date


def test_the_qwen_cap_binds_commercial_use_only():
    research = run(use="research", base_model="Qwen/Qwen2.5-72B-Instruct", model_license="qwen",
                   monthly_active_users=150_000_000)
    assert research.verdict == "obligations" and severities(research, "user_cap") == {"info"}
    internal = run(use="internal", distribution="none", base_model="Qwen/Qwen2.5-72B-Instruct",
                   monthly_active_users=150_000_000)
    assert findings(internal, "user_cap", "review")  # is internal use "commercially using"? a human decides


def test_qwen_outputs_may_train_another_model_which_then_says_built_with_qwen():
    data = [{"name": "syn", "license": "CC0-1.0", "generated_by": {"name": "Qwen/Qwen2.5-72B-Instruct"}}]
    r = run(base_model=MISTRAL, distribution="api", data=data)
    assert r.verdict == "obligations" and not findings(r, "no_improving_other_models")  # unlike Tongyi Qianwen 5(b)
    assert [o.text for o in obligation(r, "display_attribution")] == ["Built with Qwen"]


def test_qwen_72b_fine_tune_shipped_under_apache_alone_is_blocked():
    r = run(base_model="Qwen/Qwen2.5-72B-Instruct", model_license="Apache-2.0")
    f = findings(r, "model_license", "block")[0]
    assert r.verdict == "blocked" and f.license == "LicenseRef-Qwen-License" and f.clause == "3(a)"


def test_qwen_ids_keep_their_apache_and_research_releases_apart():
    reg = get_registry()
    assert reg.match_model("Qwen/Qwen2.5-72B-Instruct").license == "LicenseRef-Qwen-License"
    assert reg.match_model("Qwen/Qwen2.5-VL-72B-Instruct").license == "LicenseRef-Qwen-License"
    assert reg.match_model("Qwen/Qwen2-72B-Instruct").license == "LicenseRef-scancode-tongyi-qianwen-2023"
    assert reg.match_model("Qwen/Qwen2.5-32B-Instruct").license == "Apache-2.0"
    assert reg.match_model("Qwen/Qwen2.5-VL-7B-Instruct").license == "Apache-2.0"
    assert reg.entry("LicenseRef-scancode-qwen-2024").id == "LicenseRef-Qwen-License"  # ScanCode's id, same text


def test_tongyi_qianwen_cap_counts_the_product_users_of_commercial_use_too():
    r = run(base_model="Qwen/Qwen-7B", monthly_active_users=150_000_000)
    f = findings(r, "user_cap", "block")[0]
    assert f.clause == "4" and "before any commercial use" in f.message
    research = run(use="research", base_model="Qwen/Qwen-7B", monthly_active_users=150_000_000)
    assert severities(research, "user_cap") == {"info"}


# -- TII Falcon License (Falcon 3, Falcon-H1) -----------------------------------------------------------------------
FALCON3 = "tiiuae/Falcon3-7B-Instruct"


def test_falcon_3_fine_tune_passes_with_the_aup_passthrough_and_the_tii_statement():
    r = run(base_model=FALCON3, model_license="falcon-llm-license", model_name="acme/Falcon3-Support-7B")
    assert r.verdict == "obligations"
    [statement] = obligation(r, "display_attribution")
    assert statement.clause == "6.1"
    assert statement.text == ("Falcon3-Support-7B is built using artificial intelligence technology from the "
                              "Technology Innovation Institute")  # the statement names the released model
    assert obligation(r, "use_restriction_passthrough")[0].clause == "4.1.1"
    assert severities(r, "restricted_applications") == {"info"}  # no application to check


def test_falcon_3_fine_tune_under_apache_alone_drops_the_aup_restrictions_and_is_blocked():
    r = run(base_model=FALCON3, model_license="Apache-2.0")
    f = findings(r, "model_license", "block")[0]
    assert r.verdict == "blocked" and f.license == "LicenseRef-TII-Falcon-LLM-2.0" and f.clause == "4.1.1"
    assert "enforceable provisions" in f.clause_quote


def test_an_application_under_an_unread_acceptable_use_policy_gets_review_not_a_pass():
    r = run(base_model="tiiuae/Falcon-H1-7B-Instruct", model_license="falcon-llm-license",
            application="customer support chatbot for an online shop")
    f = findings(r, "restricted_applications", "review")[0]
    assert r.verdict == "review" and f.clause == "5.1, 5.2" and "has not read" in f.message


# -- Falcon 2 11B TII License ------------------------------------------------------------------------------------------
def test_falcon_2_11b_release_passes_with_the_falcon_llm_statement():
    r = run(use="research", base_model="tiiuae/falcon-11B", model_license="falcon-2-11b-license")
    assert r.verdict == "obligations"
    [statement] = obligation(r, "display_attribution")
    assert "built using Falcon LLM technology from the Technology Innovation Institute" in statement.text
    assert "Version 1.0, May 2024" in statement.clause_source
    assert {o.type for o in r.obligations} >= {"license_copy", "state_changes", "use_restriction_passthrough"}


def test_falcon_2_outputs_carry_the_aup_into_the_model_they_train():
    data = [{"name": "syn", "license": "CC0-1.0", "generated_by": {"name": "tiiuae/falcon-11B"}}]
    r = run(base_model=MISTRAL, data=data, application="essay grading for a school")
    f = findings(r, "restricted_applications", "review")[0]
    assert f.subject == "data syn (generated by tiiuae/falcon-11B)" and "5.2" in f.clause


# -- Falcon-180B TII License: Hosting Use --------------------------------------------------------------------------
FALCON180 = "tiiuae/falcon-180B-chat"


def test_falcon_180b_served_as_an_inference_api_to_third_parties_is_blocked():
    r = run(base_model=FALCON180, model_license="falcon-180b-license", distribution="api",
            application="public inference API for third-party developers")
    f = findings(r, "hosting_use", "block")[0]
    assert r.verdict == "blocked" and f.clause == "9.1" and "shared instances or managed services" in f.clause_quote
    assert "Apply to the licensor for a hosting license" in f.message


@pytest.mark.parametrize("application", ["assistant inside our banking app",
                                         "inference API for our own data-science team"])  # not to third parties
def test_falcon_180b_behind_an_api_that_is_not_plainly_hosting_is_review_not_block(application):
    r = run(base_model=FALCON180, model_license="falcon-180b-license", distribution="api", application=application)
    assert not findings(r, "hosting_use", "block")
    assert findings(r, "hosting_use", "review")[0].clause == "9.3"


def test_falcon_180b_weights_release_passes_and_passes_the_hosting_terms_on():
    r = run(use="research", base_model=FALCON180, model_license="falcon-180b-license")
    assert r.verdict == "obligations" and severities(r, "hosting_use") == {"info"}
    assert {o.clause for o in obligation(r, "use_restriction_passthrough")} == {"4.1(a)", "4.1(b)"}
    assert obligation(r, "display_attribution")[0].clause == "6.1"


def test_falcon_180b_acceptable_use_policy_items_are_read_a_disinformation_app_is_blocked():
    r = run(base_model=FALCON180, model_license="falcon-180b-license", application="fake news generator for campaigns")
    f = findings(r, "restricted_applications", "block")[0]
    assert r.verdict == "blocked" and f.clause == "Falcon 180B Acceptable Use Policy: item 3"
    assert f.clause_quote == "To generate or disseminate verifiably false information with the purpose of harming others"
    assert "September 2023" in f.clause_source


def test_falcon_180b_ordinary_application_passes_its_read_policy_without_review():
    # unlike Falcon 2/3, whose policies were not found (review), the 180B policy's four items are encoded
    r = run(use="research", base_model=FALCON180, model_license="falcon-180b-license",
            application="customer support chatbot for an online shop")
    assert severities(r, "restricted_applications") == {"info"} and r.verdict == "obligations"


def test_impact_licenses_stay_unreviewed_for_want_of_their_text():
    reg = get_registry()
    for lid in ("LicenseRef-AI2-ImpACT-LR", "LicenseRef-AI2-ImpACT-MR", "LicenseRef-AI2-ImpACT-HR"):
        entry = reg.entry(lid)
        assert entry.status == "unreviewed" and not entry.obligations and "searched" in entry.notes
    r = run(base_model=MISTRAL, data=[{"name": "wildchat", "license": "impact-lr"}])
    assert r.verdict == "review" and findings(r, "unreviewed_terms", "review")
