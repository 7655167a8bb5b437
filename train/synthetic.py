"""Deterministic, realistic-looking run folders for tests, benchmarks and demos.

Builds RUN/data/00000_000.parquet with the contract columns and a matching RUN/manifest.json
(docs/formats.md), from English and Korean sentences composed out of small word lists.
"""

from __future__ import annotations

import gzip
import json
import random
from collections import Counter, defaultdict
from pathlib import Path

EN_SUBJ = ["the river", "a small town", "the old library", "our neighbour", "the committee", "a young engineer",
           "the museum", "every student", "the city council", "a local farmer", "the research team", "my sister"]
EN_VERB = ["opened", "described", "repaired", "visited", "published", "measured", "painted", "discussed",
           "announced", "collected", "studied", "protected"]
EN_OBJ = ["a new bridge", "the annual report", "an ancient map", "the harbour wall", "several rare plants",
          "the winter festival", "a long letter", "the water supply", "the railway station", "a quiet garden"]
EN_TAIL = ["last spring", "after the storm", "in the morning", "before the election", "with great care",
           "for the first time", "near the coast", "during the holidays", "", ""]

KO_SUBJ = ["우리 동네 도서관은", "그 연구팀은", "시청은", "어린 학생들이", "지역 농부가", "박물관은", "나의 언니는",
           "새로운 회사가", "작은 마을 사람들이", "그 기자는"]
KO_OBJ = ["새 다리를", "연례 보고서를", "오래된 지도를", "겨울 축제를", "긴 편지를", "희귀한 식물을",
          "기차역을", "조용한 정원을", "수도 시설을", "역사 자료를"]
KO_VERB = ["열었다", "발표했다", "수리했다", "방문했다", "조사했다", "기록했다", "보호했다", "소개했다",
           "준비했다", "공개했다"]
KO_TAIL = ["지난 봄에", "폭풍이 지난 뒤", "아침 일찍", "선거 전에", "처음으로", "해안 근처에서", "휴일 동안", ""]

SOURCES = {"web_en": ("en", "CC-BY-4.0"), "wiki_ko": ("ko", "CC-BY-SA-4.0"), "docs_en": ("en", "MIT")}


def en_sentence(rng: random.Random) -> str:
    tail = rng.choice(EN_TAIL)
    s = f"{rng.choice(EN_SUBJ)} {rng.choice(EN_VERB)} {rng.choice(EN_OBJ)}" + (f" {tail}" if tail else "")
    return s[0].upper() + s[1:] + "."


def ko_sentence(rng: random.Random) -> str:
    tail = rng.choice(KO_TAIL)
    return " ".join(x for x in (tail, rng.choice(KO_SUBJ), rng.choice(KO_OBJ), rng.choice(KO_VERB)) if x) + "."


def make_synthetic_run(run_dir: str | Path, n_docs: int = 300, seed: int = 0, sentences=(3, 12)) -> Path:
    """`n_docs` documents of `sentences` (min, max) sentences, round-robin over SOURCES; same bytes per seed."""
    rng = random.Random(seed)
    rows = []
    names = list(SOURCES)
    for i in range(n_docs):
        source = names[i % len(names)]
        lang, lic = SOURCES[source]
        make = en_sentence if lang == "en" else ko_sentence
        text = " ".join(make(rng) for _ in range(rng.randint(*sentences)))
        rows.append({"id": f"{source}-{i:06d}", "text": text, "source": source, "url": None, "lang": lang,
                     "lang_score": 0.99, "license": lic, "license_source": "declared", "license_confidence": 1.0,
                     "file": f"{source}.jsonl", "line": i + 1, "extra": "{}"})
    return write_run(run_dir, rows)


def make_run_from_jsonl(jsonl_gz: str | Path, run_dir: str | Path, max_docs: int | None = None) -> Path:
    """Turn a JSONL(.gz) corpus with id/text/lang/license/source fields into a run folder."""
    rows = []
    opener = gzip.open if str(jsonl_gz).endswith(".gz") else open
    with opener(jsonl_gz, "rt", encoding="utf-8") as f:
        for i, line in enumerate(f):
            if max_docs is not None and i >= max_docs:
                break
            r = json.loads(line)
            rows.append({"id": str(r.get("id", i)), "text": r["text"], "source": r.get("source", "corpus"),
                         "url": r.get("url"), "lang": r.get("lang"), "lang_score": None,
                         "license": r.get("license") or "NOASSERTION", "license_source": "record",
                         "license_confidence": 1.0, "file": Path(jsonl_gz).name, "line": i + 1, "extra": "{}"})
    return write_run(run_dir, rows)


_RUN_SCHEMA = [("id", "string"), ("text", "string"), ("source", "string"), ("url", "string"), ("lang", "string"),
               ("lang_score", "float64"), ("license", "string"), ("license_source", "string"),
               ("license_confidence", "float64"), ("file", "string"), ("line", "int64"), ("extra", "string")]


def write_run(run_dir: str | Path, rows: list[dict]) -> Path:
    # pyarrow, as `runfolder` reads it: train needs no second Parquet library (nor does a GPU image without polars)
    import pyarrow as pa
    import pyarrow.parquet as pq

    run_dir = Path(run_dir)
    (run_dir / "data").mkdir(parents=True, exist_ok=True)
    schema = pa.schema([(name, getattr(pa, kind)()) for name, kind in _RUN_SCHEMA])
    table = pa.Table.from_pylist(rows, schema=schema)
    pq.write_table(table, run_dir / "data" / "00000_000.parquet", compression="zstd")
    lic, src, langs = defaultdict(Counter), defaultdict(Counter), defaultdict(Counter)
    src_license = {}
    n_bytes = 0
    for r in rows:
        b = len(r["text"].encode())
        n_bytes += b
        for table, key in ((lic, r["license"]), (src, r["source"]), (langs, r["lang"] or "unknown")):
            table[key]["documents"] += 1
            table[key]["bytes"] += b
        src_license[r["source"]] = r["license"]
    manifest = {
        "format_version": 1, "run_dir": str(run_dir), "documents_in": len(rows), "documents_kept": len(rows),
        "removed": {}, "bytes_in": n_bytes, "bytes_kept": n_bytes,
        "outputs": [{"path": "data/00000_000.parquet", "documents": len(rows), "bytes": n_bytes}],
        "licenses": {k: dict(v) for k, v in lic.items()},
        "sources": {k: {**dict(v), "license": src_license[k]} for k, v in src.items()},
        "languages": {k: dict(v) for k, v in langs.items()},
        "versions": {"curate": "synthetic"},
    }
    (run_dir / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return run_dir
