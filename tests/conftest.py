"""Shared fixtures: an isolated envs dir, the service over it, and the real CLI.

The session starts clean: package-manager settings of the developer's shell
(``UV_*``, ``PIP_*``, ``CONDA_*``) are dropped, ``XDG_CACHE_HOME``
(hence uv's default cache and the project's default caches) and the Jupyter
config, data and runtime dirs point at session temp dirs, and
``JUPYTER_CONFIG_PATH`` is cleared.  Subprocesses started by tests inherit that.
What no variable can move, the administrator's config dirs (the environment's
and the system's), must hold no settings of this project: the session stops,
saying which file, if one does.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from jupyter_userpkg.core.options import CondaOptions, UvOptions
from jupyter_userpkg.core.service import UserPkgService
from jupyter_userpkg.core.transaction import walk_tree
from tests.adminfiles import admin_files
from tests.conda_channel import TestChannel, build_package, build_test_channel, index_channel
from tests.localindex import LocalIndex, build_wheel

pytest_plugins = ["pytest_jupyter.jupyter_server"]

INHERITED = ("UV_", "PIP_", "CONDA_")
DROPPED = (
    "XDG_CACHE_HOME",
    "JUPYTER_CONFIG_PATH",
    "JUPYTER_PREFER_ENV_PATH",
)


def pytest_configure(config: pytest.Config) -> None:
    """Nothing of the developer's package-manager or Jupyter settings reaches the tests.

    A run started in the background by a shell without job control inherits SIGINT
    ignored, and so would every process it starts: the tests of Ctrl-C need it back
    (a Python handler, unlike an ignored signal, does not pass to the children).
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    for key in list(os.environ):
        if key.startswith(INHERITED) or key in DROPPED:
            del os.environ[key]
    from jupyter_userpkg.core.policy.admintrust import admin_dirs

    for directory in admin_dirs():
        for name in (
            "jupyter_userpkg_policy.json",
            "jupyter_userpkg_config.json",
            "jupyter_userpkg_config.py",
        ):
            if (Path(directory) / name).exists():
                pytest.exit(
                    f"{Path(directory) / name} is an administrator's setting of jupyter-userpkg "
                    "that every test would see: move it away while the tests run",
                    returncode=4,
                )


@pytest.fixture(scope="session", autouse=True)
def isolated_jupyter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The user's Jupyter config, data and runtime dirs: the session's own (empty) ones."""
    root = tmp_path_factory.mktemp("jupyter-home")
    names = ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR")
    previous = {name: os.environ.get(name) for name in names}
    for name in names:
        os.environ[name] = str(root / name.lower())
    yield root
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session", autouse=True)
def isolated_caches(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """uv's default cache and the project's default caches: the session's own."""
    cache = tmp_path_factory.mktemp("xdg-cache")
    previous = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(cache)
    yield cache
    if previous is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = previous


@pytest.fixture(scope="session")
def pin_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalIndex]:
    """A loopback index of packages in known versions, for tests that need particular ones.

    ``pinpkg`` 1.0, 1.1 and 2.0 (each needs ``pindep>=1.0``), ``pindep`` 1.0 and 2.0,
    and ``six`` 1.16.0 (older than the base's six, so a layer can shadow it) and in
    the base's version (asking for it drops the shadow).
    """
    wheels = tmp_path_factory.mktemp("pin-wheels")
    for version in ("1.0", "1.1", "2.0"):
        build_wheel(wheels, "pinpkg", version, requires=["pindep>=1.0"])
    for version in ("1.0", "2.0"):
        build_wheel(wheels, "pindep", version)
    for version in {"1.16.0", importlib.metadata.version("six")}:
        build_wheel(wheels, "six", version)
    with LocalIndex(wheels) as index:
        yield index


@pytest.fixture
def pinned_svc(
    envs_dir: Path, conda_options: CondaOptions, pin_index: LocalIndex
) -> UserPkgService:
    """``svc`` whose only package index is ``pin_index``."""
    return UserPkgService(
        envs_dir,
        base_python=sys.executable,
        lock_timeout=600,
        kernels_dir=envs_dir.parent / "kernels",
        conda_options=conda_options,
        uv_options=UvOptions(default_index=pin_index.url),
    )


@pytest.fixture
def admin_policy() -> Iterator[Callable[..., Path]]:
    """Write the administrator's policy (and ``UserPkg`` settings) where real
    subprocesses read them: ``admin_policy({"max_envs": 3}, settings={...})``."""
    with contextlib.ExitStack() as stack:

        def write(
            policy: dict[str, Any] | None = None, settings: dict[str, Any] | None = None
        ) -> Path:
            return stack.enter_context(admin_files(policy, settings))

        yield write


@pytest.fixture
def envs_dir(tmp_path: Path) -> Path:
    return tmp_path / "envs"


@pytest.fixture(scope="session")
def conda_caches(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One package cache and repodata cache for the session, as one user would have."""
    return tmp_path_factory.mktemp("conda-caches")


def six_files(version: str) -> dict[str, bytes | str]:
    """A conda build of ``six`` (also on PyPI, so the PyPI layer must respect it)."""
    info = f"site-packages/six-{version}.dist-info"
    return {
        "site-packages/six.py": f'__version__ = "{version}"\n',
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: six\nVersion: {version}\n",
        f"{info}/INSTALLER": "conda\n",
        f"{info}/RECORD": "",
    }


def add_extras(channel: TestChannel) -> None:
    """Packages some tests need beyond the standard channel."""
    build_package(
        channel.path,
        "six",
        "1.16.0",
        build="py_0",
        noarch="python",
        depends=["python >=3.8"],
        files=six_files("1.16.0"),
    )
    index_channel(channel.path)


@pytest.fixture(scope="session")
def conda_channel(tmp_path_factory: pytest.TempPathFactory) -> TestChannel:
    channel = build_test_channel(tmp_path_factory.mktemp("conda-channel"))
    add_extras(channel)
    return channel


@pytest.fixture
def conda_options(conda_caches: Path) -> CondaOptions:
    return CondaOptions(
        pkgs_dir=str(conda_caches / "pkgs"),
        repodata_cache_dir=str(conda_caches / "repodata"),
        default_channels=(),
    )


@pytest.fixture
def svc(envs_dir: Path, conda_options: CondaOptions) -> UserPkgService:
    return UserPkgService(
        envs_dir,
        base_python=sys.executable,
        lock_timeout=600,
        kernels_dir=envs_dir.parent / "kernels",
        conda_options=conda_options,
    )


@dataclass
class CLI:
    envs_dir: Path
    home: Path

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            JUPYTER_USERPKG_ENVS_DIR=str(self.envs_dir),
            JUPYTER_CONFIG_DIR=str(self.home / "config"),
            JUPYTER_DATA_DIR=str(self.home / "data"),
            PYTHONDONTWRITEBYTECODE="1",
        )
        return env

    def configure(self, **settings: Any) -> None:
        """Add ``UserPkg`` settings to this CLI's ``jupyter_userpkg_config.json``."""
        path = self.home / "config" / "jupyter_userpkg_config.json"
        config = json.loads(path.read_text())
        config["UserPkg"].update(settings)
        path.write_text(json.dumps(config))

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "jupyter_userpkg", *args]

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            self.argv(*args), env=self.env(), capture_output=True, text=True, timeout=600
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"{args} failed ({proc.returncode}):\n{proc.stderr}")
        return proc

    def json(self, *args: str) -> object:
        return json.loads(self(*args, "--json").stdout)

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.argv(*args),
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


@pytest.fixture
def cli(envs_dir: Path, tmp_path: Path, conda_caches: Path) -> CLI:
    home = tmp_path / "home"
    config = home / "config"
    config.mkdir(parents=True)
    settings = {
        "conda_pkgs_dir": str(conda_caches / "pkgs"),
        "repodata_cache_dir": str(conda_caches / "repodata"),
        "search_cache_dir": str(conda_caches / "search"),  # PyPI's list: fetched once a session
    }
    (config / "jupyter_userpkg_config.json").write_text(json.dumps({"UserPkg": settings}))
    return CLI(envs_dir, home)


def env_state(envs_dir: Path, name: str) -> dict[str, str]:
    """Fingerprint of everything a change may touch: metadata and installed files.

    Paths map to a hash of their content (symlinks to their target), so any
    difference at all in the env or its manifest, lock and history shows.
    """
    prefix = envs_dir / name
    out: dict[str, str] = {}
    for rel, is_dir in walk_tree(prefix):
        path = prefix / rel
        if is_dir:
            out[rel] = "dir"
        elif path.is_symlink():
            out[rel] = "-> " + os.readlink(path)
        else:
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    meta = prefix / ".userpkg" / "revisions"
    for path in sorted(meta.rglob("*")) if meta.exists() else []:
        if path.is_file():
            out[str(path.relative_to(prefix))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def installed(envs_dir: Path, name: str) -> dict[str, str]:
    """name -> version of the distributions installed in the env itself."""
    code = (
        "import importlib.metadata as m, json, sysconfig;"
        "p=[sysconfig.get_paths()['purelib']];"
        "print(json.dumps({d.metadata['Name'].lower().replace('_','-'): d.version "
        "for d in m.distributions(path=p)}))"
    )
    py = envs_dir / name / "bin" / "python"
    out = subprocess.run([str(py), "-c", code], capture_output=True, text=True, check=True)
    result: dict[str, str] = json.loads(out.stdout)
    return result


def run_python(envs_dir: Path, name: str, code: str) -> subprocess.CompletedProcess[str]:
    """Run code in an env's Python without writing bytecode into it (tests compare its files)."""
    py = envs_dir / name / "bin" / "python"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([str(py), "-c", code], capture_output=True, text=True, env=env)
