"""A user's layer over an administrator's shared conda env (a channel the tests build).

The layer is a venv over the conda env's Python with the conda env's site-packages
behind its own: it sees the conda packages (``six`` from the channel), installs only
PyPI packages (from a local index) into itself, and holds none of the conda env's files.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_userpkg.commands.dispatch import dispatch
from jupyter_userpkg.commands.verbs import Create, Envs, Install
from jupyter_userpkg.core.errors import AccessDenied
from jupyter_userpkg.core.options import CondaOptions, UvOptions
from jupyter_userpkg.core.service import UserPkgService
from jupyter_userpkg.core.shared import Shared
from tests.conda_channel import TestChannel
from tests.localindex import LocalIndex, build_wheel


@pytest.fixture
def index(tmp_path: Path) -> Iterator[LocalIndex]:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    build_wheel(wheels, "upkgt_onpypi", "1.0", requires=["six>=1.10"])
    # As on PyPI: the solver reads the base's packages from the index too (the layer pins
    # them to the base's versions and leaves them out of its lock).
    build_wheel(wheels, "six", "1.16.0")
    # A stand-in for ipykernel (no kernel is started here; test_shared_envs starts real ones):
    # with it the layer gets a kernelspec, which is what this test reads.
    build_wheel(wheels, "ipykernel", "6.0")
    with LocalIndex(wheels) as served:
        yield served


def test_a_layer_over_a_shared_conda_env(
    conda_channel: TestChannel, conda_options: CondaOptions, index: LocalIndex, tmp_path: Path
) -> None:
    shared_dir, kernels = tmp_path / "shared", tmp_path / "shared-kernels"
    uv = UvOptions(default_index=index.url)
    admin = UserPkgService(
        shared_dir, conda_options=conda_options, uv_options=uv, kernels_dir=kernels
    )
    admin.create(
        "condastack",
        kind="conda",
        channels=[conda_channel.path.as_uri()],
        specs=["python", "six"],
        kernel=False,
    )
    user = UserPkgService(
        tmp_path / "envs",
        conda_options=conda_options,
        uv_options=uv,
        kernels_dir=tmp_path / "kernels",
        shared_envs=Shared((shared_dir,), kernels),
    )
    dispatch(user, Create(name="mine", over="condastack", kernel=False))
    dispatch(user, Create(name="kernelled", over="condastack"))
    spec = json.loads((tmp_path / "kernels" / "userpkg-kernelled" / "kernel.json").read_text())
    assert spec["argv"][0] == str(user.store.prefix("kernelled") / "bin" / "python")
    assert spec["env"]["CONDA_PREFIX"] == str(shared_dir / "condastack")  # the base, activated
    assert not (tmp_path / "kernels" / "userpkg-mine").exists()  # --no-kernel
    result = dispatch(user, Install(env="mine", specs=("upkgt_onpypi",), yes=True)).value
    # six (>=1.10) is the conda env's: the layer installs only what it lacks.
    assert [(c.name, c.action) for c in result.plan.changes] == [("upkgt-onpypi", "add")]

    layer = user.store.prefix("mine")
    python = layer / "bin" / "python"
    assert python.exists() and python.parent.parent == layer  # a venv of its own
    done = subprocess.run(
        [str(python), "-c", "import six, upkgt_onpypi, sys; print(six.__file__, sys.prefix)"],
        capture_output=True,
        text=True,
        check=True,
    )
    six_file, prefix = done.stdout.split()
    assert six_file.startswith(str(shared_dir / "condastack")) and prefix == str(layer)
    held = {p.name.split("-")[0] for p in layer.glob("lib/python*/site-packages/*.dist-info")}
    assert held == {"upkgt_onpypi"}  # nothing of the conda env is copied

    envs = {e["name"]: e for e in dispatch(user, Envs()).data}
    assert envs["condastack"]["shared"] is True and envs["condastack"]["kind"] == "conda"
    assert envs["mine"]["over"] == "condastack" and envs["mine"]["notes"] == []
    with pytest.raises(AccessDenied, match="'condastack' is shared and read-only"):
        dispatch(user, Install(env="condastack", specs=("six",), yes=True))

    # The administrator changes the conda env: the user's layer is told to solve again.
    admin.change("condastack", remove=["six"])
    envs = {e["name"]: e for e in dispatch(user, Envs()).data}
    assert any("changed (revision 0 -> 1)" in n for n in envs["mine"]["notes"]), envs["mine"]
