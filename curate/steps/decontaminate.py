"""Decontamination: flag or remove documents that contain long n-grams of evaluation sets (13-grams, as in the
GPT-3 paper), reported per evaluation set.

Evaluation sets are local JSON files (one JSON object per line, or a JSON list; .gz too), e.g. MMLU rows
{"question", "choices", "answer"} or HellaSwag rows {"ctx", "endings", ...}: every string (and list of strings) of the
chosen fields is one text. Their n-gram hashes (64-bit) are held as one sorted array per set, and a document's n-grams
are looked up with one `np.searchsorted` — no Python set of strings.
"""

from __future__ import annotations

import gzip
import json
from typing import Any, Literal

import numpy as np
import pyarrow as pa
from datatrove.data import Document
from pydantic import BaseModel, ConfigDict, Field

from curate.dedup import report as dedup_report
from curate.dedup.text import NormConfig, word_ngrams
from curate.steps.base import CurateStep, StepParams


class EvalSet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    paths: list[str]
    fields: list[str] | None = None  # JSON fields holding text (default: every string / list-of-strings field)


class DecontaminateParams(StepParams):
    eval_sets: list[EvalSet] = Field(min_length=1)  # local evaluation sets: name, JSONL paths, text fields
    ngram: int = Field(13, ge=3)  # words per n-gram (13, as GPT-3's decontamination)
    min_matches: int = Field(1, ge=1)  # n-grams in common with one set before a document counts as contaminated
    action: Literal["remove", "flag"] = "remove"  # remove contaminated documents, or only mark them
    # how text is normalised before n-grams are taken; digits are kept: numbers matter in benchmark answers
    normalization: NormConfig = NormConfig(digits=False)


def eval_texts(spec: EvalSet) -> list[str]:
    texts = []
    for path in spec.paths:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as f:
            raw = f.read()
        stripped = raw.lstrip()
        rows = json.loads(raw) if stripped.startswith("[") else [json.loads(x) for x in raw.splitlines() if x.strip()]
        for row in rows:
            parts = []
            for key, value in row.items() if isinstance(row, dict) else [("text", row)]:
                if spec.fields is not None and key not in spec.fields:
                    continue
                if isinstance(value, str):
                    parts.append(value)
                elif isinstance(value, list):
                    parts += [v for v in value if isinstance(v, str)]
            if parts:
                # one text per item: question and answers joined, so n-grams may span them as they would in a page
                texts.append("\n".join(parts))
    return texts


class Decontaminate(CurateStep):
    """Documents sharing long n-grams (13 by default) with local evaluation sets: removed or flagged, per set."""
    summary = "documents sharing 13-grams with local evaluation sets (MMLU / HellaSwag-shaped JSONL), per set"

    type_name = "decontaminate"
    doc = "docs/dedup.md"
    tests = ("tests/test_dedup_decontam.py",)
    Params = DecontaminateParams
    columns = {"contaminated_by": pa.string(), "contamination_ngrams": pa.int64()}

    def __init__(self, params: DecontaminateParams, ctx, name=None):
        super().__init__(params, ctx, name)
        self._grams: dict[str, np.ndarray] | None = None
        self._examples: dict[str, list[str]] = {}

    def grams(self) -> dict[str, np.ndarray]:
        if self._grams is None:  # built in the task, not pickled with the step
            p = self.params
            self._grams = {}
            for spec in p.eval_sets:
                texts = eval_texts(spec)
                hashes = [word_ngrams(t, p.ngram, p.normalization) for t in texts]
                self.count(f"eval_items:{spec.name}", len(texts))
                self.count(f"eval_items_shorter_than_ngram:{spec.name}", sum(1 for h in hashes if not len(h)))
                self._grams[spec.name] = np.unique(np.concatenate(hashes)) if hashes else np.zeros(0, np.uint64)
        return self._grams

    def process(self, doc: Document) -> str | None:
        p = self.params
        g = word_ngrams(doc.text, p.ngram, p.normalization)
        if not len(g):
            return None
        hits: dict[str, int] = {}
        for name, ref in self.grams().items():
            if not len(ref):
                continue
            pos = np.minimum(np.searchsorted(ref, g), len(ref) - 1)
            n = int(np.unique(g[ref[pos] == g]).size)
            if n >= p.min_matches:
                hits[name] = n
        if not hits:
            return None
        doc.metadata["contaminated_by"] = ",".join(sorted(hits))
        doc.metadata["contamination_ngrams"] = sum(hits.values())
        for name, n in hits.items():
            self.count(f"documents:{name}")
            self.count(f"ngrams:{name}", n)
            ex = self._examples.setdefault(name, [])
            if len(ex) < 5:
                ex.append(doc.id)
        if p.action == "flag":
            return None
        return max(hits, key=hits.get)  # the reason names the evaluation set with the most overlap

    def run(self, data, rank: int = 0, world_size: int = 1):
        yield from super().run(data, rank, world_size)
        sets = {s.name: {"documents": self.counters.get(f"documents:{s.name}", 0),
                         "ngrams": self.counters.get(f"ngrams:{s.name}", 0),
                         "eval_items": self.counters.get(f"eval_items:{s.name}", 0),
                         "examples": self._examples.get(s.name, [])} for s in self.params.eval_sets}
        dedup_report.write_task_part(self.ctx.run_dir, self.step_name, rank,
                                     {"sets": sets, "action": self.params.action, "ngram": self.params.ngram,
                                      "documents": self.documents_in}, merge=merge_parts)


def merge_parts(step: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    sets: dict[str, dict[str, Any]] = {}
    for part in parts:
        for name, s in part["sets"].items():
            slot = sets.setdefault(name, {"documents": 0, "ngrams": 0, "eval_items": s["eval_items"], "examples": []})
            slot["documents"] += s["documents"]
            slot["ngrams"] += s["ngrams"]
            slot["examples"] = (slot["examples"] + s["examples"])[:5]
    action = parts[0]["action"] if parts else "remove"
    docs = sum(p["documents"] for p in parts)
    md = [f"## Decontamination: {step}\n",
          f"{docs:,} documents checked for {parts[0]['ngram'] if parts else 13}-gram overlap; contaminated ones were "
          f"{'removed' if action == 'remove' else 'flagged'}.\n",
          "| evaluation set | items | documents | shared n-grams | examples |", "|---|---|---|---|---|"]
    for name, s in sets.items():
        md.append(f"| {name} | {s['eval_items']:,} | {s['documents']:,} | {s['ngrams']:,} | {', '.join(s['examples'])} |")
    return {"title": f"Decontamination: {step}", "markdown": "\n".join(md) + "\n",
            "data": {"documents": docs, "action": action, "sets": sets}}
