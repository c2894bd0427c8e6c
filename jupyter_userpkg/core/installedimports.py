"""Which installed distribution provides an import name, across the user's envs and the base.

The first evidence for "No module named X": a distribution already installed
somewhere this user can see (any of their envs, the administrator's shared envs,
the server's own Python) whose ``top_level.txt`` or ``RECORD``
names ``X`` (read by :mod:`.importnames`), or a conda package whose files put
``X`` in site-packages.  That is exact: it is what the user or a colleague
already imports.

Reading every distribution of every env costs tens of milliseconds per env, so
the import names of each site-packages dir are kept per dir, and read again
only when the dir changes (installing or removing a distribution adds or
removes an entry of the dir, which changes its mtime).  They are kept in
memory and in a file per dir in the user's cache dir: a new process (the CLI,
a kernel) is warm too.  The file is untrusted input: validated on reading,
and used only while the dir's mtime is the one it was written for.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .files import atomic_write
from .importnames import canonical, top_level_modules
from .options import private_dir

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SITE = re.compile(r"(?:lib/python[0-9.]+|Lib)/site-packages/([^/]+)")
#: Version of the cache files' layout: a file of another layout is read again.
_LAYOUT = 2
#: (package, version, file that said so, the dist-info dir or conda-meta record it is in)
Row = tuple[str, str, str, str]


@dataclass(frozen=True)
class Where:
    """A place to look: a site-packages dir, or a conda prefix's ``conda-meta``."""

    #: Who holds it, as the user knows it: an env's name, or ``base``.
    holder: str
    path: Path
    #: ``pypi`` (distributions' metadata) or ``conda`` (conda-meta records).
    source: str


@dataclass(frozen=True)
class Installed:
    """One installed distribution that provides the import name."""

    package: str
    version: str
    source: str
    holder: str
    #: Which file of the distribution said so: ``top_level.txt``, ``RECORD``, ``conda-meta``.
    file: str


#: (path, mtime_ns) -> import name -> [(package, version, file)]
_memory: dict[tuple[str, int], dict[str, list[Row]]] = {}


def places(
    envs: Sequence[tuple[str, Path]], base_dirs: Sequence[Path], shared: Sequence[tuple[str, Path]]
) -> list[Where]:
    """Where to look, in order: each env's own site-packages and conda-meta (the user's
    envs, then the administrator's shared envs, ``shared_envs_dirs``), then the base's
    site-packages."""
    out: list[Where] = []
    for holder, prefix in [*envs, *shared]:
        if holder == "base":
            continue
        for site in sorted((prefix / "lib").glob("python*/site-packages")):
            out.append(Where(holder, site, "pypi"))
        if (prefix / "conda-meta").is_dir():
            out.append(Where(holder, prefix / "conda-meta", "conda"))
    seen = {w.path for w in out}
    out += [Where("base", d, "pypi") for d in base_dirs if d not in seen and d.is_dir()]
    return out


def providers(name: str, where: Iterable[Where], cache: Path | None) -> list[Installed]:
    """Every installed distribution that provides the top-level import ``name``.

    What the cache says is a hint: each row is checked against the distribution's
    own file before it is shown, and a place with a row that does not check out is
    read again from its files (and its cache file written anew).
    """
    found: list[Installed] = []
    for place in where:
        rows = names_of(place, cache).get(name, [])
        if not all(_confirmed(place, row, name) for row in rows):
            rows = names_of(place, cache, fresh=True).get(name, [])
        for package, version, file, _record in rows:
            found.append(Installed(package, version, place.source, place.holder, file))
    return found


def _confirmed(place: Where, row: Row, name: str) -> bool:
    """Whether the distribution's own metadata still names the package and ``name``."""
    package, _version, _file, record = row
    path = place.path / record
    if "/" in record or record in ("", ".", "..") or not path.exists():
        return False
    if place.source == "conda":
        try:
            named = str(json.loads(path.read_text(encoding="utf-8")).get("name"))
        except (OSError, ValueError, AttributeError):
            return False
        return canonical(named) == canonical(package) and name in _conda_tops(path)
    import importlib.metadata

    dist = importlib.metadata.PathDistribution(path)
    try:
        named = dist.metadata["Name"] or ""
    except OSError:
        return False
    return canonical(named) == canonical(package) and name in top_level_modules(dist)


def names_of(place: Where, cache: Path | None, *, fresh: bool = False) -> dict[str, list[Row]]:
    """The import names a place provides, from memory, the cache file, or (``fresh``, or
    neither has them) read now."""
    try:
        stamp = os.stat(place.path).st_mtime_ns
    except OSError:
        return {}
    key = (str(place.path), stamp)
    known = None if fresh else _memory.get(key)
    if known is not None:
        return known
    file = _cache_file(cache, place.path)
    known = _read_cache(file, place.path, stamp) if file is not None and not fresh else None
    if known is None:
        known = _conda_names(place.path) if place.source == "conda" else _pypi_names(place.path)
        if file is not None:
            _write_cache(file, place.path, stamp, known)
    for old in [k for k in _memory if k[0] == key[0]]:
        del _memory[old]
    _memory[key] = known
    return known


def _pypi_names(site: Path) -> dict[str, list[Row]]:
    """Top-level names each distribution of a site-packages dir provides, with the
    metadata dir that says so."""
    import importlib.metadata

    out: dict[str, list[Row]] = {}
    infos = sorted([*site.glob("*.dist-info"), *site.glob("*.egg-info")])
    for info in infos:
        dist = importlib.metadata.PathDistribution(info)
        try:
            name = dist.metadata["Name"] or ""
        except OSError:
            continue
        if not name:
            continue
        file = "top_level.txt" if dist.read_text("top_level.txt") else "RECORD"
        for module in top_level_modules(dist):
            if _IDENTIFIER.fullmatch(module):
                out.setdefault(module, []).append((name, dist.version, file, info.name))
    return out


def _conda_names(meta_dir: Path) -> dict[str, list[Row]]:
    """Top-level names each conda package puts in site-packages (its record's ``files``)."""
    out: dict[str, list[Row]] = {}
    for record in sorted(meta_dir.glob("*.json")):
        try:
            meta = json.loads(record.read_text(encoding="utf-8"))
            name, version = str(meta["name"]), str(meta["version"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        for module in sorted(_conda_tops(record)):
            out.setdefault(module, []).append((name, version, "conda-meta", record.name))
    return out


def _conda_tops(record: Path) -> set[str]:
    """The top-level modules a conda-meta record's ``files`` put in site-packages."""
    try:
        meta = json.loads(record.read_text(encoding="utf-8"))
        files = [str(f) for f in meta.get("files") or ()]
    except (OSError, ValueError, TypeError, AttributeError):
        return set()
    tops = set()
    for path in files:
        match = _SITE.match(path)
        if not match:
            continue
        first = match.group(1)
        stem = first.split(".")[0]
        nested = path[match.end() :].startswith("/")
        if first.endswith((".dist-info", ".egg-info", ".data", ".pth")):
            continue
        if (nested or first.endswith((".py", ".so"))) and _IDENTIFIER.fullmatch(stem):
            tops.add(stem)
    return tops


def _cache_file(cache: Path | None, path: Path) -> Path | None:
    if cache is None:
        return None
    return cache / f"{hashlib.sha256(str(path).encode()).hexdigest()[:24]}.json"


def _read_cache(file: Path, path: Path, stamp: int) -> dict[str, list[Row]] | None:
    """The cached names of ``path`` at ``stamp``; None when absent, stale or not valid."""
    try:
        data: Any = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("layout") != _LAYOUT:
        return None
    if data.get("path") != str(path) or data.get("mtime_ns") != stamp:
        return None
    names = data.get("names")
    if not isinstance(names, dict):
        return None
    out: dict[str, list[Row]] = {}
    for module, rows in names.items():
        if not isinstance(module, str) or not _IDENTIFIER.fullmatch(module):
            return None
        if not isinstance(rows, list) or not all(
            isinstance(r, list) and len(r) == 4 and all(isinstance(v, str) for v in r) for r in rows
        ):
            return None
        out[module] = [(r[0], r[1], r[2], r[3]) for r in rows]
    return out


def _write_cache(file: Path, path: Path, stamp: int, names: dict[str, list[Row]]) -> None:
    data = {"layout": _LAYOUT, "path": str(path), "mtime_ns": stamp, "names": names}
    try:
        private_dir(file.parent.parent)
        private_dir(file.parent)
        atomic_write(file, json.dumps(data))
    except OSError:  # a cache that cannot be written: the names read now still answer
        pass
