"""Deduplication on real text: planted exact and near duplicates are found, different pages are kept, the survivor
follows the keep policy, every removal is traceable, the accounting law holds, reruns and incremental runs agree."""

from __future__ import annotations

import gzip
import json
import random
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from datasketch import MinHash

from curate.dedup.clusters import cluster, survivor_similarity
from curate.dedup.minhash import MinHasher, lsh_params
from curate.dedup.text import NormConfig, Shingler, normalize_url, text_hash
from curate.runner import run
from curate.util import read_json
from fixtures.dedup_corpus import pages

SHARED = Path(__file__).parents[1].parent / "shared" / "corpora"
needs_shared = pytest.mark.skipif(not (SHARED / "web_en_ko.jsonl.gz").exists(), reason="../shared/corpora absent")
# The pages copies are planted in: generated pages committed as a fixture (every clone runs these), and the real
# documentation pages of ../shared (skipped where it is absent).
CORPORA = ["fixture", pytest.param("shared", marks=pytest.mark.shared)]


def load_docs(n: int | None = None, lang: str | None = None, seed: int = 0) -> list[dict]:
    docs = [json.loads(line) for line in gzip.open(SHARED / "web_en_ko.jsonl.gz", "rt", encoding="utf-8")]
    docs = [d for d in docs if lang is None or d["lang"] == lang]
    random.Random(seed).shuffle(docs)
    return docs[:n] if n else docs


def documents(corpus: str, n: int, min_chars: int = 0, seed: int = 0) -> list[dict]:
    """n documents longer than min_chars from a corpus of CORPORA, in an order of the seed."""
    if corpus == "shared":
        if not (SHARED / "web_en_ko.jsonl.gz").exists():
            pytest.skip("../shared/corpora absent")
        docs = load_docs(seed=seed)
    else:
        docs = pages(n, seed=seed)
    docs = [d for d in docs if len(d["text"]) > min_chars][:n]
    assert len(docs) == n, f"{corpus}: {len(docs)} documents of over {min_chars} characters, not {n}"
    return docs


def edit_words(text: str, frac: float, seed: int) -> str:
    """Replace a fraction of the words with a marker word: a near duplicate of known distance."""
    rng = random.Random(seed)
    words = text.split(" ")
    for i in rng.sample(range(len(words)), int(len(words) * frac)):
        words[i] = "zqx"
    return " ".join(words)


def near_copy(text: str, seed: int) -> str:
    """A near duplicate as crawls make them: a contiguous 5% of the words cut, 1% replaced (Jaccard ~0.8-0.9)."""
    rng = random.Random(seed)
    words = text.split(" ")
    cut = max(1, len(words) // 20)
    start = rng.randrange(0, max(1, len(words) - cut))
    return edit_words(" ".join(words[:start] + words[start + cut:]), 0.01, seed)


def write_jsonl(path: Path, records: list[dict]) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return path


def run_pipeline(tmp: Path, inputs: list[Path], steps: list[dict], name: str = "t", tasks: int = 1,
                 out: str = "run", force: bool = True):
    cfg = {"name": name, "inputs": [{"name": "web", "paths": [str(p) for p in inputs]}], "steps": steps,
           "output": {"dir": str(tmp / out)}, "executor": {"tasks": tasks, "workers": 1}}
    path = tmp / f"{out}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    state, manifest = run(str(path), force=force, progress=False)
    return tmp / out, manifest


def shards(run_dir: Path, sub: str) -> pl.DataFrame:
    files = sorted((run_dir / sub).glob("**/*.parquet"))
    return pl.concat([pl.read_parquet(f) for f in files], how="diagonal_relaxed") if files else pl.DataFrame()


# -- units on real text ---------------------------------------------------------------------------------------------

def test_signature_equals_datasketch_minhash():
    text = "The quick brown fox jumps over the lazy dog. 빠른 갈색 여우가 게으른 개를 뛰어넘는다. " * 4
    sh = Shingler(ngram=5)
    hasher = MinHasher(num_perm=64, bands=8, rows=8, seed=3, shingler=sh)
    sig, valid = hasher.signatures([text, "", "two words"])
    m = MinHash(num_perm=64, seed=3, hashfunc=int)
    m.update_batch([int(x) for x in sh.shingles(text)])
    assert (sig[0] == m.hashvalues).all()
    assert valid.tolist() == [True, False, True]


def test_korean_is_shingled_per_syllable_not_per_word():
    sh = Shingler(ngram=5)
    assert sh.tokens("한국어 텍스트 abc") == ["한", "국", "어", "텍", "스", "트", "abc"]
    # one changed syllable in a long Korean sentence leaves most shingles in place
    a = "이 명령어는 주어진 릴리스에 대한 값 파일을 다운로드한다 그리고 차트의 모든 정보를 표시한다"
    b = a.replace("다운로드", "다운로두")
    sa, sb = set(sh.shingles(a).tolist()), set(sh.shingles(b).tolist())
    assert len(sa & sb) / len(sa | sb) > 0.6


def test_normalization_options():
    assert text_hash("Hello,  World 2024!", NormConfig()) == text_hash("hello world 1999", NormConfig())
    assert text_hash("Hello", NormConfig(lowercase=False)) != text_hash("hello", NormConfig(lowercase=False))
    assert normalize_url("HTTPS://Example.com:443/a/#frag") == normalize_url("https://example.com/a")


def test_lsh_params_follow_datasketch():
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    assert lsh_params(0.8, 128) == (lsh.b, lsh.r)


def test_keep_policies_pick_the_survivor():
    # rows 0-1-2 one cluster, 3 alone
    src, dst = np.array([0, 1]), np.array([1, 2])
    order = np.arange(4)
    length = np.array([10, 30, 20, 5])
    quality = np.array([0.1, np.nan, 0.9, 0.5])
    assert cluster(4, src, dst, order, policy="first").survivor.tolist() == [0, 0, 0, 3]
    assert cluster(4, src, dst, order, policy="longest", length=length).survivor.tolist() == [1, 1, 1, 3]
    assert cluster(4, src, dst, order, policy="quality", quality=quality).survivor.tolist() == [2, 2, 2, 3]
    ref = np.array([False, False, True, False])
    assert cluster(4, src, dst, order, policy="longest", length=length, is_reference=ref).survivor.tolist() == [2, 2, 2, 3]


def test_a_chain_is_not_one_duplicate_cluster():
    """A~B and B~C put A and C in one connected component although they share little: C is removed only if it is
    a near duplicate of the document it would point to; otherwise it is clustered again with what is left."""
    rng = np.random.default_rng(0)

    def changed(sig, positions):  # the values at these positions replaced: estimated Jaccard = share unchanged
        out = sig.copy()
        out[positions] = rng.integers(2**31, 2**32, len(positions), dtype=np.uint32)
        return out

    a = rng.integers(0, 2**31, 100, dtype=np.uint32)
    b = changed(a, np.arange(0, 30))  # A~B 0.7
    c = changed(b, np.arange(30, 60))  # B~C 0.7, A~C 0.4
    d = changed(c, np.arange(60, 70))  # C~D 0.9, B~D 0.6, A~D 0.3
    e = rng.integers(0, 2**31, 100, dtype=np.uint32)  # alone
    sigs = np.stack([a, b, c, d, e])
    src, dst = np.array([0, 1, 2]), np.array([1, 2, 3])  # the verified edges: a chain A-B-C-D
    order = np.arange(5)
    assert cluster(5, src, dst, order).survivor.tolist() == [0, 0, 0, 0, 4]  # components alone: one cluster
    result = cluster(5, src, dst, order, sigs=sigs, threshold=0.65)
    assert result.survivor.tolist() == [0, 0, 2, 2, 4]  # C is far from A: it survives, and D is its duplicate
    assert result.size.tolist() == [2, 2, 2, 2, 1] and result.removed.tolist() == [False, True, False, True, False]
    # the keep policy choosing D first: D takes C (B is 0.6 from D), then A and B are a pair
    assert cluster(5, src, dst, np.array([3, 4, 1, 0, 2]), sigs=sigs, threshold=0.65).survivor.tolist() == [0, 0, 3, 3, 4]
    # the similarity each document was settled with is the one reported: D with C (0.9), not D with A (0.3)
    assert result.similarity.tolist() == [1.0, 0.7, 1.0, 0.9, 1.0]
    assert np.array_equal(result.similarity, survivor_similarity(replace(result, similarity=None), sigs))


def test_clustering_settles_long_chains_as_the_definition_says():
    """Chained components settle a little per round (one survivor's near duplicates each); the rounds work on the
    unsettled rows only. Checked against the definition written plainly (every round over all rows) on chains of
    templated-page-like signatures, 60 to a chain, with branches, in a random keep order: many rounds."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from curate.dedup.clusters import similarity

    rng = np.random.default_rng(3)
    sigs, src, dst = [], [], []
    for chain in range(5):
        sig = rng.integers(0, 2**31, 128, dtype=np.uint32)
        for k in range(60):
            if k:
                parent = len(sigs) - 1 if rng.random() < 0.8 else 60 * chain + int(rng.integers(0, k))  # or a branch
                sig = sigs[parent].copy()
                sig[rng.choice(128, 30, replace=False)] = rng.integers(2**31, 2**32, 30, dtype=np.uint32)
                src.append(parent)
                dst.append(len(sigs))
            sigs.append(sig)
    sigs, src, dst = np.stack(sigs), np.array(src), np.array(dst)
    n, order = len(sigs), rng.permutation(len(sigs))

    def plainly() -> np.ndarray:
        rank = np.argsort(np.argsort(order))
        active, final, s, d = np.ones(n, bool), np.arange(n), src, dst
        while active.any():
            labels = connected_components(coo_matrix((np.ones(len(s)), (s, d)), shape=(n, n)), directed=False)[1]
            survivor = np.arange(n)
            for lab in np.unique(labels[active]):
                members = np.flatnonzero((labels == lab) & active)
                survivor[members] = members[np.argmin(rank[members])]
            for row in np.flatnonzero(active):
                if row == survivor[row] or similarity(np.array([row]), survivor[[row]], sigs)[0] >= 0.5:
                    final[row], active[row] = survivor[row], False
            keep = active[s] & active[d]
            s, d = s[keep], d[keep]
        return final

    result = cluster(n, src, dst, order, sigs=sigs, threshold=0.5)
    expected = plainly()
    assert result.survivor.tolist() == expected.tolist()
    assert len(np.unique(expected)) >= 30  # chains broke into many clusters: many rounds
    near = result.removed
    assert (similarity(np.flatnonzero(near), result.survivor[near], sigs) >= 0.5).all()



# -- pipelines on a corpus with planted copies ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def planted(request, tmp_path_factory):
    """400 documents (of the corpus `request.param`, default the fixture) + exact copies (case/whitespace changed),
    near copies (5% of the words cut, 1% replaced; Korean too), and URL duplicates; returns (folder, input file,
    expectations, original ids)."""
    corpus = getattr(request, "param", "fixture")
    base = documents(corpus, 400, min_chars=1500, seed=1)
    tmp = tmp_path_factory.mktemp(f"planted-{corpus}")
    records = [dict(d) for d in base]
    expect: dict[str, tuple[str, str]] = {}  # planted id -> (kind, original id)
    for i, d in enumerate(base[:20]):  # exact copies: only case and spacing differ
        rid = f"exact-{i}"
        records.append(d | {"id": rid, "text": "  " + d["text"].lower().replace(" ", "   "), "url": None})
        expect[rid] = ("exact", d["id"])
    for i, d in enumerate(base[20:60]):  # near copies: 5% of the words cut, 1% replaced
        rid = f"near-{i}"
        records.append(d | {"id": rid, "text": near_copy(d["text"], i), "url": None})
        expect[rid] = ("near", d["id"])
    for i, d in enumerate([d for d in base[60:] if d.get("url")][:10]):  # same URL, other text
        rid = f"url-{i}"
        other = base[-1 - i]["text"]  # words reversed: a page no other page near-duplicates
        records.append(d | {"id": rid, "text": " ".join(reversed(other.split())), "url": d["url"].replace("https://", "HTTPS://") + "#top"})
        expect[rid] = ("url", d["id"])
    random.Random(7).shuffle(records)
    path = write_jsonl(tmp / "in.jsonl", records)
    return tmp, path, expect, {d["id"] for d in base}


STEPS = [{"type": "dedup_exact"}, {"type": "dedup_exact", "name": "dedup_url", "key": "url"},
         {"type": "dedup_minhash"}]


@pytest.mark.parametrize("planted", CORPORA, indirect=True)
def test_planted_duplicates_found_and_traceable(planted):
    tmp, path, expect, originals = planted
    run_dir, manifest = run_pipeline(tmp, [path], STEPS, out="run_planted")
    removed = shards(run_dir, "removed")
    kept = shards(run_dir, "data")
    # the accounting law, with dedup reasons
    assert manifest["documents_in"] == manifest["documents_kept"] + sum(manifest["removed"].values())
    assert all(r.split(":")[0] in ("dedup_exact", "dedup_url", "dedup_minhash") for r in manifest["removed"])
    by_id = {r["id"]: r for r in removed.to_dicts()}
    kept_ids = set(kept["id"].to_list())
    for rid, (kind, orig) in expect.items():
        # exactly one of the pair survives, and the removed one points to the kept one
        if rid in by_id:
            row = by_id[rid]
            dup_of = row["duplicate_of"]
        else:
            assert orig in by_id, f"{rid} and {orig} both kept"
            row, dup_of = by_id[orig], by_id[orig]["duplicate_of"]
        step = {"exact": "dedup_exact", "near": "dedup_minhash", "url": "dedup_url"}[kind]
        assert row["removed_reason"] == f"{step}:duplicate", (rid, row["removed_reason"])
        assert dup_of in kept_ids
        assert row["cluster_id"] and row["cluster_size"] >= 2 and 0 < row["similarity"] <= 1
        if kind == "near":
            assert row["similarity"] > 0.7
    # every document MinHash removed is a near duplicate of the one it points to, not only of something in its cluster
    minhash = removed.filter(pl.col("removed_reason") == "dedup_minhash:duplicate")
    assert minhash.height and minhash["similarity"].min() >= 0.5
    # kept survivors of clusters carry the cluster size; singletons say 1
    assert kept.filter(pl.col("cluster_id").is_not_null())["cluster_size"].min() >= 2
    assert kept["cluster_size"].min() == 1
    # the originals that nobody copied are kept (true negatives): at most the corpus's own duplicates go
    untouched = originals - {o for _, o in expect.values()}
    lost = untouched - kept_ids
    # at the default threshold (0.5) the only casualties are Helm's CLI reference pages, generated from one template
    # whose shared flag lists are over half of each page (benchmarks/dedup_quality.py: hard_template)
    template = {i for i in lost if "/helm/helm_" in i}
    assert len(lost - template) <= 0.01 * len(untouched), sorted(lost - template)[:10]
    # report section
    section = read_json(run_dir / "logs" / "report_sections" / "dedup_minhash.json")
    assert section["data"]["clusters"] >= 40 and section["data"]["top_clusters"]
    assert "Deduplication: dedup_minhash" in (run_dir / "report.md").read_text()


def test_keep_longest_and_quality_in_pipeline(planted):
    tmp, path, expect, _ = planted
    steps = [{"type": "dedup_minhash", "keep": "longest"}]
    run_dir, _ = run_pipeline(tmp, [path], steps, out="run_longest")
    removed = shards(run_dir, "removed").to_dicts()
    kept = {r["id"]: len(r["text"]) for r in shards(run_dir, "data").to_dicts()}
    assert removed
    for r in removed:
        assert kept[r["duplicate_of"]] >= len(r["text"])


def test_rerun_is_complete_and_same(planted):
    tmp, path, _, _ = planted
    run_dir, m1 = run_pipeline(tmp, [path], STEPS, out="run_rerun")
    cfg = tmp / "run_rerun.yaml"
    state, m2 = run(str(cfg), progress=False)
    assert state == "complete" and m2["removed"] == m1["removed"]
    _, m3 = run_pipeline(tmp, [path], STEPS, out="run_rerun")  # --force: the same result from scratch
    assert m3["removed"] == m1["removed"] and m3["documents_kept"] == m1["documents_kept"]


@pytest.mark.parametrize("corpus", CORPORA)
def test_incremental_against_reference_index(tmp_path, corpus):
    docs = documents(corpus, 300, min_chars=1000, seed=2)
    old, new_only = docs[:200], docs[200:]
    first, _ = run_pipeline(tmp_path, [write_jsonl(tmp_path / "old.jsonl", old)],
                            [{"type": "dedup_minhash"}, {"type": "dedup_exact"}], out="first")
    assert (first / "index" / "dedup_minhash" / "00000" / "meta.json").exists()
    # the new crawl: 100 new pages, 30 near copies and 20 exact copies of old pages
    crawl = [dict(d) for d in new_only]
    crawl += [d | {"id": f"again-{i}", "text": near_copy(d["text"], i)} for i, d in enumerate(old[:30])]
    crawl += [d | {"id": f"same-{i}"} for i, d in enumerate(old[30:50])]
    ref = {"reference_index": str(first)}
    second, manifest = run_pipeline(tmp_path, [write_jsonl(tmp_path / "new.jsonl", crawl)],
                                    [{"type": "dedup_minhash", **ref}, {"type": "dedup_exact", **ref}], out="second")
    removed = shards(second, "removed").to_dicts()
    old_ids = {d["id"] for d in old}
    got = {r["id"]: r for r in removed}
    # near copies of short pages can fall below the threshold (Jaccard ~0.65): almost all must be found
    assert sum(f"again-{i}" in got for i in range(30)) >= 27 and all(f"same-{i}" in got for i in range(20))
    for r in removed:
        if r["id"].startswith(("again-", "same-")):
            assert r["removed_reason"] == "dedup_minhash:reference_duplicate"
            assert r["duplicate_of"] in old_ids
    kept = set(shards(second, "data")["id"].to_list())
    assert len({d["id"] for d in new_only} - kept) <= 3  # the new content stays
    assert manifest["documents_in"] == manifest["documents_kept"] + sum(manifest["removed"].values())


@needs_shared
def test_natural_korean_near_duplicates_found():
    pairs = [json.loads(line) for line in gzip.open(SHARED / "near_dups_natural.jsonl.gz", "rt", encoding="utf-8")]
    ko = [p for p in pairs if "Korean" in p.get("relation", "") or
          sum("\uac00" <= c <= "\ud7af" for c in p["text_a"][:500]) > 50]
    dup = [p for p in ko if p["dup"] and p["jaccard_char5"] >= 0.8][:40]
    non = [p for p in ko if not p["dup"]][:40]
    assert len(dup) >= 20 and len(non) >= 20
    hasher = MinHashDedupHelper()
    found = [hasher.similar(p["text_a"], p["text_b"]) for p in dup]
    false = [hasher.similar(p["text_a"], p["text_b"]) for p in non]
    assert sum(found) >= 0.9 * len(dup)
    assert sum(false) == 0


class MinHashDedupHelper:
    """The default MinHash step's parameters on a single pair: both documents in the same cluster?"""

    def __init__(self):
        from curate.steps.dedup import MinHashDedupParams

        self.p = MinHashDedupParams()
        self.hasher = self.p.hasher()

    def similar(self, a: str, b: str) -> bool:
        from curate.dedup.clusters import all_edges

        sigs, valid = self.hasher.signatures([a, b])
        src, _ = all_edges(self.hasher.band_keys(sigs), np.arange(2), valid, sigs, self.p.threshold)
        return len(src) == 1


@pytest.mark.parametrize("corpus", CORPORA)
def test_cli_stdin_stdout(tmp_path, corpus):
    docs = documents(corpus, 60, seed=3)
    records = docs + [docs[0] | {"id": "dup-a", "text": docs[0]["text"].lower()},
                      docs[1] | {"id": "dup-b", "text": near_copy(docs[1]["text"], 1)}]
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    removed = tmp_path / "removed.jsonl"
    proc = subprocess.run([sys.executable, "-m", "curate.cli", "dedup", "-", "-o", "-", "--removed", str(removed)],
                          input=data, capture_output=True, text=True, check=True)
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    rem = {r["id"]: r for r in map(json.loads, removed.read_text().splitlines())}
    assert {"dup-a", "dup-b"} <= set(rem)
    assert rem["dup-a"]["duplicate_of"] == docs[0]["id"] and rem["dup-a"]["similarity"] == 1.0
    assert rem["dup-b"]["duplicate_of"] == docs[1]["id"] and rem["dup-b"]["cluster_id"]
    assert len(out) + len(rem) == len(records)
    assert set(out[0]) == set(records[0])  # every input field kept
