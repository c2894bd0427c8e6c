"""Failure paths of a change: what must hold when things go wrong mid-way."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from jupyter_userpkg.core.errors import (
    EnvExists,
    EnvNotFound,
    InvalidRequest,
    InvalidSpec,
    PackageNotFound,
    TransactionFailed,
)
from jupyter_userpkg.core.proc import run
from jupyter_userpkg.core.pypi.uv import uv_bin
from jupyter_userpkg.core.service import UserPkgService
from jupyter_userpkg.core.store import EnvStore
from jupyter_userpkg.core.transaction import Transaction
from tests.conftest import env_state, installed, run_python


def _uv_install(envs_dir: Path, env: str, spec: str) -> None:
    py = envs_dir / env / "bin" / "python"
    subprocess.run([uv_bin(), "pip", "install", "-q", "--python", str(py), spec], check=True)


@pytest.mark.slow
def test_failed_change_keeps_packages_installed_by_other_means(
    svc: UserPkgService, envs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc.create("d", kernel=False, kind="venv", specs=["tabulate"])
    _uv_install(envs_dir, "d", "six")  # e.g. `%pip install` into the env
    plan = svc.change("d", install=["text-unidecode"], dry_run=True).plan
    assert any("six" in m and "will be removed" in m for m in plan.messages)
    before = env_state(envs_dir, "d")

    def disk_full(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(EnvStore, "commit", disk_full)
    with pytest.raises(TransactionFailed, match="failed and was undone"):
        svc.change("d", install=["text-unidecode"])
    assert env_state(envs_dir, "d") == before
    assert run_python(envs_dir, "d", "import six, tabulate").returncode == 0


@pytest.mark.slow
def test_interrupt_after_the_commit_point_keeps_the_change(
    svc: UserPkgService, envs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc.create("c", kernel=False, kind="venv")
    commit = EnvStore.commit

    def commit_then_interrupt(self: EnvStore, *args: Any, **kwargs: Any) -> None:
        commit(self, *args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(EnvStore, "commit", commit_then_interrupt)
    result = svc.change("c", install=["tabulate"])
    assert result.applied and result.revision == 1
    monkeypatch.undo()
    assert set(installed(envs_dir, "c")) == {"tabulate"}
    assert svc.doctor("c")[0]["ok"]


def _fake_dist(site: Path, name: str, files: dict[str, str]) -> None:
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    for rel, text in files.items():
        path = site / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    records = [*files, f"{info.name}/METADATA", f"{info.name}/RECORD"]
    (info / "RECORD").write_text("".join(f"{r},,\n" for r in records))


def _tree(prefix: Path) -> dict[str, str]:
    out = {}
    for path in sorted(prefix.rglob("*")):
        rel = str(path.relative_to(prefix))
        if rel.startswith(".userpkg"):
            continue
        out[rel] = "dir" if path.is_dir() else path.read_text()
    return out


def test_roll_back_restores_files_that_became_directories(tmp_path: Path) -> None:
    prefix = tmp_path / "env"
    site = prefix / "lib" / "python3.11" / "site-packages"
    _fake_dist(site, "pkg", {"pkg/__init__.py": "x = 1\n", "pkg/data": "old data\n"})
    _fake_dist(site, "other", {"other.py": "y = 2\n"})
    before = _tree(prefix)
    txn = Transaction(prefix)
    txn.begin(1, ["pkg"], {})
    # What an upgrade might do: delete the old files, make data a directory.
    for path in (site / "pkg" / "__init__.py", site / "pkg" / "data"):
        path.unlink()
    (site / "pkg" / "data").mkdir()
    (site / "pkg" / "data" / "new.txt").write_text("new\n")
    (site / "pkg-2.0.dist-info").mkdir()
    txn.roll_back()
    assert _tree(prefix) == before
    txn.roll_back()  # a second recovery (after a crash in the first) changes nothing
    assert _tree(prefix) == before
    txn.finish()
    assert not txn.active


def test_run_stops_the_child_when_the_caller_gives_up(tmp_path: Path) -> None:
    marker = tmp_path / "written-late"
    code = (
        "import os, sys, time; print(os.getpid(), file=sys.stderr, flush=True); "
        f"time.sleep(1.5); open({str(marker)!r}, 'w').close()"
    )
    seen: list[int] = []

    def cancel(line: str) -> None:
        seen.append(int(line))
        raise RuntimeError("job cancelled")

    with pytest.raises(RuntimeError):
        run([sys.executable, "-c", code], on_line=cancel)
    # The child is gone (stopped and reaped) when run() gives up: it can write nothing more.
    with pytest.raises(ProcessLookupError):
        os.kill(seen[0], 0)
    assert not marker.exists()


def test_directories_that_are_not_envs_are_left_alone(svc: UserPkgService, envs_dir: Path) -> None:
    own = envs_dir / "projects"
    own.mkdir(parents=True)
    (own / "thesis.tex").write_text("months of work")
    (envs_dir / "lost+found").mkdir()
    (envs_dir / "notes.txt").write_text("a stray file")
    with pytest.raises(EnvNotFound):
        svc.delete("projects")
    with pytest.raises(EnvExists, match="is not an environment"):
        svc.create("projects", kernel=False, kind="venv")
    assert (own / "thesis.tex").read_text() == "months of work"
    assert svc.list_envs() == []
    assert svc.doctor() == []


@pytest.mark.slow
def test_interrupted_create_is_swept(svc: UserPkgService, envs_dir: Path) -> None:
    svc.create("keep", kernel=False, kind="venv")
    # What a create killed mid-way leaves: its marker and a half-made prefix.
    marker = svc.store.creating_marker("half")
    marker.touch()
    (envs_dir / "half" / "bin").mkdir(parents=True)
    assert [e.name for e in svc.list_envs()] == ["keep"]
    svc.doctor()
    assert not (envs_dir / "half").exists() and not marker.exists()
    svc.create("half", kernel=False, kind="venv")  # the name is free again
    assert [e.name for e in svc.list_envs()] == ["half", "keep"]


def _lock_with(tmp_path: Path, svc: UserPkgService, entry: str) -> Path:
    svc.create("src", kernel=False, kind="venv", specs=["tabulate"])
    text = svc.export("src", "lock").replace('tabulate = "*"', entry)
    path = tmp_path / "pylock.toml"
    path.write_text(text)
    return path


@pytest.mark.slow
@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('tabulate = { version = "@ https://example.invalid/evil.whl" }', "direct URL"),
        ('six = "*"', "not among the lock's packages"),
        ('tabulate = { version = ">>1" }', "not a valid requirement"),
    ],
)
def test_tampered_lock_is_refused(
    svc: UserPkgService, envs_dir: Path, tmp_path: Path, entry: str, message: str
) -> None:
    path = _lock_with(tmp_path, svc, entry)
    with pytest.raises(InvalidSpec, match=message):
        svc.create("copy", kernel=False, from_file=str(path))
    assert not (envs_dir / "copy").exists()


@pytest.mark.slow
def test_update_of_a_base_package_says_how(svc: UserPkgService) -> None:
    with pytest.raises(InvalidRequest, match="comes from the base environment"):
        svc.change(update=["six"])
    assert not svc.store.exists("default")


@pytest.mark.slow
def test_layer_over_a_locally_built_base(tmp_path: Path) -> None:
    """A base whose six is a local build (1.17.0+local) still satisfies six==1.17.0."""
    base = tmp_path / "base"
    subprocess.run([uv_bin(), "venv", "-q", "--python", sys.executable, str(base)], check=True)
    site = next((base / "lib").glob("python*/site-packages"))
    info = site / "six-1.17.0+local.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: six\nVersion: 1.17.0+local\n")
    (site / "six.py").write_text("__version__ = '1.17.0+local'\n")
    svc = UserPkgService(
        tmp_path / "envs", base_python=str(base / "bin" / "python"), kernels_dir=tmp_path / "k"
    )
    result = svc.change(install=["ecdsa"])  # needs six
    assert [c.name for c in result.plan.changes] == ["ecdsa"]
    # The same version an isolated env gets: the base pin did not force an old one.
    reference = svc.create("ref", kernel=False, kind="venv", specs=["ecdsa"]).plan.changes
    assert result.plan.changes[0].new == next(c.new for c in reference if c.name == "ecdsa")
    proc = run_python(tmp_path / "envs", "default", "import six; print(six.__version__)")
    assert proc.stdout.strip() == "1.17.0+local"
    assert os.path.exists(site / "six.py")


@pytest.mark.slow
def test_a_failed_first_change_leaves_no_default_env(svc: UserPkgService, envs_dir: Path) -> None:
    with pytest.raises(PackageNotFound):
        svc.change(install=["no-such-package-userpkg-test-xyz"])
    assert not svc.store.exists("default") and not (envs_dir / "default").exists()
    # Naming the default env explicitly works before it exists, as leaving it out does.
    assert svc.change("default", install=["tabulate"]).revision == 1


def test_doctor_reports_a_broken_env(svc: UserPkgService, envs_dir: Path) -> None:
    svc.create("ok", kernel=False, kind="venv")
    svc.create("hurt", kernel=False, kind="venv")
    (svc.store.revisions_dir("hurt") / "0" / "pylock.toml").unlink()
    assert {e.name: e.kind for e in svc.list_envs()} == {"hurt": "broken", "ok": "venv"}
    reports = {r["env"]: r for r in svc.doctor()}
    assert reports["ok"]["ok"] and not reports["hurt"]["ok"]
    assert "missing pylock.toml" in reports["hurt"]["problems"][0]


@pytest.mark.slow
def test_install_falls_back_to_the_locks_urls_when_the_index_lags(
    svc: UserPkgService, envs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A release the solve saw but the index page served next does not list yet
    (a CDN still spreading it) is installed from the lock's own URLs and hashes.
    The lag itself cannot be made to happen on demand, so the index answer is faked."""
    from jupyter_userpkg.core.proc import ProcResult
    from jupyter_userpkg.core.pypi import uv as uvbackend

    svc.create("lag", kind="venv", kernel=False)
    real_run = uvbackend.run

    def lagging_index(args: Any, **kwargs: Any) -> ProcResult:
        result = real_run(args, **kwargs)
        if any(str(a).endswith("requirements.txt") for a in args) and "sync" in args:
            return ProcResult(result.args, 2, "", "Because there is no version of tabulate==0.10.0")
        return result

    monkeypatch.setattr(uvbackend, "run", lagging_index)
    result = svc.change("lag", install=["tabulate==0.10.0"])
    assert result.applied
    assert installed(envs_dir, "lag") == {"tabulate": "0.10.0"}
