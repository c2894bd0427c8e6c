"""Kernelspecs of envs: made with the env, repaired by doctor, gone with delete,
and a kernel started from one runs the env's own interpreter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

from jupyter_userpkg.core.service import UserPkgService

pytestmark = pytest.mark.slow


def run_in_kernel(kernels_dir: Path, name: str, code: str) -> str:
    """Start the named kernelspec for real, run ``code``, return its stdout."""
    ksm = KernelSpecManager(kernel_dirs=[str(kernels_dir)], ensure_native_kernel=False)
    km = KernelManager(kernel_name=name, kernel_spec_manager=ksm)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=120)
        out: list[str] = []

        def collect(msg: dict[str, object]) -> None:
            content = msg["content"]
            if msg["msg_type"] == "stream":
                out.append(str(content["text"]))  # type: ignore[index]
            elif msg["msg_type"] == "error":
                out.append("ERROR " + str(content["evalue"]))  # type: ignore[index]

        kc.execute_interactive(code, output_hook=collect, timeout=120)
        return "".join(out)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


@pytest.mark.parametrize("kind", ["venv", "layer"])
def test_env_kernel_runs_the_envs_interpreter(
    svc: UserPkgService, envs_dir: Path, kind: str
) -> None:
    svc.create("k", kind=kind, specs=["tabulate"])
    info = svc.env_info("k")
    assert info.kernel == "userpkg-k"
    spec = json.loads((svc.kernels_dir / "userpkg-k" / "kernel.json").read_text())
    assert spec["display_name"] == "Python 3 (k)"
    assert spec["metadata"]["userpkg"] == {"env": "k", "envs_dir": str(envs_dir)}
    out = run_in_kernel(svc.kernels_dir, "userpkg-k", "import sys, tabulate; print(sys.prefix)")
    assert out.strip() == str(envs_dir / "k")


def test_kernelspec_follows_ipykernel(svc: UserPkgService) -> None:
    svc.create("n", kind="venv", kernel=False)
    assert svc.env_info("n").kernel is None
    assert not (svc.kernels_dir / "userpkg-n").exists()
    svc.change("n", install=["ipykernel"])
    assert svc.env_info("n").kernel == "userpkg-n"
    svc.change("n", remove=["ipykernel"])
    assert svc.env_info("n").kernel is None
    assert not (svc.kernels_dir / "userpkg-n").exists()


def test_delete_and_doctor(svc: UserPkgService, envs_dir: Path) -> None:
    svc.create("a", kind="layer")
    svc.create("b", kind="layer")
    spec_file = svc.kernels_dir / "userpkg-a" / "kernel.json"
    good = spec_file.read_text()
    spec_file.unlink()
    report = {r["env"]: r for r in svc.doctor()}
    assert "repaired its kernelspec" in report["a"]["recovered"]
    assert spec_file.read_text() == good
    # A kernelspec whose env is gone (deleted by hand) is removed by doctor.
    import shutil

    shutil.rmtree(envs_dir / "b")
    svc.doctor()
    assert not (svc.kernels_dir / "userpkg-b").exists()
    svc.delete("a")
    assert not (svc.kernels_dir / "userpkg-a").exists()


def test_names_differing_only_in_case_are_refused(svc: UserPkgService) -> None:
    from jupyter_userpkg.core.errors import EnvExists

    svc.create("work", kind="layer")
    with pytest.raises(EnvExists, match="differ in more than case"):
        svc.create("Work", kind="layer")
    assert svc.env_info("work").kernel == "userpkg-work"


def test_the_base_kernel_hosts_the_default_layer_only(svc: UserPkgService) -> None:
    """Base dirs that do not exist (a user site never made) are never on sys.path."""
    import tomlkit

    from jupyter_userpkg.magic.backend import KernelHost

    svc.create("default", kind="layer", kernel=False)
    svc.create("other", kind="layer", kernel=False)
    manifest = svc.store.revisions_dir("default") / "0" / "manifest.toml"
    doc = tomlkit.parse(manifest.read_text())
    doc["env"]["base-site-packages"].append("/nonexistent/.local/lib/site-packages")  # type: ignore[index, union-attr]
    manifest.write_text(tomlkit.dumps(doc))
    host = KernelHost(svc)
    assert host.env is None  # this process runs the base interpreter
    assert host.hosts("default")
    assert not host.hosts("other")
