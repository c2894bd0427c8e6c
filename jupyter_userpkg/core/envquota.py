"""The policy's ``max_envs``, counted so that parallel creates cannot overshoot it.

Each ``create`` holds only its own name's lock while it builds, so a count taken
under that lock alone lets N creates of N names each see room for one more.  The
count and the claim (the ``.creating`` marker) are therefore taken together under
one lock of the whole envs dir, held for a few file checks only: the solve and the
install of each create still run side by side.  An env being created counts as
soon as its marker is there and its create still holds its name's lock; a marker
whose lock is free is a killed create's debris (cleared by ``Pipeline.sweep``),
and counts for nothing.
"""

from __future__ import annotations

from pathlib import Path

from .errors import EnvBusy, InvalidEnvName, PolicyDenied
from .store import EnvStore
from .transaction import EnvLock

#: The envs-dir-wide lock (a leading dot: no env name's lock file can be spelled so).
DIR_LOCK = ".envs-dir.lock"
_MARKER = ".creating"


def dir_lock(store: EnvStore, timeout: float) -> EnvLock:
    """The lock every ``create`` holds while it counts the envs and claims its name."""
    return EnvLock(
        store.envs_dir / ".locks" / DIR_LOCK, "", timeout, what="the environments directory"
    )


def being_created(store: EnvStore, but: str) -> set[str]:
    """Names (lower case) whose create is running now, other than ``but``.

    A create holds its name's lock from before its marker exists until after the
    marker is gone, so a marker whose lock can be taken at once was left by a
    create that was killed.
    """
    locks = store.envs_dir / ".locks"
    out: set[str] = set()
    for marker in locks.glob(f"*{_MARKER}") if locks.is_dir() else ():
        name = marker.name.removesuffix(_MARKER)
        if name.lower() == but.lower() or not marker.exists():
            continue
        try:
            with EnvLock(store.lock_path(name), name, 0):
                pass  # free: a killed create's debris
        except EnvBusy:
            out.add(name.lower())
        except InvalidEnvName:
            continue  # a stray file, no create's marker
    return out


def claim(store: EnvStore, name: str, limit: int | None, timeout: float) -> Path:
    """Count the envs (existing and being created) and mark ``name`` as being created,
    in one critical section; PolicyDenied when the policy's ``max_envs`` is reached.

    The caller holds ``name``'s lock, and keeps it until the marker is removed.
    """
    marker = store.creating_marker(name)
    marker.parent.mkdir(parents=True, exist_ok=True)
    if limit is None:
        marker.touch()
        return marker
    with dir_lock(store, timeout):
        existing = {e.lower() for e in store.names()}
        building = being_created(store, name) - existing
        if len(existing) + len(building) >= limit:
            raise PolicyDenied(_over(len(existing), len(building), limit))
        marker.touch()
    return marker


def _over(existing: int, building: int, limit: int) -> str:
    total = existing + building
    count = f"{total} environment{'s' if total != 1 else ''}"
    if building:
        count += f" ({building} being created)"
    return (
        f"you have {count}, the most the administrator's policy allows (max_envs: {limit}); "
        "delete one first (jupyter userpkg delete NAME)"
    )
