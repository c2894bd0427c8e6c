"""Shared envs against real Unix users: an administrator's stack, users' layers over it.

The administrator (root) names a shared envs dir in ``/etc/jupyter`` (a private mount
namespace's: the machine's own ``/etc`` is untouched), a dir owned by root that users
read and cannot write, and creates a shared venv there with the CLI.  Two real users
(made by the test) each layer an env of their own over it, install different things,
and import them in a real kernel of their layer; neither can change the shared env; the
second user's layer holds none of the shared env's files; the administrator's update
that breaks the first user's layer is named in the plan, and that user is told.  A user
who names a dir of their own as shared, in their config or variables, gets no shared env.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import namespace
from tests.cli.test_policy_users import as_user
from tests.localindex import LocalIndex, build_wheel

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

USERS = ("upkg-sh-a", "upkg-sh-b")
ENVS = ".local/share/jupyter/userpkg/envs"
A_CELL = (
    "import upkgt_needsdep as n, upkgt_shdep as d, sys; print(n.VERSION, d.VERSION, sys.prefix)"
)
MINE = "$HOME/.jupyter/jupyter_userpkg_config.json"  # a user's own config file
MAGIC = "%load_ext jupyter_userpkg\\n%userpkg install"  # two lines of one cell
KERNEL = """
import sys
from jupyter_client.manager import start_new_kernel
km, kc = start_new_kernel(kernel_name=sys.argv[1], startup_timeout=120)
out = []
def hook(msg):
    if msg["msg_type"] == "stream":
        out.append(msg["content"]["text"])
    elif msg["msg_type"] == "error":
        out.append("ERROR " + msg["content"]["ename"] + ": " + msg["content"]["evalue"])
kc.execute_interactive(sys.argv[2].replace("\\\\n", "\\n"), output_hook=hook, timeout=120)
kc.stop_channels()
km.shutdown_kernel(now=True)
print("".join(out).strip())
"""


@pytest.fixture(scope="module")
def users() -> Iterator[list[pwd.struct_passwd]]:
    """Two real users with homes of their own (0700), removed afterwards."""
    namespace.skip_unless_available()
    made = []
    for user in USERS:
        try:
            pwd.getpwnam(user)
        except KeyError:
            subprocess.run(["useradd", "-m", "-s", "/bin/sh", user], check=True)
            made.append(user)
        Path(pwd.getpwnam(user).pw_dir).chmod(0o700)
    try:
        yield [pwd.getpwnam(u) for u in USERS]
    finally:
        for user in made:
            subprocess.run(["userdel", "-r", user], check=False, capture_output=True)


@pytest.fixture(scope="module")
def hub() -> Iterator[Path]:
    """A root-owned dir users can read (under /tmp: the session's temp dirs are root's
    0700): the shared envs dir, its kernels dir, and the administrator's wheels."""
    top = Path(tempfile.mkdtemp(prefix="upkg-hub-", dir="/tmp"))
    top.chmod(0o755)
    wheels = top / "wheels"
    wheels.mkdir(mode=0o755)
    for version in ("1.0", "2.0"):
        build_wheel(wheels, "upkgt_shdep", version)
    build_wheel(wheels, "upkgt_needsdep", "1.0", requires=["upkgt_shdep>=2.0"])
    build_wheel(wheels, "upkgt_bonly", "1.0")
    for wheel in wheels.iterdir():
        wheel.chmod(0o644)
    try:
        yield top
    finally:
        shutil.rmtree(top, ignore_errors=True)


def as_admin(base: Path, script: str) -> list[list[object]]:
    """``script`` as root inside the namespace whose /etc/jupyter is the administrator's."""
    python = Path(sys.executable).parent / "python"
    prelude = (
        'run() { out=$("$@" 2>/tmp/err-$$); code=$?; '
        f"{python} -c 'import json,sys; "
        "print(json.dumps([int(sys.argv[1]), sys.argv[2], open(sys.argv[3]).read()]))' "
        '"$code" "$out" /tmp/err-$$; }\n'
        f"PY={python}\n"
    )
    done = subprocess.run(
        namespace.wrap(["sh", "-c", prelude + script], base, open_root=True),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("[")]


def inodes(root: Path) -> set[tuple[int, int]]:
    out = set()
    for top, _, files in os.walk(root):
        for name in files:
            info = os.lstat(os.path.join(top, name))
            out.add((info.st_dev, info.st_ino))
    return out


def dists(prefix: Path) -> set[str]:
    return {
        p.name.split("-")[0].lower() for p in prefix.glob("lib/python*/site-packages/*.dist-info")
    }


def test_users_layer_over_a_shared_env_and_cannot_change_it(
    users: list[pwd.struct_passwd], hub: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    alice, bob = users
    shared, kernels = hub / "shared", hub / "kernels"
    tmp_path.chmod(0o755)
    upper, _ = namespace.etc_dirs(tmp_path)
    forged = Path(bob.pw_dir) / "forged"
    settings: dict[str, object] = {
        "shared_envs_dirs": [str(shared), str(forged)],  # bob's dir: refused, bob writes it
        "shared_kernels_dir": str(kernels),
        "find_links": [str(hub / "wheels")],
    }
    config = upper / "jupyter" / "jupyter_userpkg_config.json"
    config.write_text(json.dumps({"UserPkg": settings}))
    (hub / "kernel.py").write_text(KERNEL)
    (hub / "kernel.py").chmod(0o644)

    made, listed = as_admin(
        tmp_path,
        "run $PY -m jupyter_userpkg create stack --shared --kind venv ipykernel upkgt_shdep==2.0\n"
        "run $PY -m jupyter_userpkg envs --json\n",
    )
    assert made[0] == 0, made
    assert [e["shared"] for e in json.loads(str(listed[1])) if e["name"] == "stack"] == [True]
    assert not os.stat(shared).st_mode & 0o022 and os.stat(shared).st_uid == 0
    # From here on the administrator's index is the hub's own (users reach no other).
    index = LocalIndex(hub / "wheels").__enter__()
    request.addfinalizer(lambda: index.__exit__(None, None, None))
    settings["default_index"] = index.url
    config.write_text(json.dumps({"UserPkg": settings}))

    cli = "$PY -m jupyter_userpkg"
    kernel = f"$PY {hub / 'kernel.py'}"
    a_runs = as_user(
        alice,
        tmp_path,
        f"""
run {cli} envs --json
run {cli} create mine --over stack
run {cli} install -n mine upkgt_needsdep -y
run {kernel} userpkg-mine "{A_CELL}"
run {kernel} userpkg-mine "{MAGIC} -n stack upkgt_bonly -y"
run env JUPYTER_PATH={hub} {kernel} userpkg-stack "{MAGIC} upkgt_bonly -y"
run {cli} install -n stack upkgt_bonly -y
run {cli} install --shared -n stack upkgt_bonly -y
run {cli} rollback -n stack 0 -y
run {cli} delete stack -y
run {cli} delete --shared stack -y
run {cli} create stack --kind venv --no-kernel
run {cli} create other --over stack --kind venv
run {cli} create mine2 --shared --kind venv --no-kernel
touch {shared}/planted
run sh -c "ln -s $HOME {shared}/stack/link"
""",
    )
    (
        a_envs,
        a_create,
        a_install,
        a_kernel,
        magic_other,
        magic_shared,
        refused_install,
        refused_shared,
        refused_rollback,
        refused_delete,
        refused_delete_shared,
        refused_name,
        refused_kind,
        refused_create_shared,
        planted_link,
    ) = a_runs
    assert a_envs[0] == 0, a_envs
    assert [e["name"] for e in json.loads(str(a_envs[1])) if e["shared"]] == ["stack"]
    assert a_create[0] == 0 and a_install[0] == 0, (a_create, a_install)
    assert a_kernel[0] == 0 and a_kernel[1].startswith("1.0 2.0 "), a_kernel
    assert f"{alice.pw_dir}/{ENVS}/mine" in str(a_kernel[1])  # the layer's own python
    # %userpkg in a cell: of the user's layer naming the shared env, and in the shared
    # env's own kernel (its envs dir is the shared one): one line each, nothing installed.
    for magic in (magic_other, magic_shared):
        assert magic[0] == 0 and "userpkg: error:" in str(magic[1]), magic
        assert "'stack' is shared and read-only" in str(magic[1]), magic
        assert "Traceback" not in str(magic[1])
    for refused in (refused_install, refused_shared, refused_rollback, refused_delete):
        assert refused[0] != 0, refused
        assert "'stack' is shared and read-only: the administrator changes it" in str(refused[2])
        assert "Traceback" not in str(refused[2])
    assert refused_delete_shared[0] != 0 and "read-only" in str(refused_delete_shared[2])
    assert refused_name[0] != 0 and "is the name of a shared environment" in str(refused_name[2])
    assert refused_kind[0] != 0 and "leave out --kind" in str(refused_kind[2])
    assert refused_create_shared[0] != 0, refused_create_shared
    assert "only the administrator creates shared environments" in str(refused_create_shared[2])
    assert not (shared / "mine2").exists()
    assert planted_link[0] != 0 and not (shared / "planted").exists()
    assert not (shared / "stack" / "link").is_symlink()

    b_runs = as_user(
        bob,
        tmp_path,
        f"""
run {cli} create mine --over stack
run {cli} install -n mine upkgt_bonly -y
run {kernel} userpkg-mine "import upkgt_bonly as b, upkgt_shdep as d; print(b.VERSION, d.VERSION)"
run {kernel} userpkg-mine "import upkgt_needsdep"
mkdir -p $HOME/.jupyter $HOME/forged $HOME/evil
echo '{{"UserPkg": {{"shared_envs_dirs": ["'$HOME'/evil"]}}}}' > {MINE}
run env JUPYTER_USERPKG_ENVS_DIR=$HOME/evil {cli} create fake --kind venv --no-kernel
run env JUPYTER_USERPKG_ENVS_DIR=$HOME/forged {cli} create fake2 --kind venv --no-kernel
run env JUPYTER_CONFIG_DIR=$HOME/.jupyter {cli} envs --json
run {cli} list -n stack --json
run env JUPYTER_USERPKG_ENVS_DIR={shared} {cli} install -n stack upkgt_bonly -y
run env JUPYTER_USERPKG_ENVS_DIR={shared} {cli} create planted --kind venv --no-kernel
""",
    )
    b_create, b_install, b_kernel, b_not_alice, fake, fake2, b_envs, b_list, *b_own = b_runs
    assert b_create[0] == 0 and b_install[0] == 0, (b_create, b_install)
    assert b_kernel == [0, "1.0 2.0", ""] or b_kernel[1] == "1.0 2.0", b_kernel
    assert "ERROR ModuleNotFoundError" in str(b_not_alice[1])  # alice's package is hers
    assert fake[0] == 0 and fake2[0] == 0, (fake, fake2)
    envs = {e["name"]: e for e in json.loads(str(b_envs[1]))}
    assert envs["stack"]["shared"] is True and envs["mine"]["shared"] is False
    assert envs["mine"]["over"] == "stack"
    assert "fake" not in envs and "fake2" not in envs  # neither of bob's dirs is shared
    assert "upkgt-shdep" in {p["name"] for p in json.loads(str(b_list[1]))}
    # Bob's envs dir pointed at the shared one: every change refused in the one line.
    for refused in b_own:
        assert refused[0] != 0 and "is shared and read-only" in str(refused[2]), refused
    assert not (shared / "planted").exists()

    # Disk: bob's layer holds none of the shared env's files, only its own package.
    stack, b_layer = shared / "stack", Path(bob.pw_dir) / ENVS / "mine"
    assert not inodes(stack) & inodes(b_layer)
    assert "ipykernel" in dists(stack) and not dists(stack) & dists(b_layer)
    assert dists(b_layer) == {"upkgt_bonly"}
    print(f"shared env: {len(inodes(stack))} files; bob's layer: {len(inodes(b_layer))} files")

    # The administrator's update breaks alice's layer: the plan says so; alice is told.
    # (The administrator solves the stack against PyPI again, and the hub's wheels.)
    del settings["default_index"]
    config.write_text(json.dumps({"UserPkg": settings}))
    (update,) = as_admin(
        tmp_path,
        "run $PY -m jupyter_userpkg install --shared -n stack upkgt_shdep==1.0 -y --json\n",
    )
    assert update[0] == 0, update
    messages = json.loads(str(update[1]))["plan"]["messages"]
    said = "\n".join(messages)
    broken = "upkgt-needsdep 1.0 needs upkgt_shdep>=2.0; the change gives upkgt-shdep 1.0"
    assert f"upkg-sh-a's layer 'mine': {broken}" in said
    assert "upkg-sh-b's layer" not in said  # bonly needs nothing of it
    a_after, a_doctor, a_magic = as_user(
        alice,
        tmp_path,
        f"run {cli} envs\nrun {cli} doctor -n mine\n"
        f'run {kernel} userpkg-mine "%load_ext jupyter_userpkg\\\\n%userpkg list"\n',
    )
    assert "'stack' changed (revision 0 -> 1)" in str(a_after[1]), a_after
    assert "update -n mine --all" in str(a_after[1])
    assert a_doctor[0] != 0 and "'stack' changed" in str(a_doctor[1]), a_doctor
    assert "'stack' changed (revision 0 -> 1)" in str(a_magic[1]), a_magic  # %userpkg too
    assert "%userpkg update -n mine --all" in str(a_magic[1])
