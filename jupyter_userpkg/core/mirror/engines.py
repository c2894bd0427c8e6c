"""Everything the mirror builder takes from the rest of the core, in one place.

The core's modules move between packages from time to time; the builder
imports them only here, so a move costs one edit.  Nothing here judges or
solves: the policy's own checks and the engines' own entry points are passed
through as they are.
"""

from __future__ import annotations

from ..errors import InvalidRequest, PolicyDenied, UserPkgError, first_line
from ..events import ProgressEvent, ProgressFn
from ..files import atomic_write, fsync_dir
from ..policy.enforce import record_verdict
from ..policy.licences import of_metadata
from ..policy.rules import Policy, PolicyError, Verdict, from_data, normalize
from ..proc import run
from ..pylock import parse_lock
from ..store import EnvStore


def uv_bin() -> str:
    """uv's binary (its module, and the packaging code it needs, are imported when a
    solve runs: a sync with nothing new runs none)."""
    from ..pypi.uv import uv_bin as find

    return find()


def effective_policy() -> Policy:
    """The administrator's policy as every front end reads it."""
    from ..policy.sources import load

    return load().policy


def admin_audit_log() -> str | None:
    """The administrator's ``audit_log`` setting (where users' servers log), if set."""
    from ..policy.sources import load

    value = load().settings.get("audit_log", (None, ""))[0]
    return value if isinstance(value, str) and value else None


def detected_virtual_packages() -> list[object]:
    """This machine's virtual packages (``__glibc``, ``__unix``...) as rattler sees them."""
    from ..conda.backend import virtual_packages

    return list(virtual_packages())


__all__ = [
    "EnvStore",
    "InvalidRequest",
    "Policy",
    "PolicyDenied",
    "PolicyError",
    "ProgressEvent",
    "ProgressFn",
    "UserPkgError",
    "Verdict",
    "admin_audit_log",
    "atomic_write",
    "detected_virtual_packages",
    "effective_policy",
    "first_line",
    "from_data",
    "fsync_dir",
    "normalize",
    "of_metadata",
    "parse_lock",
    "record_verdict",
    "run",
    "uv_bin",
]
