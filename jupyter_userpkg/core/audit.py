"""The audit log: one JSON line per applied change, for administrators.

Every committed change (create, install/remove/update, rollback, delete) is
appended as ``{"time", "user", "env", "action", "revision", "command",
"changes"}`` to ``UserPkg.audit_log`` (an administrator's setting, like the
sources; ``{user}`` in it becomes the user's name).  The default is
``<envs dir>/.audit.jsonl``, private to the user like the envs themselves.
The log is written after the commit and never undoes one: a record that
cannot be written is lost (the change stands).  The ``default`` env made for
a first change is logged with that change, not as a ``create`` of its own.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def user() -> str:
    """The user's name, as revision records and the audit log give it."""
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no user database entry (containers)
        return str(os.getuid()) if hasattr(os, "getuid") else ""


class AuditLog:
    """Appends records to one file, each in a single ``write`` (lines never interleave)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def record(self, entry: dict[str, Any]) -> None:
        line = (json.dumps(entry, sort_keys=True) + "\n").encode()
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)

    def read(self) -> list[dict[str, Any]]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in lines if line.strip()]


def resolve(template: str, envs_dir: Path, user: str) -> Path:
    """The log's path: the configured template with ``{user}``, else beside the envs."""
    if not template:
        return envs_dir / ".audit.jsonl"
    return Path(os.path.expanduser(template.replace("{user}", user)))
