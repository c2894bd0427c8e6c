"""A notebook that carries its environment, on a real JupyterHub with real Unix users.

User A makes an env through their own server (``POST envs``, as the panel does) from a
local index, exports it as a notebook's ``metadata.userpkg`` and the notebook lands in
user B's home, B's own file.  B's server, spawned as B, reads it (contents API), finds
the env missing (``GET envs/{env}`` 404: what the banner checks), shows the plan of the
create from the metadata-only upload (``dry_run``: the lock installed exactly), makes the
env, and a kernel of it runs the notebook's cell.  Then the administrator blocks the
locked version in the hub's policy; B's next env from the same notebook is made from its
requests, with the plan saying why, and holds the allowed version.
"""

from __future__ import annotations

import json
import pwd
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import namespace
from tests.hub.hubproc import Hub
from tests.hub.users import real_users
from tests.localindex import LocalIndex, build_wheel

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

USERS = ("upkg-nb-ada", "upkg-nb-bea")
POLICY = "jupyter/jupyter_userpkg_policy.json"
RULE = {"name": "nbpkg", "versions": ">=2", "reason": "leaks notebooks", "advisory": "NB-2"}
NOTEBOOK = "analysis.ipynb"
CELL = "import nbpkg; print(nbpkg.__version__)"


@pytest.fixture(scope="module")
def unix_users() -> Iterator[list[pwd.struct_passwd]]:
    """Two real users with homes of their own (0700), removed afterwards."""
    with real_users(USERS) as users:
        yield users


@pytest.fixture(scope="module")
def hub_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalIndex]:
    """The users' PyPI: nbpkg 1.0 and 2.0."""
    wheels = tmp_path_factory.mktemp("nb-hub-wheels")
    for version in ("1.0", "2.0"):
        build_wheel(wheels, "nbpkg", version)
    with LocalIndex(wheels) as index:
        yield index


@pytest.fixture(scope="module")
def hub_private_etc(tmp_path_factory: pytest.TempPathFactory, hub_index: LocalIndex) -> Path:
    """The administrator's /etc/jupyter: the index, nothing blocked yet."""
    namespace.skip_unless_available()
    base = tmp_path_factory.mktemp("nb-etc")
    upper, _ = namespace.etc_dirs(base)
    (upper / POLICY).write_text(json.dumps({"indexes": [hub_index.url], "blocked_versions": []}))
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
    """This module's hub: its users are the real users, and their servers run as them."""
    hub = Hub(
        tmp_path_factory.mktemp("nb-hub"),
        users=[u.pw_name for u in unix_users],
        args=hub_server_args,
        hub_env={key: str(path) for key, path in hub_own_dirs.items()},
        private_etc=hub_private_etc,
        as_users=True,
    )
    hub.start()
    try:
        yield hub
    finally:
        hub.stop()


@pytest.fixture(scope="module")
def shared_notebook(hub: Hub, unix_users: list[pwd.struct_passwd]) -> dict[str, Any]:
    """A's env, exported as a notebook's metadata by A's server; the notebook in B's home,
    B's file.  Answers the metadata."""
    ada, bea = unix_users
    hub.start_servers(*hub.users)
    token = hub.token(ada.pw_name)
    body = {"name": "analysis", "kind": "layer", "specs": ["nbpkg"], "kernel": False}
    job = hub.run_job(ada.pw_name, "POST", "envs", token=token, body=body)
    assert job["state"] == "succeeded", f"{job}\n{hub.log()}"
    code, meta = hub.server(
        ada.pw_name, "GET", "userpkg/api/envs/analysis/export", token=token,
        params={"format": "notebook"},
    )  # fmt: skip
    assert code == 200, meta
    assert meta["env"] == "analysis" and meta["requests"]["pypi"] == ["nbpkg"], meta
    assert "nbpkg" in meta["lock"]["text"] and "2.0" in meta["lock"]["text"], meta
    notebook = {
        "cells": [
            {"cell_type": "code", "execution_count": None, "id": "c1", "metadata": {},
             "outputs": [], "source": CELL}
        ],
        "metadata": {"userpkg": meta},
        "nbformat": 4,
        "nbformat_minor": 5,
    }  # fmt: skip
    path = Path(bea.pw_dir) / NOTEBOOK
    path.write_text(json.dumps(notebook))
    path.chmod(0o600)
    subprocess.run(["chown", f"{bea.pw_uid}:{bea.pw_gid}", str(path)], check=True)
    return dict(meta)


def opened(hub: Hub, user: str) -> tuple[dict[str, Any], str]:
    """The notebook as the user's server reads it (what the banner sees): the metadata-only
    notebook the panel uploads, and the first cell's source."""
    code, model = hub.server(user, "GET", f"api/contents/{NOTEBOOK}", token=hub.token(user))
    assert code == 200, model
    content = model["content"]
    meta = {"cells": [], "metadata": {"userpkg": content["metadata"]["userpkg"]},
            "nbformat": 4, "nbformat_minor": 5}  # fmt: skip
    return {"name": NOTEBOOK, "content": json.dumps(meta)}, content["cells"][0]["source"]


def create_from(hub: Hub, user: str, env: str, upload: dict[str, Any]) -> tuple[str, str]:
    """The banner's Show plan, then Create: the plan's first message and the job's."""
    token = hub.token(user)
    body = {"name": env, "file": upload}
    code, plan = hub.userpkg(user, "POST", "envs", token=token, body={**body, "dry_run": True})
    assert code == 200, plan
    assert plan["env"] == env and hub.userpkg(user, "GET", f"envs/{env}", token=token)[0] == 404
    job = hub.run_job(user, "POST", "envs", token=token, body=body)
    assert job["state"] == "succeeded", f"{job}\n{hub.log()}"
    return plan["messages"][0], job["result"]["plan"]["messages"][0]


def versions(hub: Hub, user: str, env: str) -> list[tuple[str, str]]:
    code, packages = hub.userpkg(user, "GET", f"envs/{env}/packages", token=hub.token(user))
    assert code == 200, packages
    return [(p["name"], p["version"]) for p in packages if p["source"] != "base"]


def test_b_opens_as_notebook_and_restores_its_env(
    hub: Hub, unix_users: list[pwd.struct_passwd], shared_notebook: dict[str, Any]
) -> None:
    bea = unix_users[1].pw_name
    env = shared_notebook["env"]
    code, missing = hub.userpkg(bea, "GET", f"envs/{env}", token=hub.token(bea))
    assert code == 404, missing  # the banner's cue: the notebook names an env B lacks
    upload, cell = opened(hub, bea)
    planned, done = create_from(hub, bea, env, upload)
    assert f"{NOTEBOOK}: its lock is installed exactly" in planned, planned
    assert "installed exactly" in done, done
    assert versions(hub, bea, env) == [("nbpkg", "2.0")]
    code, made = hub.userpkg(bea, "GET", f"envs/{env}", token=hub.token(bea))
    assert made["path"].startswith(unix_users[1].pw_dir + "/"), made  # B's, not A's
    out = hub.run_code(bea, cell, token=hub.token(bea), kernel_name=f"userpkg-{env}")
    assert out.strip() == "2.0", out


def test_a_blocked_locked_version_makes_bs_env_from_the_requests(
    hub: Hub,
    unix_users: list[pwd.struct_passwd],
    shared_notebook: dict[str, Any],
    hub_private_etc: Path,
    hub_index: LocalIndex,
) -> None:
    bea = unix_users[1].pw_name
    # The administrator blocks nbpkg >=2 (in place: the hub's namespace keeps the inode).
    policy = {"indexes": [hub_index.url], "blocked_versions": [RULE]}
    (hub_private_etc / "etc-upper" / POLICY).write_text(json.dumps(policy))
    deadline = time.monotonic() + 30
    while True:
        code, shown = hub.userpkg(bea, "GET", "policy", token=hub.token(bea))
        assert code == 200, shown
        if shown["policy"]["blocked_versions"] or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert [r["name"] for r in shown["policy"]["blocked_versions"]] == ["nbpkg"], shown

    upload, cell = opened(hub, bea)
    env = shared_notebook["env"] + "-again"
    planned, done = create_from(hub, bea, env, upload)
    for message in (planned, done):
        assert f"{NOTEBOOK}: installed from its requests: " in message, message
        assert "nbpkg 2.0 is blocked" in message and "leaks notebooks" in message, message
    assert versions(hub, bea, env) == [("nbpkg", "1.0")]
    out = hub.run_code(bea, cell, token=hub.token(bea), kernel_name=f"userpkg-{env}")
    assert out.strip() == "1.0", out
