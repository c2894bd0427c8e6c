"""Run a process tree with the administrator's ``/etc/jupyter`` of a test's choosing.

As root, ``unshare -m`` gives the process tree a private mount namespace; an
overlay over ``/etc`` there holds the test's ``jupyter/`` files, so the machine's
own ``/etc`` is untouched and the processes see an administrator's dir exactly
where a hub has it.  With ``open_root``, this machine's Python (which may live in
root's 0700 home) is made reachable for other users inside the namespace only:
a 0711 tmpfs over ``/root`` with the interpreter's prefix bound back in.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

SCRIPT = r"""
set -e
upper=$1 work=$2 holder=$3 keep=$4
shift 4
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$upper,workdir=$work" /etc
if [ -n "$keep" ]; then
    mount --bind /root "$holder"
    mount -t tmpfs -o mode=711 tmpfs /root
    mkdir -p "/root/$keep"
    mount --bind "$holder/$keep" "/root/$keep"
fi
exec "$@"
"""


def available() -> str | None:
    """Why a private ``/etc`` cannot be made here, or None."""
    if os.name == "nt" or os.geteuid() != 0:
        return "a private mount namespace needs root (CI runs as root)"
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is missing"
    return None


def skip_unless_available() -> None:
    reason = available()
    if reason:
        pytest.skip(reason)


def etc_dirs(base: Path) -> tuple[Path, Path]:
    """An overlay's upper and work dirs under ``base``; ``upper/jupyter`` is /etc/jupyter."""
    upper, work = base / "etc-upper", base / "etc-work"
    (upper / "jupyter").mkdir(parents=True, exist_ok=True)
    work.mkdir(exist_ok=True)
    for path in (base, upper, upper / "jupyter"):
        path.chmod(0o755)
    return upper, work


def wrap(argv: list[str], base: Path, *, open_root: bool = False) -> list[str]:
    """``argv`` run with ``base``'s overlay over /etc (see :func:`etc_dirs`)."""
    upper, work = etc_dirs(base)
    holder = base / "root-holder"
    holder.mkdir(exist_ok=True)
    keep = ""
    if open_root:
        interpreter = Path(sys.base_prefix).resolve()
        if interpreter.is_relative_to("/root"):
            keep = str(interpreter.relative_to("/root"))
    return [
        "unshare",
        "-m",
        "--propagation",
        "private",
        "--",
        "sh",
        "-c",
        SCRIPT,
        "sh",
        str(upper),
        str(work),
        str(holder),
        keep,
        *argv,
    ]
