"""Validation that happens before any file is touched (no network needed)."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from jupyter_userpkg.core.errors import EnvExists, InvalidEnvName, InvalidRequest, InvalidSpec
from jupyter_userpkg.core.names import validate_env_name
from jupyter_userpkg.core.service import UserPkgService
from jupyter_userpkg.core.specs import parse_pypi_spec, parse_pypi_specs


@pytest.mark.parametrize(
    "name", ["../x", "a/b", "", "x" * 300, ".x", "-x", "a b", "x.tmp", "nl\n", "x\r", "a\nb"]
)
def test_bad_env_names(name: str) -> None:
    with pytest.raises(InvalidEnvName, match="invalid environment name"):
        validate_env_name(name)


@pytest.mark.parametrize("name", ["default", "a", "A.b_c-1", "x" * 64])
def test_good_env_names(name: str) -> None:
    assert validate_env_name(name) == name


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("scipy>>1", "not a valid package spec: write a name, optionally with a version: scipy, "),
        ("foo; rm -rf /", "not a valid package spec"),
        ("numpy=1.2", r"a single '=' is conda's; PyPI's exact version is '==' \(numpy==1.26.4\)"),
        ("--index-url=http://evil", "is an option"),
        ("-e .", "is an option"),
        ("git+https://github.com/x/y", "is a URL"),
        ("y @ git+https://github.com/x/y", "direct URL"),
        ("git+https://github.com/x/y@main", "is a URL"),
        ("https://example.org/y-1.0-py3-none-any.whl", "is a URL"),
        ("six===not-a-version", r"arbitrary equality \(===\) with 'not-a-version'"),
        ("", "empty"),
    ],
)
def test_bad_specs(spec: str, message: str) -> None:
    with pytest.raises(InvalidSpec, match=message):
        parse_pypi_spec(spec)


def test_good_specs() -> None:
    reqs = parse_pypi_specs(["scipy>=1.10", "rich[jupyter]", "six; python_version>'3'"])
    assert [r.name for r in reqs] == ["scipy", "rich", "six"]


def test_bad_requests_touch_nothing(svc: UserPkgService, envs_dir: Path) -> None:
    with pytest.raises(InvalidSpec):
        svc.change(install=["scipy>>1"])
    with pytest.raises(InvalidRequest, match="nothing to do"):
        svc.change()
    with pytest.raises(InvalidRequest, match="unknown environment kind"):
        svc.create("k", kernel=False, kind="docker")
    with pytest.raises(InvalidEnvName):
        svc.create("../escape")
    assert not envs_dir.exists()  # not even the default env was made


def test_core_imports_no_server_or_ipython() -> None:
    code = (
        "import sys, jupyter_userpkg.core, jupyter_userpkg.core.service, jupyter_userpkg.cli\n"
        "bad = [m for m in ('tornado', 'jupyter_server', 'IPython', 'ipykernel') "
        "if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    for path in (Path(__file__).parents[2] / "jupyter_userpkg" / "core").glob("*.py"):
        text = path.read_text()
        for mod in ("tornado", "jupyter_server", "IPython"):
            assert f"import {mod}" not in text and f"from {mod}" not in text, path


def test_names_differ_in_more_than_case(svc: UserPkgService, envs_dir: Path) -> None:
    """``Default`` would shadow ``default``; twins created at once share one lock."""
    with pytest.raises(InvalidEnvName, match="differs from 'default' only in case"):
        svc.create("Default", kind="venv", kernel=False)
    assert not envs_dir.exists() or svc.list_envs() == []
    assert svc.store.lock_path("Race1") == svc.store.lock_path("race1")
    outcomes: dict[str, str] = {}

    def create(name: str) -> None:
        try:
            svc.create(name, kind="venv", kernel=False)
            outcomes[name] = "created"
        except EnvExists as exc:
            outcomes[name] = exc.message

    threads = [threading.Thread(target=create, args=(n,)) for n in ("Race1", "race1")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [m for m in outcomes.values() if m != "created"] == [
        m for m in outcomes.values() if m.endswith("names must differ in more than case")
    ], outcomes
    assert list(outcomes.values()).count("created") == 1
    assert len(svc.list_envs()) == 1


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("dependencies: [python=3.11, {pip: 3}]\n", "the 'pip' entry must be a list"),
        ("dependencies: [python=3.11, {pip: [1, 2]}]\n", "the 'pip' entry must be a list"),
        ("dependencies: [python=3.11, 7]\n", "neither a package spec nor a 'pip' list"),
        ("dependencies: [{conda: x}]\n", "neither a package spec nor a 'pip' list"),
        ("channels: conda-forge\ndependencies: [bar]\n", "'channels' must be a list"),
    ],
)
def test_environment_files_of_the_wrong_shape_say_where(
    tmp_path: Path, text: str, words: str
) -> None:
    from jupyter_userpkg.core.exports import read_import

    path = tmp_path / "environment.yml"
    path.write_text(text)
    with pytest.raises(InvalidSpec) as err:
        read_import(path)
    assert words in err.value.message and "environment.yml" in err.value.message
