"""A conda package that ships a kernelspec, as r-irkernel or xeus-cling do: ``echo-kernel``.

Its kernel is a real one (ipykernel's ``Kernel`` base class, so it speaks the
Jupyter protocol), of language ``echo``: each cell's code comes back as its
output, after the value of ``ECHO_PREFIX``, a variable the package records for
activation in ``etc/conda/env_vars.d/`` (so a test sees the env activated). Its
kernelspec is ``share/jupyter/kernels/echo/kernel.json``, running the env's
``python`` (found on the env's PATH) with the package's module.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from tests.conda_channel import build_package

KERNEL_CODE = '''"""An echo kernel: each cell's code comes back as its output."""
import os

from ipykernel.kernelbase import Kernel


class EchoKernel(Kernel):
    implementation = "echo"
    implementation_version = "1.0"
    language_info = {"name": "echo", "mimetype": "text/plain", "file_extension": ".txt"}
    banner = "Echo kernel"

    def do_execute(self, code, silent, store_history=True, user_expressions=None,
                   allow_stdin=False, **kwargs):
        if not silent:
            text = os.environ.get("ECHO_PREFIX", "") + code
            self.send_response(self.iopub_socket, "stream", {"name": "stdout", "text": text})
        return {"status": "ok", "execution_count": self.execution_count,
                "payload": [], "user_expressions": {}}
'''

MAIN_CODE = """from ipykernel.kernelapp import IPKernelApp

from echo_kernel import EchoKernel

IPKernelApp.launch_instance(kernel_class=EchoKernel)
"""

#: A 1x1 PNG: the launcher's icon of the kernel.
LOGO = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)

SPEC = {
    "argv": ["python", "-m", "echo_kernel", "-f", "{connection_file}"],
    "display_name": "Echo",
    "language": "echo",
}


def build_echo_kernel(channel_dir: Path, *, spec: dict[str, object] | None = None) -> Path:
    """Write ``echo-kernel 1.0`` (noarch python) into ``channel_dir``; index it after."""
    return build_package(
        channel_dir,
        "echo-kernel",
        "1.0",
        build="py_0",
        noarch="python",
        depends=["python >=3.8"],
        files={
            "site-packages/echo_kernel/__init__.py": KERNEL_CODE,
            "site-packages/echo_kernel/__main__.py": MAIN_CODE,
            "share/jupyter/kernels/echo/kernel.json": json.dumps(spec or SPEC, indent=1),
            "share/jupyter/kernels/echo/logo-64x64.png": LOGO,
            "etc/conda/env_vars.d/echo-kernel.json": json.dumps({"ECHO_PREFIX": "echo: "}),
        },
    )
