"""Scrubbing the fields around a document's text: a URL (credentials, each query value), and every string inside a
JSON-like value (the `extra` fields of a record). Used by the `pii` step, the Redactor and `curate scrub`."""

from __future__ import annotations

from typing import Any, Callable
from urllib.parse import unquote_plus


def scrub_url(url: str, scrub: Callable[[str], str]) -> str:
    """A URL scrubbed as a whole (credentials, addresses), then each query value and the fragment on their own: in a
    URL the recognizers take a number for an id or a date (rules.py: inside_url), but the value of a query
    parameter is whatever the parameter holds (`?tel=010-2345-6789`). The rest of the URL is left as it was."""
    url = scrub(url)
    head, sep, fragment = url.partition("#")
    base, qsep, query = head.partition("?")

    def value(v: str) -> str:
        out = scrub(unquote_plus(v))
        return v if out == unquote_plus(v) else out

    if query:
        query = "&".join(k + eq + value(v) for k, eq, v in (p.partition("=") for p in query.split("&")))
    return base + qsep + query + sep + (value(fragment) if fragment else "")


def scrub_values(value: Any, scrub: Callable[[str], str]) -> Any:
    """Every string inside a JSON-like value (dict values, list items), scrubbed; keys and numbers unchanged."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: scrub_values(v, scrub) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_values(v, scrub) for v in value]
    return value
