"""A server killed (SIGKILL) in the middle of a job, and started again over the same envs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.localindex import LocalIndex, build_wheel
from tests.server.test_jobs import installed
from tests.serverproc import ServerProcess

pytestmark = pytest.mark.slow


def wait(server: ServerProcess, job: dict[str, Any], until: Any, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code, job = server.request("GET", f"jobs/{job['id']}")
        assert code == 200
        if until(job):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job did not get there: {job}")


def test_killed_mid_job_the_next_request_recovers(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    build_wheel(wheels, "slowpkg", "1.0", padding=4_000_000)
    build_wheel(wheels, "tinypkg", "1.0")
    build_wheel(wheels, "tinypkg", "2.0")
    envs = tmp_path / "envs"
    with LocalIndex(wheels) as index:
        settings = {
            "envs_dir": str(envs),
            "default_index": index.url,
            "uv_cache_dir": str(tmp_path / "uv-cache"),
            "default_channels": [],
        }
        server = ServerProcess(tmp_path / "home", settings).start()
        try:
            code, job = server.request(
                "POST", "envs", {"name": "a", "kind": "venv", "kernel": False, "specs": ["tinypkg"]}
            )
            assert code == 202
            assert (
                wait(server, job, lambda j: j["state"] != "running" and j["state"] != "queued")[
                    "state"
                ]
                == "succeeded"
            )
            _, before = server.request("GET", "envs/a/packages")

            index.slow = 0.2  # the download takes ~12 s: the server dies during it
            code, job = server.request(
                "POST", "envs/a/transactions", {"install": ["slowpkg"], "remove": ["tinypkg"]}
            )
            assert code == 202
            wait(
                server,
                job,
                lambda j: (
                    j["state"] == "running"
                    and any(e["phase"] in ("download", "install", "remove") for e in j["events"])
                ),
            )
            journal = envs / "a" / ".userpkg" / "txn"
            deadline = time.monotonic() + 60
            while not journal.exists() and time.monotonic() < deadline:
                time.sleep(0.01)  # the journal is armed: the change is in flight
            server.kill()
            assert journal.exists()  # killed mid-change, not after it
            index.slow = 0
        finally:
            server.stop()

        server = ServerProcess(tmp_path / "home", settings).start()
        try:
            code, info = server.request("GET", "envs/a")
            assert code == 200 and info["revision"] == 0
            assert server.request("GET", "envs/a/packages")[1] == before
            # The next change on the env recovers it first, then applies.
            code, job = server.request("POST", "envs/a/transactions", {"install": ["tinypkg==1.0"]})
            assert code == 202
            job = wait(server, job, lambda j: j["state"] not in ("queued", "running"))
            assert job["state"] == "succeeded", job["error"]
            assert job["result"]["revision"] == 1
            _, packages = server.request("GET", "envs/a/packages")
            assert [(p["name"], p["version"]) for p in packages] == [("tinypkg", "1.0")]
            assert not (envs / "a" / ".userpkg" / "txn").exists()
            assert not installed(envs, "a", "slowpkg")
        finally:
            server.stop()
