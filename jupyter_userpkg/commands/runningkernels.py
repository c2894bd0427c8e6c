"""The kernels this user's Jupyter servers run on an env's kernelspec.

Before an env is deleted, the kernels that run its interpreter are named (with
the notebook or console each one serves) and, when the user agrees, shut down
through their server's REST API: the servers a user runs list themselves in
the Jupyter runtime dir (``jpserver-*.json``, with their URL and token).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Seconds to wait for a server that may be gone (its file left behind).
TIMEOUT = 3.0


@dataclass(frozen=True)
class RunningKernel:
    """One kernel on the env's kernelspec, and where it runs."""

    server: str
    token: str
    kernel_id: str
    #: The notebook or console it serves (its session's path), or "" for none.
    path: str

    @property
    def label(self) -> str:
        return self.path or f"kernel {self.kernel_id[:8]}"


def _call(url: str, token: str, method: str = "GET") -> Any:
    request = urllib.request.Request(url, method=method)
    if token:
        request.add_header("Authorization", f"token {token}")
    # Loopback servers: the caller's proxy settings do not apply.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=TIMEOUT) as response:
        body = response.read()
    return json.loads(body) if body else None


def _servers(runtime_dir: Path) -> list[dict[str, Any]]:
    found = []
    for info in sorted(runtime_dir.glob("jpserver-*.json")):
        try:
            found.append(json.loads(info.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return found


def running_on(kernel_name: str, runtime_dir: Path | None = None) -> list[RunningKernel]:
    """The kernels named ``kernel_name`` (case ignored) that a server of this user runs."""
    if runtime_dir is None:
        from jupyter_core.paths import jupyter_runtime_dir

        runtime_dir = Path(jupyter_runtime_dir())
    wanted = kernel_name.lower()
    found: list[RunningKernel] = []
    for info in _servers(runtime_dir):
        url = str(info.get("url", "")).rstrip("/") + "/"
        token = str(info.get("token", ""))
        try:
            kernels = _call(url + "api/kernels", token) or []
            sessions = _call(url + "api/sessions", token) or []
        except (OSError, ValueError, urllib.error.URLError):
            continue  # a server that is gone, or does not answer
        paths = {
            s["kernel"]["id"]: str(s.get("path") or s.get("name") or "")
            for s in sessions
            if isinstance(s, dict) and isinstance(s.get("kernel"), dict)
        }
        for kernel in kernels:
            if str(kernel.get("name", "")).lower() == wanted:
                kid = str(kernel["id"])
                found.append(RunningKernel(url, token, kid, paths.get(kid, "")))
    return found


def shut_down(kernel: RunningKernel) -> None:
    """Ask the kernel's server to shut it down."""
    _call(f"{kernel.server}api/kernels/{kernel.kernel_id}", kernel.token, "DELETE")
