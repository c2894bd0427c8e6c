"""The kernel a ``%userpkg`` line runs in, as its Jupyter server knows it.

``delete`` of the env this very kernel runs on names it ("this notebook") among
the kernels on that env; with ``-y`` the others are shut down before the
delete and this one after it, once the cell has shown its answer (shutting it
down first would end the command half-way).  Standard library only: the kernel
of a venv env loads this without the core.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from pathlib import Path

#: Set by the magic for the bridge process it starts: the kernel's id.
KERNEL_ID_VAR = "JUPYTER_USERPKG_KERNEL_ID"

#: Seconds the cell's answer has to reach the notebook before the kernel ends.
GRACE = 1.0


def own_kernel_id() -> str | None:
    """This kernel's id: from its connection file (``kernel-<id>.json``, as Jupyter's
    servers name it), or what the magic passed to its bridge; None elsewhere."""
    passed = os.environ.get(KERNEL_ID_VAR)
    if passed:
        return passed
    if "ipykernel" not in sys.modules:
        return None
    try:
        from ipykernel.connect import get_connection_file

        name = Path(get_connection_file()).name
    except Exception:  # not a kernel started with a connection file
        return None
    found = re.fullmatch(r"kernel-(.+)\.json", name)
    return found.group(1) if found else None


def end_later(kernel_id: str) -> None:
    """Ask this kernel's server to shut it down, ``GRACE`` seconds from now."""

    def end() -> None:
        from ..commands.runningkernels import find_kernel, shut_down

        kernel = find_kernel(kernel_id)
        if kernel is not None:
            shut_down(kernel)

    timer = threading.Timer(GRACE, end)
    timer.daemon = True
    timer.start()
