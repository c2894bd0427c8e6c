"""A server stopped (SIGTERM) in the middle of a job: the job is cancelled at its next safe
point, the env stays at its old revision, and the watchers stop."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.localindex import LocalIndex, build_wheel
from tests.server.test_jobs import installed
from tests.server.test_restart import wait
from tests.serverproc import ServerProcess

pytestmark = pytest.mark.slow


def test_stopping_the_server_mid_job_cancels_it_and_keeps_the_old_revision(
    tmp_path: Path,
) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    build_wheel(wheels, "slowpkg", "1.0", padding=4_000_000)
    build_wheel(wheels, "tinypkg", "1.0")
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
            done = wait(server, job, lambda j: j["state"] not in ("queued", "running"))
            assert done["state"] == "succeeded"
            _, before = server.request("GET", "envs/a/history")

            index.slow = 0.2  # the download takes ~12 s: the server stops during it
            code, job = server.request("POST", "envs/a/transactions", {"install": ["slowpkg"]})
            assert code == 202
            wait(
                server,
                job,
                lambda j: (
                    j["state"] == "running" and any(e["phase"] == "download" for e in j["events"])
                ),
            )
            started = time.monotonic()
            server.stop()  # SIGTERM: the server's own shutdown
            assert server.proc is not None and server.proc.returncode is not None
            assert time.monotonic() - started < 12  # it did not wait for the download
            index.slow = 0
        finally:
            server.stop()

    log = (tmp_path / "home" / "server.log").read_text()
    assert re.search(rf"job {job['id']} \(\w+ slowpkg\) cancelled at shutdown", log), log
    # The env is at its old revision, with nothing left to recover.
    assert sorted(p.name for p in (envs / "a" / ".userpkg" / "revisions").iterdir()) == ["0"]
    assert not (envs / "a" / ".userpkg" / "txn").exists()
    assert not installed(envs, "a", "slowpkg") and installed(envs, "a", "tinypkg")
    assert len(before) == 1
