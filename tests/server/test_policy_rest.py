"""The policy over REST: GET policy, env advisories, search and info marks, refusals as
403 policy_denied (plans) and failed jobs (changes), the env unchanged."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.localindex import LocalIndex
from tests.server.conftest import Api
from tests.server.test_jobs import until_running

POLICY = {
    "blocked_versions": [
        {"name": "tinypkg", "versions": "==2.0", "reason": "corrupts data", "advisory": "TP-2"}
    ],
    "blocked_packages": [{"name": "slowpkg", "reason": "too slow"}],
}


@pytest.fixture
def policy_file(admin_policy: Callable[..., Path]) -> Path:
    """The administrator's policy file, which the tests edit while the server runs."""
    return admin_policy(POLICY) / "jupyter_userpkg_policy.json"


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
    policy_file.write_text("{}")  # nothing blocked (the server is told within policy_interval)
    await until_policy(api, allows_all)
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
    assert advisory["change"] == {"verb": "update", "env": "old", "packages": ["tinypkg"]}
    await api.run("POST", "envs", "old", "transactions", body={"update": ["tinypkg"]})
    _, envs = await api("GET", "envs")
    assert envs[0]["advisories"] == []
    _, packages = await api("GET", "envs", "old", "packages")
    assert [(p["name"], p["version"]) for p in packages] == [("tinypkg", "1.0")]


async def test_the_policy_is_read_again_before_any_request(
    jp_serverapp: Any, api: Api, policy_file: Path
) -> None:
    """The server reads the policy every ``policy_interval`` seconds from its start, not
    from its first request: the first request already sees the new policy."""
    settings = jp_serverapp.web_app.settings
    first = settings["userpkg_service"]
    policy_file.write_text("{}")
    deadline = time.monotonic() + 30
    while settings["userpkg_service"] is first:  # no request made while waiting
        assert time.monotonic() < deadline, "the policy was not read again"
        await asyncio.sleep(0.05)
    code, shown = await api("GET", "policy")
    assert code == 200 and allows_all(shown) and shown["error"] is None
    # Read again and again unchanged: the service (and what it keeps) stays.
    second = settings["userpkg_service"]
    await asyncio.sleep(1.0)  # five reads
    assert settings["userpkg_service"] is second


async def test_a_queued_job_runs_within_the_policy_current_when_it_starts(
    api: Api, policy_file: Path, local_index: LocalIndex
) -> None:
    """A job queued before the policy changed and started after it is judged by the new
    policy; the job running meanwhile finishes within the old one."""
    policy_file.write_text("{}")
    await until_policy(api, allows_all)
    await api.run("POST", "envs", body={"name": "q", "kind": "venv", "kernel": False})
    local_index.slow = 0.2  # ~12 s for slowpkg's wheel, unless the test speeds it up
    running = await api.job("POST", "envs", "q", "transactions", body={"install": ["slowpkg"]})
    queued = await api.job("POST", "envs", "q", "transactions", body={"install": ["tinypkg==2.0"]})
    await until_running(api, running)
    policy_file.write_text(json.dumps(POLICY))  # blocks slowpkg, and tinypkg 2.0
    await until_policy(api, lambda shown: not allows_all(shown))
    assert (await api("GET", "jobs", running["id"]))[1]["state"] == "running"
    assert (await api("GET", "jobs", queued["id"]))[1]["state"] == "queued"
    local_index.slow = 0.0
    running, queued = await api.wait(running), await api.wait(queued)
    assert running["state"] == "succeeded", running["error"]
    assert queued["state"] == "failed" and queued["error"]["code"] == "policy_denied"
    assert "corrupts data" in queued["error"]["message"]
    _, packages = await api("GET", "envs", "q", "packages")
    assert [(p["name"], p["version"]) for p in packages] == [("slowpkg", "1.0")]


async def until_policy(api: Api, shows: Callable[[dict[str, Any]], bool]) -> None:
    """Wait until ``GET policy`` shows what ``shows`` looks for."""
    deadline = time.monotonic() + 30
    while True:
        code, shown = await api("GET", "policy")
        assert code == 200, shown
        if shows(shown):
            return
        assert time.monotonic() < deadline, f"the policy is still {shown}"
        await asyncio.sleep(0.05)


def allows_all(shown: dict[str, Any]) -> bool:
    """``GET policy`` shows a policy that blocks nothing (not ``POLICY``)."""
    rules = shown["policy"]
    return not rules["blocked_packages"] and not rules["blocked_versions"]


async def test_a_policy_that_cannot_be_read_is_shown_with_its_error(
    api: Api, policy_file: Path
) -> None:
    code, shown = await api("GET", "policy")
    assert code == 200 and shown["error"] is None
    policy_file.write_text("{not json")
    await until_policy(api, lambda shown: shown["error"] is not None)
    _, shown = await api("GET", "policy")
    assert "is not valid JSON" in shown["error"] and str(policy_file) in shown["error"]
    code, refused = await api("GET", "policy", params={"check": "true"})
    assert code == 400 and refused["code"] == "invalid_policy"
