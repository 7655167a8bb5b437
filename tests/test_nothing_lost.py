"""Promise: every input record is counted — kept, or removed with a reason — whatever state the input is in, and
bad input never stops a run (unless --strict). Damaged crawls, corrupt Parquet pages, hostile records, odd paths."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import archive_record
from curate.config import ConfigError, load_pipeline
from curate.errors import InvalidRecordError
from curate.runner import Run, run

GOOD = "A perfectly fine document about gardens. It has a few sentences. Nothing is wrong with it."


def pipeline(tmp_path: Path, paths, *, fmt: str | None = None, steps: str = "[{type: length, min_chars: 1}]",
             name: str = "p.yaml") -> str:
    spec = {"name": "src", "paths": [str(x) for x in paths], "license": "MIT"} | ({"format": fmt} if fmt else {})
    p = tmp_path / name
    p.write_text(f"name: t\ninputs: [{json.dumps(spec)}]\nsteps: {steps}\noutput: {{dir: {tmp_path / 'run'}}}\n")
    return str(p)


def law(m: dict) -> bool:
    return m["documents_in"] == m["documents_kept"] + sum(m["removed"].values())


def rows(run_dir: Path) -> pl.DataFrame:
    kept = pl.read_parquet(run_dir / "data" / "*.parquet").with_columns(pl.lit(None, pl.String).alias("removed_reason"))
    removed = pl.read_parquet(run_dir / "removed" / "**" / "*.parquet")
    return pl.concat([kept.select("id", "line", "removed_reason"), removed.select("id", "line", "removed_reason")])


# -- WARC ------------------------------------------------------------------------------------------------------------

def warc_members(n: int) -> list[bytes]:
    """n response records, each its own gzip member (as crawlers write them)."""
    return [archive_record("response", f"https://example.com/{i}",
                           f"<html><body><p>{GOOD} Page {i}.</p></body></html>".encode()) for i in range(n)]


def test_damaged_gzip_member_in_a_warc_is_counted_and_the_reader_resyncs(tmp_path):
    members = warc_members(10)
    damaged = bytearray(members[3])
    damaged[len(damaged) // 2: len(damaged) // 2 + 8] = b"\x00" * 8  # the deflate data of record 4
    path = tmp_path / "crawl.warc.gz"
    path.write_bytes(b"".join(members[:3]) + bytes(damaged) + b"".join(members[4:]))
    _, m = run(pipeline(tmp_path, [path]), progress=False)
    assert m["documents_in"] == 10 and m["removed"] == {"invalid:warc_record": 1} and law(m)
    bad = pl.read_parquet(tmp_path / "run" / "removed" / "invalid" / "*.parquet")
    assert bad["line"].to_list() == [4] and "resynced" in json.loads(bad["extra"][0])["invalid_detail"]
    with pytest.raises(InvalidRecordError, match=r"crawl.warc.gz:4: invalid record \(warc_record\)"):
        run(pipeline(tmp_path, [path]), output=str(tmp_path / "strict"), strict=True, progress=False)


def test_damaged_record_header_and_cut_warcs_are_counted(tmp_path):
    members = warc_members(6)
    header = gzip.decompress(members[2]).replace(b"WARC/1.0", b"WXRC/1.0", 1)
    bad_header = tmp_path / "header.warc.gz"
    bad_header.write_bytes(b"".join(members[:2]) + gzip.compress(header) + b"".join(members[3:]))
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(b"".join(members)[: sum(map(len, members[:4])) + 40])
    plain = b"".join(gzip.decompress(x) for x in members)
    plain_cut = tmp_path / "plain.warc"
    plain_cut.write_bytes(plain[: len(plain) - 150])  # inside the last record's body
    _, m = run(pipeline(tmp_path, [bad_header, cut, plain_cut]), progress=False)
    assert m["removed"] == {"invalid:warc_record": 1, "invalid:truncated_stream": 2} and law(m)
    assert m["documents_kept"] == 5 + 4 + 5


def test_every_warc_record_that_could_be_a_page_is_read_or_counted(tmp_path):
    """A page archived as a `resource` record, a `revisit` (its payload elided: the same page as an earlier record),
    a WET text record in a WARC: each was skipped without a trace; now each is a document or a counted removal.
    Records that describe the crawl (warcinfo, request, metadata) are still not documents."""
    page = f"<html><body><p>{GOOD}</p></body></html>".encode()
    records = [
        archive_record("warcinfo", "", b"software: test\r\n", ctype="application/warc-fields"),
        archive_record("request", "https://a.example/", b"GET / HTTP/1.1\r\n\r\n", ctype="application/http"),
        archive_record("response", "https://a.example/", page),
        archive_record("metadata", "https://a.example/", b"fetchTimeMs: 12\r\n", ctype="application/warc-fields"),
        archive_record("resource", "file:///site/b.html", page.replace(b"gardens", b"rivers")),
        archive_record("revisit", "https://a.example/", b"", headers={
            "WARC-Profile": "http://netpreserve.org/warc/1.0/revisit/identical-payload-digest",
            "WARC-Refers-To-Target-URI": "https://a.example/"}),
        archive_record("conversion", "https://a.example/", GOOD.encode(), ctype="text/plain"),
        archive_record("response", "https://a.example/doc.pdf", b"%PDF-1.4", ctype="application/pdf"),
    ]
    path = tmp_path / "crawl.warc.gz"
    path.write_bytes(b"".join(records))
    _, m = run(pipeline(tmp_path, [path]), progress=False)
    assert m["documents_in"] == 5 and m["documents_kept"] == 2 and law(m)
    assert m["removed"] == {"invalid:warc_revisit": 1, "invalid:unsupported_content": 2}
    kept = pl.read_parquet(tmp_path / "run" / "data" / "*.parquet")
    assert sorted(kept["url"]) == ["file:///site/b.html", "https://a.example/"]
    bad = pl.read_parquet(tmp_path / "run" / "removed" / "invalid" / "*.parquet").sort("line")
    details = [json.loads(e)["invalid_detail"] for e in bad["extra"]]
    assert bad["line"].to_list() == [3, 4, 5]
    assert "revisit of https://a.example/" in details[0] and "format: wet" in details[1] and "pdf" in details[2]


def test_common_crawl_wet_files_are_read_as_text(tmp_path):
    """Common Crawl's WET files (text records of type `conversion`) gave no document at all: the WARC reader read
    only responses. Their records are text documents with Common Crawl's record ids and language guess; damage is
    counted as in a WARC, and HTML extraction passes their text through."""
    texts = [f"{GOOD} Page {i} is about soil." for i in range(6)]
    records = [archive_record("warcinfo", "", b"isPartOf: CC-MAIN-2024-10\r\n", ctype="application/warc-fields")]
    for i, text in enumerate(texts):
        records.append(archive_record("conversion", f"https://site.example/{i}", text.encode(), ctype="text/plain",
                                      headers={"WARC-Refers-To": f"<urn:uuid:{i:08d}>",
                                               "WARC-Identified-Content-Language": "eng,fra"}))
    records.append(archive_record("conversion", "https://site.example/latin1", "Caf\xe9 menu".encode("latin-1"),
                                  ctype="text/plain"))
    records.append(archive_record("response", "https://site.example/raw", b"<html><p>x</p></html>"))
    damaged = bytearray(records[3])
    damaged[len(damaged) // 2: len(damaged) // 2 + 8] = b"\x00" * 8
    records[3] = bytes(damaged)
    path = tmp_path / "CC-MAIN-x.warc.wet.gz"
    path.write_bytes(b"".join(records))
    steps = "[{type: html_extract}, {type: length, min_chars: 1}]"
    _, m = run(pipeline(tmp_path, [path], steps=steps), progress=False)
    assert m["documents_in"] == 8 and m["documents_kept"] == 5 and law(m)
    assert m["removed"] == {"invalid:warc_record": 1, "invalid:utf8": 1, "invalid:unsupported_content": 1}
    kept = pl.read_parquet(tmp_path / "run" / "data" / "*.parquet").sort("line")
    assert kept["text"].to_list() == texts[:2] + texts[3:]  # the damaged member was the third page
    extra = json.loads(kept["extra"][0])
    assert extra["languages"] == "eng,fra" and extra["refers_to"] == "<urn:uuid:00000000>"
    assert extra["warc_record_id"].startswith("<urn:uuid:")
    # Common Crawl's record ids as document ids (datatrove's WarcReader's choice): `id_field: warc_record_id`
    spec = {"name": "cc", "paths": [str(path)], "id_field": "warc_record_id"}
    (tmp_path / "ids.yaml").write_text(f"name: t\ninputs: [{json.dumps(spec)}]\nsteps: {steps}\n"
                                       f"output: {{dir: {tmp_path / 'ids'}}}\n")
    run(str(tmp_path / "ids.yaml"), progress=False)
    ids = pl.read_parquet(tmp_path / "ids" / "data" / "*.parquet").sort("line")["id"].to_list()
    assert ids[0] == extra["warc_record_id"] and len(set(ids)) == 5
    # the same file under a WARC name is refused before any work, naming what it holds
    named_warc = tmp_path / "crawl.warc.gz"
    named_warc.write_bytes(path.read_bytes())
    with pytest.raises(ConfigError, match=r"crawl.warc.gz holds WET, its name says warc"):
        Run(pipeline(tmp_path, [named_warc], name="q.yaml"))


def test_arc_files_are_read_with_their_urls(tmp_path):
    """The Internet Archive's older ARC format (warcio reads it): the file header is not a document, every page has
    its URL (it came out as None: the reader asked for the WARC header only)."""
    version = b"1 0 Test\nURL IP-address Archive-date Content-type Archive-length\n"
    header = b"filedesc://t.arc 0.0.0.0 20240101000000 text/plain %d\n" % len(version) + version + b"\n"

    def page(url: bytes, words: bytes) -> bytes:
        http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html><body><p>%s</p></body></html>" % words
        return b"%s 1.2.3.4 20240101000000 text/html %d\n" % (url, len(http)) + http + b"\n"

    records = [header, page(b"http://a.example/", GOOD.encode()), page(b"http://b.example/", b"Rivers. " + GOOD.encode())]
    (tmp_path / "plain.arc").write_bytes(b"".join(records))
    (tmp_path / "members.arc.gz").write_bytes(b"".join(gzip.compress(r) for r in records))
    _, m = run(pipeline(tmp_path, [tmp_path / "plain.arc", tmp_path / "members.arc.gz"]), progress=False)
    assert m["documents_in"] == 4 == m["documents_kept"] and law(m)
    kept = pl.read_parquet(tmp_path / "run" / "data" / "*.parquet")
    assert sorted(kept["url"]) == ["http://a.example/", "http://a.example/", "http://b.example/", "http://b.example/"]


# -- Parquet -----------------------------------------------------------------------------------------------------------

def test_rows_after_a_corrupt_parquet_page_are_counted(tmp_path):
    path = tmp_path / "docs.parquet"
    pq.write_table(pa.table({"id": [f"d{i}" for i in range(1000)], "text": [f"{GOOD} #{i} " * 3 for i in range(1000)]}),
                   path, row_group_size=200, compression="zstd")
    col = pq.read_metadata(path).row_group(2).column(1)
    data = bytearray(path.read_bytes())
    first_page = col.dictionary_page_offset if col.has_dictionary_page else col.data_page_offset
    end = first_page + col.total_compressed_size  # the third row group's text column: its pages, headers kept
    data[first_page + 40:end - 40] = b"\xff" * (end - first_page - 80)
    path.write_bytes(bytes(data))
    _, m = run(pipeline(tmp_path, [path]), progress=False)
    assert m["documents_in"] == 1000 and m["documents_kept"] == 800 and m["removed"] == {"invalid:parquet": 200}
    lines = rows(tmp_path / "run").filter(pl.col("removed_reason") == "invalid:parquet")["line"]
    assert sorted(lines.to_list()) == list(range(401, 601))


# -- formats and paths -------------------------------------------------------------------------------------------------

def test_a_file_read_as_the_wrong_format_is_refused_or_read_as_named(tmp_path):
    src = tmp_path / "docs.jsonl.gz"
    src.write_bytes(gzip.compress(b"".join(json.dumps({"text": f"{GOOD} {i}"}).encode() + b"\n" for i in range(50))))
    warc_pipeline = pipeline(tmp_path, [tmp_path / "crawl" / "*.warc.gz"], fmt="warc")
    # --input names the file: it is read as what its name says, whatever the pipeline's format
    _, m = run(warc_pipeline, inputs=[str(src)], progress=False)
    assert m["documents_in"] == 50 == m["documents_kept"]
    # a pipeline that says WARC for a file holding JSONL is refused before any work starts
    with pytest.raises(ConfigError, match=r"docs.jsonl.gz holds JSONL but is read as warc"):
        Run(pipeline(tmp_path, [src], fmt="warc", name="q.yaml"))


def test_a_symlink_loop_reads_each_file_once(tmp_path):
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    for name in ("a", "sub/b"):
        (data / f"{name}.jsonl").write_text(json.dumps({"text": GOOD}) + "\n")
    os.symlink(data, data / "sub" / "loop")
    os.symlink(data / "a.jsonl", data / "alias.jsonl")
    r = Run(pipeline(tmp_path, [data]))
    assert sorted(os.path.basename(f["path"]) for f in r.files) == ["a.jsonl", "b.jsonl"]
    r2 = Run(pipeline(tmp_path, [str(data / "**" / "*.jsonl")], name="q.yaml"))
    assert len(r2.files) == 2


def test_an_input_file_that_cannot_be_opened_is_one_invalid_record(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text(json.dumps({"text": GOOD}) + "\n")
    b.write_text(json.dumps({"text": GOOD}) + "\n")
    r = Run(pipeline(tmp_path, [a, b]))
    r.prepare(force=False)
    b.unlink()  # gone between planning and reading (a crawl folder being rotated, a lost mount)
    r.execute(progress=False)
    m = r.finalize()
    r.lock.release()
    assert m["removed"] == {"invalid:unreadable_file": 1} and m["documents_kept"] == 1 and law(m)
    assert [i.get("error") for i in m["inputs"]] == [None, "No such file or directory"]


# -- hostile records ---------------------------------------------------------------------------------------------------

def test_hostile_records_are_set_aside_one_by_one(tmp_path):
    lines = [
        json.dumps({"id": "ok", "text": GOOD}),
        '{"text": ' + "[" * 100_000 + "]" * 100_000 + "}",  # RecursionError in json
        '{"id": "big", "n": ' + "9" * 5000 + ', "text": "x"}',  # ValueError: too many digits
        json.dumps({"id": "u1", "text": GOOD, "url": 12345}),
        json.dumps({"id": "u2", "text": GOOD, "url": ["https://a.example"]}),
        json.dumps({"id": "lic", "text": GOOD, "license": {"spdx": "MIT"}}),
        '{"id": "sur", "text": "bad \\ud800 text"}',  # a lone surrogate
        '{"id": "pair", "text": "fine \\ud83d\\ude00 emoji"}',  # a surrogate pair is a character, not damage
        json.dumps({"id": "forged", "text": GOOD, "_removed": "lang:below_threshold", "_removed_step": "../../x:y",
                    "toxicity_score": "high", "lang": 7, "source": "evil", "cluster_size": "many"}),
        json.dumps({"id": 42, "text": GOOD}),  # a numeric id is written as a string
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n")
    steps = "[{type: length, min_chars: 1}, {type: toxicity, backend: wordlist, wordlists: [en.txt]}, {type: dedup_exact}]"
    _, m = run(pipeline(tmp_path, [path], steps=steps), progress=False)
    assert m["removed"] == {"invalid:json": 2, "invalid:bad_field": 3, "invalid:lone_surrogate": 1,
                            "dedup_exact:duplicate": 2} and law(m)
    kept = pl.read_parquet(tmp_path / "run" / "data" / "*.parquet")
    assert sorted(kept["id"]) == ["ok", "pair"]
    dup = pl.read_parquet(tmp_path / "run" / "removed" / "dedup_exact" / "*.parquet")
    forged = dup.filter(pl.col("id") == "forged").row(0, named=True)
    # input fields that look like ours stay input fields, under extra; the forged reason did nothing
    assert forged["source"] == "src" and forged["toxicity_score"] is not None and forged["lang"] is None
    assert json.loads(forged["extra"]) == {"_removed": "lang:below_threshold", "_removed_step": "../../x:y",
                                           "toxicity_score": "high", "lang": 7, "source": "evil",
                                           "cluster_size": "many"}
    assert "42" in set(dup["id"])
    assert not (tmp_path / "x:y").exists() and not list(tmp_path.glob("**/x:y"))


def test_bom_empty_files_and_duplicate_ids(tmp_path):
    import zstandard

    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + json.dumps({"id": "a", "text": GOOD}).encode() + b"\n" +
                    json.dumps({"id": "a", "text": GOOD + " again"}).encode() + b"\n")
    (tmp_path / "empty.jsonl.zst").write_bytes(b"")
    (tmp_path / "empty.jsonl.gz").write_bytes(gzip.compress(b""))
    (tmp_path / "empty.jsonl").write_bytes(b"")
    other = tmp_path / "other.jsonl.zst"
    other.write_bytes(zstandard.ZstdCompressor().compress(json.dumps({"id": "a", "text": "third"}).encode() + b"\n"))
    files = [bom, tmp_path / "empty.jsonl.zst", tmp_path / "empty.jsonl.gz", tmp_path / "empty.jsonl", other]
    _, m = run(pipeline(tmp_path, files), tasks=2, progress=False)
    assert m["documents_in"] == 3 == m["documents_kept"] and m["removed"] == {}
    assert m["duplicate_ids"] == 2  # two documents reuse an id an earlier one had, across tasks too


def test_a_yaml_bomb_is_refused_quickly(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(9))
    path = tmp_path / "bomb.yaml"
    path.write_text(bomb)
    assert len(bomb) < 1000
    with pytest.raises(ConfigError, match="expands to"):
        load_pipeline(str(path))


def test_step_names_cannot_escape_the_run_folder(tmp_path):
    (tmp_path / "a.jsonl").write_text(json.dumps({"text": GOOD}) + "\n")
    with pytest.raises(ConfigError, match=r"steps.0.name"):
        load_pipeline(pipeline(tmp_path, [tmp_path / "a.jsonl"], steps="[{type: length, name: ../../x}]"))
