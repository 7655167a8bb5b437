"""Name normalization for alias lookup.

People write "CC BY-NC 4.0", "Apache License, Version 2.0", "llama3.2", "cc-by-nc-4.0". Two keys
are derived from every alias and every query:
  * exact key: lower case, punctuation/space runs folded to "-" ("cc-by-nc-4.0");
  * loose key: the exact key minus filler words and trailing ".0" ("apache-2" for all of
    "Apache License Version 2.0", "Apache 2", "apache-2.0").
Exact keys win; a loose key is only used when it points to a single license (ambiguous loose keys
are dropped rather than guessed).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

# Words that carry no identity in license names.
_FILLER = {"the", "license", "licence", "version", "agreement", "international", "unported", "generic",
           "community", "public-domain-dedication", "v", "v."}  # "Eclipse Public License - v 2.0", "v. 2.0"
_PUNCT = re.compile(r"[^a-z0-9.+]+")


_POSSESSIVE = re.compile(r"(?<=\w)['’]s\b")  # "CNRI's Python license" is the CNRI Python license


def exact_key(name: str) -> str:
    s = _POSSESSIVE.sub("", name.strip().lower().replace("licence", "license"))
    return _PUNCT.sub("-", s).strip("-.")


def loose_key(name: str) -> str:
    tokens = []
    for tok in exact_key(name).split("-"):
        if not tok or tok in _FILLER:
            continue
        # "v2" -> "2", "2.0" -> "2": version spellings people mix freely.
        tok = re.sub(r"^v(?=\d)", "", tok)
        tok = re.sub(r"(?<=\d)\.0$", "", tok)
        tokens.append(tok)
    return "-".join(tokens)


@dataclass
class AliasTable:
    """Alias -> canonical license id, with priorities (lower rank wins on exact-key clashes)."""

    _exact: dict[str, tuple[int, str]] = field(default_factory=dict)
    _loose: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    # Original spellings per target, for `search` and for reporting alias counts.
    spellings: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def add(self, alias: str, target: str, rank: int, *, loose: bool = True) -> None:
        """`loose=False`: only the exact spelling (a name whose loose key is one common word: "JPEG License")."""
        if not alias or not alias.strip():
            return
        key = exact_key(alias)
        old = self._exact.get(key)
        if old is None or rank < old[0]:
            self._exact[key] = (rank, target)
        lkey = loose_key(alias)
        if lkey and loose:
            prev = self._loose[lkey].get(target)
            self._loose[lkey][target] = rank if prev is None else min(prev, rank)
        self.spellings[target].add(alias)

    def lookup(self, name: str) -> str | None:
        hit = self._exact.get(exact_key(name))
        if hit:
            return hit[1]
        targets = self._loose.get(loose_key(name))
        if not targets:
            return None
        best = min(targets.values())
        winners = [t for t, r in targets.items() if r == best]
        # Only a unique best-ranked target is trusted; otherwise the name is ambiguous.
        return winners[0] if len(winners) == 1 else None

    def __len__(self) -> int:
        return len(self._exact)

    def items(self):
        return ((k, v[1]) for k, v in self._exact.items())
