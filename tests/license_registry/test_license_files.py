"""A folder's license files read together (license_registry.license_files): a file that names others of its folder
stands for them, as the choice it offers or all together."""

from pathlib import Path

import pytest

from license_registry import folder_license, read_license_file

REFS = Path(__file__).resolve().parents[2] / "license_registry" / "reference_texts"
APACHE, APACHE_HEADER, BSD2, BSD3, MIT = ((REFS / name).read_text() for name in (
    "Apache-2.0__full.txt", "Apache-2.0__header.txt", "BSD-2-Clause.txt", "BSD-3-Clause.txt", "MIT.txt"))


def inherited(files: dict[str, str]) -> str | None:
    found = folder_license([read_license_file(name, text, engine="builtin") for name, text in files.items()])
    return found[0] if found else None


def test_a_file_offering_the_licenses_of_named_files_as_a_choice():
    """packaging's and cryptography's LICENSE: read alone, "LICENSE.BSD" reads as BSD-3-Clause and the folder came
    out "(BSD-3-Clause OR Apache-2.0) AND BSD-2-Clause"; the named files say which BSD, and the choice holds."""
    pointer = ("This software is made available under the terms of *either* of the licenses\nfound in LICENSE.APACHE "
               "or LICENSE.BSD. Contributions to this software is made\nunder the terms of *both* these licenses.\n")
    files = {"LICENSE": pointer, "LICENSE.APACHE": APACHE, "LICENSE.BSD": "Copyright (c) Donald Stufft\n\n" + BSD2}
    assert inherited(files) == "Apache-2.0 OR BSD-2-Clause"
    read = read_license_file("LICENSE", pointer, engine="builtin")
    assert read.names == ("LICENSE.APACHE", "LICENSE.BSD") and read.choice and read.besides is None
    # the Rust way of saying it, the files named without their extension
    rust = ("Licensed under either of\n\n * Apache License, Version 2.0 (LICENSE-APACHE or "
            "http://www.apache.org/licenses/LICENSE-2.0)\n * MIT license (LICENSE-MIT)\n\nat your option.\n")
    assert inherited({"COPYRIGHT": "x", "LICENSE": rust, "LICENSE-APACHE.txt": APACHE,
                      "LICENSE-MIT.md": MIT}) == "Apache-2.0 OR MIT"


def test_named_files_that_apply_together_and_what_the_pointer_states_itself():
    # no choice offered: all of them apply
    pointer = "The core is under the terms in LICENSE-MIT; the bundled parser is under LICENSE-APACHE.\n"
    assert inherited({"LICENSE": pointer, "LICENSE-MIT": MIT, "LICENSE-APACHE": APACHE}) == "MIT AND Apache-2.0"
    # greenlet-like: its own MIT text, then a note naming another license file: both count
    own = "The following files are released under the MIT License.\n\n" + MIT + (
        "\nThe files in src/platform are released under the license in LICENSE.BSD.\n")
    assert inherited({"LICENSE": own, "LICENSE.BSD": BSD3}) == "MIT AND BSD-3-Clause"


def test_what_is_not_a_reference_to_a_file_of_the_folder():
    # a bare LICENSE, a URL's path and a file the folder does not have are no references: each file counts alone
    text = APACHE_HEADER + "\nSee the LICENSE file; portions are described in LICENSE.third-party.\n"
    assert "http://www.apache.org/licenses/LICENSE-2.0" in text
    read = read_license_file("NOTICE-LICENSE", text, engine="builtin")
    assert read.names == ("LICENSE.third-party",)
    assert inherited({"LICENSE": text, "LICENSE-MIT": MIT}) == "Apache-2.0 AND MIT"
    # two license files that do not name each other apply together (a dual license must say so somewhere)
    assert inherited({"LICENSE-APACHE": APACHE, "LICENSE-MIT": MIT}) == "Apache-2.0 AND MIT"
    # a pointer whose named files state nothing keeps what it says itself
    assert inherited({"LICENSE": "Licensed under the MIT License; see LICENSE.txt-old for the text.\n",
                      "LICENSE.txt-old": "(empty)"}) == "MIT"
    assert inherited({"LICENSE.md": "no license here"}) is None


def test_a_generic_name_is_the_one_license_of_its_family_around_it():
    from license_registry import refine_generic_names

    stated = "Apache-2.0 OR LicenseRef-Unknown-BSD-License"
    assert refine_generic_names(stated, "Apache-2.0 OR BSD-3-Clause") == "Apache-2.0 OR BSD-3-Clause"
    assert refine_generic_names("MIT AND LicenseRef-Unknown-BSD-style-license", "BSD-2-Clause") == (
        "MIT AND BSD-2-Clause")
    # none or two of the family around it, or a name that is no family: unchanged
    assert refine_generic_names(stated, "MIT") == stated
    assert refine_generic_names(stated, "BSD-2-Clause AND BSD-3-Clause") == stated
    assert refine_generic_names("LicenseRef-Unknown-Sapiens2-License", "BSD-3-Clause") == (
        "LicenseRef-Unknown-Sapiens2-License")


@pytest.mark.parametrize("name,text,expected", [
    ("Cargo.toml", '[package]\nname = "rand"\nlicense = "MIT OR Apache-2.0"\n', "MIT OR Apache-2.0"),
    ("Cargo.toml", '[package]\nname = "old"\nlicense = "MIT/Apache-2.0"\n', "MIT OR Apache-2.0"),  # before SPDX
    ("Cargo.toml", '[package]\nname = "x"\nlicense-file = "LICENSE.txt"\n', None),
    ("package.json", '{"name": "a", "license": "ISC"}', "ISC"),
    ("package.json", '{"name": "a", "license": {"type": "MIT", "url": "https://x"}}', "MIT"),
    ("package.json", '{"name": "a", "licenses": [{"type": "MIT"}, {"type": "Apache-2.0"}]}', "MIT OR Apache-2.0"),
    ("package.json", '{"name": "a", "license": "UNLICENSED"}', "LicenseRef-scancode-proprietary-license"),
    ("package.json", '{"name": "a", "license": "SEE LICENSE IN LICENSE.txt"}', None),
    ("package.json", '{"name": "a", "license": "MIT",', None),  # not JSON
    ("composer.json", '{"license": ["LGPL-2.1-only", "GPL-3.0-or-later"]}', "LGPL-2.1-only OR GPL-3.0-or-later"),
    ("pyproject.toml", '[project]\nname = "a"\nlicense = "Apache-2.0"\n', "Apache-2.0"),
    ("pyproject.toml", '[project]\nname = "a"\nlicense = {text = "BSD-3-Clause"}\n', "BSD-3-Clause"),
    ("pyproject.toml", '[project]\nname = "a"\nlicense = {file = "LICENSE"}\n', None),
    ("pyproject.toml", '[tool.poetry]\nname = "a"\nlicense = "MIT"\n', "MIT"),
    ("pyproject.toml", '[project]\nname = "a"\nlicense = "Our own terms"\n', None),  # nothing known
    # Maven: the name, or the URL where the name says nothing known; several are a choice; a POM that inherits its
    # parent's licenses (none of its own) or is not XML (an entity it does not define) declares nothing
    ("pom.xml", "<project><licenses><license><name>The Apache Software License, Version 2.0</name></license>"
                "</licenses></project>", "Apache-2.0"),
    ("pom.xml", '<project xmlns="http://maven.apache.org/POM/4.0.0"><licenses><license><name>Apache Public License '
                "2.0</name><url>http://www.apache.org/licenses/LICENSE-2.0</url></license></licenses></project>",
     "Apache-2.0"),
    ("pom.xml", "<project><licenses><license><name>MIT License</name><url>http://www.opensource.org/licenses/"
                "mit-license.php</url></license><license><name>EPLv2</name></license></licenses></project>",
     "MIT OR EPL-2.0"),
    ("pom.xml", "<project><licenses><license><name>Eclipse Distribution License - v 1.0</name></license>"
                "</licenses></project>", "BSD-3-Clause"),
    ("pom.xml", "<project><licenses><license><name>EPL 2.0</name></license><license><name>GPL2 w/ CPE</name>"
                "</license></licenses></project>", "EPL-2.0 OR GPL-2.0-only WITH Classpath-exception-2.0"),
    ("pom.xml", "<project><parent><artifactId>p</artifactId></parent></project>", None),
    ("pom.xml", "<project><name>&project.name;</name><licenses><license><name>MIT</name></license></licenses>"
                "</project>", None),
    # a corpus's XML is input, not trusted: no file is read through an external entity, no entity bomb expands
    ("pom.xml", '<!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/hostname">]><project><licenses><license><name>&x;'
                "</name></license></licenses></project>", None),
    ("pom.xml", '<!DOCTYPE p [<!ENTITY a "MIT">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9)) +
     "]><project><licenses><license><name>&j;</name></license></licenses></project>", None),
    # setuptools: setup.cfg's metadata; setup.py's setup(...) call, read, never run
    ("setup.cfg", "[metadata]\nname = a\nlicense = BSD-3-Clause\n", "BSD-3-Clause"),
    ("setup.cfg", "[metadata]\nlicense_expression = MIT OR Apache-2.0\nlicense = MIT\n", "MIT OR Apache-2.0"),
    ("setup.cfg", "[options]\npackages = find:\n", None),
    ("setup.py", "from setuptools import setup\nsetup(name='a', license='Apache 2.0')\n", "Apache-2.0"),
    ("setup.py", "import setuptools\nsetuptools.setup(name='a', license=LICENSE)\n", None),  # not evaluated
    ("setup.py", "setup(name='a', license='MIT'\n", None),  # not Python
    # RubyGems and NuGet
    ("x.gemspec", 'Gem::Specification.new do |spec|\n  spec.license = "MIT".freeze\nend\n', "MIT"),
    ("x.gemspec", "Gem::Specification.new do |s|\n  s.licenses = %w[MIT Apache-2.0]\nend\n", "MIT OR Apache-2.0"),
    ("Foo.nuspec", '<package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd"><metadata>'
                   '<license type="expression">MIT OR Apache-2.0</license></metadata></package>', "MIT OR Apache-2.0"),
    ("Foo.nuspec", '<package><metadata><license type="file">LICENSE.txt</license></metadata></package>', None),
    ("Foo.nuspec", "<package><metadata><licenseUrl>https://opensource.org/licenses/MIT</licenseUrl></metadata>"
                   "</package>", "MIT"),
    ("Foo.nuspec", "<package><metadata><licenseUrl>https://aka.ms/deprecateLicenseUrl</licenseUrl></metadata>"
                   "</package>", None),
])
def test_package_manifests_declare_a_license(name, text, expected):
    from license_registry.package_manifests import read_package_manifest

    read = read_package_manifest(name, text)
    assert (read.license.expression if read else None) == expected
    assert read is None or read.declared


def test_which_files_are_package_manifests():
    from license_registry.package_manifests import is_package_manifest

    assert all(map(is_package_manifest, ["package.json", "pom.xml", "setup.py", "setup.cfg", "racc.gemspec",
                                         "Newtonsoft.Json.nuspec", "Cargo.toml"]))
    assert not any(map(is_package_manifest, [".gemspec", "nuspec", "pom.xml.bak", "setup.pyc", "README.md"]))


def test_a_manifest_gives_its_folders_license_and_the_files_add_what_it_does_not_name():
    from license_registry.package_manifests import read_package_manifest

    cargo = read_package_manifest("Cargo.toml", '[package]\nlicense = "MIT OR Apache-2.0"\n')
    mit, apache = (read_license_file(n, (REFS / f).read_text(), engine="builtin")
                   for n, f in (("LICENSE-MIT", "MIT.txt"), ("LICENSE-APACHE", "Apache-2.0__full.txt")))
    assert folder_license([mit, apache])[0] == "Apache-2.0 AND MIT"  # two files that do not name each other
    assert folder_license([mit, apache, cargo]) == ("MIT OR Apache-2.0", 1.0)
    npm = read_package_manifest("package.json", '{"license": "ISC"}')
    assert folder_license([mit, npm])[0] == "ISC AND MIT"  # @npmcli/redact: package.json ISC, LICENSE the MIT text


_CLIPPY = ("# Clippy\n\nA collection of lints.\n\n## License\n\n<!-- REUSE-IgnoreStart -->\n\nCopyright (c) The "
           "Rust Project Contributors\n\nLicensed under the Apache License, Version 2.0 <LICENSE-APACHE or\n"
           "[https://www.apache.org/licenses/LICENSE-2.0](https://www.apache.org/licenses/LICENSE-2.0)> or the MIT "
           "license\n<LICENSE-MIT or [https://opensource.org/licenses/MIT](https://opensource.org/licenses/MIT)>, at "
           "your\noption. Files in the project may not be\ncopied, modified, or distributed except according to those "
           "terms.\n")
_EITHER_LIST = ("rand\n====\n\nRandom numbers.\n\nLicense\n-------\n\nLicensed under either of\n\n * Apache License,"
                " Version 2.0\n   ([LICENSE-APACHE](LICENSE-APACHE) or http://www.apache.org/licenses/LICENSE-2.0)\n"
                " * MIT license\n   ([LICENSE-MIT](LICENSE-MIT) or http://opensource.org/licenses/MIT)\n\nat your "
                "option.\n\nContribution\n------------\n\nUnless you explicitly state otherwise, ...\n")
_BOTH = ("## License\n\nCargo is primarily distributed under the terms of both the MIT license\nand the Apache License "
         "(Version 2.0).\n\nSee [LICENSE-APACHE](LICENSE-APACHE) and [LICENSE-MIT](LICENSE-MIT) for details.\n\n"
         "### Third party software\n\nThis product includes software that may be used either way (LICENSE-THIRD-PARTY "
         "or LICENSE-OTHER).\n")


@pytest.mark.parametrize("readme,offers", [
    (_CLIPPY, ("LICENSE-APACHE", "LICENSE-MIT")),      # clippy's README, "..., at your option"
    (_EITHER_LIST, ("LICENSE-APACHE", "LICENSE-MIT")),  # the Rust API guidelines' "either of" list, setext headings
    (_BOTH, None),       # "both": what the files say anyway; the choice in the next section is not the license's
    ("# x\n\nLicensed under either of LICENSE-APACHE or LICENSE-MIT.\n", None),  # no license section
    ("## License\n\nMIT, see LICENSE-MIT (either way).\n", None),  # one file: nothing to choose
])
def test_a_readme_license_section_that_offers_the_folders_files(readme, offers):
    from license_registry.license_files import read_readme

    read = read_readme("README.md", readme)
    assert (read.names if read else None) == offers
    if read:
        assert read.choice and read.license is None and read.besides is None
        assert folder_license([read_license_file("LICENSE-MIT", MIT, engine="builtin"),
                               read_license_file("LICENSE-APACHE", APACHE, engine="builtin"), read]) == (
            "Apache-2.0 OR MIT", 1.0)


def test_a_pointer_naming_a_version_is_the_named_files_license_only_or_or_later():
    """tld's LICENSE.rst: "`GPL 2.0 <LICENSE_GPL2.0.txt>`_ or the `LGPL 2.1 <LICENSE_LGPL_2.1.txt>`_, at your
    option". Its own words read "LGPL-2.1-only" (a bare version), the file it names reads LGPL-2.1-or-later: the same
    license, not one more. Since notices in reST markup are read (2026-12-02) the folder came out "(GPL-2.0-only OR
    LGPL-2.1-only) AND (GPL-2.0-only OR LGPL-2.1-or-later)"."""
    pointer = ("`tld` is licensed under the\n`GPL 2.0 <LICENSE_GPL2.0.txt>`_\nor the\n"
               "`LGPL 2.1 <LICENSE_LGPL_2.1.txt>`_,\nat your option.\n")
    lgpl = (REFS / "LGPL-2.1-or-later__header.txt").read_text()
    gpl = (Path(__file__).resolve().parents[2] / "license_registry" / "texts" / "GPL-2.0.txt").read_text()
    read = read_license_file("LICENSE.rst", pointer, engine="builtin")
    assert read.besides.expression == "GPL-2.0-only OR LGPL-2.1-only"
    assert inherited({"LICENSE.rst": pointer, "LICENSE_GPL2.0.txt": gpl,
                      "LICENSE_LGPL_2.1.txt": lgpl}) == "GPL-2.0-only OR LGPL-2.1-or-later"
    # a different version is another license: it still counts
    other = pointer.replace("LGPL 2.1 <", "LGPL 3.0 <")
    assert "LGPL-3.0" in inherited({"LICENSE.rst": other, "LICENSE_GPL2.0.txt": gpl, "LICENSE_LGPL_2.1.txt": lgpl})
