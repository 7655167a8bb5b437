"""License detection on a labeled set: per-license precision/recall, the httpd tag rate, and throughput.

    python benchmarks/license_detect_eval.py                      # all engines, labeled set + httpd + throughput
    python benchmarks/license_detect_eval.py --engines builtin    # without ScanCode (no index load)

The labeled set:
- `license_detect_labels.jsonl`: short texts written for this benchmark (one-line notices, links, SPDX tags, badges,
  headers; negatives that name, explain or list licenses, or describe another work's license) and the full license
  texts bundled in `license_registry/texts/`;
- `license_detect_real_labels.jsonl`: real documents from `../shared/corpora` (the Apache httpd manual pages and the
  documents of `web_en_ko.jsonl.gz` that pass the pre-check and that some engine tags or names a license in), each
  labeled by reading it (the labels file says what the page states about its *own* license; `note` says why).

A document counts as tagged with a license when the detection gives it confidence >= 0.8 (the `license_detect`
step's default `min_confidence`). Licenses are compared by family: "GPL-3.0-only" and "GPL-3.0-or-later" are both
"GPL-3.0" (a full GPL text does not say which). Engines: `builtin` (rules and reference fragments only), `cascade`
(the default when ScanCode is installed: rules first, ScanCode for the windows they leave unexplained), `scancode`
(ScanCode on every candidate window, no rules: what ScanCode alone says).

Throughput: MB/s of the step's detection on real documents (web_en_ko + httpd pages, the head and tail the step
scans), with the pre-check (the default) and without it (ScanCode on the whole scanned text of every document).
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(REPO))

from license_registry import resolve  # noqa: E402
from license_registry import scancode_match  # noqa: E402
from license_registry.detect import detect_licenses  # noqa: E402

THRESHOLD = 0.8
SCAN_CHARS = 20_000  # the step's default head + tail
ENGINES = {"builtin": dict(engine="builtin"), "cascade": dict(engine="scancode"),
           "scancode": dict(engine="scancode", fast_rules=False)}


def family(license_id: str) -> str:
    for suffix in ("-only", "-or-later"):
        if license_id.endswith(suffix):
            return license_id[: -len(suffix)]
    return license_id


def tagged(text: str, **kw) -> set[str]:
    found = set()
    for e in detect_licenses(text, **kw):
        if e.confidence >= THRESHOLD:
            found |= {family(i) for i in (resolve(e.license).ids or (e.license,))}
    return found


def scanned(text: str) -> str:
    return text if len(text) <= 2 * SCAN_CHARS else text[:SCAN_CHARS] + "\n" + text[-SCAN_CHARS:]


def html_page(name: str, charset: str) -> str:
    raw = (SHARED / "corpora" / "html_pages" / name).read_bytes()
    return raw.decode("euc_kr" if charset.lower() == "euc-kr" else charset)


def load_labeled() -> list[dict]:
    import license_registry

    package = Path(license_registry.__file__).resolve().parent
    rows = []
    for line in (HERE / "license_detect_labels.jsonl").open(encoding="utf-8"):
        r = json.loads(line)
        r["text"] = r.get("text") or (package / r["package_text"]).read_text(encoding="utf-8")
        rows.append(r)
    real = HERE / "license_detect_real_labels.jsonl"
    if not SHARED.exists():
        print(f"(../shared absent: {real.name} skipped)")
        return rows
    web = {}
    with gzip.open(SHARED / "corpora" / "web_en_ko.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            web[d["id"]] = d["text"]
    for line in real.open(encoding="utf-8"):
        r = json.loads(line)
        if r["ref"].startswith("html_pages/"):
            r["text"] = html_page(r["ref"].split("/", 1)[1], r.get("charset", "utf-8"))
        else:
            r["text"] = web[r["ref"].split(":", 1)[1]]
        rows.append(r)
    return rows


def evaluate(rows: list[dict], kw: dict) -> tuple[dict, Counter, Counter, list]:
    stats: dict[str, Counter] = {}
    by_kind_hit, by_kind_all, errors = Counter(), Counter(), []
    for r in rows:
        want = {family(x) for x in r["licenses"]}
        got = tagged(scanned(r["text"]), **kw) - {family(x) for x in r.get("also_ok", [])}
        for lic in want | got:
            c = stats.setdefault(lic, Counter())
            c["tp" if lic in want and lic in got else "fn" if lic in want else "fp"] += 1
        by_kind_all[r["kind"]] += 1
        by_kind_hit[r["kind"]] += got == want
        if got != want:
            errors.append((r["id"], sorted(want), sorted(got)))
    return stats, by_kind_hit, by_kind_all, errors


def pr(c: Counter) -> tuple[float, float]:
    p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 1.0
    r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0
    return p, r


def report_labeled(rows: list[dict], engines: list[str]) -> None:
    print(f"\n## Labeled set: {len(rows)} documents ({Counter(r['kind'] for r in rows)})")
    results = {}
    for name in engines:
        started = time.perf_counter()
        results[name] = evaluate(rows, ENGINES[name])
        print(f"  {name}: {time.perf_counter() - started:.1f} s")
    licenses = sorted({lic for s, *_ in results.values() for lic in s})
    print("\n| license | " + " | ".join(f"{e} P / R" for e in engines) + " |")
    print("| --- | " + " | ".join("---" for _ in engines) + " |")
    for lic in licenses:
        cells = []
        for e in engines:
            c = results[e][0].get(lic, Counter())
            p, r = pr(c)
            cells.append(f"{p:.2f} / {r:.2f} ({c['tp']}/{c['tp'] + c['fn']}, fp {c['fp']})")
        print(f"| {lic} | " + " | ".join(cells) + " |")
    total = {e: sum(results[e][0].values(), Counter()) for e in engines}
    print("| **all (micro)** | " + " | ".join("{:.3f} / {:.3f}".format(*pr(total[e])) for e in engines) + " |")
    kinds = sorted({k for *_, ka, _ in results.values() for k in ka})
    print("\nexact per kind (documents whose tags equal their labels):")
    for k in kinds:
        print(f"  {k:14s} " + "  ".join(f"{e} {results[e][1][k]}/{results[e][2][k]}" for e in engines))
    for e in engines:
        print(f"\n{e}: {len(results[e][3])} documents wrong")
        for doc_id, want, got in results[e][3]:
            print(f"   {doc_id}: labeled {want}, tagged {got}")


def report_httpd(engines: list[str]) -> None:
    index = SHARED / "corpora" / "html_pages" / "index.jsonl"
    if not index.exists():
        print("\n(../shared absent: httpd pages skipped)")
        return
    pages = [json.loads(line) for line in index.open()]
    print(f"\n## Apache httpd manual pages ({len(pages)}, HTML as crawled): tagged Apache-2.0")
    for name in engines:
        ok = sum(tagged(scanned(html_page(p["file"], p["charset"])), **ENGINES[name]) == {"Apache-2.0"}
                 for p in pages)
        print(f"  {name}: {ok}/{len(pages)} = {ok / len(pages):.1%}")


def corpus(limit: int) -> list[str]:
    docs = []
    with gzip.open(SHARED / "corpora" / "web_en_ko.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            docs.append(scanned(json.loads(line)["text"]))
    for p in (json.loads(line) for line in (SHARED / "corpora" / "html_pages" / "index.jsonl").open()):
        docs.append(scanned(html_page(p["file"], p["charset"])))
    step = max(1, len(docs) // limit)
    return docs[::step][:limit]


def throughput(docs: list[str], fn) -> tuple[float, float]:
    size = sum(len(d.encode()) for d in docs) / 1e6
    started = time.perf_counter()
    for d in docs:
        fn(d)
    seconds = time.perf_counter() - started
    return size / seconds, seconds


def report_throughput(engines: list[str], docs_all: int, docs_raw: int) -> None:
    if not SHARED.exists():
        return
    docs = corpus(docs_all)
    size = sum(len(d.encode()) for d in docs) / 1e6
    print(f"\n## Throughput ({len(docs)} real documents, {size:.1f} MB scanned; one core)")
    for name in engines:
        mbs, s = throughput(docs, lambda d, kw=ENGINES[name]: detect_licenses(d, **kw))
        print(f"  {name:9s} with the pre-check: {mbs:7.2f} MB/s ({s:.1f} s)")
    if docs_raw and ("cascade" in engines or "scancode" in engines):
        sample = corpus(docs_raw)
        idx = scancode_match.index()
        mbs_raw, s_raw = throughput(sample, lambda d: idx.match(query_string=d, deadline=time.time() + 30))
        mbs_pre, _ = throughput(sample, lambda d: detect_licenses(d, engine="scancode"))
        print(f"  ScanCode on every whole document, no pre-check ({len(sample)} documents): {mbs_raw:.3f} MB/s "
              f"({s_raw:.1f} s); cascade on the same documents {mbs_pre:.2f} MB/s = {mbs_pre / mbs_raw:.0f}x")
        print(f"  ScanCode index load: {scancode_match.LOAD_SECONDS.get('index', 0):.1f} s; "
              f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3:.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--engines", default="builtin,cascade,scancode")
    ap.add_argument("--throughput-docs", type=int, default=4000, help="documents for the MB/s figures")
    ap.add_argument("--raw-docs", type=int, default=30,
                    help="documents for ScanCode without the pre-check (0: skip; ~3 s a document)")
    args = ap.parse_args()
    engines = [e for e in args.engines.split(",") if e]
    if any(e != "builtin" for e in engines) and not scancode_match.available():
        print("scancode-toolkit-mini is not installed: builtin only (pip install -e '.[licenses]')")
        engines = ["builtin"]
    report_labeled(load_labeled(), engines)
    report_httpd(engines)
    report_throughput(engines, args.throughput_docs, args.raw_docs)


if __name__ == "__main__":
    main()
