"""A listing kept between calls (the server's) shows every change another process made.

The other process is real (a ``python`` subprocess committing through the store, as
the CLI's commit does), and each change comes right after a listing that read the
env, within the same tick of the file system's clock as often as not.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from jupyter_userpkg.core import kernels, shared
from jupyter_userpkg.core.service import UserPkgService

ROOT = Path(__file__).resolve().parents[2]

MANIFEST = '[env]\nname = "{name}"\nkind = "{kind}"\npython = "3.11"\n'
PACKAGE = '[[packages]]\nname = "p{i}"\nversion = "1.0"\n'

COMMIT = """
import sys
from pathlib import Path
from jupyter_userpkg.core.records import RevisionRecord
from jupyter_userpkg.core.store import EnvStore
from tests.core.test_listing import MANIFEST, PACKAGE
envs, name, kind, revision, count = sys.argv[1:]
manifest = MANIFEST.format(name=name, kind=kind)
lock = 'lock-version = "1.0"\\n' + "".join(PACKAGE.format(i=i) for i in range(int(count)))
record = RevisionRecord(int(revision), "now", "change " + name, ())
EnvStore(Path(envs)).commit(name, manifest, lock, record)
"""


def commit_elsewhere(
    envs: Path, name: str, revision: int, packages: int, kind: str = "venv"
) -> None:
    """Commit a revision of ``name`` from another process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-c", COMMIT, str(envs), name, kind, str(revision), str(packages)]
    subprocess.run(argv, check=True, env=env, cwd=ROOT)


def listed(svc: UserPkgService) -> dict[str, tuple[str, int, int, str | None]]:
    return {e.name: (e.kind, e.revision, e.packages, e.kernel) for e in svc.list_envs()}


def test_each_change_from_another_process_shows_in_the_next_listing(tmp_path: Path) -> None:
    envs, kernels_dir = tmp_path / "envs", tmp_path / "kernels"
    svc = UserPkgService(envs, kernels_dir=kernels_dir)
    commit_elsewhere(envs, "a", 0, 1)
    commit_elsewhere(envs, "b", 0, 2)
    assert listed(svc) == {"a": ("venv", 0, 1, None), "b": ("venv", 0, 2, None)}

    commit_elsewhere(envs, "a", 1, 3)  # a new revision
    assert listed(svc)["a"] == ("venv", 1, 3, None)

    spec = {
        "argv": ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (b)",
        "language": "python",
        "metadata": {"userpkg": {"env": "b", "envs_dir": str(envs)}},
    }
    made = kernels.KernelFiles(kernels.kernel_name("b"), spec)
    kernels.sync(kernels_dir, "b", envs, [made])  # as create writes a kernelspec
    assert listed(svc)["b"] == ("venv", 0, 2, "userpkg-b")  # a kernelspec came
    kernels.remove(kernels_dir, "b", envs)
    assert listed(svc)["b"] == ("venv", 0, 2, None)  # and went

    shutil.rmtree(envs / "b")  # deleted, and made again at the same revision
    commit_elsewhere(envs, "b", 0, 5, kind="layer")
    assert listed(svc)["b"] == ("layer", 0, 5, None)

    shutil.rmtree(envs / "a")
    assert list(listed(svc)) == ["b"]


def test_a_listing_is_the_same_list_until_something_changes(tmp_path: Path) -> None:
    """The server keeps the JSON of a listing for as long as it is the same list."""
    envs = tmp_path / "envs"
    svc = UserPkgService(envs, kernels_dir=tmp_path / "kernels")
    commit_elsewhere(envs, "a", 0, 1)
    first = svc.list_envs()
    assert svc.list_envs() is first
    commit_elsewhere(envs, "a", 1, 2)
    second = svc.list_envs()
    assert second is not first and second[0].revision == 1
    assert svc.list_envs() is second


def test_a_damaged_env_is_broken_and_read_again_once_repaired(tmp_path: Path) -> None:
    envs = tmp_path / "envs"
    svc = UserPkgService(envs, kernels_dir=tmp_path / "kernels")
    commit_elsewhere(envs, "a", 0, 1)
    revision = svc.store.revisions_dir("a") / "0"
    manifest = (revision / "manifest.toml").read_text()
    (revision / "summary.json").unlink()
    (revision / "manifest.toml").write_text("not toml [")
    assert listed(svc)["a"] == ("broken", -1, 0, None)
    (revision / "manifest.toml").write_text(manifest)
    assert listed(svc)["a"] == ("venv", 0, 1, None)


def test_a_listing_with_shared_envs_is_the_same_list_until_something_changes(
    tmp_path: Path,
) -> None:
    """Where an administrator shares envs the listing is kept too: the same list (and so
    the server's kept JSON) while neither the user's envs nor the shared ones changed."""
    envs, shared_dir = tmp_path / "envs", tmp_path / "shared"
    svc = UserPkgService(
        envs, kernels_dir=tmp_path / "kernels", shared_envs=shared.Shared((shared_dir,))
    )
    commit_elsewhere(envs, "a", 0, 1)
    commit_elsewhere(shared_dir, "team", 0, 3)
    first = svc.list_envs()
    assert [(e.name, e.shared) for e in first] == [("a", False), ("team", True)]
    assert svc.list_envs() is first
    commit_elsewhere(shared_dir, "team", 1, 4)  # the administrator's change shows
    second = svc.list_envs()
    assert second is not first and second[1].revision == 1 and second[1].shared
    assert svc.list_envs() is second
    commit_elsewhere(envs, "a", 1, 2)  # and the user's
    third = svc.list_envs()
    assert third is not second and third[0].revision == 1
    assert svc.list_envs() is third
