"""``jupyter userpkg provides MODULE``: the package that provides it, with the evidence."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import CLI
from tests.localindex import LocalIndex, build_wheel


@pytest.fixture(scope="module")
def slugify_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalIndex]:
    wheels = tmp_path_factory.mktemp("cli-provides-wheels")
    build_wheel(wheels, "python-slugify", "8.0.4", modules=["slugify"])
    build_wheel(wheels, "slugify", "0.0.1", modules=["slugify_other"])
    with LocalIndex(wheels) as index:
        yield index


def test_provides_names_the_package_its_evidence_and_the_command(
    cli: CLI, slugify_index: LocalIndex
) -> None:
    cli.configure(default_index=slugify_index.url)
    out = cli("provides", "slugify").stdout
    assert out.splitlines()[0] == "slugify is provided by python-slugify (pypi)"
    assert "evidence: the RECORD of python_slugify-8.0.4-py3-none-any.whl" in out
    assert "install: jupyter userpkg install -n default python-slugify" in out
    assert "not slugify: the RECORD of slugify-0.0.1-py3-none-any.whl installs slugify_other" in out
    body = cli.json("provides", "No module named 'slugify.slugify'")
    assert isinstance(body, dict)
    assert (body["package"], body["module"]) == ("python-slugify", "slugify.slugify")


def test_provides_says_when_nothing_is_known(cli: CLI, slugify_index: LocalIndex) -> None:
    cli.configure(default_index=slugify_index.url)
    out = cli("provides", "nothingprovidesthis").stdout
    assert "no package known to provide 'nothingprovidesthis'" in out
    assert "search for it: jupyter userpkg search nothingprovidesthis" in out


def test_a_bad_module_name_is_one_line(cli: CLI) -> None:
    proc = cli("provides", "../etc", check=False)
    assert proc.returncode != 0
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "is not a module name" in proc.stderr and "Traceback" not in proc.stderr
