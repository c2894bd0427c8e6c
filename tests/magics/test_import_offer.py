"""A cell's ``ModuleNotFoundError`` names the package that provides the module, in a real
kernel with ``%userpkg`` loaded; the offered line installs it and the import then works.

The loopback index serves ``python-offerdemo`` (installs ``offerdemo``) and a wrong
candidate ``offerdemo`` (installs ``offerdemo_other``), so the right answer needs the
wheels' RECORDs, not the names.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_userpkg.core.options import CondaOptions
from jupyter_userpkg.core.service import UserPkgService
from tests.conda_channel import TestChannel
from tests.localindex import LocalIndex, build_wheel
from tests.magics.conftest import Kernel, start_kernel

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def offer_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalIndex]:
    wheels = tmp_path_factory.mktemp("offer-wheels")
    build_wheel(wheels, "python-offerdemo", "1.2", modules=["offerdemo"])
    build_wheel(wheels, "offerdemo", "9.0", modules=["offerdemo_other"])
    build_wheel(wheels, "pyblockdemo", "1.0", modules=["blockdemo"])
    with LocalIndex(wheels) as index:
        yield index


def _configure(config: Path, index: LocalIndex, extra: list[str] | None = None) -> None:
    config.mkdir(parents=True, exist_ok=True)
    settings: dict[str, Any] = {"default_index": index.url, "default_channels": []}
    if extra is not None:  # PyPI for what the index lacks (a venv's ipykernel)
        settings = {"extra_index_urls": [index.url], "default_channels": []}
    (config / "jupyter_userpkg_config.json").write_text(json.dumps({"UserPkg": settings}))


def _error_text(kernel: Kernel, code: str) -> str:
    """The cell's error output as the notebook shows it: its traceback lines, joined."""
    lines: list[str] = []

    def hook(msg: dict[str, Any]) -> None:
        if msg["msg_type"] == "error":
            lines.extend(msg["content"]["traceback"])

    kernel.kc.execute_interactive(code, output_hook=hook, timeout=300)
    return "\n".join(lines)


def _offer_then_install(kernel: Kernel, env: str) -> None:
    kernel.run("%load_ext jupyter_userpkg")
    text = _error_text(kernel, "import offerdemo")
    assert "No module named 'offerdemo'" in text
    assert "userpkg: offerdemo is provided by python-offerdemo" in text, text
    assert "RECORD of python_offerdemo-1.2-py3-none-any.whl" in text
    line = f"%userpkg install -n {env} python-offerdemo"
    assert line in text
    cell = kernel.run(line)
    assert cell.errors == [] and "+ python-offerdemo" in cell.text, cell.stderr
    assert kernel.run("import offerdemo; print(offerdemo.VERSION)").stdout.strip() == "1.2"


def test_the_offer_in_a_base_kernel_installs_into_the_layer(
    kernel: Kernel, userpkg_env: Path, offer_index: LocalIndex
) -> None:
    _configure(userpkg_env.parent / "config", offer_index)
    _offer_then_install(kernel, "default")


def test_a_blocked_package_is_offered_with_the_refusal(
    kernel: Kernel, userpkg_env: Path, offer_index: LocalIndex, admin_policy: Any
) -> None:
    admin_policy(
        {"blocked_packages": [{"name": "pyblockdemo", "reason": "not reviewed"}]},
        {"default_index": offer_index.url},
    )
    _configure(userpkg_env.parent / "config", offer_index)
    kernel.run("%load_ext jupyter_userpkg")
    text = _error_text(kernel, "import blockdemo")
    assert "userpkg: blockdemo is provided by pyblockdemo" in text, text
    assert "the administrator's policy refuses pyblockdemo: not reviewed" in text
    assert "%userpkg install" not in text
    cell = kernel.run("%userpkg install pyblockdemo")
    assert "not reviewed" in cell.stderr  # the plan refuses it too: nothing installed
    assert kernel.run("import blockdemo").errors


def test_the_offer_in_a_venv_kernel(
    userpkg_env: Path, tmp_path: Path, offer_index: LocalIndex
) -> None:
    _configure(tmp_path / "config", offer_index, extra=[])
    kernels_dir = tmp_path / "data" / "kernels"
    svc = UserPkgService(userpkg_env, kernels_dir=kernels_dir)
    svc.create("iso", kind="venv")  # with ipykernel (from PyPI), hence a kernelspec
    k = start_kernel("userpkg-iso", kernels_dir)
    try:
        _offer_then_install(k, "iso")
    finally:
        k.kc.stop_channels()
        k.km.shutdown_kernel(now=True)


def test_an_error_without_a_provider_says_so(
    kernel: Kernel, userpkg_env: Path, offer_index: LocalIndex
) -> None:
    _configure(userpkg_env.parent / "config", offer_index)
    kernel.run("%load_ext jupyter_userpkg")
    text = _error_text(kernel, "import nothingprovidesthisone")
    assert "No module named 'nothingprovidesthisone'" in text
    assert "no package known to provide 'nothingprovidesthisone'" in text


def test_the_offer_in_a_conda_kernel(
    userpkg_env: Path,
    tmp_path: Path,
    offer_index: LocalIndex,
    conda_channel: TestChannel,
    conda_caches: Path,
) -> None:
    """In a conda env, a PyPI package is offered with ``--pypi`` (the env's channels have
    none of the derived names), and the offered line installs it on top."""
    pkgs, repodata = str(conda_caches / "pkgs"), str(conda_caches / "repodata")
    settings = {
        "conda_pkgs_dir": pkgs,
        "repodata_cache_dir": repodata,
        "extra_index_urls": [offer_index.url],
    }
    (tmp_path / "config").mkdir(exist_ok=True)
    (tmp_path / "config" / "jupyter_userpkg_config.json").write_text(
        json.dumps({"UserPkg": settings})
    )
    kernels_dir = tmp_path / "data" / "kernels"
    svc = UserPkgService(
        userpkg_env,
        kernels_dir=kernels_dir,
        conda_options=CondaOptions(pkgs_dir=pkgs, repodata_cache_dir=repodata),
    )
    svc.create("ck", kind="conda", channels=[conda_channel.url], specs=["python"])
    k = start_kernel("userpkg-ck", kernels_dir)
    try:
        assert k.run("%load_ext jupyter_userpkg").errors == []
        text = _error_text(k, "import offerdemo")
        assert "userpkg: offerdemo is provided by python-offerdemo" in text, text
        line = "%userpkg install -n ck --pypi python-offerdemo"
        assert line in text
        cell = k.run(line)
        assert cell.errors == [] and "+ python-offerdemo" in cell.text, cell.stderr
        assert k.run("import offerdemo; print(offerdemo.VERSION)").stdout.strip() == "1.2"
    finally:
        k.kc.stop_channels()
        k.km.shutdown_kernel(now=True)
