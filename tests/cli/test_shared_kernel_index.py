"""The kernels dir's index in the administrator's shared kernels dir, read by real users.

Every user's server and CLI reads the shared kernels dir (``shared_kernels_dir``),
which users cannot write.  A user lists envs there whatever state the index is in:
unreadable to them (0600, as it was once written), missing (read from the kernelspec
dirs in memory, nothing written, nothing locked), or writable by another user, who
then must not be able to change what the first one is shown.
"""

from __future__ import annotations

import json
import os
import pwd
import stat
from pathlib import Path

import pytest

from jupyter_userpkg.core import kernelindex
from tests import namespace
from tests.cli.test_policy_users import as_user
from tests.cli.test_shared_envs import as_admin, hub, users  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

INDEX = kernelindex.INDEX


def test_the_index_is_readable_by_every_user(tmp_path: Path) -> None:
    """Env names, paths and kernelspecs: nothing secret, and other users' servers read it."""
    kernelindex.update(tmp_path, "e", tmp_path / "envs", {})
    assert stat.S_IMODE(os.stat(tmp_path / INDEX).st_mode) == 0o644


def _kernels_of(listed: list[object]) -> list[tuple[str, str]]:
    assert listed[0] == 0, listed
    (stack,) = [e for e in json.loads(str(listed[1])) if e["name"] == "stack"]
    return [(k["name"], k["display_name"]) for k in stack["kernels"]]


def test_users_list_a_shared_kernels_dir_they_cannot_write(
    users: list[pwd.struct_passwd],  # noqa: F811
    hub: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    namespace.skip_unless_available()
    alice, bob = users
    shared, kernels = hub / "shared-ix", hub / "kernels-ix"
    tmp_path.chmod(0o755)
    upper, _ = namespace.etc_dirs(tmp_path)
    settings = {
        "shared_envs_dirs": [str(shared)],
        "shared_kernels_dir": str(kernels),
        "find_links": [str(hub / "wheels")],
    }
    (upper / "jupyter" / "jupyter_userpkg_config.json").write_text(
        json.dumps({"UserPkg": settings})
    )
    (made,) = as_admin(
        tmp_path, "run $PY -m jupyter_userpkg create stack --shared --kind venv ipykernel\n"
    )
    assert made[0] == 0, made
    index = kernels / INDEX
    true_kernels = [("userpkg-stack", "Python 3 (stack)")]
    envs = "run $PY -m jupyter_userpkg envs --json\n"

    def alice_lists() -> list[tuple[str, str]]:
        before = sorted(os.listdir(kernels))
        (listed,) = as_user(alice, tmp_path, envs)
        assert sorted(os.listdir(kernels)) == before  # nothing written, nothing locked
        return _kernels_of(listed)

    # As the administrator wrote it: read by every user.
    assert stat.S_IMODE(index.stat().st_mode) == 0o644
    assert alice_lists() == true_kernels
    # Unreadable to users (0600: how it was written before), then missing: the kernelspec
    # dirs are read instead, and the dir, which alice cannot write, is left as it is.
    index.chmod(0o600)
    assert alice_lists() == true_kernels
    saved = index.read_bytes()
    index.unlink()
    assert alice_lists() == true_kernels
    assert not index.exists()

    # An index another user can write is no one's but theirs: bob's forgery (a kernel the
    # env does not have, its own kernel gone) changes nothing of what alice is shown.
    forged = json.loads(saved)
    item = dict(forged["kernels"]["userpkg-stack"])
    item["spec"] = {**item["spec"], "display_name": "Forged (stack)"}
    forged["kernels"] = {"userpkg-stack--forged": item}
    forgery = json.dumps(forged).replace("'", "")
    write = f"printf '%s' '{forgery}' > {index}\n"
    for owner, mode in ((0, 0o666), (bob.pw_uid, 0o644)):
        index.write_bytes(saved)
        os.chown(index, owner, 0)
        index.chmod(mode)
        as_user(bob, tmp_path, write)
        assert b"Forged" in index.read_bytes()  # bob could write it
        assert alice_lists() == true_kernels, (owner, oct(mode))
    # The administrator, who can write the dir, lists it and so writes it again: 0644.
    index.unlink()
    (again,) = as_admin(tmp_path, envs)
    assert _kernels_of(again) == true_kernels
    assert index.stat().st_uid == 0 and stat.S_IMODE(index.stat().st_mode) == 0o644
