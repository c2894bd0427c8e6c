"""Real Unix users for the hub tests, made for a module and removed after it."""

from __future__ import annotations

import contextlib
import pwd
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

from tests import namespace


@contextlib.contextmanager
def real_users(names: Sequence[str]) -> Iterator[list[pwd.struct_passwd]]:
    """Users with homes of their own (0700); those this made are removed afterwards."""
    namespace.skip_unless_available()
    made = []
    for name in names:
        try:
            pwd.getpwnam(name)
        except KeyError:
            subprocess.run(["useradd", "-m", "-s", "/bin/sh", name], check=True)
            made.append(name)
        Path(pwd.getpwnam(name).pw_dir).chmod(0o700)
    try:
        yield [pwd.getpwnam(name) for name in names]
    finally:
        for name in made:
            subprocess.run(["userdel", "-r", name], check=False, capture_output=True)
