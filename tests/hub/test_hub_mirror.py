"""The filtered mirror on a real JupyterHub: two users' envs, made by their servers, seed
it; the administrator runs ``mirror sync``, serves ``output/current`` with ``python -m
http.server`` on loopback and points the policy's ``indexes`` (and the machine's
``/etc/pip.conf``) at it.  A user's raw ``pip install`` of a blocked version, in a
terminal of theirs, then fails because the mirror does not hold it, while an allowed
package installs from the mirror.

The hub's users are real Unix users (made here); their homes are theirs, as on a hub
that spawns servers as the users, though this hub's servers run as its own account
(``SimpleLocalProcessSpawner``, see hubproc.py)."""

from __future__ import annotations

import json
import pwd
import shlex
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import namespace
from tests.hub.hubproc import Hub
from tests.hub.users import real_users
from tests.localindex import LocalIndex, build_wheel
from tests.serverproc import free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]

USERS = ("upkg-mira", "upkg-noor")
RULE = {"name": "hubpkg", "versions": "==2.0", "reason": "ships a cryptominer", "advisory": "HUB-1"}
POLICY = "jupyter/jupyter_userpkg_policy.json"
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


@pytest.fixture(scope="module")
def unix_users() -> Iterator[list[pwd.struct_passwd]]:
    """Two real users with homes of their own (0700), removed afterwards."""
    with real_users(USERS) as users:
        yield users


@pytest.fixture(scope="module")
def hub_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalIndex]:
    """The upstream: hubpkg 1.0 and 2.0 (2.0 blocked), hubtool 1.0 (needs hubpkg)."""
    wheels = tmp_path_factory.mktemp("mirror-hub-wheels")
    for version in ("1.0", "2.0"):
        build_wheel(wheels, "hubpkg", version)
    build_wheel(wheels, "hubtool", "1.0", requires=["hubpkg"])
    with LocalIndex(wheels) as index:
        yield index


@pytest.fixture(scope="module")
def hub_private_etc(tmp_path_factory: pytest.TempPathFactory, hub_index: LocalIndex) -> Path:
    """The administrator's /etc/jupyter: users draw from the upstream until the mirror is up."""
    namespace.skip_unless_available()
    base = tmp_path_factory.mktemp("mirror-etc")
    upper, _ = namespace.etc_dirs(base)
    policy = {"indexes": [hub_index.url], "blocked_versions": [RULE]}
    (upper / POLICY).write_text(json.dumps(policy))
    return base


@pytest.fixture(scope="module")
def hub_server_args() -> list[str]:
    """The index comes from the policy, which servers read again every second here."""
    return ["--UserPkg.policy_interval=1"]


@pytest.fixture(scope="module")
def hub(
    tmp_path_factory: pytest.TempPathFactory,
    unix_users: list[pwd.struct_passwd],
    hub_own_dirs: dict[str, Path],
    hub_private_etc: Path,
    hub_server_args: list[str],
) -> Iterator[Hub]:
    """This module's hub: its users are the real users."""
    hub = Hub(
        tmp_path_factory.mktemp("mirror-hub"),
        users=[u.pw_name for u in unix_users],
        args=hub_server_args,
        hub_env={key: str(path) for key, path in hub_own_dirs.items()},
        private_etc=hub_private_etc,
    )
    hub.start()
    try:
        yield hub
    finally:
        hub.stop()


def as_user(user: pwd.struct_passwd, etc: Path, script: str) -> list[list[object]]:
    """``script`` (sh) run as ``user`` in a clean environment (what a terminal of theirs
    gives), with ``etc``'s overlay over /etc; each ``run`` line prints one result."""
    python = Path(sys.executable).parent / "python"
    prelude = (
        'run() { out=$("$@" 2>/tmp/err-$$); code=$?; '
        f"{shlex.quote(str(python))} -c 'import json,sys; "
        "print(json.dumps([int(sys.argv[1]), sys.argv[2], open(sys.argv[3]).read()]))' "
        '"$code" "$out" /tmp/err-$$; }\n'
        f"PY={shlex.quote(str(python))}\n"
    )
    clean = ["env", "-i", f"HOME={user.pw_dir}", "PATH=/usr/bin:/bin", f"LOGNAME={user.pw_name}"]
    inner = ["runuser", "-u", user.pw_name, "--", *clean, "sh", "-c", prelude + script]
    done = subprocess.run(
        namespace.wrap(inner, etc, open_root=True), capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("[")]


def wait_for(url: str) -> None:
    """Until ``url`` answers (the static server has started listening)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def served_indexes(hub: Hub, user: str, wanted: str) -> list[str]:
    """The indexes the user's server applies, once it has read the policy again."""
    deadline = time.monotonic() + 30
    while True:
        code, shown = hub.userpkg(user, "GET", "policy", token=hub.token(user))
        assert code == 200, shown
        indexes: list[str] = shown["policy"]["indexes"]
        if indexes == [wanted] or time.monotonic() > deadline:
            return indexes
        time.sleep(0.5)


def test_users_envs_seed_the_mirror_and_a_raw_pip_install_of_a_blocked_version_fails(
    hub: Hub,
    unix_users: list[pwd.struct_passwd],
    hub_index: LocalIndex,
    hub_private_etc: Path,
    tmp_path: Path,
) -> None:
    mira, noor = unix_users
    hub.start_servers(*hub.users)
    for user, env, spec in ((mira, "work", "hubpkg"), (noor, "tools", "hubtool")):
        job = hub.run_job(
            user.pw_name, "POST", "envs", token=hub.token(user.pw_name),
            body={"name": env, "kind": "venv", "specs": [spec], "kernel": False},
        )  # fmt: skip
        assert job["state"] == "succeeded", f"{job}\n{hub.log()}"
        # Their homes are theirs (this hub's servers run as its own account).
        subprocess.run(["chown", "-R", f"{user.pw_uid}:{user.pw_gid}", hub.home(user.pw_name)],
                       check=True)  # fmt: skip

    # The administrator's mirror, seeded by every user's envs, judged by the hub's policy.
    tmp_path.chmod(0o755)
    policy_file = hub_private_etc / "etc-upper" / POLICY
    config = tmp_path / "mirror.toml"
    envs = f"{hub.directory}/home/*/.local/share/jupyter/userpkg/envs"
    config.write_text(
        f'output = "{tmp_path / "out"}"\npolicy = "{policy_file}"\n'
        f'[pypi]\nupstream = "{hub_index.url}"\npython = ["{PYTHON}"]\nplatforms = ["linux"]\n'
        f'keep_latest = 1\n[seed]\nenvs = ["{envs}"]\n'
    )
    sync = [sys.executable, "-m", "jupyter_userpkg", "mirror", "sync", "--config", str(config)]
    done = subprocess.run(sync, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    current = tmp_path / "out" / "current"
    rows = {
        (r["name"], r["version"]): r
        for r in map(json.loads, (current / "decisions.jsonl").read_text().splitlines())
    }
    assert rows[("hubpkg", "2.0")]["decision"] == "out"
    assert "ships a cryptominer" in rows[("hubpkg", "2.0")]["evidence"]
    needed = rows[("hubpkg", "1.0")]["needed_by"]
    assert {"user": mira.pw_name, "env": "work"} in needed
    assert {"user": noor.pw_name, "env": "tools"} in needed
    assert rows[("hubtool", "1.0")]["decision"] == "in"

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port),
         "--directory", str(current)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        mirror = f"http://127.0.0.1:{port}/pypi/simple"
        wait_for(mirror + "/")
        # The policy now points users at the mirror (written in place: the hub's mount
        # namespace keeps the inode it looked up), and so does the machine's pip.conf.
        policy_file.write_text(json.dumps({"indexes": [mirror], "blocked_versions": [RULE]}))
        assert served_indexes(hub, mira.pw_name, mirror) == [mirror]
        terminal_etc = tmp_path / "terminal-etc"
        upper, _ = namespace.etc_dirs(terminal_etc)
        (upper / "pip.conf").write_text(f"[global]\nindex-url = {mirror}\n")
        pip = "$PY -m pip install --no-cache-dir --disable-pip-version-check --target $HOME/pkgs"
        blocked, allowed, version = as_user(
            mira,
            terminal_etc,
            f"run {pip} hubpkg==2.0\nrun {pip} hubtool\n"
            "run $PY -c 'import sys; sys.path.insert(0, sys.argv[1]); import hubpkg, hubtool; "
            "print(hubpkg.VERSION, hubtool.VERSION)' $HOME/pkgs\n",
        )
    finally:
        server.terminate()
        server.wait()
    assert blocked[0] != 0 and "No matching distribution found for hubpkg==2.0" in str(blocked[2])
    assert allowed[0] == 0, allowed
    assert version[1] == "1.0 1.0"
