"""Step registry: the YAML `type` of a step -> the class that implements it.

Classes are imported lazily so that a pipeline pays only for the models and libraries it uses.
New steps are added here, one line each.
"""

from __future__ import annotations

import importlib

from curate.steps.base import CurateStep, RunContext, StepParams

STEP_TYPES: dict[str, str] = {
    # extraction and normalisation
    "html_extract": "curate.steps.extract:HtmlExtract",
    # language
    "language": "curate.steps.language:LanguageID",
    # quality heuristics (datatrove's filters, parameters from the YAML)
    "url_filter": "curate.steps.quality:UrlFilter",
    "gopher_repetition": "curate.steps.quality:GopherRepetition",
    "gopher_quality": "curate.steps.quality:GopherQuality",
    "c4_quality": "curate.steps.quality:C4Quality",
    "fineweb_quality": "curate.steps.quality:FineWebQuality",
    "length": "curate.steps.quality:LengthFilter",
    "word_order": "curate.steps.word_order:WordOrder",
    "quality_classifier": "curate.steps.quality_classifier:QualityClassifier",
    # license provenance and policy (matching and normalisation by license_registry)
    "license_detect": "curate.steps.license:LicenseDetect",
    "license_policy": "curate.steps.license:LicensePolicy",
    # PII and secrets scrubbing, toxicity filtering
    "pii": "curate.steps.scrub:PiiStep",
    "toxicity": "curate.steps.scrub:ToxicityStep",
    # deduplication and decontamination (curate/dedup/)
    "dedup_exact": "curate.steps.dedup:ExactDedup",
    "dedup_minhash": "curate.steps.dedup:MinHashDedup",
    "decontaminate": "curate.steps.decontaminate:Decontaminate",
}


def step_class(type_name: str) -> type[CurateStep]:
    if type_name not in STEP_TYPES:
        raise KeyError(type_name)
    module, _, cls = STEP_TYPES[type_name].partition(":")
    return getattr(importlib.import_module(module), cls)


__all__ = ["STEP_TYPES", "CurateStep", "RunContext", "StepParams", "step_class"]
