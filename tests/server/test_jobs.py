"""Jobs over REST: queues per env, cancel, events, changes made outside the server."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import AsyncHTTPClient

from jupyter_userpkg.core.pypi.uv import env_python
from jupyter_userpkg.core.service import UserPkgService
from jupyter_userpkg.server.handlers import ROUTES
from tests.localindex import LocalIndex
from tests.server.conftest import Api, EventLog

pytestmark = pytest.mark.slow


@pytest.fixture
def jp_server_config(indexed_settings: dict[str, Any]) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_userpkg": True}},
        "UserPkg": indexed_settings,
    }


async def venv(api: Api, name: str) -> None:
    await api.run("POST", "envs", body={"name": name, "kind": "venv", "kernel": False})


async def until_running(api: Api, job: dict[str, Any], phase: str = "download") -> None:
    """Wait until the job runs and has reached ``phase`` (or installs already)."""
    for _ in range(600):
        job = (await api("GET", "jobs", job["id"]))[1]
        phases = {e["phase"] for e in job["events"]}
        if job["state"] == "running" and (phase in phases or "install" in phases):
            return
        assert job["state"] in ("queued", "running"), job
        await asyncio.sleep(0.05)
    raise AssertionError(f"job never reached {phase}: {job}")


def installed(envs_dir: Path, env: str, module: str) -> bool:
    import subprocess

    python = env_python(envs_dir / env)
    code = f"import importlib.util as u; print(u.find_spec({module!r}) is not None)"
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip() == "True"


async def test_every_route_needs_a_user(
    http_server_client: Any, jp_serverapp: Any, jp_http_port: int, jp_base_url: str
) -> None:
    client = AsyncHTTPClient()
    methods = {"get": "GET", "post": "POST", "delete": "DELETE"}
    checked = 0
    for pattern, handler in ROUTES:
        path = pattern.replace("(?P<env>[^/]+)", "x").replace("(?P<job_id>[^/]+)", "j")
        path = path.replace("(?P<name>[^/]+)", "n")
        for attr, method in methods.items():
            if attr not in vars(handler):
                continue
            url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}userpkg/api/{path}"
            body = "{}" if method == "POST" else None
            for headers in ({}, {"Authorization": "token wrong"}):
                response = await client.fetch(
                    url, method=method, body=body, headers=headers, raise_error=False
                )
                assert response.code == 403, (method, path, headers, response.code)
                assert b"Traceback" not in response.body
                checked += 1
    assert checked >= 2 * 15


@pytest.mark.parametrize(
    ("path", "body", "words"),
    [
        (("envs",), {"name": "b", "kindd": "venv"}, "unknown field 'kindd'"),
        (("envs",), {"kind": "venv"}, "field 'name' is required"),
        (("envs",), {"name": "b", "specs": "six"}, "field 'specs' must be a list of strings"),
        (("envs",), {"name": "b", "kernel": "yes"}, "field 'kernel' must be true or false"),
        (("envs",), {"name": "b", "file": {"name": "x.sh", "content": ""}}, "cannot create"),
        (("envs",), [1, 2], "must be a JSON object"),
        (("envs",), "{not json", "not valid JSON"),
        (("envs", "a", "transactions"), {"install": [1]}, "field 'install' must be a list"),
        (("envs", "a", "transactions"), {"update_all": 1}, "field 'update_all' must be true"),
        (("envs", "a", "plan"), {"instal": ["x"]}, "unknown field 'instal'"),
        (("envs", "a", "rollback"), {"revision": "0"}, "field 'revision' must be an integer"),
        (("envs", "a", "rollback"), {"revision": True}, "field 'revision' must be an integer"),
        (("envs", "a", "rollback"), {}, "field 'revision' is required"),
        (("envs",), {"name": "b", "python": "/bin/sh"}, "field 'python' must be a Python version"),
        (("envs",), {"name": "b", "file": {"name": "a\u0000.txt", "content": ""}}, "name"),
        (("envs",), {"name": "b", "file": {"name": "r.txt", "content": "\ud800"}}, "text file"),
        (("envs",), "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
)
async def test_bad_bodies_are_400_naming_the_field(
    api: Api, path: tuple[str, ...], body: Any, words: str, tmp_path: Path
) -> None:
    UserPkgService(tmp_path / "envs").create("a", kind="venv", kernel=False)
    code, error = await api("POST", *path, body=body)
    assert code == 400 and words in error["message"], error
    assert error["code"] == error["reason"] == "invalid_request"
    code, envs = await api("GET", "envs")
    assert [(e["name"], e["revision"]) for e in envs] == [("a", 0)]
    assert (await api("GET", "jobs"))[1] == []


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code_"),
    [
        ("GET", ("envs", "nope"), None, 404, "env_not_found"),
        ("GET", ("envs", "bad name"), None, 400, "invalid_env_name"),
        ("GET", ("envs", "nope", "packages"), None, 404, "env_not_found"),
        ("POST", ("envs", "nope", "transactions"), {"install": ["x"]}, 404, "env_not_found"),
        ("DELETE", ("envs", "nope"), None, 404, "env_not_found"),
        ("GET", ("jobs", "nope"), None, 404, "job_not_found"),
        ("DELETE", ("jobs", "nope"), None, 404, "job_not_found"),
        ("GET", ("envs", "a", "export"), None, 200, None),
        ("GET", ("envs", "a", "history"), None, 200, None),
    ],
)
async def test_errors_have_their_status_and_body(
    api: Api,
    tmp_path: Path,
    method: str,
    path: tuple[str, ...],
    body: Any,
    status: int,
    code_: str | None,
) -> None:
    UserPkgService(tmp_path / "envs").create("a", kind="venv", kernel=False)
    code, data = await api(method, *path, body=body)
    assert code == status, data
    if code_ is not None:
        assert data["code"] == code_ and data["message"] and "Traceback" not in json.dumps(data)
        assert str(tmp_path) not in data["message"]


async def test_a_failed_job_says_why_and_changes_nothing(api: Api, envs_dir: Path) -> None:
    await venv(api, "a")
    job = await api.wait(
        await api.job(
            "POST", "envs", "a", "transactions", body={"install": ["no-such-package-here"]}
        )
    )
    assert job["state"] == "failed" and job["error"]["code"] in (
        "package_not_found",
        "unsatisfiable",
    )
    assert "no-such-package-here" in job["error"]["message"]
    assert (await api("GET", "envs", "a"))[1]["revision"] == 0
    job = await api.wait(
        await api.job(
            "POST", "envs", "a", "transactions", body={"install": ["tinypkg; os_name == '"]}
        )
    )
    assert job["state"] == "failed" and job["error"]["code"] == "invalid_spec"


async def test_cancel_mid_install_leaves_the_env_as_it_was(
    api: Api, local_index: LocalIndex, envs_dir: Path, event_log: EventLog
) -> None:
    await venv(api, "a")
    history = (await api("GET", "envs", "a", "history"))[1]
    local_index.slow = 0.1  # ~6 s for the wheel
    job = await api.job("POST", "envs", "a", "transactions", body={"install": ["slowpkg"]})
    await until_running(api, job)
    code, cancelling = await api("DELETE", "jobs", job["id"])
    assert code == 202 and cancelling["cancel_requested"]
    job = await api.wait(job)
    assert job["state"] == "cancelled" and job["error"]["code"] == "cancelled"
    assert (await api("GET", "envs", "a", "history"))[1] == history
    assert (await api("GET", "envs", "a", "packages"))[1] == []
    assert not installed(envs_dir, "a", "slowpkg")
    assert not (envs_dir / "a" / ".userpkg" / "txn").exists()
    states = [e["state"] for e in event_log.of("job") if e["id"] == job["id"] and "event" not in e]
    assert states[0] == "queued" and states[-1] == "cancelled" and "running" in states
    # Cancelling a finished job changes nothing.
    code, again = await api("DELETE", "jobs", job["id"])
    assert code == 200 and again["state"] == "cancelled"


async def test_jobs_of_one_env_queue_and_of_two_envs_run_side_by_side(
    api: Api, local_index: LocalIndex, envs_dir: Path
) -> None:
    await venv(api, "a")
    await venv(api, "b")
    local_index.slow = 0.05
    slow = await api.job("POST", "envs", "a", "transactions", body={"install": ["slowpkg"]})
    queued = await api.job("POST", "envs", "a", "transactions", body={"install": ["tinypkg==1.0"]})
    cancelled = await api.job("POST", "envs", "a", "transactions", body={"install": ["tinypkg"]})
    other = await api.job("POST", "envs", "b", "transactions", body={"install": ["tinypkg"]})
    await until_running(api, slow)
    assert (await api("GET", "jobs", queued["id"]))[1]["state"] == "queued"
    code, ended = await api("DELETE", "jobs", cancelled["id"])
    assert code == 200 and ended["state"] == "cancelled"  # queued: ends at once
    # The other env's job does not wait for env a's queue.
    other = await api.wait(other)
    assert other["state"] == "succeeded"
    assert (await api("GET", "jobs", slow["id"]))[1]["state"] == "running"
    # The event loop stays free: reads answer while the install runs.
    code, envs = await api("GET", "envs")
    assert code == 200 and len(envs) == 2
    assert (await api("GET", "jobs", slow["id"]))[1]["state"] == "running"
    slow, queued, cancelled = [await api.wait(j) for j in (slow, queued, cancelled)]
    assert [slow["state"], queued["state"], cancelled["state"]] == [
        "succeeded",
        "succeeded",
        "cancelled",
    ]
    assert cancelled["started"] is None  # never ran
    # Only a job behind another of its env says it waits, and says so first.
    assert queued["events"][0]["phase"] == "wait"
    assert "earlier change of this environment" in queued["events"][0]["message"]
    assert "wait" not in {e["phase"] for job in (slow, other) for e in job["events"]}
    assert [slow["result"]["revision"], queued["result"]["revision"]] == [1, 2]
    packages = {p["name"]: p["version"] for p in (await api("GET", "envs", "a", "packages"))[1]}
    assert packages == {"slowpkg": "1.0", "tinypkg": "1.0"}
    listed = (await api("GET", "jobs", params={"env": "a"}))[1]
    assert {j["id"] for j in listed if j["verb"] == "change"} == {
        slow["id"],
        queued["id"],
        cancelled["id"],
    }
    assert {j["env"] for j in listed} == {"a"}


async def test_changes_from_outside_the_server_are_announced(
    api: Api, jp_fetch: Any, envs_dir: Path, event_log: EventLog, local_index: LocalIndex
) -> None:
    first = await jp_fetch("userpkg", "api", "envs")
    etag = first.headers["Etag"]
    again = await jp_fetch(
        "userpkg", "api", "envs", headers={"If-None-Match": etag}, raise_error=False
    )
    assert again.code == 304
    await asyncio.sleep(0.5)  # the watcher's first look
    outside = UserPkgService(envs_dir, uv_options=_uv(local_index, envs_dir))
    await asyncio.to_thread(outside.create, "cli", kind="venv", kernel=False)
    created = await event_log.until(lambda e: e.get("env") == "cli")
    assert created == {"env": "cli", "action": "created", "revision": 0}
    changed = await jp_fetch(
        "userpkg", "api", "envs", headers={"If-None-Match": etag}, raise_error=False
    )
    assert changed.code == 200 and changed.headers["Etag"] != etag
    assert [e["name"] for e in json.loads(changed.body)] == ["cli"]

    await asyncio.to_thread(outside.change, "cli", install=["tinypkg"])
    await event_log.until(lambda e: e.get("env") == "cli" and e.get("action") == "changed")
    packages = await jp_fetch("userpkg", "api", "envs", "cli", "packages")
    assert [p["name"] for p in json.loads(packages.body)] == ["tinypkg"]
    again = await jp_fetch(
        "userpkg",
        "api",
        "envs",
        "cli",
        "packages",
        headers={"If-None-Match": packages.headers["Etag"]},
        raise_error=False,
    )
    assert again.code == 304

    await asyncio.to_thread(outside.delete, "cli")
    deleted = await event_log.until(lambda e: e.get("action") == "deleted")
    assert deleted == {"env": "cli", "action": "deleted", "revision": -1}


def _uv(index: LocalIndex, envs_dir: Path) -> Any:
    from jupyter_userpkg.core.options import UvOptions

    return UvOptions(default_index=index.url, cache_dir=str(envs_dir.parent / "uv-cache"))


async def test_job_events_reach_the_event_bus(
    api: Api, event_log: EventLog, local_index: LocalIndex
) -> None:
    await venv(api, "a")
    job = await api.run("POST", "envs", "a", "transactions", body={"install": ["tinypkg"]})
    mine = [e for e in event_log.of("job") if e["id"] == job["id"]]
    assert [e["state"] for e in mine if "event" not in e][:2] == ["queued", "running"]
    assert mine[-1]["state"] == "succeeded"
    phases = [e["event"]["phase"] for e in mine if "event" in e]
    assert "solve" in phases and "install" in phases and phases[-1] == "commit"
    assert all(e["verb"] == "change" and e["env"] == "a" for e in mine)
    changed = await event_log.until(lambda e: e.get("env") == "a" and e.get("revision") == 1)
    assert changed["action"] == "changed"


async def test_python_of_the_server_is_the_base(api: Api) -> None:
    code, health = await api("GET", "health")
    assert code == 200 and health["status"] == "ok"
    assert sys.executable
