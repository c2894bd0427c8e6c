"""The policy against real Unix users with a terminal.

The administrator's policy is in ``/etc/jupyter`` (a private mount namespace's, so the
machine's own ``/etc`` is untouched) and names the admin's index; a real user (made by
the test, with a home of their own) runs the CLI with every variable and file of theirs
set against it: ``XDG_CONFIG_DIRS`` + ``JUPYTER_PLATFORM_DIRS`` naming a dir of theirs
with a "policy" and an index of their own, ``JUPYTER_USERPKG_POLICY_URL`` naming their own
file, another user's name in ``LOGNAME``/``USER``, a layer env whose ``.pth`` marker they
renamed with a "policy" in the env's own ``etc/jupyter``, and a user namespace of their
own (``unshare -Urm``) in which they are "root" and mount over ``/etc/jupyter``.  Each of
these loosened the policy before the administrator's dirs were fixed places checked for
ownership.
"""

from __future__ import annotations

import json
import pwd
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import namespace
from tests.localindex import LocalIndex, build_wheel

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

USER = "upkg-alice"
RULE = {"name": "okpkg", "versions": "==2.0", "reason": "ships a cryptominer"}


@pytest.fixture(scope="module")
def unix_user() -> Iterator[pwd.struct_passwd]:
    """A real user with a home of their own (0700), removed afterwards."""
    namespace.skip_unless_available()
    try:
        pwd.getpwnam(USER)
        made = False
    except KeyError:
        subprocess.run(["useradd", "-m", "-s", "/bin/sh", USER], check=True)
        made = True
    home = Path(pwd.getpwnam(USER).pw_dir)
    home.chmod(0o700)
    try:
        yield pwd.getpwnam(USER)
    finally:
        if made:
            subprocess.run(["userdel", "-r", USER], check=False, capture_output=True)


@pytest.fixture(scope="module")
def two_indexes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The administrator's index (okpkg 1.0, 2.0, blocked too) and the user's (okpkg 9.0,
    blocked, blocked too)."""
    admin, rogue = tmp_path_factory.mktemp("admin-wheels"), tmp_path_factory.mktemp("rogue")
    for version in ("1.0", "2.0"):
        build_wheel(admin, "okpkg", version)
    build_wheel(admin, "blocked", "1.0")
    build_wheel(rogue, "okpkg", "9.0")
    build_wheel(rogue, "blocked", "1.0")
    with LocalIndex(admin) as a, LocalIndex(rogue) as r:
        yield a.url, r.url


def as_user(user: pwd.struct_passwd, tmp: Path, script: str) -> list[list[object]]:
    """Run ``script`` (sh) as ``user`` in a clean environment, inside a namespace whose
    /etc/jupyter holds the administrator's files; each ``run`` line prints one result."""
    python = Path(sys.executable).parent / "python"
    prelude = (
        'run() { out=$("$@" 2>/tmp/err-$$); code=$?; '
        f"{shlex.quote(str(python))} -c 'import json,sys; "
        "print(json.dumps([int(sys.argv[1]), sys.argv[2], open(sys.argv[3]).read()]))' "
        '"$code" "$out" /tmp/err-$$; }\n'
        f"PY={shlex.quote(str(python))}\n"
    )
    inner = [
        "runuser",
        "-u",
        user.pw_name,
        "--",
        "env",
        "-i",
        f"HOME={user.pw_dir}",
        "PATH=/usr/bin:/bin",
        f"LOGNAME={user.pw_name}",
        "sh",
        "-c",
        prelude + script,
    ]
    done = subprocess.run(
        namespace.wrap(inner, tmp, open_root=True), capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("[")]


def test_a_users_variables_and_files_do_not_loosen_the_policy(
    unix_user: pwd.struct_passwd, two_indexes: tuple[str, str], tmp_path: Path
) -> None:
    admin_index, rogue_index = two_indexes
    tmp_path.chmod(0o755)
    upper, _ = namespace.etc_dirs(tmp_path)
    policy = {"indexes": [admin_index], "blocked_versions": [RULE], "blocked_packages": ["blocked"]}
    (upper / "jupyter" / "jupyter_userpkg_policy.json").write_text(json.dumps(policy))
    evil_policy = json.dumps({"indexes": [rogue_index]})
    evil_settings = json.dumps({"UserPkg": {"default_index": rogue_index}})
    lax = "JUPYTER_PLATFORM_DIRS=1 XDG_CONFIG_DIRS=$HOME/evil"
    lax += " JUPYTER_USERPKG_POLICY_URL=$HOME/mine.json LOGNAME=root USER=root"
    script = f"""
mkdir -p $HOME/evil/jupyter
echo '{evil_policy}' > $HOME/evil/jupyter/jupyter_userpkg_policy.json
echo '{evil_settings}' > $HOME/evil/jupyter/jupyter_userpkg_config.json
echo '{{}}' > $HOME/mine.json
run env {lax} $PY -m jupyter_userpkg create e --kind venv --no-kernel -y okpkg
run env {lax} $PY -m jupyter_userpkg install -n e okpkg==2.0 -y
run env {lax} $PY -m jupyter_userpkg install -n e blocked -y
run env {lax} $PY -m jupyter_userpkg list -n e --json
run env {lax} $PY -m jupyter_userpkg policy
run $PY -m jupyter_userpkg create lay --kind layer --no-kernel -y
lay=$HOME/.local/share/jupyter/userpkg/envs/lay
site=$(echo $lay/lib/python*/site-packages)
mv $site/_userpkg_base.pth $site/zz_mine.pth
mkdir -p $lay/etc/jupyter
echo '{evil_policy}' > $lay/etc/jupyter/jupyter_userpkg_policy.json
run $lay/bin/python -m jupyter_userpkg install -n lay blocked -y
run $lay/bin/python -m jupyter_userpkg policy
echo '{evil_policy}' > $HOME/evil.json
run unshare -Urm sh -c "mount -t tmpfs -o mode=755 tmpfs /etc/jupyter && \\
  cp $HOME/evil.json /etc/jupyter/jupyter_userpkg_policy.json && \\
  $PY -m jupyter_userpkg install -n e blocked -y"
"""
    results = as_user(unix_user, tmp_path, script)
    created, pinned, blocked, listed, shown, layer, layer_blocked, layer_shown, userns = results
    assert created[0] == 0, created
    assert pinned[0] != 0 and "ships a cryptominer" in str(pinned[2]), pinned
    assert blocked[0] != 0 and "blocked is blocked" in str(blocked[2]), blocked
    versions = {p["name"]: p["version"] for p in json.loads(str(listed[1]))}
    assert versions["okpkg"] == "1.0"  # the admin's index, not the user's 9.0
    assert "from /etc/jupyter/jupyter_userpkg_policy.json" in str(shown[1])
    assert "evil" not in str(shown[1]) and "is not read" in str(shown[1])
    assert layer[0] == 0, layer
    assert layer_blocked[0] != 0 and "blocked is blocked" in str(layer_blocked[2]), layer_blocked
    assert "from /etc/jupyter/jupyter_userpkg_policy.json" in str(layer_shown[1])
    # In a user namespace of their own they are "root" and mount over /etc/jupyter: the
    # administrator's files cannot be told apart there, so nothing is installed.
    assert userns[0] != 0 and "user namespace" in str(userns[2]), userns
    audit = Path(unix_user.pw_dir) / ".local/share/jupyter/userpkg/envs/.audit.jsonl"
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    # Never "root": the refusal in the user's own namespace names them by their real uid.
    in_userns = f"{unix_user.pw_name} (uid {unix_user.pw_uid}, in a user namespace)"
    assert records and {r["user"] for r in records} == {unix_user.pw_name, in_userns}
