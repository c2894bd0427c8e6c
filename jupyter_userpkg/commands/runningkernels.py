"""The kernels this user's Jupyter servers run on an env's kernelspec.

Before an env is deleted (by the terminal or a cell: :func:`kernels_first`), the
kernels that run its interpreter are named (with the notebook or console each one
serves) and, when the user agrees, shut down through their server's REST API: the
servers a user runs list themselves in the Jupyter runtime dir (``jpserver-*.json``,
with their URL and token).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..core.errors import UserPkgError

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


#: Asks the user a yes/no question (the terminal); None where no one can answer (a cell).
AskFn = Callable[[str], bool]


def kernels_first(
    name: str,
    *,
    yes: bool,
    ask: AskFn | None,
    say: Callable[[str], None],
    own: str | None = None,
) -> tuple[UserPkgError | None, RunningKernel | None]:
    """Before ``delete NAME``: the kernels running on the env, named and shut down first.

    The same rule for the terminal and the cell: without ``yes`` the user is
    asked (``ask``), or, where no one can answer, the delete is refused naming
    the notebooks and ``-y``.  Agreed, every kernel is shut down but ``own``
    (the kernel id of the cell running the command): that one is returned, to
    be shut down once the delete has answered.  Returns (refusal or None, own
    kernel to shut down afterwards or None).
    """
    from ..core.errors import Declined, EnvBusy

    running = running_on(f"userpkg-{name}")
    if not running:
        return None, None
    mine = next((k for k in running if k.kernel_id == own), None)

    def label(kernel: RunningKernel) -> str:
        if kernel is not mine:
            return kernel.label
        return f"this notebook ({kernel.path})" if kernel.path else "this kernel"

    names = ", ".join(label(k) for k in running)
    if not yes:
        if ask is None:
            return EnvBusy(
                f"kernels run on {name} ({names}): "
                "pass -y to shut them down and delete it, or close them first"
            ), None
        if not ask(f"Kernels run on {name}: {names}.\nShut them down and delete {name} ([y]/n)? "):
            return Declined(f"{name} was not deleted"), None
    for kernel in running:
        if kernel is not mine:
            shut_down(kernel)
            say(f"shut down the kernel of {kernel.label}")
    return None, mine


def find_kernel(kernel_id: str, runtime_dir: Path | None = None) -> RunningKernel | None:
    """The kernel ``kernel_id`` in whichever server of this user runs it, or None."""
    if runtime_dir is None:
        from jupyter_core.paths import jupyter_runtime_dir

        runtime_dir = Path(jupyter_runtime_dir())
    for info in _servers(runtime_dir):
        url = str(info.get("url", "")).rstrip("/") + "/"
        token = str(info.get("token", ""))
        try:
            _call(f"{url}api/kernels/{kernel_id}", token)
        except (OSError, ValueError, urllib.error.URLError):
            continue  # not this server's, or a server that is gone
        return RunningKernel(url, token, kernel_id, "")
    return None
