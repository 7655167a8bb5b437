"""README.md model cards with Hugging Face YAML metadata and the data provenance of the training run.

Every saved model directory gets README.md plus provenance.json (machine-readable: sources, licenses,
token shares).  A fine-tuned model inherits the provenance of its base model and adds its own data.
The attribution, notice and use-restriction texts come from `license_registry.model_card_section` (the same
rules as `license-registry audit`); `train` works without that package.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

_SIMPLE_SPDX = re.compile(r"^[A-Za-z0-9.\-+]+$")


def provenance_from_tokens(tokens_meta: dict | None, manifest: dict | None) -> dict:
    """Sources / licenses / languages with document, byte and token counts (train split)."""
    manifest = manifest or {}
    counts = ((tokens_meta or {}).get("splits", {}).get("train", {}) or {}).get("token_counts", {})

    def table(kind: str, manifest_key: str) -> list[dict]:
        # Documents without a language: the token shards count them as "unknown", a curate manifest may key them
        # "None" (JSON has no null keys); one row, and never a "None" language in the card's metadata.
        fix = (lambda n: "unknown" if n in (None, "", "None", "null") else n) if kind == "lang" else (lambda n: n)
        tok: dict = {}
        for name, n in counts.get(kind, {}).items():
            tok[fix(name)] = tok.get(fix(name), 0) + n
        total = sum(tok.values()) or 1
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
            rows[name]["tokens"] = n
            rows[name]["token_share"] = round(n / total, 4)
        return sorted(rows.values(), key=lambda r: -(r.get("tokens") or r.get("bytes") or 0))

    return {"run_dir": manifest.get("run_dir"), "manifest_hash": (tokens_meta or {}).get("manifest_hash"),
            "documents": manifest.get("documents_kept"),
            "tokens": (tokens_meta or {}).get("splits", {}).get("train", {}).get("tokens"),
            "sources": table("source", "sources"), "licenses": table("license", "licenses"),
            "languages": table("lang", "languages")}


def _hf_license(licenses: list[str]) -> tuple[str, str | None]:
    # The hub accepts lowercase SPDX-like ids; anything else (several licenses, expressions,
    # LicenseRef-, NOASSERTION) is "other" with a license_name, and the table below says what.
    real = [l for l in licenses if l and l != "NOASSERTION"]
    if len(set(real)) == 1 and _SIMPLE_SPDX.match(real[0]) and not real[0].startswith("LicenseRef"):
        return real[0].lower(), None
    return "other", "mixed-training-data"


def _registry_section(provenance: dict, base_model: str | None, base_license: str | None) -> str | None:
    """Attribution, notices and pass-through use restrictions, from `license_registry` (the audit's rules): one
    data entry per license of the training data, with its token count. `train` imports it lazily and carries on
    without it (it is a separate package of the same distribution)."""
    try:
        from license_registry import model_card_section
    except ImportError:
        return None
    data = [{"name": f"documents licensed {r['name']}", "license": r["name"], "tokens": r.get("tokens")}
            for r in provenance.get("licenses", []) if r.get("name")]
    request: dict = {"use": "research", "distribution": "weights", "data": data}
    if base_model and base_license:
        request["base_model"] = {"name": str(base_model), "license": base_license}
    return model_card_section(request).markdown


def _md_table(rows: list[dict], cols: list[str]) -> str:
    head = "| " + " | ".join(cols) + " |\n| " + " | ".join("---" for _ in cols) + " |\n"
    body = ""
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c.replace(" ", "_"))
            cells.append(f"{100 * v:.1f}%" if c == "token share" and v is not None else ("" if v is None else f"{v}"))
        body += "| " + " | ".join(cells) + " |\n"
    return head + body


def write_model_card(out_dir: str | Path, *, kind: str, config: dict, tokens_meta: dict | None = None,
                     manifest: dict | None = None, base_model: str | None = None, metrics: dict | None = None,
                     inherited: dict | None = None, extra_data: list[dict] | None = None,
                     library: str = "transformers", peft_method: str | None = None) -> Path:
    out_dir = Path(out_dir)
    prov = inherited if inherited is not None else provenance_from_tokens(tokens_meta, manifest)
    prov = dict(prov)
    if extra_data:
        prov["finetune_data"] = extra_data
    (out_dir / "provenance.json").write_text(json.dumps(prov, indent=2))

    licenses = [r["name"] for r in prov.get("licenses", [])]
    licenses += [d["license"] for d in extra_data or [] if d.get("license")]
    lic, lic_name = _hf_license(licenses)
    card_license = config.get("card", {}).get("license")
    meta = {"license": card_license or lic}
    if lic_name and not card_license:
        meta["license_name"] = lic_name
    if base_model:
        meta["base_model"] = str(base_model)
    meta["datasets"] = [r["name"] for r in prov.get("sources", [])] + [d["name"] for d in extra_data or []]
    meta["language"] = [r["name"] for r in prov.get("languages", []) if r["name"] not in (None, "unknown")]
    meta["library_name"] = library
    meta["tags"] = ["curate-toolkit", kind] + ([peft_method] if peft_method else [])
    meta["training_data_licenses"] = sorted(set(licenses))

    lines = ["---", yaml.safe_dump(meta, sort_keys=False, allow_unicode=True).strip(), "---", ""]
    title = config.get("card", {}).get("title") or out_dir.resolve().parent.name
    lines += [f"# {title}", "",
              f"{'Fine-tuned (' + peft_method + ')' if peft_method else 'Pretrained'} with `train {kind}` "
              f"from the curate-toolkit.", ""]
    if base_model:
        lines += [f"Base model: `{base_model}`", ""]
    lines += ["## Training data provenance", "",
              f"Run folder: `{prov.get('run_dir')}` (manifest sha256 `{prov.get('manifest_hash')}`); "
              f"{prov.get('documents')} documents, {prov.get('tokens')} training tokens.", "",
              "### Sources", "", _md_table(prov.get("sources", []),
                                             ["name", "license", "documents", "bytes", "tokens", "token share"]),
              "### Licenses", "", _md_table(prov.get("licenses", []), ["name", "documents", "bytes", "tokens",
                                                                         "token share"]),
              "### Languages", "", _md_table(prov.get("languages", []), ["name", "documents", "tokens",
                                                                           "token share"])]
    if extra_data:
        lines += ["### Fine-tuning data", "", _md_table(extra_data, ["name", "license", "examples"])]
    section = _registry_section(prov, base_model, config.get("card", {}).get("base_model_license"))
    if section:
        lines += [section, ""]
    lines += ["## Training", "", "```yaml", yaml.safe_dump(_card_config(config), sort_keys=False).strip(), "```", ""]
    if metrics:
        lines += ["## Final metrics", "", "```json", json.dumps(metrics, indent=2), "```", ""]
    path = out_dir / "README.md"
    path.write_text("\n".join(lines))
    return path


def _card_config(config: dict) -> dict:
    keep = ("objective", "model", "optim", "train", "span_corruption", "causal_lm", "peft", "data", "seed")
    return json.loads(json.dumps({k: config[k] for k in keep if k in config}, default=str))
