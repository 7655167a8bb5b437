"""The registry: ScanCode LicenseDB index + the project's ML entries + aliases."""

from __future__ import annotations

import fnmatch
import re
from functools import lru_cache
from pathlib import Path

import yaml
from license_expression import Licensing, build_spdx_licensing

from . import scancode
from .aliases import AliasTable, exact_key, loose_key
from .models import EntryFile, LicenseEntry, ModelId, ModelIdFile
from .names import load_names

# Lower rank wins when two sources claim the same spelling: our curated entries first, then SPDX
# ids from ScanCode, then bare ScanCode keys.
RANK_ENTRY, RANK_SPDX, RANK_SCANCODE_KEY = 0, 1, 2

# Ordering used to say which of several licenses is "more permissive" (lower is freer).
CATEGORY_RANK = {
    "First Party": 0,  # the organization's own data (LicenseRef-owned)
    "Public Domain": 0,
    "Permissive": 1,
    "Copyleft Limited": 2,
    "Copyleft": 3,
    "Proprietary Free": 4,
    "Free Restricted": 4,
    "Source-available": 5,
    "CLA": 5,
    "Patent License": 5,
    "Commercial": 6,
    "Unstated License": 7,
}
UNKNOWN_RANK = 8
# Categories whose licenses ask for nothing beyond notices: no copyleft, no use restrictions.
PERMISSIVE_CATEGORIES = frozenset({"First Party", "Public Domain", "Permissive"})

# SPDX/ScanCode ids spell out Creative Commons elements ("CC-BY-NC-SA-4.0"): how policies and audits judge a CC
# variant that has no curated entry.
CC_NC = re.compile(r"^CC-BY(-[A-Z]+)*-NC", re.I)
CC_ND = re.compile(r"^CC-BY(-[A-Z]+)*-ND", re.I)
CC_SA = re.compile(r"^CC-BY(-[A-Z]+)*-SA", re.I)


# What a model id says about its modality, when the table does not (first match wins).
_MODALITY_HINTS = [(re.compile(p), m) for p, m in [
    (r"vision|[-_.]vl\b|[-_.]vl[-_.]|llava|pixtral|paligemma|idefics|[-_]omni\b|[-_]omni[-_]|multimodal", "multimodal"),
    (r"[-_]audio|whisper|speech|[-_]asr\b|[-_]tts\b", "audio"),
    (r"stable-diffusion|sdxl|flux\.|[-_]image[-_]|text-to-image", "image"),
]]


# libyaml's safe loader when installed (the entries are large), else PyYAML's own: both are safe loaders.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class RegistryError(ValueError):
    pass


class Registry:
    def __init__(self, entries: list[LicenseEntry], model_ids: list[ModelId] | None = None):
        self.entries: dict[str, LicenseEntry] = {}
        for entry in entries:
            for lid in entry.all_ids:
                if lid in self.entries:
                    raise RegistryError(f"duplicate license id {lid!r} in entries")
                self.entries[lid] = entry
        self._sc_by_key = scancode.by_key()
        self._sc_by_spdx = scancode.by_spdx_id()
        self._check_entries(entries)
        self.ml_entries: list[LicenseEntry] = list(entries)
        self.aliases = self._build_aliases(entries)
        self.licensing: Licensing = self._build_licensing(entries)
        self.model_ids = self._check_model_ids(model_ids or [])
        # Longest glob first: a size- or variant-specific row overrides its family's row.
        self._patterns = sorted(((p.lower(), row) for row in self.model_ids for p in row.match),
                                key=lambda pr: -len(pr[0]))
        self._urls = {_norm_url(u): e.id for e in entries for u in e.urls}

    # -- construction -------------------------------------------------------------------------
    def _check_entries(self, entries: list[LicenseEntry]) -> None:
        for e in entries:
            if e.scancode_key and e.scancode_key not in self._sc_by_key:
                raise RegistryError(f"{e.id}: scancode_key {e.scancode_key!r} is not in the ScanCode index")
            if not e.scancode_key and not e.category and e.id not in self._sc_by_spdx:
                raise RegistryError(f"{e.id}: needs a scancode_key or a category")

    def _check_model_ids(self, rows: list[ModelId]) -> list[ModelId]:
        """Every row's license must resolve to known licenses: a typo in the table fails the load."""
        out = []
        for row in rows:
            ids = []
            for part in re.split(r"\s+(AND|OR)\s+", row.license):
                if part in ("AND", "OR"):
                    ids.append(part)
                    continue
                lid = self.aliases.lookup(part)
                if lid is None:
                    raise RegistryError(f"model_ids.yaml: {row.match[0]!r}: license {part!r} is not known")
                ids.append(lid)
            out.append(row.model_copy(update={"license": " ".join(ids)}))
        return out

    def _build_aliases(self, entries: list[LicenseEntry]) -> AliasTable:
        table = AliasTable()
        for e in entries:
            for lid in e.all_ids:
                table.add(lid, lid, RANK_ENTRY)
                # ScanCode's other ids for this license (e.g. "GPL-2.0" for GPL-2.0-only).
                row = self._sc_by_spdx.get(lid)
                if row:
                    for other in row.other_spdx_ids:
                        table.add(other, lid, RANK_ENTRY)
            or_later = next((i for i in e.also_covers if i.endswith("-or-later")), None)
            for spelling in (e.name, e.hf_id, e.scancode_key, *e.aliases):
                if spelling:
                    # "GPLv2+", "GNU GPL v2 or later" name the -or-later id, not the -only one.
                    later = or_later and (spelling.endswith("+") or "or later" in spelling.lower())
                    table.add(spelling, or_later if later else e.id, RANK_ENTRY)
        for row in scancode.load_index():
            if not row.spdx_id:
                continue  # a handful of legacy rows have no id usable in expressions
            table.add(row.spdx_id, row.spdx_id, RANK_SPDX)
            for other in row.other_spdx_ids:
                table.add(other, row.spdx_id, RANK_SPDX)
            table.add(row.key, row.spdx_id, RANK_SCANCODE_KEY)
        # names of licenses without an entry; a name that is one word without "License" ("JPEG", "PSF", "Click")
        # names a license only with that word: "provided with JPEG support" names none
        names = load_names()
        for lid, spellings in names["written"].items():
            self._check_named(lid)
            for name in spellings:
                table.add(name, lid, RANK_SPDX, loose="-" in loose_key(name))
        for lid, spellings in names["scancode"].items():  # they fill gaps: a spelling known already keeps its meaning
            self._check_named(lid)
            for name in spellings:
                if table.lookup(name) is None:
                    table.add(name, lid, RANK_SCANCODE_KEY, loose="-" in loose_key(name))
        return table

    def _check_named(self, lid: str) -> None:
        if lid not in self._sc_by_spdx:
            raise RegistryError(f"names.yaml: {lid!r} is not an id of the ScanCode index")

    def _build_licensing(self, entries: list[LicenseEntry]) -> Licensing:
        # The SPDX licensing built from the ScanCode index, plus our own LicenseRef ids so that
        # expressions mentioning them validate like any other.
        rows = list(scancode.raw_index())
        known = {r.get("spdx_license_key") for r in rows}
        for e in entries:
            for lid in e.all_ids:
                if lid not in known:
                    rows.append({"spdx_license_key": lid, "other_spdx_license_keys": [], "is_exception": False})
        return build_spdx_licensing(rows)

    # -- queries ------------------------------------------------------------------------------
    def lookup(self, name: str) -> str | None:
        """Canonical id for a single license name/alias, or None."""
        return self.aliases.lookup(name)

    def entry(self, license_id: str) -> LicenseEntry | None:
        return self.entries.get(license_id)

    def scancode_row(self, license_id: str) -> scancode.ScancodeLicense | None:
        entry = self.entries.get(license_id)
        if entry and entry.scancode_key:
            return self._sc_by_key[entry.scancode_key]
        return self._sc_by_spdx.get(license_id)

    def category(self, license_id: str) -> str | None:
        entry = self.entries.get(license_id)
        if entry and entry.category:
            return entry.category
        row = self.scancode_row(license_id)
        return row.category if row else None

    def is_known(self, license_id: str) -> bool:
        return license_id in self.entries or license_id in self._sc_by_spdx

    def match_model(self, model_name: str) -> ModelId | None:
        """The model_ids.yaml row for a model id such as 'meta-llama/Llama-3.2-1B' or 'gpt-4o' (license normalized
        to our ids), or None."""
        name = model_name.strip().lower()
        for pattern, row in self._patterns:
            if fnmatch.fnmatchcase(name, pattern):
                return row
        return None

    def model_modality(self, model_name: str) -> str | None:
        """A model's modality from the table, else from what its id says ("-Vision", "-VL", "llava", "-Audio" ...);
        None when nothing says (never assumed to be text)."""
        row = self.match_model(model_name)
        if row and row.modality:
            return row.modality
        name = model_name.lower()
        for pattern, modality in _MODALITY_HINTS:
            if pattern.search(name):
                return modality
        return None

    def model_entry(self, model_name: str) -> LicenseEntry | None:
        """The entry of a model id whose license is a single license with an entry."""
        row = self.match_model(model_name)
        return self.entries.get(row.license) if row else None

    def match_url(self, url: str) -> str | None:
        return self._urls.get(_norm_url(url))

    def search(self, text: str, limit: int = 25) -> list[str]:
        """License ids whose id, name or aliases contain `text` (curated entries first)."""
        needle = exact_key(text)
        if not needle:
            return []
        scored: dict[str, tuple[int, int]] = {}
        for target, spellings in self.aliases.spellings.items():
            for sp in spellings:
                key = exact_key(sp)
                if needle in key:
                    # exact match < prefix < substring; curated entries before ScanCode rows.
                    closeness = 0 if key == needle else 1 if key.startswith(needle) else 2
                    score = (closeness, 0 if target in self.entries else 1)
                    if target not in scored or score < scored[target]:
                        scored[target] = score
        return sorted(scored, key=lambda t: (scored[t], t.lower()))[:limit]

    def stats(self) -> dict[str, int]:
        return {
            "ml_entries": len(self.ml_entries),
            "ml_license_ids": len(self.entries),
            # distinct spellings (ids, HF ids, ScanCode keys, names, aliases) that reach an ML entry
            "ml_aliases": sum(len(self.aliases.spellings.get(i, ())) for i in self.entries),
            "scancode_licenses": len(scancode.load_index()),
            "alias_keys": len(self.aliases),
            "model_id_rows": len(self.model_ids),
            "model_id_globs": len(self._patterns),
        }


def _norm_url(url: str) -> str:
    url = url.strip().lower()
    url = re.sub(r"^[a-z]+://", "", url)
    url = re.sub(r"^www\.", "", url)
    return url.rstrip("/")


def load_entries() -> list[LicenseEntry]:
    """Load and validate every YAML file under license_registry/entries/."""
    entries: list[LicenseEntry] = []
    # Path next to this module, not importlib.resources: an editable install made before the package had an
    # __init__.py maps it as a namespace package, where resources.files() fails.
    folder = Path(__file__).resolve().parent / "entries"
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".yaml"):
            continue
        data = yaml.load(item.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
        try:
            entries.extend(EntryFile.model_validate(data).entries)
        except Exception as exc:  # re-raise with the file name: the pydantic error alone is opaque
            raise RegistryError(f"{item.name}: {exc}") from exc
    return entries


def load_model_ids() -> list[ModelId]:
    """The model-id table (license_registry/model_ids.yaml), validated."""
    path = Path(__file__).resolve().parent / "model_ids.yaml"
    try:
        return ModelIdFile.model_validate(yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)).models
    except Exception as exc:
        raise RegistryError(f"{path.name}: {exc}") from exc


@lru_cache(maxsize=1)
def get_registry() -> Registry:
    return Registry(load_entries(), load_model_ids())
