"""Validation that happens before any file is touched (no network needed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_userpkg.core.errors import InvalidEnvName, InvalidRequest, InvalidSpec
from jupyter_userpkg.core.names import validate_env_name
from jupyter_userpkg.core.service import UserPkgService
from jupyter_userpkg.core.specs import parse_pypi_spec, parse_pypi_specs


@pytest.mark.parametrize("name", ["../x", "a/b", "", "x" * 300, ".x", "-x", "a b", "x.tmp"])
def test_bad_env_names(name: str) -> None:
    with pytest.raises(InvalidEnvName, match="invalid environment name"):
        validate_env_name(name)


@pytest.mark.parametrize("name", ["default", "a", "A.b_c-1", "x" * 64])
def test_good_env_names(name: str) -> None:
    assert validate_env_name(name) == name


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("scipy>>1", "not a valid package spec"),
        ("foo; rm -rf /", "not a valid package spec"),
        ("--index-url=http://evil", "is an option"),
        ("-e .", "is an option"),
        ("git+https://github.com/x/y", "is a URL"),
        ("y @ git+https://github.com/x/y", "direct URL"),
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
