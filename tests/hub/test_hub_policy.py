"""The administrator's policy on a real JupyterHub: set once in the hub's config (the
spawner's environment names the policy file), applied by every user's server, from the
panel's REST API and from ``%userpkg`` in a kernel.  A user's own config cannot point
their server at another index; one user's envs and audit records stay invisible to the
other.  This module's hub config is the administrator's guide's example."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

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


@pytest.fixture(scope="module")
def policy_file(tmp_path_factory: pytest.TempPathFactory, hub_index: LocalIndex) -> Path:
    path = tmp_path_factory.mktemp("admin") / "jupyter_userpkg_policy.json"
    path.write_text(json.dumps({"indexes": [hub_index.url], "blocked_versions": [RULE]}))
    return path


@pytest.fixture(scope="module")
def hub_environment(policy_file: Path) -> dict[str, str]:
    return {"JUPYTER_USERPKG_POLICY_URL": str(policy_file)}


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
    hub: Hub, tokens: dict[str, str], policy_file: Path, hub_index: LocalIndex
) -> None:
    # alice, from the panel's REST API: her own config names the rogue index, in vain.
    code, shown = hub.userpkg("alice", "GET", "policy", token=tokens["alice"])
    assert code == 200, shown
    assert shown["policy"]["indexes"] == [hub_index.url]
    assert shown["origins"]["blocked_versions"] == str(policy_file)
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
    assert f"from {policy_file}" in out and "Traceback" not in out

    # Each user's audit log holds their own changes only.
    mine = audit(hub, "alice")
    assert [(e["env"], e["action"]) for e in mine] == [("work", "create")]
    # The default env made for bob's first change is logged with that change.
    assert [(e["env"], e["action"]) for e in audit(hub, "bob")] == [("default", "change")]
    assert all(e["env"] != "work" for e in audit(hub, "bob"))
    code, bobs = hub.userpkg("bob", "GET", "envs", token=tokens["bob"])
    assert [e["name"] for e in bobs] == ["default"]
    code, _ = hub.userpkg("alice", "GET", "envs", token=tokens["bob"])
    assert code == 403
