"""Behaviour the admin and user guides document, each against real uv, real indexes and
real channels: config and index precedence, offline mode, crash safety of delete and of
a change killed after its commit point, a conda Python minor upgrade, ``--python X.Y``."""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import jupyter_core.paths
import pytest

from jupyter_userpkg.commands.config import UserPkg, load_config_files
from jupyter_userpkg.core.errors import UserPkgError
from jupyter_userpkg.core.options import CondaOptions, UvOptions
from jupyter_userpkg.core.policy import sources as policysource
from jupyter_userpkg.core.service import UserPkgService
from tests.conda_channel import TestChannel, build_package, index_channel, python_shim
from tests.conftest import env_state, installed
from tests.localindex import LocalIndex, build_wheel

# ---------------------------------------------------------------- helpers


@pytest.fixture
def index(tmp_path: Path) -> Iterator[LocalIndex]:
    """A PyPI-style index with alpha 1.0 and 2.0 and beta 1.0."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for name, version in (("alpha", "1.0"), ("alpha", "2.0"), ("beta", "1.0")):
        build_wheel(wheels, name, version)
    with LocalIndex(wheels) as served:
        yield served


def _service(tmp_path: Path, **uv: object) -> UserPkgService:
    options = UvOptions(cache_dir=str(tmp_path / "uv-cache"), **uv)  # type: ignore[arg-type]
    return UserPkgService(
        tmp_path / "envs",
        base_python=sys.executable,
        lock_timeout=600,
        kernels_dir=tmp_path / "kernels",
        uv_options=options,
    )


def _versions(svc: UserPkgService, env: str) -> dict[str, str]:
    return {p.name: p.version for p in svc.packages(env)}


# ---------------------------------------------------------------- configuration


def _write(directory: Path, name: str, text: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(text)


def test_config_files_user_before_system_and_py_before_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The admin guide: a directory earlier in the Jupyter config path (the user's) wins over
    a later one (the system's); in one directory, ``.py`` wins over ``.json``; a config file
    wins over the environment variables, which set defaults only; the package sources set
    in a system dir are the administrator's and no user file replaces them."""
    user, system = tmp_path / "user", tmp_path / "system"
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(user))
    monkeypatch.delenv("JUPYTER_CONFIG_PATH", raising=False)
    monkeypatch.setattr(jupyter_core.paths, "ENV_CONFIG_PATH", [])
    monkeypatch.setattr(jupyter_core.paths, "SYSTEM_CONFIG_PATH", [str(system)])
    monkeypatch.setattr(policysource, "admin_dirs", lambda: [system])
    monkeypatch.delenv("JUPYTER_NO_CONFIG", raising=False)
    monkeypatch.setenv("JUPYTER_USERPKG_ENVS_DIR", str(tmp_path / "from-env"))
    _write(
        system,
        "jupyter_userpkg_config.json",
        json.dumps(
            {
                "UserPkg": {
                    "default_index": "https://system.example.org/simple",
                    "extra_index_urls": ["https://extra.example.org/simple"],
                    "lock_timeout": 11,
                    "envs_dir": str(tmp_path / "from-system"),
                }
            }
        ),
    )
    _write(
        user,
        "jupyter_userpkg_config.json",
        json.dumps({"UserPkg": {"default_index": "https://user-json.example.org/simple"}}),
    )
    _write(
        user,
        "jupyter_userpkg_config.py",
        'c.UserPkg.default_index = "https://user-py.example.org/simple"\n',
    )
    config = UserPkg(config=load_config_files())
    assert config.default_index == "https://user-py.example.org/simple"
    assert config.extra_index_urls == ["https://extra.example.org/simple"]  # only the system's
    assert config.lock_timeout == 11
    assert config.envs_dir == str(tmp_path / "from-system")  # a file beats the variable
    # But the package sources an administrator set in a system (or environment) dir are
    # policy: the user's files do not replace them.
    uv = UserPkgService.from_config(config).uv
    assert uv.default_index == "https://system.example.org/simple"
    args = uv.args()
    at = args.index("--default-index")
    assert args[at + 1] == "https://system.example.org/simple"
    assert args[args.index("--extra-index-url") + 1] == "https://extra.example.org/simple"


@pytest.mark.parametrize(("prefer_env", "wins"), [("1", "env"), ("0", "user")])
def test_an_environments_config_dir_comes_before_the_users_when_jupyter_prefers_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefer_env: str, wins: str
) -> None:
    """The admin guide's exception: in a virtual or conda environment, Jupyter lists the
    environment's directory before the user's (``JUPYTER_PREFER_ENV_PATH``)."""
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "user"))
    monkeypatch.delenv("JUPYTER_CONFIG_PATH", raising=False)
    monkeypatch.setenv("JUPYTER_PREFER_ENV_PATH", prefer_env)
    monkeypatch.setattr(jupyter_core.paths, "ENV_CONFIG_PATH", [str(tmp_path / "env")])
    monkeypatch.setattr(jupyter_core.paths, "SYSTEM_CONFIG_PATH", [])
    for where in ("user", "env"):
        config = {"UserPkg": {"default_index": f"https://{where}.example.org/simple"}}
        _write(tmp_path / where, "jupyter_userpkg_config.json", json.dumps(config))
    config = UserPkg(config=load_config_files())
    assert config.default_index == f"https://{wins}.example.org/simple"


def test_default_index_and_extra_index_urls_reach_uv(tmp_path: Path) -> None:
    """``default_index`` replaces PyPI; each of ``extra_index_urls`` is searched as well."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    build_wheel(first, "alpha", "1.0")
    build_wheel(second, "beta", "1.0")
    with LocalIndex(first) as a, LocalIndex(second) as b:
        only_a = _service(tmp_path / "a", default_index=a.url)
        only_a.create("e", kind="venv", kernel=False)
        only_a.change("e", install=["alpha"])
        with pytest.raises(UserPkgError):  # beta is on the extra index only, not configured
            only_a.change("e", install=["beta"])
        both = _service(tmp_path / "a", default_index=a.url, extra_index_urls=(b.url,))
        both.change("e", install=["beta"])
    assert installed(tmp_path / "a" / "envs", "e") == {"alpha": "1.0", "beta": "1.0"}


# ---------------------------------------------------------------- offline


def test_offline_pypi_installs_from_the_cache_and_names_what_is_missing(
    tmp_path: Path, index: LocalIndex
) -> None:
    online = _service(tmp_path, default_index=index.url)
    online.create("on", kind="venv", kernel=False, specs=["alpha==1.0"])  # fills uv's cache
    index.__exit__()  # no network from here on
    offline = _service(tmp_path, default_index=index.url, offline=True)
    offline.create("off", kind="venv", kernel=False, specs=["alpha==1.0"])
    assert installed(tmp_path / "envs", "off") == {"alpha": "1.0"}
    before = env_state(tmp_path / "envs", "off")
    with pytest.raises(UserPkgError) as caught:
        offline.change("off", install=["beta"])
    assert caught.value.message == (
        "working offline, and the package cache does not hold beta; connect to the network "
        "once, or turn offline mode off"
    )
    assert env_state(tmp_path / "envs", "off") == before
    assert [r.revision for r in offline.history("off")] == [0]


class _Served:
    """A directory served over HTTP on loopback, as a conda channel on the network."""

    def __init__(self, directory: Path) -> None:
        handler = functools.partial(
            _QuietHandler,
            directory=str(directory),
        )
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def test_offline_conda_uses_the_cached_index_and_packages_only(
    tmp_path: Path, conda_channel: TestChannel
) -> None:
    channel = tmp_path / "channel"
    shutil.copytree(conda_channel.path, channel)
    caches = tmp_path / "caches"

    def service(offline: bool) -> UserPkgService:
        options = CondaOptions(
            pkgs_dir=str(caches / "pkgs"),
            repodata_cache_dir=str(caches / "repodata"),
            default_channels=(),
            offline=offline,
        )
        return UserPkgService(tmp_path / "envs", kernels_dir=tmp_path / "k", conda_options=options)

    served = _Served(channel)
    try:
        service(False).create(
            "on", kind="conda", channels=[served.url], specs=["bar 1.*"], kernel=False
        )
    finally:
        served.stop()  # the channel is unreachable from here on
    offline = service(True)
    offline.create("off", kind="conda", channels=[served.url], specs=["bar 1.*"], kernel=False)
    assert _versions(offline, "off") == {"bar": "1.0", "libfoo": "1.0"}
    before = env_state(tmp_path / "envs", "off")
    # The index is cached per package name, as far as earlier solves looked it up.
    with pytest.raises(UserPkgError) as caught:
        offline.change("off", install=["pinme"])
    assert caught.value.message == (
        f"working offline, and the package index of {served.url.rstrip('/')} is not cached "
        "for pinme; connect to the network once to fetch it"
    )
    assert env_state(tmp_path / "envs", "off") == before
    # bar 2.0 is in the cached index, but its package was never downloaded.
    with pytest.raises(UserPkgError) as caught:
        offline.change("off", install=["bar 2.*"])
    assert caught.value.message == (
        "working offline, and the package cache does not hold bar-2.0-0, libfoo-2.0-0; connect "
        "to the network once, or turn offline mode off"
    )
    assert env_state(tmp_path / "envs", "off") == before
    with pytest.raises(UserPkgError) as caught:  # a channel whose index was never fetched
        offline.create(
            "other", kind="conda", channels=["http://127.0.0.1:9/x/"], specs=["bar"], kernel=False
        )
    assert caught.value.message == (
        "working offline, and the package index of http://127.0.0.1:9/x is not cached; "
        "connect to the network once to fetch it"
    )
    assert [e.name for e in offline.list_envs()] == ["off", "on"]


# ---------------------------------------------------------------- crash safety


def _run_killed(tmp_path: Path, patch: str, action: str, uv: str = "") -> int:
    """Run ``action`` on a service in a child process that SIGKILLs itself where ``patch``
    says; the child's exit status."""
    code = textwrap.dedent(
        f"""
        import os, signal, sys
        from pathlib import Path
        from jupyter_userpkg.core.options import UvOptions
        from jupyter_userpkg.core.service import UserPkgService
        def die(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGKILL)
        {patch}
        svc = UserPkgService(
            Path({str(tmp_path / "envs")!r}),
            base_python=sys.executable,
            kernels_dir=Path({str(tmp_path / "kernels")!r}),
            uv_options=UvOptions(cache_dir={str(tmp_path / "uv-cache")!r}, {uv}),
        )
        {action}
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr  # the kill landed, mid-change
    return proc.returncode


def test_a_delete_killed_after_its_rename_is_gone_and_the_next_delete_finishes_it(
    tmp_path: Path,
) -> None:
    svc = _service(tmp_path)
    svc.create("gone", kind="venv", kernel=False)
    svc.create("keep", kind="venv", kernel=False)
    # Killed right after the rename into .trash (removing the kernelspec comes next).
    _run_killed(
        tmp_path,
        "from jupyter_userpkg.core import kernels; kernels.remove = die",
        'svc.delete("gone")',
    )
    trash = tmp_path / "envs" / ".trash"
    (left,) = trash.iterdir()
    assert left.name.startswith("gone-") and (left / ".userpkg" / "revisions" / "0").is_dir()
    assert [e.name for e in svc.list_envs()] == ["keep"]  # gone for every reader at once
    with pytest.raises(UserPkgError):
        svc.packages("gone")
    svc.delete("keep")  # the next delete (of any env) empties the trash
    assert list(trash.iterdir()) == []
    svc.create("gone", kind="venv", kernel=False)  # the name is free again


def test_doctor_empties_the_trash_of_a_killed_delete(tmp_path: Path) -> None:
    svc = _service(tmp_path)
    svc.create("gone", kind="venv", kernel=False)
    _run_killed(
        tmp_path,
        "from jupyter_userpkg.core import kernels; kernels.remove = die",
        'svc.delete("gone")',
    )
    assert any((tmp_path / "envs" / ".trash").iterdir())
    svc.doctor()
    assert list((tmp_path / "envs" / ".trash").iterdir()) == []


def test_doctor_completes_a_change_killed_after_its_commit_point(
    tmp_path: Path, index: LocalIndex
) -> None:
    svc = _service(tmp_path, default_index=index.url)
    svc.create("k", kind="venv", kernel=False)
    patch = (
        "from jupyter_userpkg.core.store import EnvStore\n"
        "        commit = EnvStore.commit\n"
        "        def commit_then_die(self, *args, **kwargs):\n"
        "            commit(self, *args, **kwargs)\n"
        "            die()\n"
        "        EnvStore.commit = commit_then_die"
    )
    _run_killed(
        tmp_path, patch, 'svc.change("k", install=["alpha==1.0"])', f"default_index={index.url!r}"
    )
    txn = tmp_path / "envs" / "k" / ".userpkg" / "txn"
    assert (txn / "journal.json").is_file()  # killed between the commit and the journal's drop
    (report,) = svc.doctor("k")
    assert report["recovered"] == "completed the interrupted change to revision 1"
    assert report["ok"], report
    assert not txn.exists()
    assert installed(tmp_path / "envs", "k") == {"alpha": "1.0"}
    assert [r.revision for r in svc.history("k")] == [0, 1]


# ---------------------------------------------------------------- Python versions


def test_a_conda_python_minor_upgrade_moves_the_env_and_keeps_its_kernel(
    tmp_path: Path, conda_channel: TestChannel, conda_options: CondaOptions
) -> None:
    channel = tmp_path / "channel"
    shutil.copytree(conda_channel.path, channel)
    major, minor = sys.version_info[:2]
    old, new = f"{major}.{minor}", f"{major}.{minor + 1}"
    python_shim(channel, version=f"{new}.0")
    info = "site-packages/ipykernel-6.0.dist-info"
    build_package(  # a stand-in: what matters is that the env has ipykernel, so a kernel
        channel,
        "ipykernel",
        "6.0",
        build="py_0",
        noarch="python",
        depends=["python >=3.8"],
        files={
            "site-packages/ipykernel_stub.py": "",
            f"{info}/METADATA": "Metadata-Version: 2.1\nName: ipykernel\nVersion: 6.0\n",
            f"{info}/INSTALLER": "conda\n",
            f"{info}/RECORD": "",
        },
    )
    index_channel(channel)
    envs = tmp_path / "envs"
    svc = UserPkgService(envs, kernels_dir=tmp_path / "k", conda_options=conda_options)
    url = channel.resolve().as_uri()
    svc.create("up", kind="conda", channels=[url], specs=[f"python={old}", "pyfoo", "ipykernel"])
    prefix = envs / "up"
    assert _versions(svc, "up")["python"].startswith(old + ".")
    spec_file = tmp_path / "k" / "userpkg-up" / "kernel.json"
    assert json.loads(spec_file.read_text())["argv"][0] == str(prefix / "bin" / "python")

    result = svc.change("up", install=[f"python={new}"])
    assert result.revision == 1
    assert _versions(svc, "up")["python"] == f"{new}.0"
    assert ("python", "change") in {(c.name, c.action) for c in result.plan.changes}
    # noarch python packages were relinked into the new version's site-packages.
    assert (prefix / "lib" / f"python{new}" / "site-packages" / "pyfoo" / "__init__.py").is_file()
    assert not (prefix / "lib" / f"python{old}" / "site-packages" / "pyfoo").exists()
    assert (prefix / "bin" / f"python{new}").exists()
    assert not (prefix / "bin" / f"python{old}").exists()
    spec = json.loads(spec_file.read_text())
    assert spec["argv"][0] == str(prefix / "bin" / "python")
    assert spec["metadata"]["userpkg"]["env"] == "up"
    (report,) = svc.doctor("up")
    assert report["ok"], report


def test_create_venv_with_the_running_python_minor(tmp_path: Path) -> None:
    svc = _service(tmp_path)
    xy = "{}.{}".format(*sys.version_info[:2])
    svc.create("py", kind="venv", python=xy, kernel=False)
    py = tmp_path / "envs" / "py" / "bin" / "python"
    out = subprocess.run(
        [str(py), "-c", "import sys; print('{}.{}'.format(*sys.version_info[:2]))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == xy
    assert svc.history("py")[0].command == f"create py --kind venv --python {xy}"


def test_create_venv_with_a_python_that_is_not_there_says_how_to_point_at_one(
    tmp_path: Path,
) -> None:
    svc = _service(tmp_path)
    with pytest.raises(UserPkgError) as caught:
        svc.create("none", kind="venv", python="3.7", kernel=False)
    assert caught.value.message == (
        "no Python interpreter matching '3.7' was found on PATH or among the Pythons uv "
        "manages; give the interpreter's path instead (--python /path/to/python3.X), or put "
        "it on PATH"
    )
    assert not (tmp_path / "envs" / "none").exists()
    assert svc.list_envs() == []
