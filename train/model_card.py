"""README.md model cards the Hugging Face Hub accepts, and the data provenance of every training stage.

Every saved model directory gets README.md (built with `huggingface_hub.ModelCardData` / `ModelCard`) and
provenance.json (machine-readable: sources, licenses, token counts, and every post-training stage's data). A model
trained from another inherits its provenance and adds its own stage. Hub rules the metadata follows:
- `base_model` is a Hub id (`card.base_model`) or absent; a local base directory is recorded as `base_model_local`,
  relative to the model directory (never an absolute path);
- `license: other` always comes with `license_name` and `license_link` (a file in the model directory);
- `datasets` lists Hub ids only (`card.datasets`); local sources are in the body with their provenance.
The attribution, notice and use-restriction texts come from `license_registry.model_card_section` (the same rules
as `license-registry audit`); `train` works without that package.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from types import SimpleNamespace

import yaml

_SIMPLE_SPDX = re.compile(r"^[A-Za-z0-9.\-+]+$")
LICENSES_FILE = "TRAINING_DATA_LICENSES.md"


def provenance_from_tokens(tokens_meta: dict | None, manifest: dict | None, scale: float = 1.0) -> dict:
    """Sources / licenses / languages with document, byte and token counts (train split; tokens x `scale`)."""
    manifest = manifest or {}
    counts = ((tokens_meta or {}).get("splits", {}).get("train", {}) or {}).get("token_counts", {})

    def table(kind: str, manifest_key: str) -> list[dict]:
        # Documents without a language: the token shards count them as "unknown", a curate manifest may key them
        # "None" (JSON has no null keys); one row, and never a "None" language in the card's metadata.
        fix = (lambda n: "unknown" if n in (None, "", "None", "null") else n) if kind == "lang" else (lambda n: n)
        tok: dict = {}
        for name, n in counts.get(kind, {}).items():
            tok[fix(name)] = tok.get(fix(name), 0) + n
        rows = {}
        for name, m in (manifest.get(manifest_key) or {}).items():
            row = rows.setdefault(fix(name), {"name": fix(name)})
            for k in ("documents", "bytes"):
                if m.get(k) is not None:
                    row[k] = row.get(k, 0) + m[k]
            if "license" in m:
                row["license"] = m["license"]
        for name, n in tok.items():
            rows.setdefault(name, {"name": name})
            rows[name]["tokens"] = int(round(n * scale))
        return list(rows.values())

    return {"run_dir": manifest.get("run_dir"), "manifest_hash": (tokens_meta or {}).get("manifest_hash"),
            "documents": manifest.get("documents_kept"),
            "tokens": int(round(((tokens_meta or {}).get("splits", {}).get("train", {}).get("tokens") or 0) * scale)),
            "sources": table("source", "sources"), "licenses": table("license", "licenses"),
            "languages": table("lang", "languages")}


def _with_shares(rows: list[dict]) -> list[dict]:
    total = sum(r.get("tokens") or 0 for r in rows) or 1
    for r in rows:
        if r.get("tokens") is not None:
            r["token_share"] = round(r["tokens"] / total, 4)
    return sorted(rows, key=lambda r: -(r.get("tokens") or r.get("bytes") or 0))


def mixture_provenance(parts: list[tuple[dict, dict, str, int]]) -> dict:
    """Provenance of pretraining on one or several token directories: (meta, manifest, tokens dir, tokens trained).

    One directory: its token counts as stored. Several (a weighted mixture): each directory's counts scaled to the
    tokens actually drawn from it, so the tables' tokens and shares are those of the training mixture, and a
    `mixture` table says how many tokens each directory had and gave.
    """
    if len(parts) == 1:
        meta, manifest, _, _ = parts[0]
        prov = provenance_from_tokens(meta, manifest)
    else:
        merged: dict = {"run_dir": [], "manifest_hash": [], "documents": 0, "tokens": 0, "mixture": [],
                        "sources": [], "licenses": [], "languages": []}
        for meta, manifest, tokens_dir, trained in parts:
            available = meta["splits"]["train"]["tokens"]
            p = provenance_from_tokens(meta, manifest, scale=trained / max(1, available))
            merged["run_dir"].append(p["run_dir"])
            merged["manifest_hash"].append(p["manifest_hash"])
            merged["documents"] += p["documents"] or 0
            merged["tokens"] += p["tokens"]
            merged["mixture"].append({"name": Path(tokens_dir).name, "run_dir": p["run_dir"],
                                      "tokens_available": available, "tokens_trained": trained,
                                      "epochs": round(trained / max(1, available), 3)})
            for kind in ("sources", "licenses", "languages"):
                for row in p[kind]:
                    same = next((r for r in merged[kind] if r["name"] == row["name"]), None)
                    if same is None:
                        merged[kind].append(dict(row))
                    else:
                        for k in ("documents", "bytes", "tokens"):
                            if row.get(k) is not None:
                                same[k] = same.get(k, 0) + row[k]
        prov = merged
    for kind in ("sources", "licenses", "languages"):
        prov[kind] = _with_shares(prov[kind])
    return prov


def inherited_provenance(model_dir: str | Path) -> dict:
    p = Path(model_dir) / "provenance.json"
    return json.loads(p.read_text()) if p.exists() else {}


def _data_license(licenses: list[str]) -> tuple[str, str | None]:
    # The hub accepts lowercase SPDX-like ids; anything else (several licenses, expressions,
    # LicenseRef-, NOASSERTION) is "other" with a license_name, and the licenses file says what.
    real = [lic for lic in licenses if lic and lic != "NOASSERTION"]
    if len(set(real)) == 1 and _SIMPLE_SPDX.match(real[0]) and not real[0].startswith("LicenseRef"):
        return real[0].lower(), None
    return "other", "mixed-training-data"


def _registry_section(licenses: list[dict], stages: list[dict], base: dict | None):
    """Attribution, notices and pass-through use restrictions, from `license_registry` (the audit's rules): one
    data entry per license of the pretraining data (with its tokens) and one per post-training data set (with the
    terms of the model that generated it). `train` imports it lazily and carries on without it."""
    try:
        from license_registry import model_card_section
    except ImportError:
        return None
    data = [{"name": f"documents licensed {r['name']}", "license": r["name"], "tokens": r.get("tokens")}
            for r in licenses if r.get("name")]
    for s in stages:
        entry = {"name": s["name"], "license": s.get("license")}
        if s.get("generated_by"):
            entry["generated_by"] = s["generated_by"]
        data.append(entry)
    request: dict = {"use": "research", "distribution": "weights", "data": data}
    if base:
        request["base_model"] = base
    try:
        return model_card_section(request)
    except Exception as exc:  # the registry's rules must never lose a trained model: say so in the card
        return SimpleNamespace(metadata={}, markdown=f"<!-- license_registry.model_card_section failed: "
                                                    f"{type(exc).__name__}: {exc} -->")


def _md_table(rows: list[dict], cols: list[str]) -> str:
    head = "| " + " | ".join(cols) + " |\n| " + " | ".join("---" for _ in cols) + " |\n"
    body = ""
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c.replace(" ", "_"))
            if isinstance(v, dict):
                v = ", ".join(f"{k}: {x}" for k, x in v.items() if x)
            cells.append(f"{100 * v:.1f}%" if c == "token share" and v is not None else ("" if v is None else f"{v}"))
        body += "| " + " | ".join(cells) + " |\n"
    return head + body


def _is_hub_id(name: str | None) -> bool:
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    if not name or os.path.isabs(name) or name.startswith((".", "~")) or name.count("/") > 1:
        return False
    try:
        validate_repo_id(name)
    except HFValidationError:
        return False
    return True


def write_model_card(out_dir: str | Path, *, kind: str, config: dict, provenance: dict,
                     base_model: str | None = None, stage: dict | None = None, metrics: dict | None = None,
                     library: str = "transformers", method: str | None = None) -> Path:
    """Write OUT/README.md, OUT/provenance.json and OUT/TRAINING_DATA_LICENSES.md.

    `provenance`: the pretraining data's (mixture_provenance) or the base model's (inherited_provenance);
    `stage`: this stage's own data ({name, license, examples, path, generated_by?, ...}), appended to the
    provenance's `stages`; `base_model`: the local directory of the base model, if any.
    """
    from huggingface_hub import ModelCard, ModelCardData

    out_dir = Path(out_dir)
    card_cfg = config.get("card") or {}
    prov = json.loads(json.dumps(provenance))
    stages = prov.setdefault("stages", [])
    if stage:
        stages.append({"stage": kind, **stage})
    (out_dir / "provenance.json").write_text(json.dumps(prov, indent=2))

    data_licenses = [r["name"] for r in prov.get("licenses", [])] + [s["license"] for s in stages
                                                                     if s.get("license")]
    hub_base = card_cfg.get("base_model")
    if hub_base and not _is_hub_id(hub_base):
        raise ValueError(f"card.base_model must be a Hugging Face Hub id (owner/name), not {hub_base!r}")
    base = {"name": hub_base or (str(base_model) if base_model else None),
            "license": card_cfg.get("base_model_license")} if (hub_base or base_model) else None
    base = {k: v for k, v in base.items() if v} if base else None
    section = _registry_section(prov.get("licenses", []), stages, base if base and base.get("license") else None)

    license_, license_name = _data_license(data_licenses)
    license_link = None
    if card_cfg.get("license"):
        license_, license_name = card_cfg["license"].lower(), None
    elif section and section.metadata.get("license"):  # the base model's license, as the registry spells it
        license_ = section.metadata["license"]
        license_name, license_link = section.metadata.get("license_name"), section.metadata.get("license_link")
    if license_ == "other":
        license_name = license_name or "mixed-training-data"
        license_link = license_link or LICENSES_FILE
    datasets = [d for d in card_cfg.get("datasets") or [] if _is_hub_id(d)]
    data = ModelCardData(
        license=license_, license_name=license_name, license_link=license_link,
        base_model=hub_base, base_model_relation=_relation(method) if hub_base else None,
        datasets=datasets or None,
        language=[r["name"] for r in prov.get("languages", []) if r["name"] not in (None, "unknown")] or None,
        library_name=library, tags=["curate-toolkit", kind] + ([method] if method else []),
        base_model_local=os.path.relpath(Path(base_model).resolve(), out_dir.resolve()) if base_model else None,
        training_data_licenses=sorted(set(data_licenses)))

    title = card_cfg.get("title") or out_dir.resolve().parent.name
    lines = [f"# {title}", "", f"Trained with `train {kind}`{f' ({method})' if method else ''} from the "
             f"curate-toolkit.", ""]
    if base_model or hub_base:
        lines += [f"Base model: `{hub_base or data.base_model_local}`"
                  + (f" (local directory `{data.base_model_local}`)" if hub_base and base_model else ""), ""]
    run_dir = prov.get("run_dir")
    lines += ["## Training data provenance", "",
              f"Run folder(s): `{run_dir}` (manifest sha256 `{prov.get('manifest_hash')}`); "
              f"{prov.get('documents')} documents, {prov.get('tokens')} training tokens.", ""]
    if prov.get("mixture"):
        lines += ["### Mixture", "", _md_table(prov["mixture"], ["name", "run dir", "tokens available",
                                                                 "tokens trained", "epochs"])]
    lines += ["### Sources", "", _md_table(prov.get("sources", []), ["name", "license", "documents", "bytes",
                                                                      "tokens", "token share"]),
              "### Licenses", "", _md_table(prov.get("licenses", []), ["name", "documents", "bytes", "tokens",
                                                                        "token share"]),
              "### Languages", "", _md_table(prov.get("languages", []), ["name", "documents", "tokens",
                                                                          "token share"])]
    if stages:
        lines += ["### Post-training data", "", "Each stage after pretraining, in order (local files; "
                  "`generated_by` names the model that wrote synthetic data and its terms).", "",
                  _md_table(stages, ["stage", "name", "license", "examples", "path", "generated by"])]
    if section:
        lines += [section.markdown, ""]
    lines += ["## Training", "", "```yaml", yaml.safe_dump(_card_config(config), sort_keys=False).strip(), "```", ""]
    if metrics:
        lines += ["## Final metrics", "", "```json", json.dumps(metrics, indent=2), "```", ""]

    (out_dir / LICENSES_FILE).write_text(
        "# Licenses of the training data\n\nThe weights were trained on data under these licenses (see README.md "
        "for the tokens per license and the obligations):\n\n"
        + "".join(f"- {lic}\n" for lic in sorted(set(data_licenses))))
    card = ModelCard(f"---\n{data.to_yaml()}\n---\n\n" + "\n".join(lines))
    path = out_dir / "README.md"
    card.save(path)
    return path


def _relation(method: str | None) -> str:
    if method and method.endswith("merged"):
        return "merge"
    return "adapter" if method in ("lora", "dora", "ia3", "prefix", "prompt") else "finetune"


def _card_config(config: dict) -> dict:
    keep = ("objective", "model", "optim", "train", "span_corruption", "causal_lm", "peft", "data", "seed", "dpo",
            "grpo")
    return json.loads(json.dumps({k: config[k] for k in keep if k in config}, default=str))
