"""%userpkg in real kernels and a real notebook."""

from __future__ import annotations

import importlib.metadata
import json
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from jupyter_userpkg.core.options import CondaOptions
from jupyter_userpkg.core.service import UserPkgService
from tests.conda_channel import TestChannel
from tests.conftest import env_state, installed
from tests.localindex import LocalIndex, build_wheel
from tests.magics.conftest import Kernel, start_kernel

pytestmark = pytest.mark.slow


def test_notebook_install_then_import(userpkg_env: Path, tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("%load_ext jupyter_userpkg"),
        nbformat.v4.new_code_cell("%userpkg install python-slugify"),
        # python-slugify needs text-unidecode: the dependency came along, no restart.
        nbformat.v4.new_code_cell("import slugify\nprint(slugify.slugify('Hello World'))"),
    ]
    NotebookClient(nb, timeout=300, kernel_name="python3").execute()
    outputs = [cell.outputs for cell in nb.cells]
    assert not any(o.output_type == "error" for cell in outputs for o in cell)
    summary = outputs[1][-1]["data"]
    assert "+ python-slugify" in summary["text/plain"]
    assert "jp-userpkg-result" in summary["text/html"]
    assert "Restart" not in summary["text/plain"]
    assert outputs[2][0]["text"] == "hello-world\n"
    assert set(installed(userpkg_env, "default")) == {"python-slugify", "text-unidecode"}


def use_pin_index(config_dir: Path, index: LocalIndex) -> None:
    """Kernels of this test find ``pin_index``'s packages there, the rest on PyPI."""
    config_dir.mkdir(exist_ok=True)
    (config_dir / "jupyter_userpkg_config.json").write_text(
        json.dumps({"UserPkg": {"extra_index_urls": [index.url]}})
    )


def test_stale_modules_are_named_exactly(
    kernel: Kernel, userpkg_env: Path, tmp_path: Path, pin_index: LocalIndex
) -> None:
    use_pin_index(tmp_path / "config", pin_index)
    kernel.run("%load_ext jupyter_userpkg")
    cell = kernel.run("%userpkg install 'pinpkg<1.1'")
    assert "Restart" not in cell.text  # nothing of it was imported
    assert kernel.run("import pinpkg; print(pinpkg.__version__)").stdout.strip() == "1.0"
    cell = kernel.run("%userpkg install 'pinpkg==1.1'")  # a release, not the newest
    assert not cell.stderr
    assert cell.text.splitlines()[-2:] == [
        "Restart the kernel to use the new versions of modules imported before:",
        "  pinpkg changed 1.0 -> 1.1 (imported: pinpkg)",
    ]
    # A base package, imported, then shadowed by the layer.
    base_six = importlib.metadata.version("six")  # the kernel runs this interpreter
    kernel.run("import six")
    cell = kernel.run("%userpkg install 'six<1.17'")
    assert cell.text.splitlines()[-1] == (
        "  six 1.16.0 now shadows the version already imported (imported: six)"
    )
    cell = kernel.run("%userpkg remove six")
    assert cell.text.splitlines()[-1] == (
        f"  six 1.16.0 was removed; {base_six} from the base is used now (imported: six)"
    )
    # A change to something never imported says nothing about restarting.
    cell = kernel.run("%userpkg install python-slugify")
    assert "Restart" not in cell.text and "+ python-slugify" in cell.text
    assert kernel.run("import slugify").errors == []


def test_bad_input_from_a_cell(kernel: Kernel, userpkg_env: Path) -> None:
    kernel.run("%load_ext jupyter_userpkg")
    kernel.run("%userpkg install tabulate")
    before = env_state(userpkg_env, "default")
    for line, needle in [
        ("%userpkg install 'scipy>>1'", "not a valid package spec"),
        ("%userpkg install 'foo; rm -rf /'", "not a valid package spec"),
        ("%userpkg install --index-url=http://evil tabulate", "unrecognized arguments"),
        ("%userpkg install no-such-package-userpkg-test-xyz", "package not found"),
        ("%userpkg frobnicate", "invalid choice"),
        ("%userpkg install -n ../x tabulate", "invalid environment name"),
    ]:
        cell = kernel.run(line)
        assert cell.errors == [], cell.errors  # no traceback
        assert cell.stderr.startswith("userpkg: error: ") and needle in cell.stderr, cell.stderr
        assert len(cell.stderr.strip().splitlines()) == 1
    assert env_state(userpkg_env, "default") == before


def test_dry_run_shows_the_plan_only(kernel: Kernel, userpkg_env: Path) -> None:
    kernel.run("%load_ext jupyter_userpkg")
    cell = kernel.run("%userpkg install --dry-run python-slugify")
    assert "+ python-slugify" in cell.text and "Dry run: nothing was changed." in cell.text
    assert not (userpkg_env / "default").exists()


def test_magic_in_an_env_kernel_targets_that_env(userpkg_env: Path, tmp_path: Path) -> None:
    svc = UserPkgService(userpkg_env, kernels_dir=tmp_path / "data" / "kernels")
    svc.create("work", kind="layer")
    k = start_kernel("userpkg-work", tmp_path / "data" / "kernels")
    try:
        assert k.run("import sys; print(sys.prefix)").stdout.strip() == str(userpkg_env / "work")
        k.run("%load_ext jupyter_userpkg")
        cell = k.run("%userpkg install tabulate")
        assert "Environment 'work'" in cell.text, cell.stderr
        assert k.run("import tabulate").errors == []
        assert not svc.store.exists("default")
    finally:
        k.kc.stop_channels()
        k.km.shutdown_kernel(now=True)


def test_interrupted_install_leaves_old_or_new(userpkg_env: Path, tmp_path: Path) -> None:
    """Interrupt the kernel while the magic resolves, and while it installs.

    The index serves its metadata slowly (the solve takes a second) and its wheels slowly
    (the install's download takes seconds), so each interrupt lands in its phase.
    """
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    build_wheel(wheels, "magslow", "1.0")
    build_wheel(wheels, "magslow", "2.0", padding=3_000_000)
    build_wheel(wheels, "magdep", "1.0", padding=1_000_000)
    config = tmp_path / "config"
    config.mkdir()
    with LocalIndex(wheels, json=True) as index:
        for attempt, phase in enumerate(("userpkg: solve", "userpkg: install")):
            cache = tmp_path / f"cold-cache-{attempt}"
            (config / "jupyter_userpkg_config.json").write_text(
                json.dumps({"UserPkg": {"uv_cache_dir": str(cache), "default_index": index.url}})
            )
            k = start_kernel()
            try:
                k.run("%load_ext jupyter_userpkg")
                if attempt == 0:
                    k.run("%userpkg install 'magslow<2'")
                index.metadata_delay, index.slow = 1.0, 0.1
                svc = UserPkgService(userpkg_env)
                old = installed(userpkg_env, "default")
                before = env_state(userpkg_env, "default")
                msg_id = k.kc.execute("%userpkg install magdep 'magslow>=2'")
                said, interrupted = "", False
                while True:  # watch the cell's output; interrupt when it reaches the phase
                    msg = k.kc.get_iopub_msg(timeout=120)
                    if msg["parent_header"].get("msg_id") != msg_id:
                        continue
                    kind, content = msg["msg_type"], msg["content"]
                    text = str(content.get("data", {}).get("text/plain", ""))
                    if not interrupted and text.startswith(phase):
                        k.km.interrupt_kernel()
                        interrupted = True
                    if kind == "stream":
                        said += content["text"]
                    if kind == "error":
                        said += "Traceback"
                    if kind == "status" and content["execution_state"] == "idle":
                        break
                index.metadata_delay, index.slow = 0.0, 0.0
                assert interrupted, f"never saw {phase!r}"
                assert "Traceback" not in said
                assert said == "userpkg: error: interrupted; the environment was left unchanged\n"
                assert svc.doctor("default")[0]["ok"]
                assert installed(userpkg_env, "default") == old
                files = lambda state: {p: h for p, h in state.items() if not p.startswith(".")}  # noqa: E731
                assert files(env_state(userpkg_env, "default")) == files(before)
            finally:
                k.kc.stop_channels()
                k.km.shutdown_kernel(now=True)


def test_magic_in_a_venv_kernel_runs_in_the_servers_python(
    userpkg_env: Path, tmp_path: Path, pin_index: LocalIndex
) -> None:
    use_pin_index(tmp_path / "config", pin_index)
    kernels_dir = tmp_path / "data" / "kernels"
    svc = UserPkgService(userpkg_env, kernels_dir=kernels_dir)
    svc.create("iso", kind="venv")  # with ipykernel, hence a kernelspec
    k = start_kernel("userpkg-iso", kernels_dir)
    try:
        assert k.run("import sys; print(sys.prefix)").stdout.strip() == str(userpkg_env / "iso")
        assert k.run("import tomlkit").errors  # isolated: the core's libraries are not here
        assert k.run("%load_ext jupyter_userpkg").errors == []
        cell = k.run("%userpkg install 'pinpkg<1.1'")
        assert "Environment 'iso'" in cell.text and "+ pinpkg" in cell.text, cell.stderr
        assert k.run("import pinpkg; print(pinpkg.__version__)").stdout.strip() == "1.0"
        cell = k.run("%userpkg install 'pinpkg==1.1'")
        assert cell.text.splitlines()[-1] == "  pinpkg changed 1.0 -> 1.1 (imported: pinpkg)"
        cell = k.run("%userpkg install 'scipy>>1'")
        assert cell.errors == [] and cell.stderr.startswith("userpkg: error: ")
        assert len(cell.stderr.strip().splitlines()) == 1
        assert "pinpkg" in k.run("%userpkg list").stdout
        listed = json.loads(k.run("%userpkg list --json  # as the CLI prints it").stdout)
        assert {p["name"] for p in listed} >= {"pinpkg", "pindep", "ipykernel"}
        cell = k.run("%userpkg export --format lock")
        assert cell.errors == [] and not cell.stderr and 'name = "pinpkg"' in cell.stdout
        assert not svc.store.exists("default")
    finally:
        k.kc.stop_channels()
        k.km.shutdown_kernel(now=True)


def test_bridge_reads_large_replies_and_reports_crashes(tmp_path: Path) -> None:
    """The bridge's reply can exceed a pipe's buffer while progress still streams."""
    from jupyter_userpkg.magic import BridgeBackend

    big = json.dumps({"verb": "export", "data": {}, "text": "x" * 300_000})
    fake = tmp_path / "fake-python"
    fake.write_text(
        "#!/bin/sh\n"
        'echo \'{"phase": "solve", "message": "resolving"}\' >&2\n'
        f"cat {tmp_path / 'reply.json'}\n"
        'echo \'{"phase": "commit", "message": "done"}\' >&2\n'
    )
    (tmp_path / "reply.json").write_text(big + "\n")
    fake.chmod(0o755)
    events: list[tuple[str, str]] = []
    reply = BridgeBackend(str(fake), "x").run(
        "export", lambda e: events.append((e.phase, e.message))
    )
    assert len(reply.text) == 300_000
    assert events == [("solve", "resolving"), ("commit", "done")]
    crash = tmp_path / "crash-python"
    crash.write_text("#!/bin/sh\necho 'ModuleNotFoundError: No module named tomlkit' >&2\n")
    crash.chmod(0o755)
    reply = BridgeBackend(str(crash), "x").run("list", lambda e: None)
    assert reply.error == (
        "the server's Python could not run the command: "
        "ModuleNotFoundError: No module named tomlkit",
    )


def test_new_pth_files_of_the_layer_take_effect(
    kernel: Kernel, userpkg_env: Path, tmp_path: Path
) -> None:
    """What a .pth file in the layer adds (editable installs) imports without a restart."""
    kernel.run("%load_ext jupyter_userpkg")
    kernel.run("%userpkg install tabulate")
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "from_pth_module.py").write_text("VALUE = 42\n")
    site = next((userpkg_env / "default" / "lib").glob("python*/site-packages"))
    (site / "zz_extra.pth").write_text(f"{extra}\n")
    kernel.run("%userpkg install python-slugify")  # any change activates the layer again
    cell = kernel.run(
        "import sys, from_pth_module\n"
        f"print(from_pth_module.VALUE, sys.path.index({str(extra)!r}) "
        f"== sys.path.index({str(site)!r}) + 1)"
    )
    assert cell.errors == [] and cell.stdout.split() == ["42", "True"]


def test_magic_in_a_conda_kernel(
    userpkg_env: Path, tmp_path: Path, conda_channel: TestChannel, conda_caches: Path
) -> None:
    """A conda env whose python is the channel's shim, ipykernel from PyPI on top."""
    settings = {
        "conda_pkgs_dir": str(conda_caches / "pkgs"),
        "repodata_cache_dir": str(conda_caches / "repodata"),
    }
    (tmp_path / "config").mkdir(exist_ok=True)
    (tmp_path / "config" / "jupyter_userpkg_config.json").write_text(
        json.dumps({"UserPkg": settings})
    )
    kernels_dir = tmp_path / "data" / "kernels"
    svc = UserPkgService(
        userpkg_env,
        kernels_dir=kernels_dir,
        conda_options=CondaOptions(
            pkgs_dir=settings["conda_pkgs_dir"], repodata_cache_dir=settings["repodata_cache_dir"]
        ),
    )
    svc.create("ck", kind="conda", channels=[conda_channel.url], specs=["python", "pyfoo==0.1"])
    sources = {p.name: p.source for p in svc.packages("ck")}
    assert sources["ipykernel"] == "pypi" and sources["python"] == "conda"
    k = start_kernel("userpkg-ck", kernels_dir)
    try:
        assert k.run("import sys; print(sys.prefix)").stdout.strip() == str(userpkg_env / "ck")
        assert k.run("%load_ext jupyter_userpkg").errors == []
        assert k.run("import pyfoo; print(pyfoo.__version__)").stdout.strip() == "0.1"
        cell = k.run("%userpkg install 'pyfoo==0.2'")
        assert "Environment 'ck'" in cell.text, cell.stderr
        assert re.search(r"~ pyfoo +0\.1 -> 0\.2 \(conda\)", cell.text), cell.text
        assert cell.text.splitlines()[-1] == "  pyfoo changed 0.1 -> 0.2 (imported: pyfoo)"
        cell = k.run("%userpkg install --pypi tabulate")
        assert re.search(r"\+ tabulate +\S+ \(pypi\)", cell.text), cell.stderr
        assert k.run("import tabulate").errors == []
        cell = k.run("%userpkg install nothere")
        assert cell.errors == [] and len(cell.stderr.strip().splitlines()) == 1
        assert "no package named 'nothere'" in cell.stderr
        assert [r.command for r in svc.history("ck")][1:] == [
            "install pyfoo==0.2",
            "install tabulate --pypi",
        ]
    finally:
        k.kc.stop_channels()
        k.km.shutdown_kernel(now=True)
