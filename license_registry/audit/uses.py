"""Does an application fall under a restricted use? Matched by the use's conditions, never by a keyword alone.

A restricted use (models.RestrictedUse) names activities ("approve", "deny", "diagnos") and, for uses limited to
a field, domains ("credit", "mortgage", "medical"). An application falls under it when it names an activity AND a
domain; then each condition the use carries ("fully automated", "without disclosure", ...) is looked for in the
application: stated as met -> restricted; stated as not met (a human reviews, it is disclosed) -> not restricted;
not stated -> unclear, which the audit reports as `review` with the clause, never as `blocked`. A defensive
application (detecting or filtering the restricted thing) is unclear too.

"tenant screening reviewed by a human" is not an automated decision; "code completion for law-enforcement IT staff"
names a domain but no restricted activity; "car engine fault diagnosis" names an activity outside the medical
domain; "automatically approve or deny mortgage applications" is automated credit decision-making.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from ..models import RestrictedUse

Verdict = Literal["restricted", "unclear", "not_restricted"]

# What says a condition is met, and what says it is not (checked first: "no human review" is not "human review").
_CONDITIONS: dict[str, tuple[list[str], list[str]]] = {
    "fully_automated": (
        ["without human", "no human", "fully automat", "automatic", "automated", "autonomous", "unattended",
         "auto approv", "auto reject", "auto deny"],
        ["reviewed by a human", "human review", "human in the loop", "human reviewer", "human oversight",
         "human approval", "manually review", "reviewed by staff", "reviewed by an officer", "assist",
         "decision support", "recommendation for", "suggestion for", "draft for"]),
    "without_disclosure": (
        ["without disclos", "undisclosed", "not disclos", "without label", "pass off", "pretend to be human",
         "as if written by", "without telling"],
        ["disclosed as", "labelled as ai", "labeled as ai", "marked as ai", "with disclosure", "disclaim",
         "watermark", "clearly labelled", "clearly labeled"]),
    "without_consent": (
        ["without consent", "without their consent", "without permission", "covert", "secretly", "scrap"],
        ["with consent", "with their consent", "consented", "opt in", "opted in", "authorized by"]),
    "substitute_for_professional": (
        ["instead of a doctor", "replace doctor", "replace a doctor", "without a doctor", "replace physician",
         "instead of a physician", "replace clinician", "in place of a doctor"],
        ["assist", "support clinician", "for doctors", "for clinicians", "reviewed by a doctor",
         "reviewed by a physician", "reviewed by a clinician", "decision support", "triage support"]),
}
_DEFENSIVE = ["detect", "classif", "filter", "moderat", "flag", "prevent", "protect against", "defen", "block",
              "identify and remove", "screen out"]


@dataclass(frozen=True)
class UseMatch:
    use: RestrictedUse
    verdict: Verdict
    why: str


def _words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).split()


def _has(words: list[str], phrase: str) -> bool:
    """`phrase` as consecutive word stems: "approv" matches "approves", "fully automat" matches "fully automated"."""
    stems = _words(phrase)
    if not stems:
        return False
    for i in range(len(words) - len(stems) + 1):
        if all(words[i + k].startswith(stem) for k, stem in enumerate(stems)):
            return True
    return False


def _first(words: list[str], phrases: list[str]) -> str | None:
    return next((p for p in phrases if _has(words, p)), None)


def match_use(application: str, use: RestrictedUse) -> UseMatch:
    words = _words(application)
    activity = _first(words, use.activities)
    domain = _first(words, use.domains) if use.domains else "(any)"
    if not activity or not domain:
        return UseMatch(use, "not_restricted", "no restricted activity in a listed domain")
    found = f"'{activity}'" + (f" in '{domain}'" if use.domains else "")
    for condition in use.conditions:
        met, unmet = _CONDITIONS[condition]
        said_met = _first(words, met)
        said_unmet = None if said_met and said_met.startswith(("without", "no ", "not ")) else _first(words, unmet)
        if said_unmet:
            return UseMatch(use, "not_restricted", f"{found}, but '{said_unmet}': not {condition.replace('_', ' ')}")
        if not said_met:
            return UseMatch(use, "unclear", f"{found}; the application does not say whether it is "
                                            f"{condition.replace('_', ' ')}")
    defensive = _first(words, _DEFENSIVE)
    if defensive:
        return UseMatch(use, "unclear", f"{found}, but the application seems to counter it ('{defensive}')")
    return UseMatch(use, "restricted", found)


def match_application(application: str | None, uses: list[RestrictedUse]) -> list[UseMatch]:
    """The uses an application may fall under (restricted or unclear), best evidence first."""
    if not application:
        return []
    matches = [m for u in uses if (m := match_use(application, u)).verdict != "not_restricted"]
    return sorted(matches, key=lambda m: m.verdict != "restricted")
