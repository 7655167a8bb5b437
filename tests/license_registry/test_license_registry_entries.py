"""The registry data: entries validate, cite clauses, and names people write resolve."""

import pytest

from license_registry import get_registry, resolve
from license_registry.models import EntryFile
from license_registry.registry import Registry, RegistryError, load_entries
from license_registry import scancode

REQUIRED = [
    "Apache-2.0", "MIT", "BSD-2-Clause", "BSD-3-Clause", "GPL-2.0-only", "GPL-3.0-only", "LGPL-2.1-only",
    "LGPL-3.0-only", "AGPL-3.0-only", "MPL-2.0", "CC0-1.0", "CC-BY-4.0", "CC-BY-SA-4.0", "CC-BY-NC-4.0",
    "CC-BY-NC-SA-4.0", "CC-BY-NC-ND-4.0", "ODC-By-1.0", "ODbL-1.0", "PDDL-1.0", "CDLA-Permissive-2.0",
    "CDLA-Sharing-1.0",
]
REQUIRED_ALIASES = {
    "llama2": "LicenseRef-scancode-llama-2-license-2023",
    "llama3": "LicenseRef-Meta-Llama-3",
    "llama3.1": "LicenseRef-scancode-llama-3.1-license-2024",
    "llama3.2": "LicenseRef-scancode-llama-3.2-license-2024",
    "llama3.3": "LicenseRef-scancode-llama-3.3-license-2024",
    "gemma": "LicenseRef-scancode-gemma-tou-2024-04-01",
    "bigscience-openrail-m": "LicenseRef-scancode-bigscience-open-rail-m",
    "creativeml-openrail-m": "LicenseRef-scancode-stable-diffusion-2022-08-22",
    "openrail++": "LicenseRef-OpenRAIL-plus-plus",
    "bigcode-openrail-m": "LicenseRef-scancode-bigcode-open-rail-m-v1",
    "openai": "LicenseRef-scancode-openai-tou-20241211",
    "anthropic": "LicenseRef-Anthropic-Terms",
    "google": "LicenseRef-Google-Gemini-API-Terms",
}


def test_every_required_license_has_an_ml_entry():
    reg = get_registry()
    for lid in REQUIRED + list(REQUIRED_ALIASES.values()):
        assert reg.entry(lid) is not None, lid


def test_scancode_index_is_loaded_from_the_package_not_copied():
    rows = scancode.load_index()
    assert len(rows) > 2000
    cats = {r.category for r in rows}
    assert {"Permissive", "Copyleft", "Copyleft Limited", "Proprietary Free", "Public Domain", "Commercial"} <= cats


def test_every_term_cites_a_clause():
    for entry in get_registry().ml_entries:
        for kind, clause in entry.cited_clauses():
            assert clause.section.strip() and len(clause.text) > 10, (entry.id, kind)


def test_entry_kinds_and_categories_are_set():
    reg = get_registry()
    kinds = {e.kind for e in reg.ml_entries}
    assert kinds == {"software", "data", "model", "terms-of-service"}
    for e in reg.ml_entries:
        assert reg.category(e.id), e.id


def test_llama_terms_are_typed():
    reg = get_registry()
    l32 = reg.entry(reg.lookup("llama3.2"))
    cap = l32.restriction("user_cap")[0]
    assert cap.threshold == 700_000_000 and cap.clause.section == "2"
    eu = l32.restriction("regional")[0]
    assert eu.regions == ["EU"] and "multimodal" in eu.modalities
    obl = {o.type: o for o in l32.obligations}
    assert obl["display_attribution"].text == "Built with Llama"
    assert obl["name_prefix"].text == "Llama" and obl["name_prefix"].propagates.outputs == "yes"
    assert "use_restriction_passthrough" in obl
    # Llama 3.1 dropped 3.0's "no improving other LLMs"; Llama 2/3 keep it, exempting only their own derivatives.
    assert not reg.entry(reg.lookup("llama3.1")).restriction("no_improving_other_models")
    l2 = reg.entry(reg.lookup("llama2")).restriction("no_improving_other_models")[0]
    assert l2.clause.section == "1.b.v" and l2.exempt_licenses == ["LicenseRef-scancode-llama-2-license-2023"]
    # the Notice obligation is 1.b.iii in every version (1.b.ii is the integrated end-user product exception)
    for name in ("llama2", "llama3", "llama3.1", "llama3.2", "llama3.3", "llama4"):
        notice = [o for o in reg.entry(reg.lookup(name)).obligations if o.type == "notice_file"][0]
        assert notice.clause.section == "1.b.iii", name


def test_gemma_and_rail_pass_restrictions_through():
    reg = get_registry()
    for name in ("gemma", "bigscience-openrail-m", "creativeml-openrail-m", "openrail++", "bigcode-openrail-m"):
        e = reg.entry(reg.lookup(name))
        assert any(o.type == "use_restriction_passthrough" for o in e.obligations), name
        assert e.restriction("restricted_applications")[0].propagates.outputs == "yes", name
    gemma = reg.entry(reg.lookup("gemma"))
    assert any(o.type == "notice_file" and "Gemma Terms of Use" in o.text for o in gemma.obligations)


@pytest.mark.parametrize("spelling,expected", [
    ("CC BY-NC 4.0", "CC-BY-NC-4.0"),
    ("cc-by-nc-4.0", "CC-BY-NC-4.0"),
    ("MIT License", "MIT"),
    ("Apache 2", "Apache-2.0"),
    ("Apache License, Version 2.0", "Apache-2.0"),
    ("apache-2.0", "Apache-2.0"),
    ("GPLv3", "GPL-3.0-only"),
    ("GPLv2+", "GPL-2.0-or-later"),
    ("GPL 2.0", "GPL-2.0-only"),
    ("bsd-new", "BSD-3-Clause"),          # ScanCode key
    ("odc-by", "ODC-By-1.0"),             # Hugging Face id
    ("Creative Commons Attribution-ShareAlike 4.0", "CC-BY-SA-4.0"),
    ("zlib License", "Zlib"),             # no ML entry: ScanCode/SPDX only
    # as Maven POMs write them (this machine's ~/.m2, 2026-12-03)
    ("Eclipse Public License - v 2.0", "EPL-2.0"),
    ("Eclipse Public License v. 2.0", "EPL-2.0"),
    ("EPLv2", "EPL-2.0"),
    ("ASLv2", "Apache-2.0"),
    ("Eclipse Distribution License - v 1.0", "BSD-3-Clause"),
    ("The BSD3 License", "BSD-3-Clause"),
    ("GNU General Public License, version 2 with the GNU Classpath Exception",
     "GPL-2.0-only WITH Classpath-exception-2.0"),
    *REQUIRED_ALIASES.items(),
])
def test_alias_resolution(spelling, expected):
    assert get_registry().lookup(spelling) == (expected if " WITH " not in expected else None)
    assert resolve(spelling).expression == expected


@pytest.mark.parametrize("spelling,expected", [
    # licenses without an entry, by the names names.yaml gives them (ScanCode's LicenseDB names; written ones)
    ("Boost Software License, Version 1.0", "BSL-1.0"),
    ("Eclipse Public License v2.0", "EPL-2.0"),
    ("W3C Software Notice and License", "W3C"),
    ("Academic Free License 3.0", "AFL-3.0"),
    ("PSF License", "PSF-2.0"),
    ("Python Software Foundation License", "PSF-2.0"),
    ("JPEG License", "IJG"),
    # one word names a license only with "License" after it: the foundation, the image format
    ("PSF", None),
    ("JPEG", None),
    # a spelling known before keeps its meaning (ScanCode names ICU's license "X11 License")
    ("X11 License", "X11"),
])
def test_names_of_licenses_without_an_entry(spelling, expected):
    assert get_registry().lookup(spelling) == expected


def test_names_fill_gaps_and_never_change_a_known_spelling():
    from license_registry.names import load_names

    reg, named = get_registry(), load_names()
    assert sum(len(v) for v in named["scancode"].values()) > 800
    for e in load_entries():
        for spelling in (e.id, e.name, *e.aliases):
            assert reg.lookup(spelling) in e.all_ids, spelling
    for row in scancode.load_index():  # an id names itself, or the curated entry that covers it
        if row.spdx_id and not row.is_deprecated:
            assert reg.lookup(row.spdx_id) == row.spdx_id or reg.entry(reg.lookup(row.spdx_id)), row.spdx_id


def test_names_yaml_is_what_the_installed_scancode_gives():
    pytest.importorskip("licensedcode")
    from license_registry.names import load_names, scancode_names

    assert scancode_names() == load_names()["scancode"], "regenerate: python -m license_registry.names --write"


def test_unknown_names_do_not_resolve():
    assert get_registry().lookup("my-own-license") is None
    # No curated guess for a bare "GPL"; ScanCode maps it to "any version" (GPL section 9/14 wording).
    assert get_registry().lookup("GPL") == "GPL-1.0-or-later"


def test_hf_other_with_name_or_link():
    assert resolve("other", license_name="llama3.2").ids == ("LicenseRef-scancode-llama-3.2-license-2024",)
    assert resolve("other", license_link="https://ai.google.dev/gemma/terms").ids == (
        "LicenseRef-scancode-gemma-tou-2024-04-01",)
    res = resolve("other", license_name="acme-research-license")
    assert not res.known and res.expression is None


def test_model_ids_infer_terms():
    reg = get_registry()
    assert reg.model_entry("meta-llama/Llama-3.2-1B").hf_id == "llama3.2"
    assert reg.model_entry("meta-llama/Meta-Llama-3.1-8B-Instruct").hf_id == "llama3.1"
    assert reg.model_entry("text-davinci-003").family == "openai"
    assert reg.model_entry("claude-3-opus-20240229").family == "anthropic"
    assert reg.model_entry("google/gemma-2-9b-it").family == "gemma"
    assert reg.match_model("acme/unknown-7b") is None


# Model ids people fine-tune in 2026 and the license each is released under (model_ids.yaml, with its sources).
MODEL_IDS = {
    "meta-llama/Llama-4-Scout-17B-16E-Instruct": "LicenseRef-scancode-llama-4-cla-2025",
    "meta-llama/Llama-4-Maverick-17B-128E": "LicenseRef-scancode-llama-4-cla-2025",
    "meta-llama/Llama-3.3-70B-Instruct": "LicenseRef-scancode-llama-3.3-license-2024",
    "meta-llama/Llama-3.2-11B-Vision-Instruct": "LicenseRef-scancode-llama-3.2-license-2024",
    "google/gemma-3-27b-it": "LicenseRef-scancode-gemma-tou-2024-04-01",
    "google/gemma-3n-E4B-it": "LicenseRef-scancode-gemma-tou-2024-04-01",
    "google/gemma-4-12b-it": "Apache-2.0",
    "Qwen/Qwen2.5-7B-Instruct": "Apache-2.0",
    "Qwen/Qwen2.5-3B-Instruct": "LicenseRef-Qwen-Research",
    "Qwen/Qwen2.5-72B-Instruct": "LicenseRef-Qwen-License",
    "Qwen/Qwen3-8B": "Apache-2.0",
    "Qwen/Qwen-7B-Chat": "LicenseRef-scancode-tongyi-qianwen-2023",
    "Qwen/Qwen-1_8B": "LicenseRef-Tongyi-Qianwen-Research",
    "mistralai/Mistral-7B-Instruct-v0.3": "Apache-2.0",
    "mistralai/Mixtral-8x7B-v0.1": "Apache-2.0",
    "mistralai/Ministral-8B-Instruct-2410": "LicenseRef-Mistral-Research-License",
    "deepseek-ai/DeepSeek-R1": "MIT",
    "deepseek-ai/DeepSeek-V3": "LicenseRef-scancode-deepseek-la-1.0",
    "deepseek-ai/DeepSeek-R1-Distill-Llama-8B": "MIT AND LicenseRef-scancode-llama-3.1-license-2024",
    "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B": "MIT AND Apache-2.0",
    "tiiuae/falcon-40b": "Apache-2.0",
    "tiiuae/Falcon3-7B-Instruct": "LicenseRef-TII-Falcon-LLM-2.0",
    "nvidia/NVIDIA-Nemotron-Nano-9B-v2": "LicenseRef-scancode-nvidia-open-model-2025-04-28",
    "nvidia/Llama-3_3-Nemotron-Super-49B-v1": "LicenseRef-scancode-nvidia-open-model-2025-04-28 AND LicenseRef-scancode-llama-3.3-license-2024",
    "acme/Qwen2.5-7B-finetune": None,  # another organization's fine-tune: its own card decides - never guessed
    "bigcode/starcoder2-15b": "LicenseRef-scancode-bigcode-open-rail-m-v1",
    "stabilityai/stable-diffusion-xl-base-1.0": "LicenseRef-OpenRAIL-plus-plus",
}


@pytest.mark.parametrize("model,license_expr", MODEL_IDS.items())
def test_model_ids_people_fine_tune_resolve_to_their_license(model, license_expr):
    row = get_registry().match_model(model)
    assert (row.license if row else None) == license_expr
    if row:
        assert resolve(row.license).known


@pytest.mark.parametrize("model,modality", [
    ("meta-llama/Llama-3.2-11B-Vision-Instruct", "multimodal"),  # from the id: "-Vision"
    ("meta-llama/Llama-3.2-3B-Instruct", "text"),                # from the table
    ("meta-llama/Llama-4-Scout-17B-16E-Instruct", "multimodal"),  # "natively multimodal" (model card)
    ("Qwen/Qwen2.5-VL-7B-Instruct", "multimodal"),
    ("llava-hf/llava-1.5-7b-hf", "multimodal"),
    ("acme/speech-Audio-1b", "audio"),
    ("meta-llama/Llama-3.2-90B", None),                          # the id does not say: unknown, never "text"
])
def test_modality_is_inferred_from_the_id_only_where_it_says_so(model, modality):
    assert get_registry().model_modality(model) == modality


def test_model_id_table_rejects_an_unknown_license():
    from license_registry.models import ModelId
    from license_registry.registry import load_model_ids
    bad = ModelId(match=["acme/*"], license="no-such-license-xyz", source="test")
    with pytest.raises(RegistryError, match="no-such-license-xyz"):
        Registry(load_entries(), [*load_model_ids(), bad])


def test_search_puts_curated_entries_first():
    hits = get_registry().search("llama")
    assert hits[0].startswith("LicenseRef-") and get_registry().entry(hits[0]) is not None
    assert "LicenseRef-scancode-llama-license-2023" in hits  # ScanCode-only rows are found too


def test_stats_are_computed():
    stats = get_registry().stats()
    assert stats["ml_entries"] == len(load_entries()) >= 35
    assert stats["ml_aliases"] > stats["ml_entries"] * 3
    assert stats["scancode_licenses"] == len(scancode.load_index())


def test_invalid_entry_is_rejected():
    bad = {"entries": [{"id": "LicenseRef-x", "name": "x", "kind": "model", "category": "Permissive",
                        "restrictions": [{"type": "user_cap", "clause": {"section": "1", "text": "cap here"}}]}]}
    with pytest.raises(ValueError, match="threshold"):
        EntryFile.model_validate(bad)
    with pytest.raises(ValueError, match="extra"):
        EntryFile.model_validate({"entries": [{"id": "x", "name": "x", "kind": "data", "typo": 1}]})


def test_entry_with_missing_scancode_key_is_rejected():
    entry = load_entries()[0].model_copy(update={"scancode_key": "no-such-key", "id": "LicenseRef-test"})
    with pytest.raises(RegistryError, match="no-such-key"):
        Registry([entry])


@pytest.mark.parametrize("url,expected", [
    ("http://www.opensource.org/licenses/mit-license.php", "MIT"),  # the id in lower case, "-license.php"
    ("https://opensource.org/licenses/BSD-3-Clause", "BSD-3-Clause"),
    ("http://www.opensource.org/licenses/bsd-license.php", None),  # which BSD?
    ("https://www.eclipse.org/legal/epl-v20.html", "EPL-2.0"),
    ("https://www.eclipse.org/legal/epl-2.0/", "EPL-2.0"),
    ("http://www.eclipse.org/legal/epl-v10.html", "EPL-1.0"),
    ("http://www.eclipse.org/org/documents/edl-v10.php", "BSD-3-Clause"),  # the EDL 1.0 is BSD-3-Clause's text
])
def test_license_urls(url, expected):
    from license_registry.notices import license_of_url

    assert license_of_url(url) == expected
