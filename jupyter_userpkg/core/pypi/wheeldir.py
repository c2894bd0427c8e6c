"""Install a locked wheel from the administrator's wheel directory, as the solve unpacked it.

A lock is installed from hash-pinned requirements (``name==version --hash=...``).
Solving with a ``--find-links`` directory already unpacks that directory's wheels
into the user's uv cache (uv reads their metadata so), but for a hash-pinned line uv
then prefers the index's file, whose hash the index states, over the directory's,
whose hash it does not know: it downloads the same wheel and unpacks it a second
time (221 MB of cache instead of 112 MB for numpy and pandas).  A wheel of the
directory whose file matches the lock's hash is therefore handed over unhashed
(``name==version``): uv then takes the directory's wheel, already in its cache.
The hash is checked here instead, so the file installed is still the locked one.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version


def _dirs(find_links: Sequence[str]) -> set[Path]:
    """The configured find-links that are local directories, resolved."""
    out = set()
    for location in find_links:
        if location.startswith("file://"):
            out.add(Path(unquote(urlsplit(location).path)).resolve())
        elif "://" not in location:
            out.add(Path(location).resolve())
    return out


def local_wheels(lock_text: str, find_links: Sequence[str]) -> set[str]:
    """Normalised names of the packages to install from a wheel dir without a hash line.

    A package counts when its lock names exactly one wheel (others would be other
    platforms'), that wheel lies directly in a configured find-links directory, is of
    the locked name and version, and its bytes match the lock's hashes for it.  A lock
    may come from another party: its URLs lead nowhere else, and a file that differs
    keeps its hash line (uv then refuses it or takes the index's locked file).
    """
    dirs = _dirs(find_links)
    if not dirs or not lock_text.strip():
        return set()
    try:
        packages = tomllib.loads(lock_text).get("packages", [])
    except tomllib.TOMLDecodeError:
        return set()
    out: set[str] = set()
    for pkg in packages if isinstance(packages, list) else []:
        if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str):
            continue
        found = [
            (wheel, art.get("hashes"))
            for art in pkg.get("wheels") or []
            if isinstance(art, dict)
            and (wheel := _in_dirs(art.get("url"), dirs, pkg["name"], pkg.get("version")))
        ]
        if len(found) == 1 and _matches(*found[0]):
            out.add(canonicalize_name(pkg["name"]))
    return out


def _in_dirs(url: object, dirs: set[Path], name: str, version: object) -> Path | None:
    """The wheel file ``url`` names, when it is one of ``name`` ``version`` in one of ``dirs``."""
    if not isinstance(url, str) or not url.startswith("file://"):
        return None
    path = Path(unquote(urlsplit(url).path))
    try:
        wheel_name, wheel_version, _, _ = parse_wheel_filename(path.name)
        if wheel_name != canonicalize_name(name) or wheel_version != Version(str(version)):
            return None
    except (InvalidWheelFilename, InvalidVersion):
        return None
    resolved = path.resolve()
    return resolved if resolved.parent in dirs and resolved.is_file() else None


def _matches(path: Path, hashes: object) -> bool:
    """Whether the file has every one of the lock's hashes for it (at least one)."""
    if not isinstance(hashes, dict) or not hashes:
        return False
    for algo, digest in hashes.items():
        if algo not in ("sha256", "sha384", "sha512"):
            return False
        try:
            with path.open("rb") as f:
                if hashlib.file_digest(f, algo).hexdigest() != digest:
                    return False
        except OSError:
            return False
    return True
