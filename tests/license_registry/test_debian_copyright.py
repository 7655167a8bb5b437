"""Debian's machine-readable copyright files (copyright-format 1.0): short names, paragraphs, file patterns."""

import glob
from pathlib import Path

import pytest

from license_registry import detect_license_expression, scancode_match
from license_registry.debian_copyright import debian_name_to_spdx, matches, read_debian_copyright

# shaped as the copyright files Debian ships (sqlite3's, perl's, llvm's): a public-domain package whose debian/
# folder is GPL, a file group under a choice, an exception, a name read from its stand-alone text
COPYRIGHT = """\
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: example
Source: https://example.org/

Files: *
Copyright: 2001-2024 The Example Authors
License: public-domain
 The author disclaims copyright to this source code.

Files: ext/misc/*.c
 tool/*.tcl
Copyright: 2010 Someone
License: GPL-1+ or Artistic

Files: compiler/*
License: GPL-3+ with Bison exception

Files: vendor/regex/*
License: Spencer-94

Files: debian/*
Copyright: 2005-2024 Debian maintainers
License: GPL-2+

License: Spencer-94
 Permission is granted to anyone to use this software for any purpose on any computer system, and to alter it
 and redistribute it, subject to the following restrictions:
 .
 1. The author is not responsible for the consequences of use of this software, no matter how awful, even if
 they arise from flaws in it.
"""


def test_paragraphs_declare_each_file_groups_license_and_the_package_is_files_star():
    declared = read_debian_copyright(COPYRIGHT)
    assert [p.patterns for p in declared.paragraphs] == [("*",), ("ext/misc/*.c", "tool/*.tcl"), ("compiler/*",),
                                                         ("vendor/regex/*",), ("debian/*",)]
    assert [p.license for p in declared.paragraphs][:3] == [
        "LicenseRef-scancode-public-domain", "GPL-1.0-or-later OR Artistic-1.0-Perl",
        "GPL-3.0-or-later WITH Bison-exception-2.2"]
    assert declared.primary == "LicenseRef-scancode-public-domain"
    assert declared.paragraphs[1].line == 10
    # the last matching paragraph wins; "*" matches across folders
    assert declared.license_of("src/main.c") == "LicenseRef-scancode-public-domain"
    assert declared.license_of("ext/misc/json.c") == "GPL-1.0-or-later OR Artistic-1.0-Perl"
    assert declared.license_of("debian/rules") == "GPL-2.0-or-later"
    assert not matches("src/[ab].c", "src/a.c") and matches("src/[ab].c", "src/[ab].c")  # only * and ? are special
    assert matches("lib/*.?", "lib/sub/x.h") and matches("./a\\*b", "a*b") and not matches("./a\\*b", "axb")


def test_a_document_that_is_a_copyright_file_states_every_declared_license_its_package_first():
    found = detect_license_expression(COPYRIGHT)
    assert found.primary == "LicenseRef-scancode-public-domain" and found.confidence == 1.0
    for part in ("LicenseRef-scancode-public-domain", "GPL-1.0-or-later OR Artistic-1.0-Perl", "Bison-exception-2.2",
                 "GPL-2.0-or-later"):
        assert part in found.expression
    # read as plain text (not at the start of the file), the short names are not license notices: the format decides
    assert "Artistic-1.0-Perl" not in detect_license_expression("#\n" + COPYRIGHT).expression


@pytest.mark.parametrize("name,spdx", [
    ("GPL-2+", "GPL-2.0-or-later"), ("LGPL-2.1+", "LGPL-2.1-or-later"), ("GPL-2", "GPL-2.0-only"),
    ("Expat", "MIT"), ("BSD-3-clause", "BSD-3-Clause"), ("BSD-4-clause", "BSD-4-Clause"),
    ("Artistic", "Artistic-1.0-Perl"), ("GPL", "GPL-1.0-or-later"), ("LGPL", "LGPL-2.0-or-later"),
    ("GFDL-NIV-1.3+", "GFDL-1.3-no-invariants-or-later"), ("APACHE-2-LLVM-EXCEPTIONS", "Apache-2.0 WITH LLVM-exception"),
    ("GPL-2 with Linux-syscall-note exception", "GPL-2.0-only WITH Linux-syscall-note"),
    ("GPL with Classpath exception", "GPL-1.0-or-later WITH Classpath-exception-2.0"),
    # SPDX has no generic OpenSSL exception: ScanCode's for the license it extends (slurm, cryptsetup); until
    # 2026-12-03 an id nothing knows ("OpenSSL-exception") made the whole name unknown
    ("GPL-2+ with OpenSSL exception", "GPL-2.0-or-later WITH LicenseRef-scancode-openssl-exception-gpl-2.0-plus"),
    ("GPL-3+ with OpenSSL exception", "GPL-3.0-or-later WITH cryptsetup-OpenSSL-exception"),
    ("Sleepycat and BSD-3-clause", "Sleepycat AND BSD-3-Clause"),
    # a comma binds more loosely than and/or (copyright-format 1.0, License field)
    ("GPL-2+ or AFL-2.1, and Expat", "(GPL-2.0-or-later OR AFL-2.1) AND MIT"),
    ("Perl and MIT", "(Artistic-1.0-Perl OR GPL-1.0-or-later) AND MIT"),
    ("custom", "LicenseRef-Unknown-custom"),
])
def test_debian_short_names(name, spdx):
    assert debian_name_to_spdx(name) == spdx


def test_a_name_neither_debian_nor_the_registry_knows_is_read_from_its_text():
    mit = ("Permission is hereby granted, free of charge, to any person obtaining a copy of this software and "
           "associated documentation files (the \"Software\"), to deal in the Software without restriction, "
           "including without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, "
           "and/or sell copies of the Software, and to permit persons to whom the Software is furnished to do so, "
           "subject to the following conditions: The above copyright notice and this permission notice shall be "
           "included in all copies or substantial portions of the Software. THE SOFTWARE IS PROVIDED \"AS IS\", "
           "WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED.")
    assert debian_name_to_spdx("custom-1", {"custom-1": mit}) == "MIT"
    text = (f"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\n"
            f"License: custom-1\n\nLicense: custom-1\n {mit}\n")
    assert read_debian_copyright(text).primary == "MIT"


def test_the_engine_asked_for_reads_the_texts_of_unknown_names():
    """`engine: builtin` promises that ScanCode's index (~1.4 GB, ~10 s) is never loaded: until 2026-12-02 the text of
    a name nobody knows, in a Debian copyright file, was read with the default engine whatever the step asked."""
    import os
    import subprocess
    import sys

    code = (
        "from license_registry import detect_license_expression, scancode_match\n"
        "mit = open(sys.argv[1]).read()\n"
        "text = ('Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\\n\\nFiles: *\\n'\n"
        "        'License: custom-1\\n\\nLicense: custom-1\\n ' + mit.replace('\\n\\n', '\\n .\\n'))\n"
        "found = detect_license_expression(text, engine='builtin')\n"
        "assert found.expression == 'MIT', found\n"
        "assert scancode_match.index.cache_info().currsize == 0, 'ScanCode index loaded'\n")
    repo = Path(__file__).resolve().parents[2]
    mit = repo / "license_registry" / "reference_texts" / "MIT.txt"
    proc = subprocess.run([sys.executable, "-c", "import sys\n" + code, str(mit)], capture_output=True, text=True,
                          timeout=300, env=os.environ | {"PYTHONPATH": str(repo)})
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_other_text_is_not_a_copyright_file():
    assert read_debian_copyright("Files: *\nLicense: MIT\n") is None  # no Format header
    assert read_debian_copyright("This program is free software; see COPYING.") is None


def test_every_machine_readable_copyright_file_of_this_system_is_read():
    """Real files written by Debian's maintainers (every Debian/Ubuntu system has them). Every file is read with the
    rules (`builtin`: 3 s for ~600 files); the texts of names neither Debian nor the registry knows go to ScanCode on
    every fourth file only (all of them: ~70 s, benchmarks/debian_copyright_eval.py)."""
    files = sorted(glob.glob("/usr/share/doc/*/copyright"))
    texts = [t for t in (open(f, encoding="utf-8", errors="replace").read() for f in files)
             if t.lstrip().startswith("Format:")]
    if len(texts) < 20:
        pytest.skip("not a Debian/Ubuntu system with machine-readable copyright files")

    def unknown_share(sample, engine):
        names = unknown = 0
        for text in sample:
            declared = read_debian_copyright(text, engine)
            assert declared is not None and declared.paragraphs
            names += len(declared.paragraphs)
            unknown += sum("LicenseRef-Unknown" in p.license for p in declared.paragraphs)
        return unknown / names

    assert unknown_share(texts, "builtin") < 0.08  # 5.3% on the image CI runs on
    if scancode_match.available():
        assert unknown_share(texts[::4], "auto") < 0.05  # 2.1% (1% over all files)
