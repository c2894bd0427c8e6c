"""Every verb over REST against a real server, real uv and PyPI, and a test conda channel."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conda_channel import TestChannel
from tests.server.conftest import Api

pytestmark = pytest.mark.slow


def parse_stream(text: str) -> list[tuple[str, dict[str, Any]]]:
    """Server-sent events as (event name, data)."""
    out = []
    for block in text.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":")
        )
        if "data" in fields:
            out.append((fields.get("event", "message"), json.loads(fields["data"])))
    return out


async def stream(jp_fetch: Any, job_id: str) -> list[tuple[str, dict[str, Any]]]:
    response = await jp_fetch("userpkg", "api", "jobs", job_id, "events")
    assert response.headers["Content-Type"].startswith("text/event-stream")
    return parse_stream(response.body.decode())


async def roundtrip(
    api: Api, jp_fetch: Any, env: str, create: dict[str, Any], change: dict[str, Any]
) -> None:
    """create, plan, change (streamed), packages, history, rollback, export, delete."""
    created = await api.run("POST", "envs", body={"name": env, "kernel": False, **create})
    assert created["result"]["revision"] == 0 and created["plan"]["env"] == env
    code, info = await api("GET", "envs", env)
    assert code == 200 and info["revision"] == 0 and info["name"] == env
    before = (await api("GET", "envs", env, "packages"))[1]

    code, plan = await api("POST", "envs", env, "plan", body=change)
    assert code == 200, plan
    added = {c["name"]: c for c in plan["changes"] if c["action"] == "add"}
    assert added and plan["from_revision"] == 0
    assert (await api("GET", "envs", env))[1]["revision"] == 0  # a plan changes nothing

    job = await api.job("POST", "envs", env, "transactions", body=change)
    assert job["state"] in ("queued", "running") and job["env"] == env
    events = await stream(jp_fetch, job["id"])
    progress = [data for name, data in events if name == "progress"]
    end = events[-1]
    assert end[0] == "end" and end[1]["state"] == "succeeded", end
    assert {e["phase"] for e in progress} >= {"solve", "install", "commit"}
    assert "wait" not in {e["phase"] for e in progress}  # nothing else ran: no waiting
    assert end[1]["plan"]["changes"] == plan["changes"]
    assert end[1]["result"]["revision"] == 1

    code, packages = await api("GET", "envs", env, "packages")
    names = {p["name"]: p for p in packages}
    for name, change_ in added.items():
        assert names[name]["version"] == change_["new"]
    code, history = await api("GET", "envs", env, "history")
    assert [r["revision"] for r in history] == [0, 1]
    assert {c["name"] for c in history[1]["changes"]} == set(added) | {
        c["name"] for c in plan["changes"] if c["action"] != "add"
    }

    code, preview = await api(
        "POST", "envs", env, "rollback", body={"revision": 0, "dry_run": True}
    )
    assert code == 200 and {c["name"] for c in preview["changes"]} == {
        c["name"] for c in plan["changes"]
    }
    rolled = await api.run("POST", "envs", env, "rollback", body={"revision": 0})
    assert rolled["result"]["revision"] == 2
    assert (await api("GET", "envs", env, "packages"))[1] == before

    for fmt in ("requirements", "environment", "lock"):
        code, text = await api("GET", "envs", env, "export", params={"format": fmt})
        if fmt == "requirements" and create.get("kind") == "conda":
            assert code == 400 and "export it as 'environment' or 'lock'" in text["message"]
            continue
        response = await jp_fetch("userpkg", "api", "envs", env, "export", params={"format": fmt})
        assert response.code == 200 and response.body.decode() == text
        assert env in response.headers["Content-Disposition"]

    deleted = await api.run("DELETE", "envs", env)
    assert deleted["verb"] == "delete"
    code, error = await api("GET", "envs", env)
    assert code == 404 and error["code"] == "env_not_found"
    assert env not in [e["name"] for e in (await api("GET", "envs"))[1]]


@pytest.mark.parametrize("kind", ["venv", "layer"])
async def test_pypi_kinds_roundtrip(api: Api, jp_fetch: Any, kind: str) -> None:
    await roundtrip(api, jp_fetch, f"r-{kind}", {"kind": kind}, {"install": ["tabulate==0.9.0"]})


async def test_conda_roundtrip(api: Api, jp_fetch: Any, conda_channel: TestChannel) -> None:
    await roundtrip(
        api,
        jp_fetch,
        "r-conda",
        {"kind": "conda", "channels": [conda_channel.url], "specs": ["bar 1.*"]},
        {"install": ["baz"]},
    )


async def test_create_from_an_uploaded_file(api: Api, tmp_path: Path) -> None:
    upload = {"name": "requirements.txt", "content": "tabulate==0.9.0\n"}
    job = await api.run(
        "POST", "envs", body={"name": "up", "kind": "venv", "kernel": False, "file": upload}
    )
    assert job["result"]["revision"] == 0
    packages = (await api("GET", "envs", "up", "packages"))[1]
    assert [(p["name"], p["version"]) for p in packages] == [("tabulate", "0.9.0")]
    # A refused file says why, without the server's temp path.
    bad = {"name": "requirements.txt", "content": "tabulate --extra-index-url http://x\n"}
    job = await api.wait(await api.job("POST", "envs", body={"name": "up2", "file": bad}))
    assert job["state"] == "failed" and "userpkg-upload-" not in json.dumps(job["error"])
    code, _ = await api("GET", "envs", "up2")
    assert code == 404
    # An error that names the file names it as the user called it.
    odd = {"name": "environment.yml", "content": "name: x\ndependencies: [python=3.11, {pip: 3}]\n"}
    job = await api.wait(await api.job("POST", "envs", body={"name": "up3", "file": odd}))
    assert job["state"] == "failed" and "userpkg-upload-" not in json.dumps(job["error"])
    assert "environment.yml" in job["error"]["message"], job["error"]


async def test_create_from_a_notebooks_metadata(api: Api) -> None:
    """The panel sends a notebook of its metadata only; the env is made from its lock."""
    await api.run(
        "POST", "envs", body={"name": "src", "kind": "venv", "kernel": False, "specs": ["six"]}
    )
    code, meta = await api("GET", "envs", "src", "export", params={"format": "notebook"})
    assert code == 200 and meta["requests"]["pypi"] == ["six"] and meta["lock"]["text"]
    notebook = {"cells": [], "metadata": {"userpkg": meta}, "nbformat": 4, "nbformat_minor": 5}
    upload = {"name": "analysis.ipynb", "content": json.dumps(notebook)}
    # The banner's Show plan: the plan of the create, nothing made.
    dry = {"name": "nb", "kernel": False, "file": upload, "dry_run": True}
    code, plan = await api("POST", "envs", body=dry)
    assert code == 200, plan
    assert plan["env"] == "nb" and plan["from_revision"] == -1
    assert "installed exactly" in plan["messages"][0]
    assert {c["name"]: c["new"] for c in plan["changes"]}["six"]
    assert (await api("GET", "envs", "nb"))[0] == 404
    job = await api.run("POST", "envs", body={"name": "nb", "kernel": False, "file": upload})
    assert "installed exactly" in job["result"]["plan"]["messages"][0]
    got = {p["name"]: p["version"] for p in (await api("GET", "envs", "nb", "packages"))[1]}
    assert got == {
        p["name"]: p["version"] for p in (await api("GET", "envs", "src", "packages"))[1]
    }
    forged = {**meta, "requests": {"pypi": ["six --index-url=http://x"], "conda": []}}
    notebook["metadata"] = {"userpkg": {**forged, "lock": None}}
    upload = {"name": "forged.ipynb", "content": json.dumps(notebook)}
    code, error = await api("POST", "envs", body={"name": "nb2", "file": upload, "dry_run": True})
    assert code == 400 and "forged.ipynb" in error["message"], error
    assert "userpkg-upload-" not in json.dumps(error)
    job = await api.wait(await api.job("POST", "envs", body={"name": "nb2", "file": upload}))
    assert job["state"] == "failed" and "forged.ipynb" in job["error"]["message"]
    assert (await api("GET", "envs", "nb2"))[0] == 404


async def test_cancel_while_waiting_for_another_writer(
    api: Api, conda_channel: TestChannel, envs_dir: Path
) -> None:
    """A job waiting for the env's lock (a CLI change runs) stops there when cancelled."""
    from jupyter_userpkg.core.store import EnvStore
    from jupyter_userpkg.core.transaction import EnvLock

    create = {"name": "c", "kind": "conda", "channels": [conda_channel.url], "specs": ["bar 1.*"]}
    await api.run("POST", "envs", body={**create, "kernel": False})
    history = (await api("GET", "envs", "c", "history"))[1]
    with EnvLock(EnvStore(envs_dir).lock_path("c"), "c", 60):
        job = await api.job("POST", "envs", "c", "transactions", body={"install": ["baz"]})
        for _ in range(100):
            seen = (await api("GET", "jobs", job["id"]))[1]
            if seen["state"] == "running" and seen["events"]:
                break
            await asyncio.sleep(0.05)
        # It says why nothing moves: another change of the env runs.
        assert [e["phase"] for e in seen["events"]] == ["wait"], seen["events"]
        assert seen["events"][0]["message"] == (
            "waiting for an earlier change of this environment to finish"
        )
        code, _ = await api("DELETE", "jobs", job["id"])
        assert code == 202
        job = await api.wait(job, timeout=30)  # while the other writer still holds the lock
    assert job["state"] == "cancelled" and job["plan"] is None
    assert (await api("GET", "envs", "c", "history"))[1] == history
