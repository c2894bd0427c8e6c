"""Before an administrator changes a shared env: which users' layers over it would break.

Read-only, as the administrator: each account's envs dir at its default place
(``<home>/.local/share/jupyter/userpkg/envs``), each env there whose manifest
says it layers over the shared env (``base-env``), the packages its lock holds
and what each of them requires (its ``METADATA``).  A requirement the plan's new
versions no longer meet is a conflict, named in the plan; a home or envs dir the
administrator cannot read is named as not checked.

Every file read is a user's: opened without following a final link, without
blocking (a FIFO does not stall the administrator), only when it is a regular
file of reasonable size, and never shown: only names and versions are.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from .pylock import parse_lock
from .records import Plan
from .specs import canonical_name
from .store import LOCK, MANIFEST, META_DIR

if TYPE_CHECKING:
    from packaging.requirements import Requirement

#: Where a user's envs are unless their config moved them.
DEFAULT_ENVS = Path(".local/share/jupyter/userpkg/envs")
_MAX = 4 * 1024 * 1024


def plan_notes(prefix: Path, plan: Plan) -> tuple[str, ...]:
    """Lines naming the users' layers over ``prefix`` that ``plan`` breaks, and the envs
    dirs that could not be read."""
    after = {canonical_name(c.name): c.new for c in plan.changes}
    if not after:
        return ()
    notes: list[str] = []
    unread: list[str] = []
    for user, envs_dir in _envs_dirs():
        try:
            names = sorted(os.listdir(envs_dir))
        except FileNotFoundError:
            continue
        except OSError:
            unread.append(f"{user} ({envs_dir})")
            continue
        for name in names:
            layer = envs_dir / name
            for problem in _conflicts(layer, prefix, after):
                notes.append(f"{user}'s layer {name!r}: {problem}")
    if notes:
        notes.insert(0, "users' layers over this environment that the change breaks:")
        notes.append("each of those users is told to run `jupyter userpkg update --all` there")
    if unread:
        notes.append("users' layers not checked (cannot be read): " + ", ".join(unread))
    return tuple(notes)


def _envs_dirs() -> Iterator[tuple[str, Path]]:
    import pwd

    seen: set[str] = set()
    for entry in pwd.getpwall():
        home = entry.pw_dir
        if not home or home in seen or not os.path.isabs(home):
            continue
        seen.add(home)
        try:
            os.stat(home)
        except OSError:
            continue  # no home: no envs
        yield entry.pw_name, Path(home) / DEFAULT_ENVS


def _conflicts(layer: Path, prefix: Path, after: dict[str, str | None]) -> list[str]:
    """What in ``layer`` (if it layers over ``prefix``) requires what ``after`` changes."""
    revisions = layer / META_DIR / "revisions"
    try:
        current = max(int(e) for e in os.listdir(revisions) if e.isdigit())
    except (OSError, ValueError):
        return []
    rev = revisions / str(current)
    try:
        env = tomllib.loads(_read(rev / MANIFEST)).get("env", {})
    except (OSError, ValueError):
        return []
    if not isinstance(env, dict) or env.get("base-env") != str(prefix):
        return []
    held: dict[str, str] = {}
    with contextlib.suppress(OSError, ValueError, UnicodeDecodeError):
        held = {n: p.version for n, p in parse_lock(_read(rev / LOCK)).items()}
    out = []
    for name, version in sorted(held.items()):
        for req in _requires(layer, name, version):
            wanted = canonical_name(req.name)
            if wanted not in after:
                continue
            new = after[wanted]
            if new is None:
                out.append(f"{name} {version} needs {req}, which the change removes")
            elif not req.specifier.contains(new, prereleases=True):
                out.append(f"{name} {version} needs {req}; the change gives {wanted} {new}")
    return out


def _requires(layer: Path, name: str, version: str) -> list[Requirement]:
    """The unconditional requirements of a layer's installed distribution."""
    from email.parser import HeaderParser

    from packaging.requirements import InvalidRequirement, Requirement

    for site in layer.glob("lib/python*/site-packages"):
        for info in site.glob("*.dist-info"):
            stem = info.name[: -len(".dist-info")]
            dist, _, dist_version = stem.rpartition("-")
            if canonical_name(dist) != name or dist_version != version:
                continue
            try:
                meta = HeaderParser().parsestr(_read(info / "METADATA"))
            except (OSError, ValueError, UnicodeDecodeError):
                return []
            out: list[Requirement] = []
            for text in meta.get_all("Requires-Dist") or []:
                try:
                    req = Requirement(text)
                except InvalidRequirement:
                    continue
                if req.marker is None or req.marker.evaluate({"extra": ""}):
                    out.append(req)
            return out
    return []


def _read(path: Path) -> str:
    """A user's small regular file, not through a final link, never blocking."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX:
            raise ValueError(f"{path} is not a small regular file")
        with os.fdopen(os.dup(fd), "rb") as f:
            return f.read(_MAX).decode("utf-8")
    finally:
        os.close(fd)
