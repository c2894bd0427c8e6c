"""An upstream PyPI index and conda channel the tests build, a policy with a blocked
package, a blocked version (by advisory), a refused licence and a snapshot date, and
two users' envs made by the real service."""

from __future__ import annotations

import functools
import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from jupyter_userpkg.core.options import CondaOptions, UvOptions
from jupyter_userpkg.core.service import UserPkgService
from tests.conda_channel import TestChannel, build_package, build_test_channel, index_channel
from tests.localindex import LocalIndex, build_wheel

OLD = datetime(2025, 1, 1, tzinfo=UTC).timestamp()
NEW = datetime(2026, 6, 1, tzinfo=UTC).timestamp()
SNAPSHOT = "2026-01-01T00:00:00Z"

POLICY = {
    "blocked_packages": [{"name": "evil", "reason": "known malicious"}],
    "blocked_versions": [
        {"name": "libdep", "versions": "==2.0", "reason": "remote code execution",
         "advisory": "GHSA-test-0001"},
    ],
    "allowed_licenses": ["MIT", "BSD-3-Clause"],
    "snapshot": SNAPSHOT,
}  # fmt: skip


def build_upstream(wheels: Path) -> None:
    """app 1.0..3.0 (needs libdep), libdep 1.0/1.1/2.0 (2.0 blocked by advisory), evil
    (blocked by name), gplpkg (a refused licence), fresh 2.0 (after the snapshot),
    userlib 1.0/2.0 and extra (which only an old lock holds)."""
    mit = {"license_expression": "MIT", "uploaded": OLD}
    for v in ("1.0", "2.0", "3.0"):
        build_wheel(wheels, "app", v, requires=["libdep>=1.0"], **mit)  # type: ignore[arg-type]
    for v in ("1.0", "1.1", "2.0"):
        build_wheel(wheels, "libdep", v, **mit)  # type: ignore[arg-type]
    build_wheel(wheels, "evil", "1.0", **mit)  # type: ignore[arg-type]
    build_wheel(wheels, "gplpkg", "1.0", license_expression="GPL-3.0-only", uploaded=OLD)
    build_wheel(wheels, "fresh", "1.0", **mit)  # type: ignore[arg-type]
    build_wheel(wheels, "fresh", "2.0", license_expression="MIT", uploaded=NEW)
    for v in ("1.0", "2.0"):
        build_wheel(wheels, "userlib", v, **mit)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalIndex]:
    wheels = tmp_path_factory.mktemp("upstream-wheels")
    build_upstream(wheels)
    with LocalIndex(wheels, json=True, etags=True) as index:
        yield index


def patch_repodata(channel: Path) -> None:
    """A hotfix the upstream applied to its repodata (no package file changed): bar 2.0
    gains a dependency on barhelp.  A mirror that re-indexed the files would lose it."""
    path = channel / "noarch" / "repodata.json"
    data = json.loads(path.read_text())
    for rec in data["packages"].values():
        if rec["name"] == "bar" and rec["version"] == "2.0":
            rec["depends"] = [*rec["depends"], "barhelp"]
    path.write_text(json.dumps(data))


@pytest.fixture(scope="module")
def channel(tmp_path_factory: pytest.TempPathFactory) -> TestChannel:
    ch = build_test_channel(tmp_path_factory.mktemp("upstream-conda"))
    build_package(ch.path, "gplthing", "1.0", noarch="generic", license="GPL-3.0-only")
    build_package(ch.path, "barhelp", "1.0", noarch="generic")
    index_channel(ch.path)
    patch_repodata(ch.path)
    return ch


@dataclass
class Site:
    """A mirror's inputs: config file, policy file, seeds and users' envs dirs."""

    root: Path
    config: Path
    policy: Path
    homes: Path

    def write_policy(self, **changes: object) -> None:
        self.policy.write_text(json.dumps({**POLICY, **changes}))

    def envs_dir(self, user: str) -> Path:
        return self.homes / user / "envs"


def make_site(root: Path, index: LocalIndex, channel: TestChannel | None, **extra: str) -> Site:
    homes = root / "home"
    policy = root / "policy.json"
    root.mkdir(parents=True, exist_ok=True)
    approved = root / "approved.txt"
    approved.write_text("app\nevil\ngplpkg\n")
    env_yml = root / "environment.yml"
    env_yml.write_text("name: x\ndependencies:\n  - bar\n  - gplthing\n")
    conda = ""
    if channel is not None:
        conda = f'[conda]\nchannels = ["{channel.url}"]\nsubdirs = ["linux-64", "noarch"]\n'
    config = root / "mirror.toml"
    config.write_text(
        f'output = "{root / "out"}"\npolicy = "{policy}"\ngrace_days = 14\n'
        f'[pypi]\nupstream = "{index.url}"\npython = ["3.11", "3.12"]\nplatforms = ["linux"]\n'
        "keep_latest = 2\n" + (conda if channel else "") + "[seed]\n"
        f'requirements = ["{approved}"]\n'
        + (f'environments = ["{env_yml}"]\n' if channel else "")
        + f'envs = ["{homes}/*/envs"]\n'
        + extra.get("tail", "")
    )
    site = Site(root, config, policy, homes)
    site.write_policy()
    return site


def make_env(
    site: Site, user: str, name: str, specs: list[str], index: LocalIndex, owner: int
) -> None:
    """A user's venv env, made by the service as the user's server makes it; its dir
    then belongs to ``owner`` (a uid standing for that user)."""
    envs = site.envs_dir(user)
    svc = UserPkgService(
        envs,
        base_python=sys.executable,
        lock_timeout=60,
        kernels_dir=envs.parent / "kernels",
        conda_options=CondaOptions(default_channels=()),
        uv_options=UvOptions(default_index=index.url),
    )
    svc.create(name, kind="venv", specs=specs, kernel=False, audit=False)
    os.chown(envs / name, owner, -1)


@contextmanager
def served(directory: Path) -> Iterator[str]:
    """``directory`` served as static files on loopback (as ``python -m http.server``)."""
    handler = functools.partial(_Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def uv(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    from jupyter_userpkg.core.pypi.uv import uv_bin

    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PIP_"))}
    return subprocess.run(
        [uv_bin(), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300
    )


@pytest.fixture
def site(tmp_path: Path, upstream: LocalIndex, channel: TestChannel) -> Site:
    """Seeds, the policy, and two users' envs: daemon's ``analysis`` (app 2.0, made
    before libdep 2.0 was blocked, so it runs libdep 2.0) and bin's ``old`` (userlib
    1.0 and libdep 1.0)."""
    s = make_site(tmp_path / "site", upstream, channel)
    make_env(s, "alice", "analysis", ["app==2.0"], upstream, 1)
    make_env(s, "bob", "old", ["userlib==1.0", "libdep==1.0"], upstream, 2)
    return s
