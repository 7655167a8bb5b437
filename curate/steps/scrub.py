"""Pipeline steps: `pii` (scrub personal data and secrets) and `toxicity` (drop toxic documents or lines)."""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any, Literal

import pyarrow as pa
from datatrove.data import Document, DocumentsPipeline
from pydantic import Field, model_validator

from curate.dedup.columns import DUPLICATE_OF
from curate.document import EXTRA, LANG, SCRUBBED, URL
from curate.privacy import keyed_id
from curate.scrub.fields import scrub_url, scrub_values
from curate.scrub.pii import PiiParams
from curate.steps.base import CurateStep, StepParams
from curate.sections import write_totals_section

PII_COUNTS = "pii_counts"
TOXICITY_SCORE = "toxicity_score"
TOXIC_LINES_REMOVED = "toxic_lines_removed"


def _log_once(step: CurateStep, message: str) -> None:
    if not getattr(step, "_logged", False):
        from datatrove.utils.logging import logger

        logger.warning(f"{step.step_name}: {message}")
        step._logged = True


# -- PII ------------------------------------------------------------------------------------------------------------
class PiiStepParams(PiiParams, StepParams):
    languages: list[str] | None = None  # scrub only documents in these languages (None: all)
    remove_if_more_than: int | None = None  # remove a document with more PII items than this (e.g. directories)
    scrub_removed: bool = True  # scrub documents that other steps removed before they are written to removed/


class PiiStep(CurateStep):
    """Replace PII (e-mail, phones, cards, IBAN, IPs, credentials, SSN, Korean RRN/BRN/passport/licence) and
    secrets with typed placeholders, masks or salted hashes; counts per document in `pii_counts`."""
    summary = (
        "Presidio pattern recognizers (its no-op NLP engine: no model, offline) behind exact gates + "
        "detect-secrets, then named precision rules (counted per rule): e-mail, phones (KR included), cards, "
        "IBAN, IPs, credential URLs, US SSN, Korean RRN/BRN/passport/driver's licence with Korean context "
        "words (also glued to Korean particles), API keys and private keys → `<EMAIL>`, `<PHONE>`, "
        "`<KR_RRN>`, `<SECRET>`…; also scrubs documents in `removed/`"
    )

    type_name = "pii"
    doc = "docs/scrubbing.md"
    tests = ("tests/test_pii_*.py",)
    Params = PiiStepParams
    # JSON text ({"EMAIL_ADDRESS": 2}): a Parquet map would not load in `datasets`, which the shard contract promises
    columns = {PII_COUNTS: pa.string()}

    def __init__(self, params, ctx, name=None):
        super().__init__(params, ctx, name)
        self._scrubber = None

    @property
    def scrubber(self):
        if self._scrubber is None:  # built in the worker: steps are pickled before they run
            from curate.scrub.pii import PiiScrubber

            self._scrubber = PiiScrubber(PiiParams(**self.params.model_dump(include=set(PiiParams.model_fields))))
            if self._scrubber.ner_note and self._scrubber.nlp is None:
                _log_once(self, self._scrubber.ner_note)
        return self._scrubber

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_scrubber"] = None
        return state

    def scrub_document(self, doc: Document) -> dict[str, int]:
        """Scrub every string the document will be written with: text, url, id and input fields (`extra`).
        Returns the counts found (values are never recorded) and marks the document as scrubbed by this step."""
        counts: Counter[str] = Counter()

        def scrub(value: str) -> str:
            out, found = self.scrubber.scrub(value)
            counts.update(found)
            return out

        doc.text = scrub(doc.text)
        self.count("bytes_scanned", len(doc.text.encode("utf-8", "surrogatepass")))
        if isinstance(doc.metadata.get(URL), str):
            doc.metadata[URL] = scrub_url(doc.metadata[URL], scrub)
        if doc.metadata.get(EXTRA):
            doc.metadata[EXTRA] = scrub_values(doc.metadata[EXTRA], scrub)
        doc.id = self._keyed(doc.id, scrub(doc.id))
        if doc.metadata.get(DUPLICATE_OF):  # an id too: written the way that document's own id is
            doc.metadata[DUPLICATE_OF] = self.scrub_id(doc.metadata[DUPLICATE_OF])
        for rule, n in self.scrubber.take_rule_firings().items():  # which acceptance rule kept what out
            self.count(f"rule:{rule}", n)
        doc.metadata[PII_COUNTS] = json.dumps(dict(counts), sort_keys=True) if counts else None
        doc.metadata[SCRUBBED] = (*(doc.metadata.get(SCRUBBED) or ()), self.step_name)
        return dict(counts)

    def scrub_id(self, value):
        """An id as `scrub_document` writes it (for ids written elsewhere: dedup index, report samples)."""
        return self._keyed(value, self.scrubber.scrub(value)[0]) if isinstance(value, str) else value

    def _keyed(self, original: str, scrubbed: str) -> str:
        return scrubbed if scrubbed == original else keyed_id(self.ctx.id_key, scrubbed, original)

    def process(self, doc: Document) -> str | None:
        if self.params.languages is not None and doc.metadata.get(LANG) not in self.params.languages:
            return None
        counts = self.scrub_document(doc)
        total = sum(counts.values())
        if total:
            self.count("documents_with_pii")
            for entity, n in counts.items():
                self.count(entity, n)
        if self.params.remove_if_more_than is not None and total > self.params.remove_if_more_than:
            return "too_much_pii"
        return None

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        yield from super().run(data, rank, world_size)
        sc = self._scrubber
        note = sc.ner_note if sc is not None and sc.nlp is None else None
        # counts of removed documents scrubbed by the writers (curate.privacy) are in the manifest's counters only:
        # they are scrubbed as they are written, after this step has finished
        counters = {k: v for k, v in self.counters.items() if not k.startswith("removed")}
        write_totals_section(self.ctx.run_dir, self.step_name, rank,
                             {"documents_scanned": self.documents_in, **counters, **({"note": note} if note else {})},
                             self._render)

    def _render(self, totals: dict[str, Any]) -> tuple[str, str]:
        from curate.scrub.pii import ALL_ENTITIES

        rows = [(e, totals[e]) for e in ALL_ENTITIES if totals.get(e)]
        md = [f"## PII ({self.step_name})\n",
              f"{totals.get('documents_scanned', 0):,} documents scanned, "
              f"{totals.get('documents_with_pii', 0):,} with PII; {totals.get('bytes_scanned', 0) / 1e6:,.2f} MB. "
              "Values are never recorded, only counts.\n"]
        if rows:
            md += ["| entity | found |", "|---|---|"] + [f"| {e} | {n:,} |" for e, n in rows] + [""]
        else:
            md.append("_no PII found_\n")
        if self.params.scrub_removed:
            md.append("Documents removed by other steps are scrubbed too before they are written to removed/ "
                      "(counted in the manifest as `removed_documents_scrubbed`).\n")
        if totals.get("note"):
            md.append(f"Note: {totals['note']}.\n")
        return f"PII ({self.step_name})", "\n".join(md)


# -- toxicity -------------------------------------------------------------------------------------------------------
class ToxicityParams(StepParams):
    # auto: Korean documents with the shipped Korean model (curate/scrub/models/ko_toxicity.md), others with
    # profanity_check
    backend: Literal["auto", "fasttext", "char_ngram", "profanity_check", "wordlist"] = "auto"
    mode: Literal["document", "line"] = "document"  # drop the document, or only its offending lines
    languages: list[str] | None = None  # judge only documents in these languages (None: all)
    # profanity_check and wordlist scores; char_ngram: overrides the threshold saved with the model when given
    threshold: float = Field(0.5, ge=0, le=1)
    # fasttext: a supervised .bin/.ftz; char_ngram: a .json.gz (both from `curate train-classifier`)
    model_path: str | None = None
    thresholds: dict[str, float] = {"toxic": 0.5}  # fastText label -> probability at which a text is flagged
    # wordlist
    wordlists: list[str] | None = None  # files, or names in curate/scrub/wordlists/ (default: the document language's)
    hits_for_full_score: int = Field(1, ge=1)  # wordlist: word hits that give a score of 1.0
    min_line_chars: int = 0  # line mode: shorter lines are not judged
    batch_size: int = Field(256, ge=1)  # texts scored together (vectorised models)

    @model_validator(mode="after")
    def _check(self):
        if self.backend in ("fasttext", "char_ngram") and not self.model_path:
            raise ValueError(f"backend {self.backend} needs model_path")
        return self


class ToxicityStep(CurateStep):
    """Drop toxic documents, or only their toxic lines, with a fastText or character n-gram model, alt-profanity-check
    or word lists."""
    summary = (
        "default `auto`: Korean documents with a shipped character n-gram model (trained on MIT-licensed "
        "curse labels), others with alt-profanity-check's bundled English model; or your fastText or character "
        "n-gram model (`curate train-classifier`), or word lists; drop documents or only offending lines"
    )

    type_name = "toxicity"
    doc = "docs/scrubbing.md"
    tests = ("tests/test_toxicity.py",)
    Params = ToxicityParams
    columns = {TOXICITY_SCORE: pa.float64(), TOXIC_LINES_REMOVED: pa.int64()}

    def __init__(self, params: ToxicityParams, ctx, name=None):
        super().__init__(params, ctx, name)
        self.batch_size = params.batch_size
        self._backends: dict[str | None, Any] = {}
        if params.model_path and not os.path.isabs(params.model_path):
            params.model_path = os.path.abspath(params.model_path)
        self._backend(None if params.backend != "wordlist" or params.wordlists else "en")  # fail early

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_backends"] = {}
        return state

    def _backend(self, lang: str | None):
        from curate.scrub import toxicity as T

        p = self.params
        key = lang if p.backend == "wordlist" and not p.wordlists else None
        if p.backend == "auto":
            key = "ko" if lang == "ko" else None
        if key not in self._backends:
            if p.backend == "auto" and key == "ko":
                b = T.korean_default_backend()
            elif p.backend == "fasttext":
                b = T.FastTextBackend(p.model_path, p.thresholds)
            elif p.backend == "char_ngram":
                from curate.scrub.char_ngram import CharNgramBackend

                b = CharNgramBackend(p.model_path, p.threshold if "threshold" in p.model_fields_set else None)
            elif p.backend in ("profanity_check", "auto"):
                b = T.ProfanityCheckBackend()
            else:
                lists = p.wordlists or list(T.default_wordlists(key)) or list(T.default_wordlists(None))
                b = T.WordListBackend(lists, p.hits_for_full_score)
            self._backends[key] = b
        return self._backends[key]

    def _flagged(self, backend, score: float, label: str | None) -> bool:
        if getattr(backend, "has_own_threshold", False):  # fastText (per label), character n-grams
            return label is not None
        return score >= self.params.threshold

    def process_batch(self, docs: list[Document]) -> list[str | None]:
        p = self.params
        reasons: list[str | None] = [None] * len(docs)
        todo = [i for i, d in enumerate(docs) if p.languages is None or d.metadata.get(LANG) in p.languages]
        by_backend: dict[int, list[int]] = {}
        for i in todo:
            b = self._backend(docs[i].metadata.get(LANG))
            by_backend.setdefault(id(b), []).append(i)
        for idxs in by_backend.values():
            backend = self._backend(docs[idxs[0]].metadata.get(LANG))
            if p.mode == "document":
                for i, (score, label) in zip(idxs, backend.score([docs[i].text for i in idxs])):
                    docs[i].metadata[TOXICITY_SCORE] = round(score, 6)
                    if self._flagged(backend, score, label):
                        reasons[i] = f"toxic_{label}" if label else "toxic"
            else:
                for i in idxs:
                    reasons[i] = self._filter_lines(docs[i], backend)
        return reasons

    def _filter_lines(self, doc: Document, backend) -> str | None:
        lines = doc.text.split("\n")
        judged = [j for j, line in enumerate(lines) if len(line.strip()) > max(0, self.params.min_line_chars - 1)]
        scores = backend.score([lines[j] for j in judged])
        drop: set[int] = set()
        top = 0.0
        for j, (score, label) in zip(judged, scores):
            top = max(top, score)
            if self._flagged(backend, score, label):
                drop.add(j)
                self.count(f"lines_removed:toxic_{label}" if label else "lines_removed:toxic")
        doc.metadata[TOXICITY_SCORE] = round(top, 6)
        doc.metadata[TOXIC_LINES_REMOVED] = len(drop)
        if not drop:
            return None
        self.count("documents_with_lines_removed")
        kept = [line for j, line in enumerate(lines) if j not in drop]
        if not any(line.strip() for line in kept):
            return "toxic_all_lines"  # the document is removed whole (its text unchanged, for review)
        self.count("bytes_removed_in_lines", sum(len(lines[j].encode("utf-8")) + 1 for j in drop))
        doc.text = "\n".join(kept)
        return None

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        yield from super().run(data, rank, world_size)
        totals = {"documents_judged": self.documents_in, "documents_removed": self.removed, **self.counters}
        write_totals_section(self.ctx.run_dir, self.step_name, rank, totals, self._render)

    def _render(self, totals: dict[str, Any]) -> tuple[str, str]:
        p = self.params
        what = p.model_path and os.path.basename(p.model_path) or p.backend
        md = [f"## Toxicity ({self.step_name})\n",
              f"Backend `{p.backend}` ({what}), mode `{p.mode}`: {totals.get('documents_judged', 0):,} documents "
              f"judged, {totals.get('documents_removed', 0):,} removed."]
        lines = {k.split(":", 1)[1]: v for k, v in totals.items() if k.startswith("lines_removed:")}
        if lines:
            md.append(f" {sum(lines.values()):,} lines removed from "
                      f"{totals.get('documents_with_lines_removed', 0):,} documents ("
                      + ", ".join(f"{k}: {v:,}" for k, v in sorted(lines.items())) + ").")
        return f"Toxicity ({self.step_name})", "".join(md) + "\n"
