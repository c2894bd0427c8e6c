"""Reading a PEP 751 lock (``pylock.toml``): names, versions, index, download size.

Listings, plans and the package table read committed locks again and again, so
the parse of recent texts is kept.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import EnvDamaged
from .specs import canonical_name

if TYPE_CHECKING:
    from packaging.tags import Tag


@dataclass(frozen=True)
class LockedPackage:
    """One package of a pylock.toml: enough for plans and listings."""

    name: str
    version: str
    index: str | None
    size: int


def parse_lock(text: str) -> dict[str, LockedPackage]:
    """Packages of a pylock.toml, keyed by canonical name.

    A committed lock never changes and is read again and again (listings, plans,
    the server's package table): the parse of recent texts is kept.
    """
    return dict(_parse_lock(text))


@functools.lru_cache(maxsize=32)
def _parse_lock(text: str) -> dict[str, LockedPackage]:
    if not text.strip():
        return {}
    data = tomllib.loads(text)
    out: dict[str, LockedPackage] = {}
    for pkg in data.get("packages", []):
        if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str):
            raise EnvDamaged(
                "the lock lists a package without a name; see `jupyter userpkg doctor`"
            )
        name = canonical_name(pkg["name"])
        size = _artifact_size(pkg.get("wheels") or [], pkg.get("sdist") or {})
        out[name] = LockedPackage(name, str(pkg.get("version", "")), pkg.get("index"), size)
    return out


@functools.cache
def _tag_priority() -> dict[Tag, int]:
    """This interpreter's wheel tags, most preferred first (as installers rank them)."""
    from packaging.tags import sys_tags

    return {tag: rank for rank, tag in enumerate(sys_tags())}


def _artifact_size(wheels: list[dict[str, Any]], sdist: dict[str, Any]) -> int:
    """Size of the artifact an installer on this interpreter would fetch."""
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    priority = _tag_priority()
    best: tuple[int, int] | None = None
    for wheel in wheels:
        name = str(wheel.get("name") or str(wheel.get("url", "")).rsplit("/", 1)[-1])
        try:
            tags = parse_wheel_filename(name)[3]
        except InvalidWheelFilename:
            continue
        rank = min((priority[t] for t in tags if t in priority), default=None)
        if rank is not None and (best is None or rank < best[0]):
            best = (rank, int(wheel.get("size", 0) or 0))
    if best is not None:
        return best[1]
    return int(sdist.get("size", 0) or 0)
