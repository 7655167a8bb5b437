"""License detection in source files, license files and HTML."""

from pathlib import Path

from license_registry import detect_license_text, parse_spdx_tags
from license_registry.detect import detect_cc

REFS = Path(__file__).resolve().parents[2] / "license_registry" / "reference_texts"


def _ids(text):
    return [lid for lid, _ in detect_license_text(text)]


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


def test_lgpl_and_mpl_headers():
    assert _ids(_as_c_comment((REFS / "LGPL-2.1-or-later__header.txt").read_text())) == ["LGPL-2.1-or-later"]
    mpl = ("// This Source Code Form is subject to the terms of the Mozilla Public\n// License, v. 2.0. If a copy "
           "of the MPL was not distributed with this\n// file, You can obtain one at http://mozilla.org/MPL/2.0/.\n")
    assert _ids(mpl) == ["MPL-2.0"]


def test_full_mit_license_file():
    mit = "MIT License\n\nCopyright (c) 2024 Jane Doe\n\n" + (REFS / "MIT.txt").read_text() + (
        "IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY.\n")
    assert detect_license_text(mit)[0] == ("MIT", 1.0)


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
