"""License detection in source files, license files and HTML."""

from pathlib import Path

import pytest

from license_registry import detect_license_text, parse_spdx_tags
from license_registry.detect import detect_cc

REFS = Path(__file__).resolve().parents[2] / "license_registry" / "reference_texts"


def _ids(text, engine="builtin"):
    """The built-in matcher's answer: these tests check its rules and reference fragments (ScanCode's: below)."""
    return [lid for lid, _ in detect_license_text(text, engine=engine)]


def _as_c_comment(body: str) -> str:
    return "/*\n * Copyright (c) 2021 Example Corp.\n *\n * " + body.replace("\n", "\n * ") + "\n */\n#include <stdio.h>\n"


def test_spdx_tags_in_source_files(tmp_path):
    py = tmp_path / "a.py"
    py.write_text("#!/usr/bin/env python\n# SPDX-License-Identifier: Apache-2.0 OR MIT\nimport os\n")
    c = tmp_path / "b.c"
    c.write_text("/* SPDX-License-Identifier: GPL-2.0-or-later WITH Linux-syscall-note */\nint x;\n")
    html = tmp_path / "c.html"
    html.write_text("<!-- SPDX-License-Identifier: CC-BY-4.0 -->\n<p>hi</p>")
    assert detect_license_text(py.read_text()) == [("Apache-2.0 OR MIT", 1.0)]
    assert parse_spdx_tags(c.read_text()) == ["GPL-2.0-or-later WITH Linux-syscall-note"]
    assert _ids(html.read_text()) == ["CC-BY-4.0"]


def test_unknown_spdx_tag_gets_low_confidence():
    assert detect_license_text("// SPDX-License-Identifier: LicenseRef-Acme-Internal\n") == [
        ("LicenseRef-Acme-Internal", 0.5)]


def test_apache_header_in_java_file():
    header = (
        "Copyright 2019 The Authors.\n\n"
        'Licensed under the Apache License, Version 2.0 (the "License");\n'
        "you may not use this file except in compliance with the License.\n"
        "You may obtain a copy of the License at\n\n    http://www.apache.org/licenses/LICENSE-2.0\n\n"
        "Unless required by applicable law or agreed to in writing, software\n"
        'distributed under the License is distributed on an "AS IS" BASIS,\n'
        "WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.\n"
        "See the License for the specific language governing permissions and\nlimitations under the License.")
    java = "/*\n * " + header.replace("\n", "\n * ") + "\n */\npackage x;\nclass A {}\n"
    (lid, conf), *_ = detect_license_text(java)
    assert lid == "Apache-2.0" and conf > 0.9


def test_gpl_headers_distinguish_versions():
    gpl3 = (REFS / "GPL-3.0-or-later__header.txt").read_text()
    gpl2 = (REFS / "GPL-2.0-or-later__header.txt").read_text()
    assert _ids("# " + gpl3.replace("\n", "\n# ") + "\nimport sys\n") == ["GPL-3.0-or-later"]
    assert _ids(_as_c_comment(gpl2)) == ["GPL-2.0-or-later"]


@pytest.mark.parametrize("name, spdx_id", [("GPL-2.0", "GPL-2.0-only"), ("GPL-3.0", "GPL-3.0-only"),
                                           ("LGPL-3.0", "LGPL-3.0-only"), ("AGPL-3.0", "AGPL-3.0-only")])
def test_gnu_full_texts_are_read_as_themselves_by_the_rules_alone(name, spdx_id):
    """Every GNU full text quotes other GNU headers (the GPL-3.0 names the Affero and the Lesser GPL): with header
    fragments only, the GPL-3.0 text came out AGPL-3.0 and LGPL-3.0, and the LGPL-3.0 text as nothing."""
    text = (Path(__file__).resolve().parents[2] / "license_registry" / "texts" / f"{name}.txt").read_text()
    found = detect_license_text(text, engine="builtin")
    assert found and found[0] == (spdx_id, 1.0), found
    assert not [lid for lid, conf in found if conf >= 0.8 and lid.split("-")[0] != spdx_id.split("-")[0]], found


def test_lgpl_and_mpl_headers():
    assert _ids(_as_c_comment((REFS / "LGPL-2.1-or-later__header.txt").read_text())) == ["LGPL-2.1-or-later"]
    mpl = ("// This Source Code Form is subject to the terms of the Mozilla Public\n// License, v. 2.0. If a copy "
           "of the MPL was not distributed with this\n// file, You can obtain one at http://mozilla.org/MPL/2.0/.\n")
    assert _ids(mpl) == ["MPL-2.0"]


def test_full_mit_license_file():
    mit = "MIT License\n\nCopyright (c) 2024 Jane Doe\n\n" + (REFS / "MIT.txt").read_text() + (
        "IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY.\n")
    assert detect_license_text(mit, engine="builtin")[0] == ("MIT", 1.0)


def test_bsd_2_vs_3_clause():
    bsd3 = (REFS / "BSD-3-Clause.txt").read_text()
    bsd2 = (REFS / "BSD-2-Clause.txt").read_text()
    assert _ids(bsd3) == ["BSD-3-Clause"]
    assert _ids(bsd2) == ["BSD-2-Clause"]


def test_creative_commons_links_and_badges():
    badge = ('<a rel="license" href="http://creativecommons.org/licenses/by-nc-sa/4.0/">'
             '<img alt="Creative Commons License" src="https://i.creativecommons.org/l/by-nc-sa/4.0/88x31.png" /></a>')
    assert detect_cc(badge) == ["CC-BY-NC-SA-4.0"]
    assert detect_license_text('<a rel="license" href="https://creativecommons.org/publicdomain/zero/1.0/">CC0</a>') == [
        ("CC0-1.0", 0.95)]
    assert detect_cc("https://creativecommons.org/licenses/by/3.0/de/") == ["CC-BY-3.0-DE"]
    assert detect_cc("https://licensebuttons.net/l/by-nd/4.0/88x31.png") == ["CC-BY-ND-4.0"]


def test_creative_commons_names_in_text():
    text = "This work is licensed under a Creative Commons Attribution-NonCommercial-NoDerivatives 4.0 International License."
    assert _ids(text) == ["CC-BY-NC-ND-4.0"]
    assert _ids("Text available under CC BY-SA 3.0 unless noted.") == ["CC-BY-SA-3.0"]


def test_cc_by_deed():
    assert _ids((REFS / "CC-BY-4.0__deed.txt").read_text())[0] == "CC-BY-4.0"


def test_plain_text_has_no_license():
    assert detect_license_text("The software is provided as is. We like open source and the MIT campus.") == []
    assert detect_license_text("") == []


# -- notices as people write them (the built-in rules: no ScanCode index needed) --------------------------------------

ONE_LINE_NOTICES = [
    ("Licensed under the Apache License, Version 2.0.", "Apache-2.0"),
    ("Released under the MIT License.", "MIT"),
    ("This work is licensed under CC BY-SA 4.0", "CC-BY-SA-4.0"),
    ("This project is licensed under the terms of the BSD 3-Clause License.", "BSD-3-Clause"),
    ("The source code is distributed under the GNU General Public License v3.0.", "GPL-3.0-only"),
    ("Content on this site is available under the Creative Commons Attribution 4.0 International license.", "CC-BY-4.0"),
    ("Copyright © 2023 Jane Doe. Released under the MIT license; see LICENSE for details.", "MIT"),
    ("This library is MIT-licensed.", "MIT"),
    ("Dual-licensed under MIT or Apache-2.0, at your option.", "MIT OR Apache-2.0"),
    ("Code snippets are released under the Unlicense.", "Unlicense"),
    ("# widget\n\nLicense: MIT\n", "MIT"),
    ("# widget\n\n## License\n\n[Apache License 2.0](LICENSE)\n", "Apache-2.0"),
]


# several licenses in one notice, joined as the notice joins them: a choice offered ("either of", "dual-licensed",
# "..., at your option", "A or B") is an OR, "A and B" otherwise both. Before 2026-12-02 the first three came out
# untagged, Apache-2.0 alone and Apache-2.0 alone, and the dual license "MIT AND Apache-2.0".
JOINED_NOTICES = [
    ("Licensed under either of Apache License, Version 2.0 or MIT license at your option.", "Apache-2.0 OR MIT"),
    # Rust's README: a list, each name followed by where its text is
    ("## License\n\nLicensed under either of\n\n * Apache License, Version 2.0\n   ([LICENSE-APACHE](LICENSE-APACHE) "
     "or http://www.apache.org/licenses/LICENSE-2.0)\n * MIT license\n   ([LICENSE-MIT](LICENSE-MIT) or "
     "http://opensource.org/licenses/MIT)\n\nat your option.\n", "Apache-2.0 OR MIT"),
    # Rust's source header: wrapped over comment lines, "at your option" after the names
    ("// Licensed under the Apache License, Version 2.0 <LICENSE-APACHE or\n// http://www.apache.org/licenses/"
     "LICENSE-2.0> or the MIT license\n// <LICENSE-MIT or http://opensource.org/licenses/MIT>, at your\n// option. "
     "This file may not be copied, modified, or distributed\n// except according to those terms.\n",
     "Apache-2.0 OR MIT"),
    ("This project is dual-licensed under the MIT license and the Apache License 2.0.", "MIT OR Apache-2.0"),
    ("Licensed under the Apache License 2.0 and the MIT license.", "Apache-2.0 AND MIT"),
    ("Released under both the MIT and the Apache 2.0 licenses.", "MIT AND Apache-2.0"),
    ("Licensed under the MIT License and distributed in the hope that it will be useful.", "MIT"),
    ("/*\n * Licensed under the MIT License.\n * Apache License 2.0 applies to the vendored parser.\n */", "MIT"),
]


@pytest.mark.parametrize("text,expected", JOINED_NOTICES)
def test_notices_naming_several_licenses_join_them_as_they_say(text, expected):
    from license_registry import detect_license_expression

    found = detect_license_expression(text, engine="builtin")
    assert found and found.expression == expected and found.confidence >= 0.8


# notices as real packages write them (each form seen in an installed package's README, METADATA or headers): a
# name in Markdown or reStructuredText markup, the names of licenses without a curated entry, an adjective before
# the name, "N-clause BSD". Before 2026-12-02 the rules alone (engine builtin) tagged none of them but the last.
MARKED_UP_NOTICES = [
    ("This project is licensed under the [MIT License](LICENSE).", "MIT"),
    ("spaCy is released under the [MIT license](https://github.com/explosion/spaCy/blob/master/LICENSE).", "MIT"),
    (":License: Released under the terms of the `2-Clause BSD license`_, in short:", "BSD-2-Clause"),
    ("Released under the `3-clause BSD license <https://github.com/networkx/networkx/blob/main/LICENSE.txt>`_.",
     "BSD-3-Clause"),
    ("gemfileparser2 is dual-licensed under your choice of the\n`GNU GPL version 3 (or later) License "
     "<http://www.gnu.org/licenses/gpl>`_\nor the `MIT License <https://opensource.org/licenses/MIT>`_.",
     "GPL-3.0-or-later OR MIT"),
    ("The code is available under *either* the Apache License, Version 2.0 or a 2-clause BSD license.",
     "Apache-2.0 OR BSD-2-Clause"),
    ("This code is distributed under the terms and conditions from the MIT License (MIT).", "MIT"),
    ("Joblib is distributed under a 3-clause BSD license, and is a fork of multiprocessing.", "BSD-3-Clause"),
    ("The library is licensed under a standard MIT license (included in this repository).", "MIT"),
    ("# and is provided under the Creative Commons Zero public domain dedication.", "CC0-1.0"),
    ("Distributed under the Boost Software License, Version 1.0. (See accompanying file LICENSE_1_0.txt)",
     "BSL-1.0"),
    ("© 2024 Acme Corp. Licensed under the Eclipse Public License 2.0.", "EPL-2.0"),
    ("This software is released under the W3C\u00a9 SOFTWARE NOTICE AND LICENSE. See [LICENSE.txt](LICENSE.txt).",
     "W3C"),
    ("#       This file is licensed under the PSF license.", "PSF-2.0"),
    ("This Source Code Form is subject to the terms of the Mozilla Public License, v. 2.0.", "MPL-2.0"),
]
# ... and what must stay untagged: an organisation's name is not its license, nor is a word that names a license
# only with "License" after it
NOT_MARKED_UP_NOTICES = [
    "As it is hosted by the PSF, it is subject to the `PSF code of\nconduct <https://www.python.org/psf/conduct/>`_.",
    "Pillow is provided with JPEG support when libjpeg is installed.",
    "The binaries are shared with the Python Software Foundation mirrors.",
]


# Korean notices put the name first and the verb last; "라이선스" is "License" in a name. The first two are the two
# Korean documents of ../shared that state their license (tensorflow/docs-l10n, cncf/glossary), missed by every
# engine until 2026-12-02: Korean text without "licen" did not even pass the pre-check.
KOREAN_NOTICES = [
    ("## 라이선스\n\n[Apache 라이선스 2.0](LICENSE)\n", "Apache-2.0"),
    ("## 라이선스\n\n모든 코드 기여는 Apache 2.0 라이선스 하에 있다. 문서는 CC BY 4.0에 따라 배포된다.\n",
     "Apache-2.0 AND CC-BY-4.0"),
    ("달리 명시되지 않는 한 이 페이지의 콘텐츠에는 Creative Commons Attribution 4.0 라이선스에 따라 라이선스가 "
     "부여되며, 코드 샘플에는 Apache 2.0 라이선스에 따라 라이선스가 부여됩니다.", "CC-BY-4.0 AND Apache-2.0"),
    ("이 프로젝트는 MIT 라이선스로 배포됩니다.", "MIT"),
]
KOREAN_NOT_NOTICES = [
    "오픈 소스 프로젝트는 MIT 라이선스로 배포할 수 있습니다.",  # can be
    "GPL 라이선스로 배포하려면 소스를 공개해야 합니다.",  # to distribute under the GPL, ...
    "많은 프로젝트가 Apache 2.0 라이선스에 따라 배포됩니다.",  # many projects
    "모델을 다른 허브에 미러링하려면 MIT, CC0 또는 Apache 라이선스를 사용하세요.",  # advice
    # another work's license, in a citation page (real: tensorflow/docs-l10n site/ko/about/bib.md)
    "TensorFlow API 및 참조 구현은 2015년 11월 Apache 2.0 라이선스에 따라 오픈 소스 패키지로 출시되었으며",
]


@pytest.mark.parametrize("text,expected", MARKED_UP_NOTICES + KOREAN_NOTICES)
def test_notices_in_markup_in_korean_and_names_of_licenses_without_an_entry(text, expected):
    from license_registry import detect_license_expression

    found = detect_license_expression(text, engine="builtin")
    assert found and found.expression == expected and found.confidence >= 0.8


@pytest.mark.parametrize("text", NOT_MARKED_UP_NOTICES + KOREAN_NOT_NOTICES)
def test_organisations_bare_words_and_korean_suppositions_are_not_notices(text):
    assert _tagged(text) == []


def test_a_license_name_nothing_knows_is_recorded_and_never_tagged():
    """"Licensed under the Sapiens2 License": the document says what it is under, but no one here knows that license.
    Named alone, it is recorded as `LicenseRef-Unknown-<name>` below the tagging threshold (the step's
    `license_detected` shows it; its `license` falls back to the files' or the source's); named in one notice with
    a known license, it is part of what the notice states. Until 2026-12-02 it was dropped without a trace."""
    from license_registry import detect_license_expression

    found = detect_license_expression("Licensed under the Sapiens2 License. You may obtain a copy of the License.",
                                      engine="builtin")
    assert found and found.expression == "LicenseRef-Unknown-Sapiens2-License" and found.confidence < 0.8
    found = detect_license_expression("distributed under the terms of the eGenix.com Public License Agreement, "
                                      "Version 1.1.0", engine="builtin")
    assert found and found.expression == "LicenseRef-Unknown-eGenix.com-Public-License-Agreement-Version-1.1.0"
    both = "Licensed under the MIT License. The fonts are released under the Foo Font License."
    assert detect_license_expression(both, engine="builtin").expression == "MIT"
    # named together with a known license, it is part of what the notice states: both apply, or a choice
    joined = detect_license_expression("Licensed under the MIT License and the Foo Font License.", engine="builtin")
    assert joined.expression == "MIT AND LicenseRef-Unknown-Foo-Font-License" and joined.confidence >= 0.8
    joined = detect_license_expression("# dual licensed under the terms of the Apache License, Version 2.0, and the "
                                       "BSD\n# License.", engine="builtin")
    assert joined.expression == "Apache-2.0 OR LicenseRef-Unknown-BSD-License"
    # two licenses and an unknown name are not a list of three
    assert sorted(_tagged("Code released under the MIT License. Docs licensed under CC BY 4.0. Fonts licensed under "
                          "the Foo Font License.")) == ["CC-BY-4.0", "MIT"]
    for text in ("Licensed under the same License as Python.", "Released under the Open Source License.",
                 "Released with the Paper License Tracker.", "Software released under the Foo License can be sold."):
        assert detect_license_expression(text, engine="builtin") is None, text


def _tagged(text, engine="builtin", threshold=0.8):
    return [lid for lid, conf in detect_license_text(text, engine=engine) if conf >= threshold]


@pytest.mark.parametrize("text,expected", ONE_LINE_NOTICES)
def test_one_line_notices(text, expected):
    assert _tagged(text) == [expected]


def test_links_badges_and_html_notices():
    httpd_footer = ('<p class="apache">Copyright 2024 The Apache Software Foundation.<br />Licensed under the '
                    '<a href="http://www.apache.org/licenses/LICENSE-2.0">Apache License, Version 2.0</a>.</p>')
    assert detect_license_text(httpd_footer, engine="builtin") == [("Apache-2.0", 0.95)]
    shields = "[![License: MIT](https://img.shields.io/badge/License-MIT-yellow.svg)](https://opensource.org/licenses/MIT)"
    assert _tagged(shields) == ["MIT"]
    assert _tagged("[![License](https://img.shields.io/badge/License-CC_BY--SA_4.0-lightgrey.svg)](x)") == ["CC-BY-SA-4.0"]
    footer = '<footer>© 2022 Example Inc. · <a href="https://opensource.org/licenses/MIT">MIT License</a></footer>'
    assert _tagged(footer) == ["MIT"]
    head = '<html><head><link rel="license" href="https://www.gnu.org/licenses/gpl-3.0.html"></head><body>x</body></html>'
    assert _tagged(head) == ["GPL-3.0-only"]
    # the notice before the second link runs through "CC BY 4.0" (a version's dot does not end a sentence)
    two = ("<footer>Content licensed under <a href='https://creativecommons.org/licenses/by/4.0/'>CC BY 4.0</a> | "
           "Code under <a href='https://opensource.org/licenses/MIT'>MIT</a></footer>")
    assert sorted(_tagged(two)) == ["CC-BY-4.0", "MIT"]


NEGATIVES = [
    "The MIT License is a permissive free software license originating at the Massachusetts Institute of Technology.",
    "Popular licenses include the MIT License, the Apache License 2.0, and the GNU GPL.",
    "If you release your code under the GPL, anyone who distributes a modified version must share the source.",
    "Software released under the MIT License can be used in proprietary products.",
    # Python's LICENSE, footnote 2 (typing_extensions ships it): about other works, not this one
    "The GPL-compatible licenses make it possible to combine Python with\nother software that is released under "
    "the GPL; the others don't.",
    "Many projects are licensed under the BSD 3-Clause License because it is short.",
    "This tutorial explains what it means for a project to be released under the Apache License, Version 2.0.",
    "GPL-licensed libraries cannot be linked into proprietary software without care.",
    "You can read the full text of the MIT License at https://opensource.org/licenses/MIT.",
    "Creative Commons licenses come in six flavours: CC BY 4.0, CC BY-SA 4.0, CC BY-NC 4.0 and CC BY-ND 4.0.",
    "Name: requests\nVersion: 2.31.0\nSummary: Python HTTP for Humans.\nLicense: Apache 2.0\nLocation: /usr/lib\n",
    "*   **License**: CC BY-NC 4.0\n*   **Version**: 1.0.0\n*   **Splits**: train, test\n",
    "- `license`: 모델에 적용되는 라이선스(예: \"mit\").",
    "<ul><li><a href='https://opensource.org/licenses/MIT'>MIT</a></li><li><a href='https://opensource.org/licenses/"
    "Apache-2.0'>Apache-2.0</a></li><li><a href='https://creativecommons.org/licenses/by/4.0/'>CC BY 4.0</a></li></ul>",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_licenses_named_explained_or_listed_are_not_tagged(text):
    assert _tagged(text) == []


def test_of_licenses_evidenced_equally_the_first_in_the_text_comes_first():
    """A LICENSE file states its own license before those of what it bundles (wcwidth: MIT, then a vendored table's
    HPND-Markus-Kuhn text, two full texts): alphabetical order put the bundled one first."""
    own = "This library is licensed under the MIT License.\n\n"
    bundled = "The vendored width table is licensed under the Apache License, Version 2.0.\n"
    found = detect_license_text(own + bundled, engine="builtin")
    assert [lid for lid, _ in found] == ["MIT", "Apache-2.0"] and found[0][1] == found[1][1]
    assert [lid for lid, _ in detect_license_text(bundled + own, engine="builtin")] == ["Apache-2.0", "MIT"]


def test_the_pre_check_lets_ordinary_text_through_untouched():
    from license_registry.notices import may_name_a_license

    assert not may_name_a_license("The garden needs water and patience. <p>Nothing else here.</p>")
    assert may_name_a_license("SPDX-License-Identifier: MIT")


def test_unknown_engine_is_an_error():
    with pytest.raises(ValueError, match="engine"):
        detect_license_text("Released under the MIT License.", engine="fast")


# -- ScanCode behind the pre-check (skipped where scancode-toolkit-mini is not installed) -----------------------------

@pytest.fixture(scope="module")
def scancode():
    from license_registry import scancode_match

    if not scancode_match.available():
        pytest.skip("scancode-toolkit-mini is not installed (the `licenses` extra)")
    scancode_match.index()  # ~20 s once per process
    return scancode_match


def test_scancode_finds_what_the_rules_do_not_know(scancode):
    assert _tagged("Distributed under the Boost Software License, Version 1.0.", "scancode") == ["BSL-1.0"]
    assert _tagged("© 2024 Acme Corp. Licensed under the Eclipse Public License 2.0.", "scancode") == ["EPL-2.0"]
    gpl2 = ("/*\n * This program is free software; you can redistribute it and/or modify\n * it under the terms of "
            "the GNU General Public License as published by\n * the Free Software Foundation; either version 2 of "
            "the License, or\n * (at your option) any later version.\n */\n#include <stdio.h>\n")
    assert _tagged(gpl2, "scancode") == ["GPL-2.0-or-later"]
    assert _tagged(gpl2, "builtin") == []  # the trigram fragments cannot tell this header from GPL-3's


def test_scancode_full_texts(scancode):
    from license_registry.detect import detect_licenses

    texts = REFS.parent / "texts"
    for name, expected in [("CC-BY-SA-4.0", "CC-BY-SA-4.0"), ("LGPL-3.0", "LGPL-3.0")]:
        found = {e.license for e in detect_licenses((texts / f"{name}.txt").read_text(), engine="scancode",
                                                    fast_rules=False) if e.confidence >= 0.8}
        assert any(lid.startswith(expected) for lid in found), (name, found)


def test_scancode_keeps_the_negatives_untagged(scancode):
    for text in NEGATIVES + ["All code contributors are required to sign a Contributor License Agreement (CLA)."]:
        assert _tagged(text, "scancode") == [], text


def test_scancode_approximate_matcher_only_where_the_exact_ones_leave_a_text_unexplained(scancode, monkeypatch):
    calls = []
    real_matched = scancode._matched

    def spy(text, offset, approximate):  # the real matcher, counted
        calls.append(approximate)
        return real_matched(text, offset, approximate)

    monkeypatch.setattr(scancode, "_matched", spy)
    # a whole license file as published: ScanCode's hash / Aho-Corasick matchers explain it; no sequence matching
    found = scancode.match_window((REFS.parent / "texts" / "GPL-2.0.txt").read_text())
    assert calls == [False] and any(e.license.startswith("GPL-2.0") and e.kind == "text" for e in found)
    # a modified MIT text: the exact matchers see only a fragment (ScanCode's "other-permissive" notice); the
    # approximate pass runs and its answer, the MIT text, replaces theirs
    calls.clear()
    mit = ((REFS / "MIT.txt").read_text().rstrip() + " IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE "
           "FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING "
           "FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.\n")
    found = scancode.match_window(mit.replace("to deal in", "to use and deal in"))
    assert calls == [False, True]
    assert {e.license for e in found} == {"MIT"} and found[0].kind == "text" and found[0].confidence >= 0.95


def test_scancode_reads_what_lies_within_a_license_text_as_part_of_it(scancode):
    """hypothesis's LICENSE.txt: its notice, "... released dual licensed with the original license.", then the MPL-2.0
    text. ScanCode's tag rule "license mozilla" (MPL-1.1) matched across that sentence's end and the text's title,
    and the file came out `MPL-2.0 AND MPL-1.1` until 2026-12-02."""
    import licensedcode

    from license_registry import detect_license_expression

    shipped = (Path(licensedcode.__file__).parent / "data" / "licenses" / "mpl-2.0.LICENSE").read_text()
    mpl = shipped[shipped.index("\n---\n", 4) + 5:]  # the text after ScanCode's YAML header
    text = ("Copyright (c) 2013, David R. MacIver\n\nAll code in this repository except where explicitly noted "
            "otherwise is released\nunder the Mozilla Public License v 2.0. You can obtain a copy at "
            "https://mozilla.org/MPL/2.0/.\n\nSome code in this repository comes from other projects. Where "
            "applicable, the\noriginal copyright and license are noted and any modifications made are released\n"
            "dual licensed with the original license.\n" + mpl)
    found = detect_license_expression(text, engine="auto")
    assert found.expression == "MPL-2.0" and found.confidence >= 0.95
    # a tag of its own, outside the text, still counts
    found = detect_license_expression(text + "\n\nThe files in vendor/ are released under the MIT License.\n",
                                      engine="auto")
    assert found.expression == "MPL-2.0 AND MIT"


# -- documents that state several licenses ------------------------------------------------------------------------
GNU_TEXTS = Path(__file__).resolve().parents[2] / "license_registry" / "texts"


def test_several_licenses_combine_into_one_expression():
    from license_registry import combine_licenses

    assert combine_licenses([("MIT", 0.9), ("MPL-2.0", 1.0), ("MIT", 1.0)]) == ("MIT AND MPL-2.0", 1.0)
    # the texts of the choices after the notice offering them
    assert combine_licenses([("Apache-2.0 OR MIT", 0.9), ("Apache-2.0", 1.0), ("MIT", 0.98)]) == \
        ("Apache-2.0 OR MIT", 0.9)
    # the project's own license, then a bundled file's choice that includes it
    assert combine_licenses([("Apache-2.0", 1.0), ("BSD-3-Clause", 1.0), ("Apache-2.0 OR MIT", 1.0)]) == \
        ("Apache-2.0 AND BSD-3-Clause", 1.0)
    # a full text does not say "or later"; the notice does
    assert combine_licenses([("GPL-2.0-only", 1.0), ("GPL-2.0-or-later", 0.9)]) == ("GPL-2.0-or-later", 0.9)
    assert combine_licenses([("GPL-2.0-only WITH Classpath-exception-2.0", 1.0), ("GPL-2.0-only", 1.0)]) == \
        ("GPL-2.0-only WITH Classpath-exception-2.0", 1.0)
    assert combine_licenses([("MIT OR Apache-2.0", 0.9), ("CC-BY-4.0", 0.95)]) == \
        ("(MIT OR Apache-2.0) AND CC-BY-4.0", 0.9)
    assert combine_licenses([]) is None
    # an exception is not a license: it modifies the GNU license found with it, or is left out (scikit-learn's
    # COPYING lists the GCC runtime exception of a bundled library without the GPL's text)
    assert combine_licenses([("BSD-3-Clause", 0.98), ("GPL-3.0-only", 1.0), ("GCC-exception-3.1", 1.0)]) == \
        ("BSD-3-Clause AND GPL-3.0-only WITH GCC-exception-3.1", 0.98)
    assert combine_licenses([("BSD-3-Clause", 1.0), ("GCC-exception-3.1", 1.0)]) == ("BSD-3-Clause", 1.0)
    assert combine_licenses([("GCC-exception-3.1", 1.0)]) is None


@pytest.mark.parametrize("engine", ["builtin", "auto"])
def test_a_license_file_states_its_own_license_first_and_then_what_it_bundles(engine):
    """numpy's LICENSE.txt: its BSD-3-Clause text, then the GPL-3.0 text of a runtime library its wheels bundle (the
    files of numpy inherited the GPL: the more confident match). The primary license is the one stated first."""
    from license_registry import detect_license_expression

    bsd = (REFS / "BSD-3-Clause.txt").read_text()
    numpy_like = (bsd + "\n\n----\n\nThis binary distribution of NumPy also bundles the following software:\n\n"
                  "Name: GCC runtime library\nFiles: numpy.libs/libgfortran*.so\n"
                  "Availability: https://gcc.gnu.org/git/?p=gcc.git;a=tree;f=libgfortran\n"
                  "License: GPL-3.0-with-GCC-exception\n\n" + (GNU_TEXTS / "GPL-3.0.txt").read_text())
    found = detect_license_expression(numpy_like, engine=engine)
    assert found.primary == "BSD-3-Clause"
    assert found.expression.startswith("BSD-3-Clause AND GPL-3.0-only")


def test_a_choice_offered_in_restructuredtext_and_a_weak_license():
    from license_registry import detect_license_expression

    # tld's LICENSE.rst: the license names are the labels of reStructuredText links to the texts
    tld = ("`tld` is licensed under the\n`GPL 2.0 <LICENSE_GPL2.0.txt>`_\nor the\n`LGPL 2.1 <LICENSE_LGPL_2.1.txt>`_\n"
           "or the\n`MPL 1.1 <LICENSE_MPL_1.1.txt>`_,\nat your option.\n")
    found = detect_license_expression(tld, engine="builtin")
    assert (found.expression, found.confidence) == ("GPL-2.0-only OR LGPL-2.1-only OR MPL-1.1", 0.9)
    # nothing at 0.8: the best license named, with its lower confidence
    weak = detect_license_expression("See https://opensource.org/licenses/MIT for details.", engine="builtin")
    assert weak.expression == "MIT" and weak.confidence < 0.8
    assert detect_license_expression("No license words here.", engine="builtin") is None


def test_an_exception_stated_before_the_license_is_not_the_primary_license(scancode):
    """The GCC Runtime Library Exception's text (as ScanCode ships it), then a BSD-3-Clause text: the exception alone
    is no license, and the first license stated is the BSD."""
    import licensedcode

    from license_registry import detect_license_expression

    data = Path(licensedcode.__file__).parent / "data" / "licenses" / "gcc-exception-3.1.LICENSE"
    exception = data.read_text().split("---", 2)[-1]  # the text after the YAML front matter
    lic = detect_license_expression(exception + "\n\n" + (REFS / "BSD-3-Clause.txt").read_text())
    assert (lic.expression, lic.primary) == ("BSD-3-Clause", "BSD-3-Clause")
    assert detect_license_expression(exception) is None


def test_a_choice_and_its_alternatives_are_not_a_list_of_licenses():
    """A Rust-style README: the choice, then a link to each text; three licenses named, but one statement."""
    from license_registry.detect import detect_licenses
    from license_registry.notices import Evidence, cap_lists

    evidence = [Evidence("Apache-2.0 OR MIT", 0.9, "notice", 3), Evidence("Apache-2.0", 0.7, "link", 106),
                Evidence("MIT", 0.7, "link", 196)]
    assert cap_lists(evidence) == evidence
    listed = evidence + [Evidence("GPL-3.0-only", 0.9, "notice", 300)]
    assert max(e.confidence for e in cap_lists(listed + [Evidence("BSD-3-Clause", 0.9, "notice", 400)])) == 0.5
    assert detect_licenses("plain text") == []


# cryptography's LICENSE.BSD as published (its third clause names the project), which both the reference fragments
# (BSD-2-Clause scores 0.979, BSD-3-Clause 0.960) and ScanCode read as BSD-2-Clause
CRYPTOGRAPHY_BSD = """Copyright (c) Individual contributors.
All rights reserved.

Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are met:

    1. Redistributions of source code must retain the above copyright notice,
       this list of conditions and the following disclaimer.

    2. Redistributions in binary form must reproduce the above copyright
       notice, this list of conditions and the following disclaimer in the
       documentation and/or other materials provided with the distribution.

    3. Neither the name of PyCA Cryptography nor the names of its contributors
       may be used to endorse or promote products derived from this software
       without specific prior written permission.

THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND
ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED
WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE
DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT OWNER OR CONTRIBUTORS BE LIABLE FOR
ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES
(INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES;
LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON
ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT
(INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE OF THIS
SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
"""


def test_a_bsd_text_with_the_third_clause_is_bsd_3_clause():
    assert _tagged(CRYPTOGRAPHY_BSD, "builtin") == ["BSD-3-Clause"]
    two_clauses = CRYPTOGRAPHY_BSD.split("    3. ")[0] + "THIS SOFTWARE" + CRYPTOGRAPHY_BSD.split("THIS SOFTWARE", 1)[1]
    assert _tagged(two_clauses, "builtin") == ["BSD-2-Clause"]
    assert _tagged((REFS / "BSD-2-Clause.txt").read_text(), "builtin") == ["BSD-2-Clause"]


def test_scancode_reading_of_a_bsd_text_is_widened_by_its_third_clause(scancode):
    assert {e.license for e in scancode.match_window(CRYPTOGRAPHY_BSD)} == {"BSD-2-Clause"}  # ScanCode's own
    assert _tagged(CRYPTOGRAPHY_BSD, "auto") == ["BSD-3-Clause"]


LICENSE_FILES = {  # (text, expression, primary license): real LICENSE files, shortened
    # tqdm's LICENCE: MIT for the work "unless otherwise stated", MPL-2.0 (Exhibit A) for all files since 2015
    "tqdm": ("`tqdm` is a product of collaborative work. Unless otherwise stated, all authors retain copyright for "
             "their respective work, and release the work under the MIT licence (text below).\n\n* files: *\n  "
             "MPL-2.0 2015-2026 (c) Casper da Costa-Luis\n\nMozilla Public Licence (MPL) v. 2.0 - Exhibit A\n"
             "-----------------------------------------------\n\nThis Source Code Form is subject to the terms of "
             "the\nMozilla Public License, v. 2.0.\nIf a copy of the MPL was not distributed with this project,\n"
             "You can obtain one at https://mozilla.org/MPL/2.0/.\n\n\nMIT License (MIT)\n-----------------\n\n"
             + (REFS / "MIT.txt").read_text(), "MIT AND MPL-2.0", "MIT"),
    # Pillow's: its MIT-CMU license, then the texts of bundled code, the MIT among them. The phrases the MIT-CMU text
    # shares with the MIT text ("the above copyright notice and this permission notice") placed the bundled MIT text
    # at the top: the MIT came first
    "pillow": ("Pillow is the friendly PIL fork. It is\n\n    Copyright © 2010 by Jeffrey 'Alex' Clark and "
               "contributors\n\nLike PIL, Pillow is licensed under the open source MIT-CMU License:\n\nPermission to "
               "use, copy, modify and distribute this software and its documentation for any purpose and without fee "
               "is hereby granted, provided that the above copyright notice appears in all copies, and that both "
               "that copyright notice and this permission notice appear in supporting documentation.\n\n----\n\n"
               "The bundled library is released under the following license.\n\n" + (REFS / "MIT.txt").read_text(),
               "MIT-CMU AND MIT", "MIT-CMU"),
    # regex's LICENSE.txt: a possessive in the name
    "regex": ("This work was derived from CPython, copyright (c) 1998-2001 by Secret Labs AB and licensed under CNRI's "
              "Python 1.6 license.\n\nAll additions and alterations are licensed under the Apache 2.0 License.",
              "CNRI-Python AND Apache-2.0", "CNRI-Python"),
}


@pytest.mark.parametrize("name", sorted(LICENSE_FILES))
def test_license_files_that_state_several_licenses(name):
    from license_registry import detect_license_expression

    text, expression, primary = LICENSE_FILES[name]
    found = detect_license_expression(text, engine="builtin")
    assert (found.expression, found.primary) == (expression, primary)
