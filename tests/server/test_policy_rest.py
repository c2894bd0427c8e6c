"""The policy over REST: GET policy, env advisories, search and info marks, refusals as
403 policy_denied (plans) and failed jobs (changes), the env unchanged."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from tests.localindex import LocalIndex
from tests.server.conftest import Api

POLICY = {
    "blocked_versions": [
        {"name": "tinypkg", "versions": "==2.0", "reason": "corrupts data", "advisory": "TP-2"}
    ],
    "blocked_packages": [{"name": "slowpkg", "reason": "too slow"}],
}


@pytest.fixture
def policy_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(POLICY))
    monkeypatch.setenv("JUPYTER_USERPKG_POLICY_URL", str(path))
    return path


@pytest.fixture
def jp_server_config(indexed_settings: dict[str, Any], policy_file: Path) -> dict[str, Any]:
    indexed_settings["policy_interval"] = 0.2
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_userpkg": True}},
        "UserPkg": indexed_settings,
    }


async def test_policy_over_rest(api: Api, policy_file: Path, local_index: LocalIndex) -> None:
    code, shown = await api("GET", "policy")
    assert code == 200
    assert shown["origins"] == {
        "blocked_versions": str(policy_file),
        "blocked_packages": str(policy_file),
    }
    assert shown["policy"]["blocked_packages"] == [{"name": "slowpkg", "reason": "too slow"}]
    await api.run("POST", "envs", body={"name": "r", "kind": "venv", "kernel": False})
    code, refused = await api("POST", "envs", "r", "plan", body={"install": ["tinypkg==2.0"]})
    assert code == 403 and refused["code"] == "policy_denied"
    assert (
        "corrupts data" in refused["message"]
        and "nearest allowed version is 1.0" in refused["message"]
    )
    job = await api.wait(
        await api.job("POST", "envs", "r", "transactions", body={"install": ["slowpkg"]})
    )
    assert job["state"] == "failed" and job["error"]["code"] == "policy_denied"
    assert "too slow" in job["error"]["message"]
    await api.run("POST", "envs", "r", "transactions", body={"install": ["tinypkg"]})
    code, packages = await api("GET", "envs", "r", "packages")
    assert [(p["name"], p["version"]) for p in packages] == [("tinypkg", "1.0")]
    code, history = await api("GET", "envs", "r", "history")
    assert len(history) == 2  # create and the allowed install: refusals left no revision
    code, info = await api("GET", "packages", "tinypkg", params={"source": "pypi"})
    assert code == 200 and info["blocked"] is None
    assert info["blocked_versions"] == {
        "2.0": {
            "rule": "blocked_versions: tinypkg ==2.0",
            "reason": "corrupts data",
            "advisory": "TP-2",
        }
    }
    code, info = await api("GET", "packages", "slowpkg", params={"source": "pypi"})
    assert info["blocked"]["reason"] == "too slow"
    code, checked = await api("GET", "policy", params={"check": "true"})
    assert code == 200 and checked["violations"] == []
    code, bad = await api("GET", "policy", params={"check": "maybe"})
    assert code == 400 and bad["code"] == "invalid_request"


async def test_a_new_policy_applies_without_a_restart(
    api: Api, policy_file: Path, local_index: LocalIndex, userpkg_settings: dict[str, Any]
) -> None:
    """An env holding a version the administrator blocks later is flagged (and the new rule
    enforced) once the server reads the policy again; ``update`` then moves it."""
    policy_file.write_text("{}")  # no policy (the server is told within policy_interval)
    for _ in range(100):
        _, shown = await api("GET", "policy")
        if not shown["origins"]:
            break
        await asyncio.sleep(0.1)
    assert shown["origins"] == {}
    await api.run("POST", "envs", body={"name": "old", "kind": "venv", "kernel": False})
    await api.run("POST", "envs", "old", "transactions", body={"install": ["tinypkg"]})
    _, envs = await api("GET", "envs")
    assert envs[0]["advisories"] == []
    policy_file.write_text(json.dumps(POLICY))
    for _ in range(100):
        _, envs = await api("GET", "envs")
        if envs[0]["advisories"]:
            break
        await asyncio.sleep(0.1)
    (advisory,) = envs[0]["advisories"]
    assert (advisory["package"], advisory["version"], advisory["advisory"]) == (
        "tinypkg",
        "2.0",
        "TP-2",
    )
    assert advisory["fix"] == "update tinypkg -n old"
    await api.run("POST", "envs", "old", "transactions", body={"update": ["tinypkg"]})
    _, envs = await api("GET", "envs")
    assert envs[0]["advisories"] == []
    _, packages = await api("GET", "envs", "old", "packages")
    assert [(p["name"], p["version"]) for p in packages] == [("tinypkg", "1.0")]
