"""The administrator's files for tests: written where the administrator writes them.

A policy comes only from the administrator's dirs (``etc/jupyter`` of the Python
environment this package is installed in, ``/usr/local/etc/jupyter``,
``/etc/jupyter``), never from a variable.  Tests that run real subprocesses (the
CLI, kernels, servers) write the policy into the first of those, the test
environment's own ``etc/jupyter``, and take it away afterwards; the session
refuses to start while such a file is left there (see ``tests/conftest.py``).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jupyter_userpkg.core.policy import admintrust

POLICY = "jupyter_userpkg_policy.json"
SETTINGS = "jupyter_userpkg_config.json"


def env_admin_dir() -> Path:
    """``etc/jupyter`` of the environment jupyter-userpkg is installed in (the tests')."""
    prefix = admintrust.install_prefix()
    assert prefix is not None, "jupyter-userpkg must be installed (pip install -e .)"
    return prefix / "etc" / "jupyter"


@contextlib.contextmanager
def admin_files(
    policy: dict[str, Any] | None = None, settings: dict[str, Any] | None = None
) -> Iterator[Path]:
    """The administrator's policy file and ``UserPkg`` settings (either may also be
    written by the block itself), removed when the block ends."""
    directory = env_admin_dir()
    directory.mkdir(parents=True, exist_ok=True)
    try:
        if policy is not None:
            (directory / POLICY).write_text(json.dumps(policy))
        if settings is not None:
            (directory / SETTINGS).write_text(json.dumps({"UserPkg": settings}))
        yield directory  # the test may write these two files itself
    finally:
        for name in (POLICY, SETTINGS):
            (directory / name).unlink(missing_ok=True)
