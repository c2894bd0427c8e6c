"""Writing a file so that a reader sees the old or the new content, never half of one.

Every committed file of an env, a kernelspec, an index cache goes through here:
the atomic rename is what makes a crash leave either state.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def atomic_write(path: Path, text: str, mode: int | None = None) -> None:
    """Write ``text`` to ``path`` so that readers see the old or the new content.

    The file is 0600 (``mkstemp``'s) unless ``mode`` says otherwise: what other
    accounts must read (a shared kernels dir's index) asks for it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A new file of an unpredictable name (O_EXCL): nothing planted beside the
    # target, a symlink say, is ever followed.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with open(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    if os.name == "nt":  # directories cannot be opened for fsync on Windows
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
