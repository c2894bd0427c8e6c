"""Real kernels for the magics: a python3 kernel (the base interpreter) whose
environment points jupyter-userpkg at this test's own envs and data dirs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager


@dataclass
class Cell:
    stdout: str = ""
    stderr: str = ""
    displays: list[dict[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The last state of every display, as plain text."""
        return "\n".join(d.get("text/plain", "") for d in self.displays)


class Kernel:
    def __init__(self, km: KernelManager, kc: BlockingKernelClient) -> None:
        self.km, self.kc = km, kc

    def run(self, code: str, timeout: float = 300) -> Cell:
        cell = Cell()
        by_id: dict[str, int] = {}

        def hook(msg: dict[str, Any]) -> None:
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                if content["name"] == "stdout":
                    cell.stdout += content["text"]
                else:
                    cell.stderr += content["text"]
            elif kind in ("display_data", "update_display_data", "execute_result"):
                display_id = content.get("transient", {}).get("display_id")
                if kind == "update_display_data" and display_id in by_id:
                    cell.displays[by_id[display_id]] = content["data"]
                else:
                    if display_id:
                        by_id[display_id] = len(cell.displays)
                    cell.displays.append(content["data"])
            elif kind == "error":
                cell.errors.append(f"{content['ename']}: {content['evalue']}")

        self.kc.execute_interactive(code, output_hook=hook, timeout=timeout)
        return cell


def start_kernel(name: str = "python3", kernels_dir: Path | None = None) -> Kernel:
    ksm = KernelSpecManager(
        kernel_dirs=[str(kernels_dir)] if kernels_dir else [],
        ensure_native_kernel=True,
    )
    km = KernelManager(kernel_name=name, kernel_spec_manager=ksm)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=120)
    return Kernel(km, kc)


@pytest.fixture
def userpkg_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point kernels started by this test (they inherit the environment) at tmp dirs."""
    monkeypatch.setenv("JUPYTER_USERPKG_ENVS_DIR", str(tmp_path / "envs"))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    return tmp_path / "envs"


@pytest.fixture
def kernel(userpkg_env: Path) -> Iterator[Kernel]:
    k = start_kernel()
    try:
        yield k
    finally:
        k.kc.stop_channels()
        k.km.shutdown_kernel(now=True)
