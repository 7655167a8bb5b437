"""Quality judgments on real documents labeled by hand, and on generated junk: what the shipped pipelines keep.

    python benchmarks/quality_eval.py                  # web + korean, before (baseline) and after (pipelines/)
    python benchmarks/quality_eval.py --pipeline web --variant after
    python benchmarks/quality_eval.py --classifier     # + the quality_classifier step's precision/recall
    python benchmarks/quality_eval.py --limit 3        # a smoke run: 3 documents per source and label, 3 per junk kind

Real documents: 296 pages from ../shared/corpora (web_en_ko.jsonl.gz and the httpd manual in html_pages/), each
labeled keep or remove by reading it (benchmarks/quality_labels.tsv: id, label, one-line reason; the reading rules
are in benchmarks/quality_labels.md; the texts stay in ../shared). Junk: tests/fixtures/junk.py, eleven kinds
(keyword stuffing, boilerplate, lorem ipsum, word salad, repeated lines, link farms, code dumps, number tables,
mojibake, spam hidden in code fences, error pages), in English and Korean, and a twelfth kind no generator of
ours wrote: real pages outside the labeled set with their words shuffled within each line (scrambled).

Each pipeline's judging steps (html_extract, language, the Gopher/C4/FineWeb heuristics, length, quality_classifier)
are built from its YAML and run over its language's documents: English documents and pages through web.yaml,
Korean ones through korean.yaml (HTML pages through web.yaml's extraction settings). "before" is the pipeline as it
was (benchmarks/quality_baseline/: every rule on the raw text, as datatrove's filters, and extraction without code
blocks); "after" is pipelines/*.yaml. Printed per pipeline and variant:
  * kept: the share of keep-labeled real documents kept (per source), removed: remove-labeled ones removed,
    junk removed (per kind);
  * per reason: keep-labeled documents it removed (false removals, first removal wins) and junk it removed;
  * per step alone (every step judging every document that reached the language step): false removal rate and
    junk recall, the cost and the use of each step independently of its place in the chain.
"""

from __future__ import annotations

import argparse
import copy
import gzip
import json
import os
import random
import sys
import tempfile
from collections import Counter, defaultdict

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [REPO, os.path.join(REPO, "tests")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from datatrove.data import Document  # noqa: E402

from curate.config import load_pipeline  # noqa: E402
from curate.document import LANG, SOURCE, removal_reason  # noqa: E402
from curate.steps import RunContext, step_class  # noqa: E402
from fixtures.junk import junk_pages, scramble_lines  # noqa: E402

CORPORA = os.path.join(os.path.dirname(REPO), "shared", "corpora")
LABELS = os.path.join(REPO, "benchmarks", "quality_labels.tsv")
PIPELINES = {"web": "en", "korean": "ko"}
VARIANTS = {"before": os.path.join(REPO, "benchmarks", "quality_baseline"), "after": os.path.join(REPO, "pipelines")}
JUDGING = {"language", "gopher_repetition", "gopher_quality", "c4_quality", "fineweb_quality", "word_order", "length",
           "quality_classifier"}
JUNK_PER_KIND = 20


def read_labels() -> dict[str, tuple[str, str]]:
    labels = {}
    with open(LABELS, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            doc_id, label, reason = line.rstrip("\n").split("\t")
            labels[doc_id] = (label, reason)
    return labels


def real_documents(labels: dict[str, tuple[str, str]]) -> list[dict]:
    """The labeled documents as {id, text, lang, group, label, html}; HTML pages carry their raw markup."""
    out = []
    with gzip.open(os.path.join(CORPORA, "web_en_ko.jsonl.gz"), "rt", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            if rec["id"] in labels:
                out.append({"id": rec["id"], "text": rec["text"], "lang": rec["lang"], "html": False,
                            "group": rec["id"].split(":")[0], "label": labels[rec["id"]][0]})
    with open(os.path.join(CORPORA, "html_pages", "index.jsonl"), encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            doc_id = f"html:{rec['file']}"
            with open(os.path.join(CORPORA, "html_pages", rec["file"]), "rb") as page:
                html = page.read().decode(rec["charset"], errors="replace")
            out.append({"id": doc_id, "text": html, "lang": rec["lang"], "html": True, "group": "httpd-html",
                        "label": labels[doc_id][0]})
    missing = set(labels) - {d["id"] for d in out}
    if missing:
        raise SystemExit(f"{LABELS}: {len(missing)} labeled ids not found in {CORPORA}: {sorted(missing)[:3]}...")
    return out


def build_steps(pipeline_file: str, types: set[str]) -> list:
    cfg = load_pipeline(pipeline_file)
    ctx = RunContext(run_dir="/tmp/quality_eval")
    steps = []
    for spec in cfg.steps:
        if spec.type in types:
            cls = step_class(spec.type)
            params = {k: v for k, v in spec.params().items() if k != "apply_to"}  # every document is in scope here
            steps.append(cls(cls.Params.model_validate(params), ctx, name=spec.name or spec.type))
    return steps


def extractor_for(variant: str):
    """web.yaml's html_extract step of the variant (the Korean pages go through it too)."""
    (step,) = build_steps(os.path.join(VARIANTS[variant], "web.yaml"), {"html_extract"})
    return step


def to_documents(records: list[dict], source: str) -> list[Document]:
    return [Document(text=r["text"], id=r["id"], metadata={SOURCE: source}) for r in records]


def run_chain(steps: list, docs: list[Document]) -> list[Document]:
    for step in steps:
        docs = list(step.run(iter(docs)))
    return docs


def rate(n: int, d: int) -> str:
    return f"{n / d:6.1%} ({n}/{d})" if d else "   n/a"


def evaluate(pipeline: str, variant: str, real: list[dict], junk: list[dict]) -> dict:
    lang = PIPELINES[pipeline]
    records = [r for r in real if r["lang"] == lang] + junk
    by_id = {r["id"]: r for r in records}
    docs = to_documents(records, source="eval")
    html = [d for d in docs if by_id[d.id].get("html")]
    run_chain([extractor_for(variant)], html)
    steps = build_steps(os.path.join(VARIANTS[variant], f"{pipeline}.yaml"), JUDGING)
    judged = run_chain(steps, [copy.deepcopy(d) for d in docs])

    def kind(r):
        return r.get("kind") or r["label"]

    outcome = {d.id: removal_reason(d) for d in judged}
    result = {"pipeline": pipeline, "variant": variant, "groups": defaultdict(Counter), "junk": defaultdict(Counter),
              "reasons": defaultdict(Counter), "alone": {}, "mistakes": [], "outcome": outcome,
              "texts": {d.id: d.text for d in docs if not removal_reason(d)}, "kinds": {i: kind(r) for i, r in
                                                                                       by_id.items()}}
    for doc_id, reason in outcome.items():
        r = by_id[doc_id]
        removed = reason is not None
        if "kind" in r:
            result["junk"][r["kind"]]["n"] += 1
            result["junk"][r["kind"]]["removed"] += removed
        else:
            result["groups"][r["group"], r["label"]]["n"] += 1
            result["groups"][r["group"], r["label"]]["kept"] += not removed
        if removed:
            result["reasons"][reason][kind(r) if kind(r) in ("keep", "remove") else "junk"] += 1
        if removed == (kind(r) == "keep"):  # a keep-labeled document removed, or junk / remove-labeled kept
            result["mistakes"].append((kind(r), doc_id, reason))

    # every step alone, on every document the language step saw (after extraction; lang set by the language step)
    lang_steps = [s for s in steps if s.type_name == "language"]
    base = [copy.deepcopy(d) for d in docs if not removal_reason(d)]
    tagged = list(run_chain([_label_only(s) for s in lang_steps], copy.deepcopy(base))) if lang_steps else base
    for step in steps:
        flagged = Counter()
        for d in run_chain([step], [copy.deepcopy(x) for x in tagged]):
            r = by_id[d.id]
            flagged[kind(r) if kind(r) in ("keep", "remove") else "junk", removal_reason(d) is not None] += 1
        result["alone"][step.step_name] = flagged
    return result


def _label_only(step):
    """A copy of the language step that records `lang` and never removes (to tag documents for the others)."""
    clone = copy.copy(step)
    clone.params = step.params.model_copy(update={"label_only": True})
    clone._params_by_lang = {}
    return clone


def report(result: dict) -> dict:
    g, junk = result["groups"], result["junk"]
    keep_n = sum(c["n"] for (grp, lab), c in g.items() if lab == "keep")
    keep_kept = sum(c["kept"] for (grp, lab), c in g.items() if lab == "keep")
    rem_n = sum(c["n"] for (grp, lab), c in g.items() if lab == "remove")
    rem_removed = sum(c["n"] - c["kept"] for (grp, lab), c in g.items() if lab == "remove")
    junk_n = sum(c["n"] for c in junk.values())
    junk_removed = sum(c["removed"] for c in junk.values())
    print(f"\n=== {result['pipeline']} ({result['variant']}) ===")
    print(f"  real documents labeled keep, kept:       {rate(keep_kept, keep_n)}")
    print(f"  real documents labeled remove, removed:  {rate(rem_removed, rem_n)}")
    print(f"  generated junk removed:                  {rate(junk_removed, junk_n)}")
    print("  kept, per source (keep-labeled):  " + ", ".join(
        f"{grp} {c['kept']}/{c['n']}" for (grp, lab), c in sorted(g.items()) if lab == "keep"))
    print("  junk removed, per kind:           " + ", ".join(
        f"{k} {c['removed']}/{c['n']}" for k, c in sorted(junk.items())))
    print("  removals by reason (first removal wins): keep-labeled / remove-labeled / junk")
    for reason, c in sorted(result["reasons"].items(), key=lambda kv: -sum(kv[1].values())):
        print(f"    {reason:44s} {c['keep']:4d} {c['remove']:4d} {c['junk']:4d}")
    print("  each step alone: false removals (keep-labeled) / junk recall")
    for name, c in result["alone"].items():
        keep_total = c["keep", True] + c["keep", False]
        junk_total = c["junk", True] + c["junk", False]
        print(f"    {name:24s} {rate(c['keep', True], keep_total):>22s}   {rate(c['junk', True], junk_total):>22s}")
    if result.get("explain"):
        print("  mistakes (label or junk kind, id, reason):")
        for label, doc_id, reason in sorted(result["mistakes"]):
            print(f"    {label:16s} {doc_id:90s} {reason or 'kept'}")
    return {"keep_kept": keep_kept, "keep_n": keep_n, "junk_removed": junk_removed, "junk_n": junk_n,
            "remove_removed": rem_removed, "remove_n": rem_n}


# -- the quality classifier (item 4 of issue 16) --------------------------------------------------------------------
def unlabeled_positives(labels: dict, lang: str) -> dict[str, list[str]]:
    """Real documents that are not in the labeled set, by source: the classifier's positives."""
    out: dict[str, list[str]] = defaultdict(list)
    with gzip.open(os.path.join(CORPORA, "web_en_ko.jsonl.gz"), "rt", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            if rec["lang"] == lang and rec["id"] not in labels:
                out[rec["id"].split(":")[0]].append(rec["text"])
    return out


def scrambled_pages(labels: dict, lang: str, n: int, seed: int) -> list[dict]:
    """Junk no generator of ours wrote: `n` real pages of the language outside the labeled set (pages of at least
    100 words), their words shuffled within each line, a line's closing punctuation kept at its end (spun or
    scrambled copies, as made to get past duplicate detection)."""
    rng = random.Random(f"{seed}:{lang}:scrambled")
    pool = sorted(t for texts in unlabeled_positives(labels, lang).values() for t in texts if len(t.split()) >= 100)
    return [{"id": f"junk:{lang}:scrambled:{i}", "text": scramble_lines(text, rng), "lang": lang, "kind": "scrambled"}
            for i, text in enumerate(rng.sample(pool, n))]


JUNK_FOLDS = ({"keyword_stuffing", "lorem_ipsum", "repeated", "code_dump", "mojibake", "error_page"},
              {"boilerplate", "word_salad", "link_farm", "number_table", "fenced_spam"})


def classifier_scores(result: dict, labels: dict, groups: dict[str, str], workdir: str) -> tuple[dict, dict]:
    """Scores of the quality classifier, trained DCLM-style on data it is not evaluated on: for each source of the
    labeled set, a fastText model is trained on the *other* sources' unlabeled documents (positives) against junk
    generated with another seed (negatives) and scores that source's labeled documents (the httpd pages, a site
    absent from training, get the model trained on every source). Evaluation junk is scored twice: by that model
    (junk kinds seen in training, other pages), and by a model whose negatives leave out the kind's half of the
    kinds (JUNK_FOLDS: junk of a kind never seen in training). Returns (scores, held-out-kind scores)."""
    from curate.quality_model import FastTextScorer, train_fasttext_quality

    lang = PIPELINES[result["pipeline"]]
    positives = unlabeled_positives(labels, lang)
    negatives = junk_pages(lang, per_kind=40, seed=7)

    def train(name: str, pos: list[str], neg: list[dict]) -> FastTextScorer:
        model = os.path.join(workdir, f"{lang}-{name}.bin")
        sample = random.Random(16).sample(pos, min(len(pos), 800))
        train_fasttext_quality([(t[:5000], "hq") for t in sample] + [(p["text"][:5000], "lq") for p in neg], model,
                               seed=0)
        return FastTextScorer(model)

    scores: dict[str, float] = {}
    by_group: dict[str, list[str]] = defaultdict(list)
    for doc_id in result["texts"]:  # httpd pages and junk: sources absent from the positives anyway
        by_group[groups[doc_id] if doc_id in groups and groups[doc_id] in positives else "none"].append(doc_id)
    everything = [t for texts in positives.values() for t in texts]
    for group, ids in sorted(by_group.items()):
        pool = [t for g, texts in sorted(positives.items()) if g != group for t in texts]
        scorer = train(f"without-{group}", pool, negatives)
        scores.update(zip(ids, map(float, scorer.score([result["texts"][i] for i in ids]))))
    unseen: dict[str, float] = {}
    for fold in JUNK_FOLDS:
        scorer = train(f"without-{'-'.join(sorted(fold))[:40]}", everything,
                       [p for p in negatives if p["kind"] not in fold])
        ids = [i for i in by_group["none"] if result["kinds"][i] in fold]
        unseen.update(zip(ids, map(float, scorer.score([result["texts"][i] for i in ids]))))
    return scores, unseen


def classifier_report(result: dict, labels: dict, groups: dict[str, str]) -> list[dict]:
    with tempfile.TemporaryDirectory() as workdir:
        scores, unseen = classifier_scores(result, labels, groups, workdir)
    kinds, outcome = result["kinds"], result["outcome"]
    extracted = set(result["texts"])  # documents html_extract removed are removed for every method
    methods = {
        "heuristics (pipeline)": lambda i: outcome[i] is None,
        "quality_classifier alone (>= 0.5)": lambda i: i in extracted and scores[i] >= 0.5,
        "heuristics + quality_classifier": lambda i: outcome[i] is None and scores.get(i, 0) >= 0.5,
    }
    rows = []
    print(f"\n=== quality classifier on the {result['pipeline']} documents (sources held out in training) ===")
    print("  method                               keep-labeled kept  keep precision  remove-labeled removed  "
          "junk removed")
    for name, keeps in methods.items():
        kept = Counter(kinds[i] if kinds[i] in ("keep", "remove") else "junk" for i in outcome if keeps(i))
        total = Counter(kinds[i] if kinds[i] in ("keep", "remove") else "junk" for i in outcome)
        precision = kept["keep"] / max(1, sum(kept.values()))
        row = {"method": name, "recall": kept["keep"] / total["keep"], "precision": precision,
               "remove_removed": 1 - kept["remove"] / max(1, total["remove"]),
               "junk_removed": 1 - kept["junk"] / total["junk"]}
        rows.append(row)
        print(f"  {name:36s} {row['recall']:17.1%}  {precision:14.1%}  {row['remove_removed']:22.1%}  "
              f"{row['junk_removed']:12.1%}")
    junk_kinds = sorted({k for k in kinds.values() if k not in ("keep", "remove")})
    for title, table in (("kinds seen in training", scores), ("kind held out of training", unseen)):
        print(f"  junk removed by the classifier alone, {title}: " + ", ".join(
            f"{k} {sum(1 for i, kk in kinds.items() if kk == k and i in table and table[i] < 0.5)}/"
            f"{sum(1 for kk in kinds.values() if kk == k)}" for k in junk_kinds))
    held = [i for i in unseen if kinds[i] not in ("keep", "remove")]
    rows.append({"method": "quality_classifier alone, junk kinds held out of training", "recall": rows[1]["recall"],
                 "precision": float("nan"), "remove_removed": rows[1]["remove_removed"],
                 "junk_removed": sum(unseen[i] < 0.5 for i in held) / max(1, len(held))})
    rows.append({"method": "heuristics + quality_classifier, junk kinds held out", "recall": rows[2]["recall"],
                 "precision": float("nan"), "remove_removed": rows[2]["remove_removed"],
                 "junk_removed": sum(outcome[i] is not None or unseen[i] < 0.5 for i in held) / max(1, len(held))})
    for row in rows[3:]:
        print(f"  {row['method']:56s} junk removed {row['junk_removed']:.1%}")
    return rows


def _count(counter: Counter, key) -> int:
    counter[key] += 1
    return counter[key]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pipeline", choices=sorted(PIPELINES), action="append")
    ap.add_argument("--variant", choices=sorted(VARIANTS), action="append")
    ap.add_argument("--explain", action="store_true", help="list every wrong decision (ids and reasons)")
    ap.add_argument("--classifier", action="store_true", help="also train and evaluate the quality classifier")
    ap.add_argument("--limit", type=int, default=None,
                    help="at most N labeled documents per source and label, N junk pages per kind (a smoke run)")
    args = ap.parse_args()
    if not os.path.isdir(CORPORA):
        raise SystemExit(f"needs {CORPORA} (../shared/corpora is not present)")
    labels = read_labels()
    real = real_documents(labels)
    if args.limit is not None:
        taken: Counter = Counter()
        real = [r for r in real if _count(taken, (r["group"], r["label"])) <= args.limit]
    per_kind = JUNK_PER_KIND if args.limit is None else min(args.limit, JUNK_PER_KIND)
    groups = {r["id"]: r["group"] for r in real}
    summary, classifier = {}, {}
    for pipeline in args.pipeline or sorted(PIPELINES, reverse=True):
        lang = PIPELINES[pipeline]
        junk = junk_pages(lang, per_kind=per_kind, seed=16) + scrambled_pages(labels, lang, per_kind, 16)
        for variant in args.variant or ["before", "after"]:
            result = evaluate(pipeline, variant, real, junk)
            summary[pipeline, variant] = report(result | {"explain": args.explain})
            if args.classifier and variant == "after":
                classifier[pipeline] = classifier_report(result, labels, groups)
    print("\n| pipeline | variant | keep-labeled real documents kept | remove-labeled removed | junk removed |")
    print("| --- | --- | --- | --- | --- |")
    for (pipeline, variant), s in summary.items():
        print(f"| {pipeline} | {variant} | {rate(s['keep_kept'], s['keep_n']).strip()} | "
              f"{rate(s['remove_removed'], s['remove_n']).strip()} | {rate(s['junk_removed'], s['junk_n']).strip()} |")
    for pipeline, rows in classifier.items():
        print(f"\n| {pipeline}: method | keep-labeled kept | keep precision | remove-labeled removed | junk removed |")
        print("| --- | --- | --- | --- | --- |")
        for row in rows:
            precision = f"{row['precision']:.1%}" if row["precision"] == row["precision"] else "n/a"
            print(f"| {row['method']} | {row['recall']:.1%} | {precision} | {row['remove_removed']:.1%} | "
                  f"{row['junk_removed']:.1%} |")


if __name__ == "__main__":
    main()
