"""End-to-end behaviour of layer and venv envs against real uv and PyPI.

Tests that need particular versions install from ``pin_index`` instead.
"""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

import pytest
from packaging.version import Version

from jupyter_userpkg.core.errors import Declined, InvalidRequest
from jupyter_userpkg.core.pylock import parse_lock
from jupyter_userpkg.core.records import Plan
from jupyter_userpkg.core.service import UserPkgService
from tests.conftest import installed, run_python

pytestmark = pytest.mark.slow


def lock_versions(svc: UserPkgService, env: str) -> dict[str, str]:
    return {n: p.version for n, p in parse_lock(svc.store.read_lock(env)).items()}


def test_default_layer_is_created_on_first_use(svc: UserPkgService) -> None:
    assert svc.list_envs() == []
    result = svc.change(install=["python-slugify"])
    assert result.applied and result.revision == 1
    assert [e.name for e in svc.list_envs()] == ["default"]
    assert svc.env_info("default").kind == "layer"


def test_layer_install_import_remove(svc: UserPkgService, envs_dir: Path) -> None:
    result = svc.change(install=["python-slugify"])
    added = {c.name for c in result.plan.changes if c.action == "add"}
    assert added == {"python-slugify", "text-unidecode"}
    # What uv downloads is counted; what the session's uv cache already holds is said.
    from_cache = any("from uv's cache" in m for m in result.plan.messages)
    assert result.plan.download_bytes > 0 or from_cache, result.plan.messages
    # The new package imports with the env's own python, next to the base's packages.
    proc = run_python(
        envs_dir,
        "default",
        "import slugify, jupyter_core, sys; print(slugify.slugify('Hello World'));"
        "print(jupyter_core.__file__); print(sys.prefix)",
    )
    assert proc.returncode == 0, proc.stderr
    slug, core_file, prefix = proc.stdout.split()
    assert slug == "hello-world"
    assert not core_file.startswith(str(envs_dir))  # from the base, not copied
    assert prefix == str(envs_dir / "default")
    # Nothing of the base was installed into the layer.
    assert set(installed(envs_dir, "default")) == {"python-slugify", "text-unidecode"}

    result = svc.change(remove=["python-slugify"])
    assert {(c.name, c.action) for c in result.plan.changes} == {
        ("python-slugify", "remove"),
        ("text-unidecode", "remove"),
    }
    assert installed(envs_dir, "default") == {}
    assert [r.command for r in svc.history()] == [
        "create default --kind layer ipykernel",
        "install python-slugify",
        "remove python-slugify",
    ]


def test_layer_holds_base_versions(svc: UserPkgService, envs_dir: Path) -> None:
    base_six = importlib.metadata.version("six")
    # ecdsa needs six, which the base has: only ecdsa goes into the layer.
    svc.change(install=["ecdsa"])
    assert set(lock_versions(svc, "default")) == {"ecdsa"}
    proc = run_python(envs_dir, "default", "import ecdsa, six; print(six.__version__)")
    assert proc.stdout.strip() == base_six


def test_layer_shadows_base_only_when_named(pinned_svc: UserPkgService, envs_dir: Path) -> None:
    svc = pinned_svc  # its index has six 1.16.0, older than the base's
    base_six = importlib.metadata.version("six")
    assert Version(base_six) > Version("1.16.0")
    result = svc.change(install=["six<1.17"])
    assert [(c.name, c.action) for c in result.plan.changes] == [("six", "add")]
    assert any("shadow" in m for m in result.plan.messages)
    proc = run_python(envs_dir, "default", "import six; print(six.__version__)")
    assert proc.stdout.strip() == "1.16.0"
    # The base itself is untouched.
    assert importlib.metadata.version("six") == base_six
    # Asking for a version the base has drops the shadow.
    svc.change(install=[f"six>={base_six}"])
    assert "six" not in lock_versions(svc, "default")


def test_venv_is_isolated(svc: UserPkgService, envs_dir: Path) -> None:
    result = svc.create("iso", kernel=False, kind="venv", specs=["tabulate"])
    assert result.revision == 0
    assert set(installed(envs_dir, "iso")) == {"tabulate"}
    proc = run_python(envs_dir, "iso", "import jupyter_core")
    assert proc.returncode != 0 and "ModuleNotFoundError" in proc.stderr
    assert run_python(envs_dir, "iso", "import tabulate").returncode == 0


@pytest.mark.parametrize("kind", ["layer", "venv"])
def test_update_moves_only_what_is_named(
    pinned_svc: UserPkgService, envs_dir: Path, kind: str
) -> None:
    svc = pinned_svc
    svc.create("up", kernel=False, kind=kind, specs=["pinpkg<2", "pindep<2"])
    old = lock_versions(svc, "up")
    assert old == {"pinpkg": "1.1", "pindep": "1.0"}
    # Relaxing the specs keeps what is installed (no needless moves).
    result = svc.change("up", install=["pinpkg", "pindep"])
    assert result.plan.changes == ()
    assert lock_versions(svc, "up") == old
    # update NAME moves that package only.
    result = svc.change("up", update=["pinpkg"])
    assert [(c.name, c.new) for c in result.plan.changes] == [("pinpkg", "2.0")]
    assert lock_versions(svc, "up")["pindep"] == old["pindep"]
    # update --all moves the rest.
    result = svc.change("up", update_all=True)
    assert [(c.name, c.new) for c in result.plan.changes] == [("pindep", "2.0")]
    assert installed(envs_dir, "up") == lock_versions(svc, "up")


@pytest.mark.parametrize("kind", ["layer", "venv"])
def test_rollback_restores_packages_and_manifest(
    svc: UserPkgService, envs_dir: Path, kind: str
) -> None:
    svc.create("rb", kernel=False, kind=kind, specs=["tabulate"])
    first = installed(envs_dir, "rb")
    svc.change("rb", install=["python-slugify"])
    svc.change("rb", remove=["tabulate"])
    assert set(installed(envs_dir, "rb")) == {"python-slugify", "text-unidecode"}
    result = svc.rollback(0, "rb")
    assert result.revision == 3
    assert installed(envs_dir, "rb") == first
    assert svc.store.read_manifest("rb").pypi == svc.store.read_manifest("rb", 0).pypi
    assert svc.history("rb")[-1].command == "rollback 0"
    dry = svc.rollback(1, "rb", dry_run=True)
    assert not dry.applied and installed(envs_dir, "rb") == first


@pytest.mark.parametrize("fmt", ["requirements", "environment", "lock"])
@pytest.mark.parametrize("kind", ["layer", "venv"])
def test_export_and_recreate(
    svc: UserPkgService, envs_dir: Path, tmp_path: Path, fmt: str, kind: str
) -> None:
    svc.create("src", kernel=False, kind=kind, specs=["python-slugify", "tabulate<0.10"])
    text = svc.export("src", fmt)
    suffix = {
        "requirements": "requirements.txt",
        "environment": "environment.yml",
        "lock": "pylock.toml",
    }[fmt]
    path = tmp_path / suffix
    path.write_text(text)
    kwargs = {"python": None} if kind == "layer" or fmt != "environment" else {}
    svc.create("copy", kernel=False, kind=kind, from_file=str(path), **kwargs)  # type: ignore[arg-type]
    assert installed(envs_dir, "copy") == installed(envs_dir, "src")
    assert lock_versions(svc, "copy") == lock_versions(svc, "src")
    if fmt == "lock":  # the lock carries what was asked for, not only what is installed
        assert svc.store.read_manifest("copy").pypi == svc.store.read_manifest("src").pypi


def test_environment_export_names_python(svc: UserPkgService) -> None:
    svc.create("e", kernel=False, kind="venv", specs=["tabulate"])
    text = svc.export("e", "environment")
    assert f"python={sys.version_info.major}.{sys.version_info.minor}" in text
    assert "- tabulate==" in text


def test_delete_removes_env(svc: UserPkgService, envs_dir: Path) -> None:
    svc.create("gone", kernel=False, kind="venv")
    svc.delete("gone")
    assert not (envs_dir / "gone").exists()
    assert svc.list_envs() == []


def test_lock_keeps_its_kind_and_is_installed_exactly(
    svc: UserPkgService, envs_dir: Path, tmp_path: Path
) -> None:
    svc.create("src", kernel=False, kind="venv", specs=["tabulate<0.10"])
    lock = tmp_path / "pylock.toml"
    lock.write_text(svc.export("src", "lock"))
    with pytest.raises(InvalidRequest, match="installed exactly as it is"):
        svc.create("copy", from_file=str(lock), specs=["six"])
    assert not (envs_dir / "copy").exists()
    svc.create("copy", kernel=False, from_file=str(lock))
    assert svc.env_info("copy").kind == "venv"
    assert installed(envs_dir, "copy") == installed(envs_dir, "src")


def test_declined_plan_changes_nothing(svc: UserPkgService, envs_dir: Path) -> None:
    svc.create("d", kernel=False, kind="venv")
    seen = []

    def decline(plan: Plan) -> bool:
        seen.append([c.name for c in plan.changes])
        return False

    with pytest.raises(Declined):
        svc.change("d", install=["tabulate"], confirm=decline)
    assert seen == [["tabulate"]]
    assert installed(envs_dir, "d") == {}
    assert [r.revision for r in svc.history("d")] == [0]


def test_removing_a_shadow_returns_to_the_base(svc: UserPkgService, envs_dir: Path) -> None:
    base_six = importlib.metadata.version("six")
    svc.change(install=["six<1.17", "ecdsa"])  # ecdsa needs six: the shadow serves it
    assert set(lock_versions(svc, "default")) == {"six", "ecdsa"}
    svc.change(remove=["six"])
    assert set(lock_versions(svc, "default")) == {"ecdsa"}
    proc = run_python(envs_dir, "default", "import six; print(six.__version__)")
    assert proc.stdout.strip() == base_six


def test_a_version_the_server_runs_names_its_interpreter(svc: UserPkgService) -> None:
    """A notebook's or a lock's "3.11" on a 3.11 server is made with the server's own
    interpreter (uv then looks for no Python); another version stays uv's to find."""
    from jupyter_userpkg.core.kinds.venv import _interpreter

    own = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert _interpreter(svc.ctx, own) == svc.ctx.base_python
    assert _interpreter(svc.ctx, None) == svc.ctx.base_python
    assert _interpreter(svc.ctx, "3.99") == "3.99"
