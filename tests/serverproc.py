"""A real ``jupyter server`` in a subprocess, with the extension, on a loopback port.

For what an in-process test server cannot do: be killed (SIGKILL) in the
middle of a job and started again over the same envs.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """``jupyter server`` with ``settings`` as its ``UserPkg`` config, under ``home``."""

    token = "userpkg-test-token"

    def __init__(
        self,
        home: Path,
        settings: dict[str, Any],
        *,
        extension: bool = True,
        tree: Path | None = None,
        wrapper: Sequence[str] = (),
    ) -> None:
        self.home = home
        self.extension = extension
        self.tree = tree  # another checkout's jupyter_userpkg (PYTHONPATH), to compare
        #: A command the server runs under (it must exec the rest: the pid is the server's).
        self.wrapper = tuple(wrapper)
        self.settings = settings
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/userpkg/api/"

    def env(self) -> dict[str, str]:
        config = self.home / "config"
        config.mkdir(parents=True, exist_ok=True)
        (config / "jupyter_server_config.json").write_text(
            json.dumps(
                {
                    "ServerApp": {
                        "jpserver_extensions": {"jupyter_userpkg": self.extension},
                        "token": self.token,
                        "open_browser": False,
                        "allow_root": True,
                    },
                    "UserPkg": self.settings,
                }
            )
        )
        extra = {"PYTHONPATH": str(self.tree)} if self.tree else {}
        return {
            **os.environ,
            **extra,
            "JUPYTER_CONFIG_DIR": str(config),
            "JUPYTER_DATA_DIR": str(self.home / "data"),
            "JUPYTER_RUNTIME_DIR": str(self.home / "runtime"),
            "JUPYTER_CONFIG_PATH": str(config),
        }

    def start(self) -> ServerProcess:
        self.home.mkdir(parents=True, exist_ok=True)
        env = self.env()
        log = open(self.home / "server.log", "ab")  # noqa: SIM115 - lives with the process
        self.proc = subprocess.Popen(
            [
                *self.wrapper,
                sys.executable,
                "-m",
                "jupyter_server",
                f"--port={self.port}",
                "--ip=127.0.0.1",
                f"--ServerApp.root_dir={self.home}",
            ],
            cwd=self.home,
            env=env,
            stdout=log,
            stderr=log,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                probe = urllib.request.Request(
                    f"http://127.0.0.1:{self.port}/api/status",
                    headers={"Authorization": f"token {self.token}"},
                )
                with urllib.request.urlopen(probe, timeout=5):
                    return self
            except (urllib.error.URLError, ConnectionError):
                assert self.proc.poll() is None, (self.home / "server.log").read_text()
                time.sleep(0.2)
        raise AssertionError("the server did not start")

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.url + path,
            data=data if method == "POST" else None,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        if method == "POST" and data is None:
            request.data = b"{}"
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
