"""Every document carries a license with its source and confidence; the policy step removes with `license:<id>`;
the run's manifest feeds the license audit."""

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner


def kept(demo_run):
    return pl.read_parquet(demo_run / "data" / "*.parquet")


def test_code_licenses_come_from_tags_headers_and_license_files(demo_run):
    code = kept(demo_run).filter(pl.col("source") == "code")
    by_id = dict(zip(code["id"], zip(code["license"], code["license_source"])))
    assert by_id["github.com/demo/tagged/util_0.js"] == ("BSD-3-Clause", "detected")  # SPDX tag
    assert by_id["github.com/demo/apache-tool/tool_0.py"] == ("Apache-2.0", "detected")  # license header
    assert by_id["github.com/demo/gpl-lib/lib_0.c"] == ("GPL-3.0-or-later", "detected")
    assert by_id["github.com/demo/smoothing/src/smooth_0.py"] == ("MIT", "inherited")  # the repo's LICENSE file
    assert by_id["github.com/demo/smoothing/LICENSE"] == ("MIT", "detected")


REFS = Path(__file__).resolve().parents[1] / "license_registry" / "reference_texts"


def run_license_detect(tmp_path, files, step: str = "{type: license_detect, engine: builtin}",
                       origins: dict | None = None) -> dict:
    """license_detect over (repository, path, text) records, the source declared MIT-0: id -> (license, source);
    `origins`, when given, is filled with id -> license_inherited_from."""
    from curate.runner import run

    (tmp_path / "repos.jsonl").write_text("".join(
        json.dumps({"id": f"{repo}/{path}", "repo": repo, "path": path, "text": text}) + "\n"
        for repo, path, text in files))
    p = tmp_path / "p.yaml"
    p.write_text(f"name: code\ninputs: [{{name: code, paths: ['{tmp_path / 'repos.jsonl'}'], license: MIT-0}}]\n"
                 f"steps: [{step}]\noutput: {{dir: {tmp_path / 'run'}}}\n")
    run(str(p), progress=False)
    df = pl.read_parquet(tmp_path / "run" / "data" / "*.parquet")
    if origins is not None:
        origins.update(zip(df["id"], df["license_inherited_from"]))
    return dict(zip(df["id"], zip(df["license"], df["license_source"])))


def test_files_inherit_the_license_files_of_the_nearest_folder_above_them(tmp_path):
    """aiohttp-like: the repository's LICENSE (Apache-2.0, then a third-party section naming the bundled parser's
    MIT license) and a vendored parser with its own MIT LICENSE, which comes last in the input: until 2026-12-02 the
    last license file of a repository won for every file of it. greenlet-like: two license files at the top, both
    hold (greenlet's are LICENSE and LICENSE.PSF). A license file states every license it holds."""
    mit = (REFS / "MIT.txt").read_text()
    code = "def handler(request):\n    return request.body\n\n\nclass Parser:\n    pass\n"
    files = [
        ("aio", "LICENSE.txt", (REFS / "Apache-2.0__full.txt").read_text()
         + "\n\nThird-party components\n\nvendor/llhttp is released under the MIT License:\n\n" + mit),
        ("aio", "aio/web.py", code),
        ("aio", "aio/vendor/llhttp/api.c", "int llhttp_execute(void) {\n  return 0;\n}\n"),
        ("aio", "aio/vendor/llhttp/LICENSE", "This software is licensed under the MIT License.\n\n" + mit),
        ("green", "LICENSE", "The following files are released under the MIT License.\n\n" + mit),
        ("green", "LICENSE.BSD", "Code in greenlet/platform is released under the BSD 3-Clause License.\n\n"
         + (REFS / "BSD-3-Clause.txt").read_text()),
        ("green", "src/green/__init__.py", code),
        ("none", "pkg/mod.py", code),
    ]
    got = run_license_detect(tmp_path, files)
    assert got["aio/aio/web.py"] == ("Apache-2.0", "inherited")
    assert got["aio/aio/vendor/llhttp/api.c"] == ("MIT", "inherited")
    assert got["aio/LICENSE.txt"] == ("Apache-2.0 AND MIT", "detected")
    assert got["green/src/green/__init__.py"] == ("MIT AND BSD-3-Clause", "inherited")
    assert got["none/pkg/mod.py"] == ("MIT-0", "declared")


def test_files_inherit_the_choice_a_license_file_offers_between_the_files_it_names(tmp_path):
    """packaging's layout: LICENSE only names LICENSE.APACHE and LICENSE.BSD as alternatives. Its files inherited
    "(BSD-3-Clause OR Apache-2.0) AND BSD-2-Clause" until 2026-12-02 (the pointer's "BSD" read alone, ANDed with
    the files it names); they inherit the choice it offers."""
    pointer = ("This software is made available under the terms of *either* of the licenses\nfound in "
               "LICENSE.APACHE or LICENSE.BSD. Contributions to this software is made\nunder the terms of *both* "
               "these licenses.\n")
    files = [("pkg", "src/packaging/version.py", "VERSION = '1'\n"), ("pkg", "LICENSE", pointer),
             ("pkg", "LICENSE.BSD", "Copyright (c) Donald Stufft and individual contributors.\n\n"
              + (REFS / "BSD-2-Clause.txt").read_text()),
             ("pkg", "LICENSE.APACHE", (REFS / "Apache-2.0__full.txt").read_text())]
    got = run_license_detect(tmp_path, files)
    assert got["pkg/src/packaging/version.py"] == ("Apache-2.0 OR BSD-2-Clause", "inherited")


def test_package_manifests_declare_their_folders_license(tmp_path):
    """A Rust crate's Cargo.toml says `license = "MIT OR Apache-2.0"` next to LICENSE-MIT and LICENSE-APACHE, which
    name each other nowhere: until 2026-12-02 its files inherited both (AND), now the choice it declares. An npm
    package with no license file inherited the source's license; now its package.json's. A license file naming a
    license the manifest does not adds it; npm's "UNLICENSED" grants no right to use (proprietary); a manifest that is
    not valid JSON declares nothing."""
    files = [("crate", "Cargo.toml", '[package]\nname = "rand"\nversion = "0.9.0"\nlicense = "MIT OR Apache-2.0"\n'),
             ("crate", "LICENSE-MIT", (REFS / "MIT.txt").read_text()),
             ("crate", "LICENSE-APACHE", (REFS / "Apache-2.0__full.txt").read_text()),
             ("crate", "src/lib.rs", "pub fn random() -> u32 { 4 }\n"),
             ("web", "package.json", '{"name": "left-pad", "version": "1.3.0", "license": "WTFPL"}'),
             ("web", "index.js", "module.exports = leftPad;\n"),
             ("web", "vendor/lib/package.json", '{"name": "lib", "license": "ISC"}'),
             ("web", "vendor/lib/LICENSE", (REFS / "BSD-3-Clause.txt").read_text()),
             ("web", "vendor/lib/a.js", "exports.a = 1;\n"),
             ("web", "private/package.json", '{"name": "internal", "license": "UNLICENSED"}'),
             ("web", "private/b.js", "exports.b = 2;\n"),
             ("web", "broken/package.json", '{"name": "x", "license": "MIT",'),
             ("web", "broken/c.js", "exports.c = 3;\n")]
    origins: dict = {}
    got = run_license_detect(tmp_path, files, origins=origins)
    assert got["crate/src/lib.rs"] == ("MIT OR Apache-2.0", "inherited")
    assert origins["crate/src/lib.rs"] == "Cargo.toml, LICENSE-APACHE, LICENSE-MIT"
    assert origins["web/vendor/lib/a.js"] == "vendor/lib/LICENSE, vendor/lib/package.json"
    assert origins["web/broken/c.js"] == "package.json"  # broken/package.json declares nothing
    assert got["web/index.js"] == ("WTFPL", "inherited")
    assert got["web/vendor/lib/a.js"] == ("ISC AND BSD-3-Clause", "inherited")
    assert got["web/private/b.js"] == ("LicenseRef-scancode-proprietary-license", "inherited")  # no right granted
    assert got["web/broken/c.js"] == ("WTFPL", "inherited")


_POM = """<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <artifactId>jakarta.json-api</artifactId>
  <licenses>
    <license>
      <name>Eclipse Public License - v 2.0</name>
      <url>https://www.eclipse.org/legal/epl-2.0/</url>
    </license>
    <license>
      <name>GNU General Public License, version 2 with the GNU Classpath Exception</name>
      <url>https://www.gnu.org/software/classpath/license.html</url>
    </license>
  </licenses>
</project>
"""


def test_java_ruby_and_python_manifests_declare_their_folders_license(tmp_path):
    """A Maven POM's licenses are a choice (its reference: "the user can select any of them"), named as POMs name
    them ("Eclipse Public License - v 2.0"); a gemspec's `licenses` list; a setup.py whose `license=` sits in a
    `dict(...)` passed to setup (crcmod). Until 2026-12-03 none of them was read: the files inherited nothing (no
    license file) or only their license files' licenses."""
    files = [("jakarta", "api/pom.xml", _POM),
             ("jakarta", "api/src/main/java/Json.java", "public final class Json {}\n"),
             ("racc", "racc.gemspec", 'Gem::Specification.new do |s|\n  s.name = "racc"\n'
              '  s.licenses = ["Ruby", "BSD-2-Clause"]\nend\n'),
             ("racc", "lib/racc.rb", "module Racc; end\n"),
             ("crcmod", "setup.py", "from distutils.core import setup\nsetup_dict = dict(name='crcmod', "
              "license=\"MIT\")\nsetup(**setup_dict)\n"),
             ("crcmod", "crcmod/crcmod.py", "def mkCrcFun(poly): pass\n")]
    got = run_license_detect(tmp_path, files)
    assert got["jakarta/api/src/main/java/Json.java"] == (
        "EPL-2.0 OR GPL-2.0-only WITH Classpath-exception-2.0", "inherited")
    assert got["racc/lib/racc.rb"] == ("Ruby OR BSD-2-Clause", "inherited")
    assert got["crcmod/crcmod/crcmod.py"] == ("MIT", "inherited")


def test_a_readme_offering_the_folders_license_files_as_a_choice(tmp_path):
    """A Rust repository without its Cargo.toml in the input: LICENSE-MIT and LICENSE-APACHE alone apply together;
    the README's license section "Licensed under either of ... at your option" makes them the choice it offers
    (until 2026-12-03 its files inherited `Apache-2.0 AND MIT`). A README whose license section says "both" leaves
    them together."""
    either = ("# rand\n\n## License\n\nLicensed under either of\n\n * Apache License, Version 2.0\n   "
              "([LICENSE-APACHE](LICENSE-APACHE) or http://www.apache.org/licenses/LICENSE-2.0)\n * MIT license\n   "
              "([LICENSE-MIT](LICENSE-MIT) or http://opensource.org/licenses/MIT)\n\nat your option.\n")
    both = ("# cargo\n\n## License\n\nCargo is primarily distributed under the terms of both the MIT license\nand "
            "the Apache License (Version 2.0).\n\nSee [LICENSE-APACHE](LICENSE-APACHE) and [LICENSE-MIT](LICENSE-MIT)"
            " for details.\n")
    files = []
    for repo, readme in (("rand", either), ("cargo", both)):
        files += [(repo, "README.md", readme), (repo, "LICENSE-MIT", (REFS / "MIT.txt").read_text()),
                  (repo, "LICENSE-APACHE", (REFS / "Apache-2.0__full.txt").read_text()),
                  (repo, "src/lib.rs", "pub fn f() -> u32 { 4 }\n")]
    got = run_license_detect(tmp_path, files)
    assert got["rand/src/lib.rs"] == ("Apache-2.0 OR MIT", "inherited")
    assert got["cargo/src/lib.rs"] == ("Apache-2.0 AND MIT", "inherited")


def test_a_generic_name_in_a_notice_is_the_license_of_that_family_its_folder_has(tmp_path):
    """cryptography's and packaging's headers: "dual licensed under the terms of the Apache License, Version 2.0, and
    the BSD\n# License". Which BSD it does not say; the repository's license files do (here BSD-3-Clause). Until
    2026-12-02 the header read `Apache-2.0` alone (the join stopped at the name nothing knew)."""
    pointer = ("This software is made available under the terms of *either* of the licenses\nfound in "
               "LICENSE.APACHE or LICENSE.BSD.\n")
    header = ("# This file is dual licensed under the terms of the Apache License, Version\n# 2.0, and the BSD "
              "License. See the LICENSE file in the root of this repository\n# for complete details.\n\nx = 1\n")
    files = [("crypto", "src/cryptography/fernet.py", header), ("crypto", "LICENSE", pointer),
             ("crypto", "LICENSE.BSD", (REFS / "BSD-3-Clause.txt").read_text()),
             ("crypto", "LICENSE.APACHE", (REFS / "Apache-2.0__full.txt").read_text()),
             ("alone", "fernet.py", header)]
    got = run_license_detect(tmp_path, files)
    assert got["crypto/src/cryptography/fernet.py"] == ("Apache-2.0 OR BSD-3-Clause", "detected")
    # no license files around it: the generic name stays what it says, an unknown alternative
    assert got["alone/fernet.py"] == ("Apache-2.0 OR LicenseRef-Unknown-BSD-License", "detected")


def test_a_debian_copyright_file_is_read_whole_and_states_what_it_declares(tmp_path):
    """license_detect scans the head and tail of a long document: a machine-readable copyright file of 1,000 file
    groups is read whole, the license of the group in its middle counted (the reader: its own tests)."""
    groups = "".join(f"Files: lib/part{i}/*\nCopyright: {1000 + i} Author {i}\nLicense: {'Zlib' if i == 500 else 'Expat'}"
                     "\n\n" for i in range(1000))
    text = ("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\n"
            "License: BSD-3-clause\n\n" + groups + "Files: debian/*\nLicense: GPL-2+\n")
    got = run_license_detect(tmp_path, [("pkg", "debian/copyright", text)], step="{type: license_detect}")
    assert got == {"pkg/debian/copyright": ("BSD-3-Clause AND MIT AND Zlib AND GPL-2.0-or-later", "detected")}


def test_files_of_a_debian_package_inherit_what_its_copyright_file_declares_for_them(tmp_path):
    """debian/copyright (machine-readable) names the license of each group of files by pattern, the last match
    winning; a nearer license file (tools/LICENSE) still wins over `Files: *`, not over a group naming the file."""
    mit = (REFS / "MIT.txt").read_text()
    copyright_file = ("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
                      "Files: *\nCopyright: 2020 The Authors\nLicense: BSD-3-clause\n\n"
                      "Files: src/vendor/* tools/gen.py\nLicense: Zlib\n\n"
                      "Files: debian/*\nLicense: GPL-2+\n")
    code = "int main(void) {\n  return 0;\n}\n"
    files = [("pkg", "src/main.c", code), ("pkg", "src/vendor/z.c", code), ("pkg", "debian/rules", "%:\n\tdh $@\n"),
             ("pkg", "tools/LICENSE", mit), ("pkg", "tools/t.py", "print(1)\n"), ("pkg", "tools/gen.py", "print(2)\n"),
             ("pkg", "debian/copyright", copyright_file), ("other", "src/main.c", code)]
    origins: dict = {}
    got = run_license_detect(tmp_path, files, origins=origins)
    assert got["pkg/src/main.c"] == ("BSD-3-Clause", "inherited")
    assert got["pkg/src/vendor/z.c"] == ("Zlib", "inherited")
    # where each inherited license comes from, for an audit; nothing for a license not inherited
    assert origins["pkg/src/main.c"] == origins["pkg/tools/gen.py"] == "debian/copyright"
    assert origins["pkg/tools/t.py"] == "tools/LICENSE"
    assert origins["pkg/debian/copyright"] is None and origins["other/src/main.c"] is None
    assert got["pkg/debian/rules"] == ("GPL-2.0-or-later", "inherited")
    assert got["pkg/tools/t.py"] == ("MIT", "inherited")  # its folder's LICENSE is nearer than the package's "*"
    assert got["pkg/tools/gen.py"] == ("Zlib", "inherited")  # named by a group: the declaration wins
    assert got["pkg/debian/copyright"] == ("BSD-3-Clause AND Zlib AND GPL-2.0-or-later", "detected")
    assert got["other/src/main.c"] == ("MIT-0", "declared")


def test_the_report_lists_the_licenses_documents_state_that_no_one_here_knows(tmp_path):
    """"Licensed under the Sapiens2 License" sets no license (nothing here knows its terms): the document keeps the
    license of its folder or source, and the report says which stated names no one has read, how often."""
    from curate.report import build_report, to_markdown

    files = [("m", "README.md", "# Sapiens\n\nThe weights are licensed under the Sapiens2 License.\n"),
             ("m", "docs/use.md", "Usage\n\nReleased under the Sapiens2 License. See the model card.\n"),
             ("m", "src/a.py", "# Licensed under the MIT License.\nx = 1\n"),
             ("m", "src/b.py", "y = 2\n")]
    got = run_license_detect(tmp_path, files)
    assert got["m/README.md"] == ("MIT-0", "declared") and got["m/src/a.py"] == ("MIT", "detected")
    rep = build_report(str(tmp_path / "run"))
    assert rep["licenses_stated_unknown"] == [{"stated": "Sapiens2-License", "documents": 2, "licenses_given": "MIT-0"}]
    assert "| Sapiens2-License | 2 | MIT-0 |" in to_markdown(rep)
    from curate.report_html import render_html
    from curate.util import read_json

    page = render_html(rep, read_json(str(tmp_path / "run" / "manifest.json")))
    assert "stating a license no one here knows" in page and "Sapiens2-License" in page


def test_license_file_names():
    from curate.steps.license import is_license_file

    assert all(map(is_license_file, ["LICENSE", "a/b/LICENCE.md", "COPYING.LESSER", "LICENSE-MIT", "LICENSE.APACHE",
                                     "LICENSE_GPL2.0.txt", "UNLICENSE", "copying.txt"]))
    assert not any(map(is_license_file, ["license.py", "licenses.py", "src/license_test.go", "LICENSES/",
                                         "licensing.md", "README.md"]))


def test_html_pages_get_their_creative_commons_license(demo_run):
    crawl = kept(demo_run).filter(pl.col("source") == "crawl")
    assert len(crawl) >= 4
    assert set(crawl["license"]) == {"CC-BY-4.0"} and set(crawl["license_source"]) == {"detected"}


def test_record_and_declared_licenses_and_the_policy_step(demo_run):
    df = kept(demo_run)
    assert set(df.filter(pl.col("source") == "web-ko")["license_source"]) == {"declared"}
    forum = df.filter(pl.col("source") == "forum")
    assert set(forum["license"]) == {"CC-BY-SA-4.0"} and set(forum["license_source"]) == {"record"}
    m = json.loads((demo_run / "manifest.json").read_text())
    assert m["removed"]["license:CC-BY-NC-4.0"] == 4  # NC posts fail the commercial-safe policy
    assert m["removed"]["license:NOASSERTION"] == 4  # and so do posts without any license
    removed = pl.read_parquet(demo_run / "removed" / "license" / "*.parquet")
    assert set(removed["source"]) == {"forum"}
    assert not df["license"].is_in(["CC-BY-NC-4.0", "NOASSERTION"]).any()
    assert (df["license_confidence"] > 0).all()


def test_license_policy_checks_allow_then_deny_then_the_policies(tmp_path):
    from datatrove.data import Document

    from curate import document as D
    from curate.steps import RunContext, step_class

    cls = step_class("license_policy")

    def verdicts(**params) -> dict[str, str | None]:
        step = cls(cls.Params(**params), RunContext(run_dir=str(tmp_path)), name="license")
        return {lic: step.process(Document(text="x", id=lic, metadata={D.LICENSE: lic}))
                for lic in ("MIT", "CC-BY-NC-4.0", "GPL-3.0-only", "NOASSERTION", "MIT OR CC-BY-NC-4.0")}

    assert verdicts(policy=["commercial-safe"]) == {
        "MIT": None, "CC-BY-NC-4.0": "CC-BY-NC-4.0", "GPL-3.0-only": None, "NOASSERTION": "NOASSERTION",
        "MIT OR CC-BY-NC-4.0": None}  # a choice passes when one side does
    assert verdicts(policy=["permissive-only"])["GPL-3.0-only"] == "GPL-3.0-only"
    # allow before deny before the policies; on_unknown decides NOASSERTION instead of the policy
    assert verdicts(policy=["commercial-safe"], allow=["CC-BY-NC-4.0"], deny=["MIT"], on_unknown="keep") == {
        "MIT": "MIT", "CC-BY-NC-4.0": None, "GPL-3.0-only": None, "NOASSERTION": None,
        "MIT OR CC-BY-NC-4.0": "MIT OR CC-BY-NC-4.0"}
    assert verdicts()["CC-BY-NC-4.0"] is None  # no policy: everything passes
    with pytest.raises(ValueError, match="unknown policy"):
        verdicts(policy=["commercial-safe-ish"])


def test_manifest_counts_tokens_per_license_when_a_tokenizer_is_given(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    from curate.runner import run

    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    texts = ["the garden needs water and patience"] * 10 + ["정원에는 물과 인내가 필요합니다"] * 10
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=200, special_tokens=["[UNK]"]))
    tok.save(str(tmp_path / "tokenizer.json"))
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps({"text": t, "license": lic}) for t, lic in
                                                [("the garden needs water", "MIT"), ("정원에는 물과", "CC-BY-4.0"),
                                                 ("patience and water", "MIT")]) + "\n")
    p = tmp_path / "p.yaml"
    p.write_text(f"name: tok\ninputs: [{{name: s, paths: ['{tmp_path / 'a.jsonl'}']}}]\n"
                 f"steps: [{{type: license_detect}}]\n"
                 f"output: {{dir: {tmp_path / 'run'}, tokenizer: {tmp_path}}}\n")
    _, m = run(str(p), progress=False)
    assert m["licenses"]["MIT"]["documents"] == 2
    mit_tokens = sum(len(tok.encode(t).ids) for t in ["the garden needs water", "patience and water"])
    assert m["licenses"]["MIT"]["tokens"] == mit_tokens
    assert m["sources"]["s"]["tokens"] == mit_tokens + len(tok.encode("정원에는 물과").ids)


def test_audit_of_the_demo_run(demo_run):
    from license_registry.cli import main as license_main

    res = CliRunner().invoke(license_main, ["audit", str(demo_run), "--use", "commercial", "--base-model",
                                            "llama3.2", "--model-name", "Llama-Demo-1B", "--format", "json"])
    assert res.exit_code in (0, 1), res.output
    report = json.loads(res.output)
    assert report["verdict"] in ("obligations", "review")
    # the forum's CC-BY-SA posts reach the weights: share-alike needs a human review, with its clause
    assert any(f["license"] == "CC-BY-SA-4.0" and f["severity"] == "review" and f["clause"]
               for f in report["findings"])
    assert any(o["license"].lower().startswith("llama") or "Llama" in (o.get("text") or "")
               for o in report["obligations"])


def test_the_documented_example_request_is_blocked_for_its_nc_and_openai_generated_data():
    from conftest import REPO
    from license_registry.cli import main as license_main

    res = CliRunner().invoke(license_main, ["audit", str(REPO / "docs" / "examples" / "audit_request.yaml"),
                                            "--format", "json"])
    report = json.loads(res.output)
    assert report["verdict"] == "blocked"
    blocks = [f for f in report["findings"] if f["severity"] == "block"]
    assert {f["license"] for f in blocks} >= {"CC-BY-NC-4.0"} and all(f["clause"] for f in blocks)
    assert any("competing models" in f["message"] for f in blocks)
    assert any(o["type"] == "name_prefix" for o in report["obligations"])
