"""`delete` of an env whose kernel runs: the CLI names the notebooks, and with -y shuts the
kernels down first (through the user's running Jupyter server), then deletes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.localindex import LocalIndex, build_wheel
from tests.server.test_restart import wait
from tests.serverproc import ServerProcess

pytestmark = pytest.mark.slow


def api(server: ServerProcess, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.port}/{path}",
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Authorization": f"token {server.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def test_delete_names_the_running_kernels_and_shuts_them_down_with_y(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    build_wheel(wheels, "tinypkg", "1.0")
    home = tmp_path / "home"
    with LocalIndex(wheels) as index:
        settings = {
            "envs_dir": str(tmp_path / "envs"),
            "default_index": index.url,
            "uv_cache_dir": str(tmp_path / "uv-cache"),
            "default_channels": [],
        }
        server = ServerProcess(home, settings).start()
        try:
            code, job = server.request(
                "POST", "envs", {"name": "a", "kind": "venv", "kernel": False, "specs": ["tinypkg"]}
            )
            assert code == 202
            assert (
                wait(server, job, lambda j: j["state"] not in ("queued", "running"))["state"]
                == "succeeded"
            )
            # The env's kernelspec (this interpreter's ipykernel stands in for the env's).
            spec = home / "data" / "kernels" / "userpkg-a"
            spec.mkdir(parents=True)
            argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
            spec.joinpath("kernel.json").write_text(
                json.dumps({"argv": argv, "display_name": "Python 3 (a)", "language": "python"})
            )
            session = {"path": "work.ipynb", "type": "notebook", "name": "work.ipynb"}
            api(server, "POST", "api/sessions", {**session, "kernel": {"name": "userpkg-a"}})

            (home / "config" / "jupyter_userpkg_config.json").write_text(
                json.dumps({"UserPkg": settings})
            )
            env = {**server.env(), "JUPYTER_RUNTIME_DIR": str(home / "runtime")}

            def delete(*args: str) -> subprocess.CompletedProcess[str]:
                return subprocess.run(
                    [sys.executable, "-m", "jupyter_userpkg", "delete", *args],
                    env=env,
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    text=True,
                    timeout=300,
                )

            refused = delete("a")
            assert refused.returncode == 3, refused.stderr
            assert "kernels run on a (work.ipynb): pass -y" in refused.stderr
            assert server.request("GET", "envs/a")[0] == 200

            done = delete("-y", "a")
            assert done.returncode == 0, done.stderr
            assert "shut down the kernel of work.ipynb" in done.stderr
            assert [k for k in api(server, "GET", "api/kernels") if k["name"] == "userpkg-a"] == []
            deadline = time.monotonic() + 30
            while server.request("GET", "envs/a")[0] != 404 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert server.request("GET", "envs/a")[0] == 404
        finally:
            server.stop()
