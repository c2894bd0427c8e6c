"""Kernels of every language an env ships: a conda package's own kernelspec is exposed
as ``<display_name> (<env>)`` with the env activated, runs for real, and goes with the
env; a shipped kernel.json is untrusted input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from jupyter_userpkg.commands.render import env_lines
from jupyter_userpkg.core import kernelindex, shippedkernels
from jupyter_userpkg.core.service import UserPkgService
from tests.conda_channel import TestChannel, index_channel
from tests.core.test_kernels import run_in_kernel
from tests.echokernel import SPEC, build_echo_kernel

GOOD = {"argv": ["echo", "-f", "{connection_file}"], "display_name": "Echo", "language": "echo"}


def spec(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ([], "not an object"),
        (spec(argv="echo {connection_file}"), "argv is not a list of strings"),
        (spec(argv=["echo", 3, "{connection_file}"]), "argv is not a list of strings"),
        (spec(argv=[]), "argv is not a list of strings"),
        (spec(argv=["echo", "-f", "conn.json"]), "does not name {connection_file}"),
        (spec(argv=["../../../usr/bin/sh", "{connection_file}"]), "outside the environment"),
        (spec(argv=["bin/../../evil", "{connection_file}"]), "outside the environment"),
        (spec(argv=["/usr/bin/sh", "{connection_file}"]), "outside the environment"),
        (spec(display_name=None), "no display_name"),
        (spec(display_name="   "), "no display_name"),
        (spec(env={"PATH=": "x"}), "names a variable"),
        (spec(env={"X": 1}), "not a short string"),
        (spec(env=["X"]), "not an object"),
    ],
)
def test_a_shipped_spec_is_checked(tmp_path: Path, data: Any, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        shippedkernels.validate(data, tmp_path)


def test_a_shipped_spec_is_kept_within_bounds(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    kept = shippedkernels.validate(
        spec(
            argv=["bin/xcpp", "-f", "{connection_file}"],
            display_name="C++ \x1b[31m" + "x" * 200,
            metadata={"debugger": True, "other": "dropped"},
            interrupt_mode="message",
        ),
        tmp_path,
    )
    assert kept is not None
    assert kept["argv"][0] == str(tmp_path / "bin" / "xcpp")  # inside the env, made absolute
    assert len(kept["display_name"]) == shippedkernels.MAX_DISPLAY
    assert "\x1b" not in kept["display_name"]
    assert kept["metadata"] == {"debugger": True}
    assert kept["interrupt_mode"] == "message"
    # ipykernel's own spec: the env's Python kernel is made by us instead.
    ipy = spec(argv=["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"])
    assert shippedkernels.validate({**ipy, "language": "python"}, tmp_path) is None


def test_bad_specs_are_left_out_and_others_kept(tmp_path: Path) -> None:
    root = tmp_path / "share" / "jupyter" / "kernels"
    for name, content in (
        ("good", json.dumps(GOOD)),
        ("bad", json.dumps(spec(argv=["/bin/sh", "{connection_file}"]))),
        ("huge", " " * (shippedkernels.MAX_SPEC_BYTES + 1)),
        ("python3", json.dumps(GOOD)),  # ipykernel's place: never ours to expose
    ):
        (root / name).mkdir(parents=True)
        (root / name / "kernel.json").write_text(content)
    (root / "linked").symlink_to(root / "good")
    found = {s.name: s for s in shippedkernels.find(tmp_path)}
    assert set(found) == {"good", "bad", "huge"}
    assert found["good"].spec["argv"][0] == "echo" and not found["good"].problem
    assert "outside the environment" in found["bad"].problem
    assert "larger than 64 KiB" in found["huge"].problem


def test_activation_variables(tmp_path: Path) -> None:
    (tmp_path / "conda-meta").mkdir()
    (tmp_path / "conda-meta" / "state").write_text(json.dumps({"env_vars": {"MINE": "1"}}))
    vars_d = tmp_path / "etc" / "conda" / "env_vars.d"
    vars_d.mkdir(parents=True)
    (vars_d / "a.json").write_text(json.dumps({"PKG": "a", "MINE": "pkg", "PATH": "/evil"}))
    (vars_d / "b.json").write_text("not json")
    got = shippedkernels.activation(tmp_path, "k")
    assert got["MINE"] == "1"  # the user's own win over a package's
    assert got["PKG"] == "a"
    assert got["PATH"] == f"{tmp_path / 'bin'}{os.pathsep}${{PATH}}"
    assert got["CONDA_PREFIX"] == str(tmp_path) and got["CONDA_DEFAULT_ENV"] == "k"


@pytest.fixture(scope="module")
def echo_channel(tmp_path_factory: pytest.TempPathFactory, conda_channel: TestChannel) -> str:
    channel = tmp_path_factory.mktemp("echo") / "channel"
    shutil.copytree(conda_channel.path, channel)
    build_echo_kernel(channel)
    index_channel(channel)
    return channel.as_uri()


def kernelspec_list(svc: UserPkgService) -> dict[str, Any]:
    """``jupyter kernelspec list`` of jupyter_client, reading this test's kernels dir."""
    env = {**os.environ, "JUPYTER_DATA_DIR": str(svc.kernels_dir.parent)}
    out = subprocess.run(
        [sys.executable, "-m", "jupyter", "kernelspec", "list", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(json.loads(out)["kernelspecs"])


@pytest.mark.slow  # reaches PyPI (ipykernel, which the echo kernel is built on)
def test_a_shipped_kernel_is_exposed_runs_and_goes_with_the_env(
    svc: UserPkgService, echo_channel: str
) -> None:
    svc.create("k", kind="conda", channels=[echo_channel], specs=["python", "echo-kernel"])
    listed = kernelspec_list(svc)
    assert {"userpkg-k", "userpkg-k--echo"} <= set(listed)
    echo = listed["userpkg-k--echo"]["spec"]
    assert echo["display_name"] == "Echo (k)"
    assert echo["language"] == "echo"
    assert echo["argv"] == [str(svc.store.prefix("k") / "bin" / "python"), *SPEC["argv"][1:]]
    prefix = svc.store.prefix("k")
    assert echo["env"]["PATH"].startswith(f"{prefix / 'bin'}{os.pathsep}")
    assert echo["env"]["CONDA_PREFIX"] == str(prefix)
    assert (svc.kernels_dir / "userpkg-k--echo" / "logo-64x64.png").is_file()
    # The env's own variable reaches the kernel: it runs with the env activated.
    assert run_in_kernel(svc.kernels_dir, "userpkg-k--echo", "hello") == "echo: hello"

    info = svc.env_info("k")
    assert info.kernel == "userpkg-k"
    assert {(k["name"], k["display_name"], k["language"]) for k in info.kernels} == {
        ("userpkg-k", "Python 3 (k)", "python"),
        ("userpkg-k--echo", "Echo (k)", "echo"),
    }
    assert [e.to_dict()["kernels"] for e in svc.list_envs()] == [info.to_dict()["kernels"]]
    assert "  kernels: Python 3 (k), Echo (k)" in env_lines(svc.list_envs())  # envs' text

    svc.delete("k")
    listed = kernelspec_list(svc)
    assert not any(name.startswith("userpkg-k") for name in listed)
    assert kernelindex.read(svc.kernels_dir) == {}


def test_no_kernel_suppresses_shipped_kernels(svc: UserPkgService, echo_channel: str) -> None:
    svc.create(
        "quiet",
        kind="conda",
        channels=[echo_channel],
        specs=["python", "echo-kernel"],
        kernel=False,
    )
    assert (svc.store.prefix("quiet") / "share/jupyter/kernels/echo/kernel.json").is_file()
    assert svc.env_info("quiet").kernels == ()
    assert not list(svc.kernels_dir.glob("userpkg-quiet*"))
    svc.change("quiet", install=["pyfoo"])  # recorded in the env: every change keeps it
    assert svc.env_info("quiet").kernels == ()
    assert svc.store.read_manifest("quiet").kernels is False
