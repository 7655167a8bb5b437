"""PERSON/LOCATION with a spaCy NER model given as a local path (a tiny model trained in the test)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from curate.scrub.pii import PiiParams, PiiScrubber


@pytest.fixture(scope="module")
def tiny_ner_model(tmp_path_factory) -> Path:
    """A small spaCy NER model trained here on template sentences (PERSON, GPE) and saved to a local folder: the
    `ner_model: PATH` route without any downloaded model."""
    import spacy
    from spacy.training import Example

    rng = random.Random(0)
    spacy.util.fix_random_seed(0)  # the same model whatever ran before in this process
    first = ["John", "Maria", "Wei", "Fatima", "Olga", "Pedro", "Aiko", "Liam", "Sofia", "Noah"]
    last = ["Smith", "Garcia", "Chen", "Khan", "Ivanova", "Silva", "Tanaka", "Murphy", "Rossi", "Brown"]
    cities = ["Berlin", "Paris", "Seoul", "Lagos", "Lima", "Oslo", "Cairo", "Dublin", "Madrid", "Tokyo"]
    templates = ["My name is {p} and I live in {c}.", "{p} moved to {c} last year.",
                 "Please contact {p} in {c} for details.", "The report was written by {p}."]
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("ner")
    for label in ("PERSON", "GPE"):
        ner.add_label(label)
    examples = []
    for _ in range(100):
        template, person, city = rng.choice(templates), f"{rng.choice(first)} {rng.choice(last)}", rng.choice(cities)
        text = template.format(p=person, c=city)
        ents = [(text.find(v), text.find(v) + len(v), label) for v, label in ((person, "PERSON"), (city, "GPE"))
                if "{" + ("p" if label == "PERSON" else "c") + "}" in template]
        examples.append(Example.from_dict(nlp.make_doc(text), {"entities": ents}))
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(12):
        rng.shuffle(examples)
        for b in range(0, len(examples), 16):
            nlp.update(examples[b:b + 16], sgd=optimizer, drop=0.1)
    path = tmp_path_factory.mktemp("ner") / "tiny_ner"
    nlp.to_disk(path)
    return path


def test_ner_model_from_a_local_path(tiny_ner_model):
    """PERSON/LOCATION with a spaCy model given as a local path: found, replaced with their placeholders, counted,
    next to the pattern entities; a path that holds no model is a clear error."""
    s = PiiScrubber(PiiParams(ner_model=str(tiny_ner_model)))
    assert s.nlp is not None and "tiny_ner" in s.ner_note
    text = "Please contact Olga Chen in Oslo for details, or mail olga.chen@example.org."
    out, counts = s.scrub(text)
    assert "Olga Chen" not in out and "Oslo" not in out and "olga.chen@example.org" not in out
    assert "<PERSON>" in out and "<LOCATION>" in out and "<EMAIL>" in out
    assert counts["PERSON"] == 1 and counts["LOCATION"] == 1 and counts["EMAIL_ADDRESS"] == 1
    # without PERSON/LOCATION among the entities the model is not loaded at all
    assert PiiScrubber(PiiParams(entities=["EMAIL_ADDRESS"], ner_model=str(tiny_ner_model))).nlp is None
    with pytest.raises(ValueError, match="cannot load spaCy NER model"):
        PiiScrubber(PiiParams(ner_model=str(tiny_ner_model.parent / "missing")))
