"""Promise: no file a run writes holds the personal data its PII step would remove — in data/, removed/, the
report, the manifest, the dedup index or the logs — whichever step removes a document, wherever the stage plan cuts
the pipeline (web.yaml and korean.yaml run distributed MinHash dedup), and in every field: text, url, id and the
input's other fields. Logs and errors name documents by id, file and line, never by their text."""

from __future__ import annotations

import gzip
import io
import json
import random
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from conftest import demo_generator
from curate.runner import run
from curate.scrub.korean import make_rrn

_demo = demo_generator()
KO_TOPICS, TOPICS, near_duplicate = _demo.KO_TOPICS, _demo.TOPICS, _demo.near_duplicate
boilerplate_page, english_article, korean_article = _demo.boilerplate_page, _demo.english_article, _demo.korean_article

REPO = Path(__file__).resolve().parents[1]
CARD = "4111 1111 1111 1111"
AWS = "AKIA" + "QWERTYUIOPASDFGH"
GITHUB = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


def personal(i: int) -> dict[str, str]:
    """Distinct planted values for record i (each one a detectable PII value or secret)."""
    rng = random.Random(i)
    return {"email": f"jane.roe{i}@example.org", "phone": f"+1 415-555-{2600 + i}", "kr_phone": f"010-2345-{6700 + i}",
            "rrn": make_rrn(rng), "password": f"hunter{i}xyz"}


def paragraph(v: dict[str, str], korean: bool = False) -> str:
    if korean:
        return (f"문의는 {v['kr_phone']} 또는 {v['email']} 로 연락 주세요. 주민등록번호 {v['rrn']} 는 확인 후 "
                f"파기됩니다. 카드 번호 {CARD} 로 결제했습니다.")
    return (f"For questions write to {v['email']} or call {v['phone']}. The card {CARD} was charged. "
            f'Deploy with aws_access_key_id="{AWS}" and GITHUB_TOKEN="{GITHUB}".')


def record(i: int, text: str, kind: str, korean: bool = False, url: str | None = None) -> dict:
    """A page with PII in every field; Korean pages are plain text (korean.yaml's html_extract passes them through)."""
    v = personal(i)
    body = text + "\n\n" + paragraph(v, korean)
    html = ("<html><head><title>" + kind + "</title></head><body><article>"
            + "".join(f"<p>{p}</p>" for p in body.split("\n\n")) + "</article></body></html>")
    return {
        "id": f"{kind}/{v['email']}",
        "text": body if korean else html,
        "url": url or f"https://bob:{v['password']}@site{i}.example.com/{kind}?email={v['email']}&tel={v['kr_phone']}",
        "author_email": v["email"],
        "title": f"Call {v['kr_phone']} now",
        "contact": {"phone": v["phone"], "ids": [v["rrn"]]},
    }


def planted_values(n: int) -> list[str]:
    values = [CARD, AWS, GITHUB]
    for i in range(n):
        v = personal(i)
        values += [v["email"], v["phone"], v["kr_phone"], v["rrn"], v["password"]]
    return values


def english_corpus(rng: random.Random) -> tuple[list[dict], list[bytes]]:
    """Records headed for every removal reason of web.yaml (and kept ones); the last few as bad JSONL lines."""
    docs: list[dict] = []
    topics = sorted(TOPICS)
    for topic in topics:
        docs.append(record(len(docs), english_article(rng, topic)[1], "kept"))
    base = english_article(rng, topics[0])[1]
    docs.append(record(len(docs), base, "near-a"))
    docs.append(record(len(docs), near_duplicate(rng, base), "near-b"))  # dedup_minhash
    same_url = "https://site-same.example.com/page?email=jane.roe99@example.org"
    docs.append(record(len(docs), english_article(rng, topics[1])[1], "url-a", url=same_url))
    docs.append(record(len(docs), english_article(rng, topics[2])[1], "url-b", url=same_url))  # dedup_url
    docs.append(record(len(docs), korean_article(rng, sorted(KO_TOPICS)[0])[1], "lang"))  # lang
    docs.append(record(len(docs), "Buy now. " * 80, "repetition"))  # gopher_repetition
    docs.append(record(len(docs), "Short note.", "short"))  # gopher_quality
    docs.append(record(len(docs), boilerplate_page(rng), "boilerplate"))
    docs.append(record(len(docs), "\n\n".join(["You stupid idiot, you worthless moron."] * 4), "toxic"))
    docs.append(record(len(docs), english_article(rng, topics[3])[1], "blocked",
                       url=f"https://bob:pw@free-porn-videos.example.com/?u=jane.roe{len(docs)}@example.org"))
    bad = [
        ('{"id": "broken-jane.roe90@example.org", "text": "mail jane.roe90@example.org' ).encode(),  # invalid:json
        json.dumps({"id": "listurl", "text": "x", "url": ["https://jane.roe91@example.org"],
                    "note": "jane.roe91@example.org"}).encode(),  # invalid:bad_field
        json.dumps({"id": "notext-jane.roe92@example.org", "body": "call 010-2345-6792"}).encode(),  # missing_text
    ]
    return docs, bad


def korean_corpus(rng: random.Random) -> tuple[list[dict], list[bytes]]:
    docs: list[dict] = []
    topics = sorted(KO_TOPICS)
    for topic in topics:
        docs.append(record(len(docs), korean_article(rng, topic)[1], "kept", korean=True))
    base = korean_article(rng, topics[0])[1]
    docs.append(record(len(docs), base, "near-a", korean=True))
    docs.append(record(len(docs), near_duplicate(rng, base), "near-b", korean=True))
    docs.append(record(len(docs), english_article(rng, sorted(TOPICS)[0])[1], "lang", korean=True))
    docs.append(record(len(docs), "지금 구매하세요. " * 80, "repetition", korean=True))
    docs.append(record(len(docs), "짧은 글.", "short", korean=True))
    bad = [('{"id": "broken", "text": "전화 010-2345-6790, jane.roe90@example.org').encode()]
    return docs, bad


def write_inputs(tmp: Path, docs: list[dict], bad: list[bytes], warc: bool) -> list[str]:
    """JSONL with every field; with `warc`, half the pages as a WARC crawl instead (the URL carries the PII there)."""
    jsonl = tmp / "pages.jsonl.gz"
    if not warc:
        jsonl.write_bytes(gzip.compress(b"\n".join([json.dumps(d, ensure_ascii=False).encode() for d in docs] + bad)))
        return [str(jsonl)]
    crawl = tmp / "crawl.warc.gz"
    with open(crawl, "wb") as f:
        writer = WARCWriter(f, gzip=True)
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        for d in docs[::2]:
            writer.write_record(writer.create_warc_record(d["url"], "response", payload=io.BytesIO(d["text"].encode()),
                                                          http_headers=http))
    lines = [json.dumps(d, ensure_ascii=False).encode() for d in docs[1::2]] + bad
    jsonl.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    return [str(crawl), str(jsonl)]


def strings_in(path: Path) -> str:
    """Everything a file says: a Parquet file's values, any other file's bytes as text."""
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        return "\n".join(str(v) for col in table.columns for v in col.to_pylist())
    return path.read_bytes().decode("utf-8", "replace")


def leaks(run_dir: Path, values: list[str]) -> list[tuple[str, str]]:
    found = []
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file()):
        content = strings_in(path)
        found += [(str(path.relative_to(run_dir)), v) for v in values if v in content]
    return found


@pytest.mark.parametrize("pipeline, corpus", [("web.yaml", english_corpus), ("korean.yaml", korean_corpus)])
def test_no_planted_pii_in_any_file_the_run_writes(tmp_path, pipeline, corpus):
    docs, bad = corpus(random.Random(7))
    inputs = write_inputs(tmp_path, docs, bad, warc=pipeline == "web.yaml")
    out = tmp_path / "run"
    state, m = run(str(REPO / "pipelines" / pipeline), inputs=inputs, output=str(out), tasks=2, workers=2, progress=False)
    assert state == "new"
    assert m["documents_in"] == len(docs) + len(bad) == m["documents_kept"] + sum(m["removed"].values())
    steps = {r.split(":", 1)[0] for r in m["removed"]}
    # the records really went down every path: kept, invalid, removed before the dedup cut and after it
    assert m["documents_kept"] >= 3 and {"invalid", "lang", "dedup_minhash"} <= steps, m["removed"]
    assert len(steps) >= (6 if pipeline == "web.yaml" else 4), m["removed"]
    values = planted_values(len(docs)) + ["jane.roe90@example.org", "jane.roe91@example.org", "010-2345-6792",
                                           "jane.roe99@example.org"]
    assert leaks(out, values) == []
    # what replaced them: typed placeholders, ids that stay unique, duplicate_of pointing at a written id
    kept = pq.read_table(out / "data").to_pylist()
    removed = pq.read_table(out / "removed").to_pylist()
    assert all("<EMAIL>" in r["text"] and "<CREDIT_CARD>" in r["text"] for r in kept)
    written_ids = [r["id"] for r in kept + removed]
    assert len(set(written_ids)) == len(written_ids)
    assert any(re.fullmatch(r"[a-z-]+/<EMAIL>~[0-9a-f]{12}", i) for i in written_ids)
    dups = [r for r in removed if r["removed_reason"].startswith("dedup_minhash")]
    assert dups and all(d["duplicate_of"] in written_ids for d in dups)
    assert any("<EMAIL>" in (r["url"] or "") for r in kept + removed)
    assert any("<EMAIL>" in (r["extra"] or "") for r in kept + removed)


def test_a_step_that_fails_on_a_document_sets_it_aside_and_logs_no_text(tmp_path, capfd):
    """A step's exception (whose message may quote the document) becomes `<step>:error`, counted by type; the
    warning names the document's id, file and line only. --strict fails the run, naming the same."""
    from curate.steps import STEP_TYPES
    from curate.errors import StepFailed

    secret = "jane.secret@example.org"
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps({"id": f"d{i}", "text": f"Document {i} about {secret if i == 1 else 'rivers'}."})
                             for i in range(3)) + "\n")
    p = tmp_path / "p.yaml"
    p.write_text(f"name: t\ninputs: [{{name: s, paths: ['{src}']}}]\nsteps: [{{type: crash_on_secret}}]\n"
                 f"output: {{dir: {tmp_path / 'run'}}}\n")
    STEP_TYPES["crash_on_secret"] = "steps_for_tests:CrashOnSecret"
    try:
        _, m = run(str(p), progress=False)
        assert m["removed"] == {"crash_on_secret:error": 1} and m["documents_kept"] == 2
        assert m["steps"][0]["counters"] == {"error:ValueError": 1}
        log = (tmp_path / "run" / "logs" / "datatrove" / "logs" / "task_00000.log").read_text()
        assert "crash_on_secret: ValueError on document 'd1'" in log
        # (no pii step here: removed/ holds the text; the logs and the terminal must not)
        assert leaks(tmp_path / "run" / "logs", [secret]) == [] and secret not in capfd.readouterr().err
        with pytest.raises(StepFailed, match=r"document 'd1' \(.*in.jsonl:2\): ValueError"):
            run(str(p), output=str(tmp_path / "strict"), strict=True, progress=False)
    finally:
        del STEP_TYPES["crash_on_secret"]
