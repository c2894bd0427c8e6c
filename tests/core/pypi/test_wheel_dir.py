"""The administrator's wheel directory costs a user one copy of each wheel, not two.

A real uv solves and installs from a local index that serves the same wheel files as
the wheel directory (``find_links``), as a PyPI mirror and the administrator's shared
wheels do on a hub.  Disk is counted by inode: a file hard-linked several times once.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from jupyter_userpkg.core.options import UvOptions
from jupyter_userpkg.core.pypi.uv import _pinned_requirements
from jupyter_userpkg.core.service import UserPkgService
from tests.conftest import run_python
from tests.localindex import LocalIndex, build_wheel

#: Incompressible bytes in the wheel, so that each copy of it shows in the count.
PADDING = 2_000_000


def padding_inodes(*roots: Path) -> set[tuple[int, int]]:
    """The distinct files (inodes) holding the wheel's payload under ``roots``."""
    found = set()
    for root in roots:
        for top, _, files in os.walk(root):
            if "padding.bin" in files:
                info = os.lstat(os.path.join(top, "padding.bin"))
                found.add((info.st_dev, info.st_ino))
    return found


@pytest.mark.slow
def test_a_wheel_of_the_wheel_dir_is_unpacked_once_and_hard_linked(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    build_wheel(wheels, "bigpkg", "1.0", padding=PADDING)
    wheels.chmod(0o555)  # the administrator's, read-only to users
    cache = tmp_path / "cache"
    with LocalIndex(wheels, json=True) as index:
        svc = UserPkgService(
            tmp_path / "envs",
            kernels_dir=tmp_path / "kernels",
            uv_options=UvOptions(
                default_index=index.url, find_links=(str(wheels),), cache_dir=str(cache)
            ),
        )
        svc.create("one", kind="venv", kernel=False, specs=["bigpkg"])
        svc.create("two", kind="venv", kernel=False, specs=["bigpkg"])
        downloads = [p for p in index.requests if p.endswith(".whl")]
    for env in ("one", "two"):
        out = run_python(svc.store.envs_dir, env, "import bigpkg; print(bigpkg.VERSION)")
        assert out.stdout.strip() == "1.0", out.stderr
    # the user's cache and both envs hold the wheel's payload in one file
    assert len(padding_inodes(cache, tmp_path / "envs")) == 1
    assert downloads == []  # taken from the wheel dir, not fetched again from the index


def lock_of(wheel: Path, digest: str) -> str:
    return (
        '[[packages]]\nname = "bigpkg"\nversion = "1.0"\nwheels = [\n'
        f'  {{ url = "{wheel.as_uri()}", hashes = {{ sha256 = "{digest}" }} }},\n]\n'
    )


def test_a_wheel_dir_file_that_matches_the_lock_goes_without_its_hash(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    wheel = build_wheel(wheels, "bigpkg", "1.0")
    lock = lock_of(wheel, hashlib.sha256(wheel.read_bytes()).hexdigest())
    assert _pinned_requirements(lock, (str(wheels),)) == (["bigpkg==1.0"], False)
    assert _pinned_requirements(lock, (wheels.as_uri(),)) == (["bigpkg==1.0"], False)


def test_a_wheel_dir_file_that_differs_from_the_lock_keeps_its_hash(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    wheel = build_wheel(wheels, "bigpkg", "1.0")
    lock = lock_of(wheel, "0" * 64)
    lines, hashed = _pinned_requirements(lock, (str(wheels),))
    assert lines == [f"bigpkg==1.0 --hash=sha256:{'0' * 64}"] and hashed
    # and a wheel outside the configured dirs is not taken either
    good = lock_of(wheel, hashlib.sha256(wheel.read_bytes()).hexdigest())
    assert _pinned_requirements(good, (str(tmp_path / "elsewhere"),))[1]
