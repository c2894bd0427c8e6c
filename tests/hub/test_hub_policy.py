"""The administrator's policy on a real JupyterHub: one file in /etc/jupyter (a private
mount namespace gives the hub its own), applied by every user's server, from the panel's
REST API, from ``%userpkg`` in a kernel and from the CLI in a kernel's shell.  Nothing a
user sets or writes moves it: their own config, ``XDG_CONFIG_DIRS`` with
``JUPYTER_PLATFORM_DIRS``, a policy URL variable, a proxy variable, ``LOGNAME``.  One
user's envs and audit records stay invisible to the other.  This module's hub config and
policy file are the administrator's guide's worked example."""

from __future__ import annotations

import json
import os
import pwd
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import namespace
from tests.hub.hubproc import Hub
from tests.localindex import LocalIndex, build_wheel

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]

RULE = {"name": "hubpkg", "versions": "==2.0", "reason": "ships a cryptominer", "advisory": "HUB-1"}


@pytest.fixture(scope="module")
def rogue_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalIndex]:
    """An index the administrator did not choose (hubpkg 9.0)."""
    wheels = tmp_path_factory.mktemp("rogue-wheels")
    build_wheel(wheels, "hubpkg", "9.0")
    with LocalIndex(wheels) as index:
        yield index


#: Where the hub's servers see the administrator's policy.
POLICY_FILE = "/etc/jupyter/jupyter_userpkg_policy.json"


@pytest.fixture(scope="module")
def hub_private_etc(tmp_path_factory: pytest.TempPathFactory, hub_index: LocalIndex) -> Path:
    namespace.skip_unless_available()
    base = tmp_path_factory.mktemp("private-etc")
    upper, _ = namespace.etc_dirs(base)
    policy = {"indexes": [hub_index.url], "blocked_versions": [RULE]}
    (upper / "jupyter" / "jupyter_userpkg_policy.json").write_text(json.dumps(policy))
    return base


@pytest.fixture(scope="module")
def hub_server_args() -> list[str]:
    return []  # the index comes from the policy, not from a server option


@pytest.fixture(scope="module")
def tokens(hub: Hub, rogue_index: LocalIndex) -> dict[str, str]:
    """Both servers started, alice having pointed her own config at the rogue index first."""
    config = hub.home("alice") / ".jupyter" / "jupyter_userpkg_config.json"
    config.parent.mkdir(parents=True)
    config.write_text(
        json.dumps(
            {"UserPkg": {"default_index": rogue_index.url, "extra_index_urls": [rogue_index.url]}}
        )
    )
    hub.start_servers(*hub.users)
    return {user: hub.token(user) for user in hub.users}


def audit(hub: Hub, user: str) -> list[dict[str, object]]:
    path = hub.home(user) / ".local/share/jupyter/userpkg/envs/.audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_every_users_server_applies_the_hubs_policy(
    hub: Hub, tokens: dict[str, str], hub_index: LocalIndex
) -> None:
    # alice, from the panel's REST API: her own config names the rogue index, in vain.
    code, shown = hub.userpkg("alice", "GET", "policy", token=tokens["alice"])
    assert code == 200, shown
    assert shown["policy"]["indexes"] == [hub_index.url]
    assert shown["origins"]["blocked_versions"] == POLICY_FILE
    job = hub.run_job(
        "alice",
        "POST",
        "envs",
        token=tokens["alice"],
        body={"name": "work", "kind": "layer", "specs": ["hubpkg"], "kernel": False},
    )
    assert job["state"] == "succeeded", f"{job}\n{hub.log()}"
    code, packages = hub.userpkg("alice", "GET", "envs/work/packages", token=tokens["alice"])
    assert [(p["name"], p["version"]) for p in packages if p["source"] != "base"] == [
        ("hubpkg", "1.0")  # not 9.0 (the rogue index's), not 2.0 (blocked)
    ]
    code, refused = hub.userpkg(
        "alice", "POST", "envs/work/plan", token=tokens["alice"], body={"install": ["hubpkg==2.0"]}
    )
    assert code == 403 and refused["code"] == "policy_denied"
    assert "ships a cryptominer" in refused["message"] and "HUB-1" in refused["message"]

    # bob, from %userpkg in a kernel of his server.
    out = hub.run_code(
        "bob",
        "%load_ext jupyter_userpkg\n"
        "%userpkg install hubpkg==2.0\n"
        "%userpkg install hubpkg\n"
        "%userpkg policy\n",
        token=tokens["bob"],
    )
    assert (
        "userpkg: error: hubpkg 2.0 is blocked" in out and "nearest allowed version is 1.0" in out
    )
    code, packages = hub.userpkg("bob", "GET", "envs/default/packages", token=tokens["bob"])
    assert [(p["name"], p["version"]) for p in packages if p["source"] != "base"] == [
        ("hubpkg", "1.0")
    ], out
    assert f"from {POLICY_FILE}" in out and "Traceback" not in out

    # Each user's audit log holds their own changes and refused requests only.
    mine = audit(hub, "alice")
    assert [(e["env"], e["action"]) for e in mine] == [("work", "create"), ("work", "refused")]
    assert mine[1]["command"] == "install hubpkg==2.0" and mine[1]["code"] == "policy_denied"
    # The default env made for bob's first change is logged with that change.
    assert [(e["env"], e["action"]) for e in audit(hub, "bob")] == [
        ("default", "refused"),
        ("default", "change"),
    ]
    assert all(e["env"] != "work" for e in audit(hub, "bob"))
    code, bobs = hub.userpkg("bob", "GET", "envs", token=tokens["bob"])
    assert [e["name"] for e in bobs] == ["default"]
    code, _ = hub.userpkg("alice", "GET", "envs", token=tokens["bob"])
    assert code == 403


def test_nothing_a_user_sets_in_a_terminal_moves_the_policy(
    hub: Hub, tokens: dict[str, str], hub_index: LocalIndex, rogue_index: LocalIndex
) -> None:
    """bob, from his kernel's shell (what a JupyterLab terminal gives him): a dir of his
    named by ``XDG_CONFIG_DIRS`` with ``JUPYTER_PLATFORM_DIRS=1`` holding a "policy" and
    settings, a policy URL variable naming his own file, another user's name in
    ``LOGNAME`` (a dead proxy for a remote policy: tests/core/policy/test_sources.py).
    The CLI still takes the administrator's index and rules, and his audit record still
    names the account that made the change."""
    evil = hub.home("bob") / "evil"
    (evil / "jupyter").mkdir(parents=True)
    (evil / "jupyter" / "jupyter_userpkg_policy.json").write_text(
        json.dumps({"indexes": [rogue_index.url]})
    )
    (evil / "jupyter" / "jupyter_userpkg_config.json").write_text(
        json.dumps({"UserPkg": {"default_index": rogue_index.url}})
    )
    (evil / "mine.json").write_text("{}")
    env = {
        "JUPYTER_PLATFORM_DIRS": "1",
        "XDG_CONFIG_DIRS": str(evil),
        "JUPYTER_USERPKG_POLICY_URL": str(evil / "mine.json"),
        "LOGNAME": "alice",
        "USER": "alice",
    }
    commands = [
        ["create", "mine", "--kind", "venv", "--no-kernel", "-y", "hubpkg"],
        ["install", "-n", "mine", "hubpkg==2.0", "-y"],
        ["policy"],
    ]
    code = (
        "import json, os, subprocess, sys\n"
        f"env = dict(os.environ, **{env!r})\n"
        f"for args in {commands!r}:\n"
        "    r = subprocess.run([sys.executable, '-m', 'jupyter_userpkg', *args], env=env,\n"
        "                       capture_output=True, text=True)\n"
        "    print(json.dumps([r.returncode, r.stdout, r.stderr]))\n"
    )
    out = hub.run_code("bob", code, token=tokens["bob"])
    results = [json.loads(line) for line in out.splitlines() if line.startswith("[")]
    assert len(results) == 3, out
    (created, refused, policy) = results
    assert created[0] == 0, created
    assert refused[0] != 0 and "ships a cryptominer" in refused[2], refused
    assert f"from {POLICY_FILE}" in policy[1] and str(evil) not in policy[1]
    assert "JUPYTER_USERPKG_POLICY_URL is not read" in policy[1]
    _, packages = hub.userpkg("bob", "GET", "envs/mine/packages", token=tokens["bob"])
    assert ("hubpkg", "1.0") in [(p["name"], p["version"]) for p in packages]  # not 9.0
    records = [e for e in audit(hub, "bob") if e["env"] == "mine"]
    assert [e["action"] for e in records] == ["create", "refused"]
    assert records[0]["user"] == pwd.getpwuid(os.getuid()).pw_name  # the server's account
