"""No file a run writes holds personal data that the pipeline's scrubbers would have removed, wherever a document
leaves the pipeline.

The stage plan builds one `Redactor` from the pipeline's `pii` steps and gives it to every writer (each stage's
sink) and to every step that writes text or ids into a report or an index. A removed document is scrubbed by each
PII step it has not been through (text, url, id and input fields), whichever stage or step removed it; a kept
document has been through the steps themselves. So privacy does not depend on where a stage boundary falls or on
which step removed a document: it is a property of the plan.

Ids: a PII value inside an id is replaced like in text, and a keyed hash of the original id is appended
(`<EMAIL>/post~3f9a1c0b2d4e`), so that ids stay unique and every reference to an id (duplicate_of, the dedup index)
stays consistent within a run, while the key (a random per-run value in logs/run.json) keeps the hash from being
reversed by guessing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING, Any

from datatrove.data import Document

from curate import document as D

if TYPE_CHECKING:
    from curate.steps.scrub import PiiStep


def new_id_key() -> str:
    return secrets.token_hex(16)


def keyed_id(key: str, scrubbed: str, original: str) -> str:
    digest = hmac.new(key.encode(), original.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:12]
    return f"{scrubbed}~{digest}"


class Redactor:
    """The pipeline's PII steps, applied to whatever is about to be written."""

    def __init__(self, steps: list[PiiStep]):
        self.steps = steps

    def __bool__(self) -> bool:
        return bool(self.steps)

    def document(self, doc: Document) -> None:
        """Scrub a removed document with every PII step that has not scrubbed it yet (whatever their scope: a
        document outside a step's languages is still scrubbed before it is written to removed/)."""
        done = doc.metadata.get(D.SCRUBBED) or ()
        for step in self.steps:
            if step.step_name not in done and step.params.scrub_removed:
                counts = step.scrub_document(doc)
                step.count("removed_documents_scrubbed")
                for entity, n in counts.items():
                    step.count(f"removed:{entity}", n)

    def text(self, value: str | None) -> str | None:
        """A string for a report (a preview, a sample): scrubbed by every PII step."""
        for step in self.steps:
            if value:
                value = step.scrubber.scrub(value)[0]
        return value

    def id(self, value: Any) -> Any:
        """A document id as the PII steps write it (see the module docstring)."""
        for step in self.steps:
            value = step.scrub_id(value)
        return value

    def preview(self, text: str, n: int = 100) -> str:
        """The first `n` characters of a scrubbed text. Scrubbing a much longer head first means a value cut by the
        preview's end is still recognised (and replaced) whole."""
        return (self.text(text[: n * 10]) or "")[:n]
