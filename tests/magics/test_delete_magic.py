"""`%userpkg delete` of an env whose kernels run, from a notebook's own kernel: the same
rule as the terminal's (names them, needs -y), and the kernel running the line is named
"this notebook" and shut down only after the cell has its answer."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from jupyter_client.blocking.client import BlockingKernelClient

from tests.cli.test_delete_kernels import api
from tests.localindex import LocalIndex, build_wheel
from tests.magics.conftest import Kernel
from tests.server.test_restart import wait
from tests.serverproc import ServerProcess

pytestmark = pytest.mark.slow


def test_delete_from_a_notebook_on_the_env_names_it_and_needs_y(tmp_path: Path) -> None:
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
        client = None
        try:
            code, job = server.request(
                "POST", "envs", {"name": "a", "kind": "venv", "kernel": False, "specs": ["tinypkg"]}
            )
            assert code == 202
            done = wait(server, job, lambda j: j["state"] not in ("queued", "running"))
            assert done["state"] == "succeeded"
            # The env's kernelspec (this interpreter's ipykernel stands in for the env's).
            spec = home / "data" / "kernels" / "userpkg-a"
            spec.mkdir(parents=True)
            argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
            spec.joinpath("kernel.json").write_text(
                json.dumps({"argv": argv, "display_name": "Python 3 (a)", "language": "python"})
            )
            (home / "config" / "jupyter_userpkg_config.json").write_text(
                json.dumps({"UserPkg": settings})
            )
            sessions = {}
            for path in ("work.ipynb", "other.ipynb"):
                body = {"path": path, "type": "notebook", "name": path}
                made = api(
                    server, "POST", "api/sessions", {**body, "kernel": {"name": "userpkg-a"}}
                )
                sessions[path] = made["kernel"]["id"]

            # The notebook work.ipynb runs the line in its own kernel.
            client = BlockingKernelClient()
            client.load_connection_file(
                str(home / "runtime" / f"kernel-{sessions['work.ipynb']}.json")
            )
            client.start_channels()
            client.wait_for_ready(timeout=120)
            kernel = Kernel(None, client)  # type: ignore[arg-type]
            assert kernel.run("%load_ext jupyter_userpkg").errors == []

            refused = kernel.run("%userpkg delete a")
            assert "kernels run on a (" in refused.stderr, refused.stderr
            assert "this notebook (work.ipynb)" in refused.stderr
            assert "other.ipynb" in refused.stderr and "pass -y" in refused.stderr
            assert server.request("GET", "envs/a")[0] == 200  # nothing changed
            assert len([k for k in api(server, "GET", "api/kernels")]) == 2

            deleted = kernel.run("%userpkg delete -y a")
            assert deleted.stderr == "", deleted.stderr
            assert "shut down the kernel of other.ipynb" in deleted.stdout
            assert "this notebook's kernel ran on it and shuts down now" in deleted.stdout
            assert "deleted a" in deleted.stdout
            assert server.request("GET", "envs/a")[0] == 404
            # The other kernel went first; this one after its answer was out.
            deadline = time.monotonic() + 30
            while api(server, "GET", "api/kernels") and time.monotonic() < deadline:
                time.sleep(0.2)
            assert api(server, "GET", "api/kernels") == []
        finally:
            if client is not None:
                client.stop_channels()
            server.stop()
