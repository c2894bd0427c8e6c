"""What a conda prefix and a conda lock hold, read mostly without rattler.

* a prefix's ``conda-meta`` records: which packages are linked, the files each
  owns, the Python distributions each installs;
* the env's conda lock (the pixi.lock format rattler reads and writes): its
  packages as :class:`CondaLocked` summaries (read as YAML), its records for
  :func:`condainstall.install` (read by rattler), and :class:`SolvedLock`, a
  solve's records that are written out as a lock only when a plan is applied.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InvalidSpec, first_line

if TYPE_CHECKING:
    from rattler import PrefixRecord, RepoDataRecord

    from ..options import CondaOptions

#: The file name of a conda lock (as the store keeps it).
CONDA_LOCK = "conda.lock"
#: Guards the cache of parsed locks (the server reads from many threads).
_lock = threading.Lock()


@dataclass(frozen=True)
class CondaLocked:
    """One conda package of an env's lock (read without rattler)."""

    name: str
    version: str
    build: str
    channel: str
    size: int
    depends: tuple[str, ...] = ()

    @property
    def is_python_package(self) -> bool:
        """Installs an importable distribution (it needs python)."""
        return self.name != "python" and any(
            d.split()[0] == "python" for d in self.depends if d.strip()
        )


def installed_records(prefix: Path) -> list[PrefixRecord]:
    from rattler import PrefixRecord

    meta = prefix / "conda-meta"
    return [PrefixRecord.from_path(p) for p in sorted(meta.glob("*.json"))] if meta.is_dir() else []


def installed_versions(prefix: Path) -> dict[str, tuple[str, str, Path]]:
    """name -> (version, build, conda-meta file) of the conda packages in a prefix.

    Read from the file names (``<name>-<version>-<build>.json``), without rattler.
    """
    meta = prefix / "conda-meta"
    out: dict[str, tuple[str, str, Path]] = {}
    for path in sorted(meta.glob("*.json")) if meta.is_dir() else ():
        parts = path.stem.rsplit("-", 2)
        if len(parts) == 3:
            out[parts[0]] = (parts[1], parts[2], path)
    return out


def owned_paths(meta_file: Path) -> set[str]:
    """Paths (relative to the prefix) a conda package installed, with their pycache."""
    import json

    try:
        data = json.loads(meta_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    prefix = meta_file.parent.parent
    out = {os.path.relpath(meta_file, prefix)}
    for rel in data.get("files") or []:
        out.add(os.path.normpath(rel))
        if rel.endswith(".py"):
            out.add(os.path.join(os.path.dirname(rel), "__pycache__"))
    return out


def in_cache(options: CondaOptions, pkg: CondaLocked) -> bool:
    """Whether a package is extracted in a package cache already: linking it downloads nothing."""
    dirs = [Path(d) for d in options.shared_pkgs_dirs] + [options.pkgs()]
    name = f"{pkg.name}-{pkg.version}-{pkg.build}"
    return any((d / name / "info" / "index.json").is_file() for d in dirs)


def changed_files(meta_file: Path) -> list[str]:
    """Files of an installed conda package that differ from what was linked (``doctor --deep``).

    Compared with the hashes its ``conda-meta`` record keeps; a file whose
    prefix placeholder was rewritten is compared only when its record says how
    it reads in the prefix.
    """
    import hashlib
    import json

    try:
        data = json.loads(meta_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return [f"{meta_file.name} cannot be read"]
    prefix = meta_file.parent.parent
    problems = []
    for entry in (data.get("paths_data") or {}).get("paths") or []:
        if entry.get("path_type") not in (None, "hardlink"):
            continue
        expected = entry.get("sha256_in_prefix") or (
            None if entry.get("prefix_placeholder") else entry.get("sha256")
        )
        if not expected:
            continue
        rel = str(entry.get("_path", ""))
        try:
            digest = hashlib.sha256((prefix / rel).read_bytes()).hexdigest()
        except OSError:
            problems.append(f"{data.get('name')} {data.get('version')}: {rel} is missing")
            continue
        if digest != expected:
            problems.append(
                f"{data.get('name')} {data.get('version')}: {rel} differs from what was linked"
            )
    return problems


def python_dists(meta_file: Path) -> dict[str, str]:
    """Distributions (canonical name -> version) an installed conda package provides.

    Read from the ``*.dist-info`` directories among its files: a conda package's
    name need not be its distribution's (``pytorch`` installs ``torch``).
    """
    import json

    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion, Version

    try:
        files = json.loads(meta_file.read_text(encoding="utf-8")).get("files") or []
    except (OSError, ValueError):
        return {}
    out: dict[str, str] = {}
    for rel in files:
        parent = os.path.basename(os.path.dirname(rel))
        if parent.endswith(".dist-info") and os.path.basename(rel) == "METADATA":
            name, _, version = parent.removesuffix(".dist-info").rpartition("-")
            with contextlib.suppress(InvalidVersion):
                if name:
                    out[canonicalize_name(name)] = str(Version(version))
    return out


# --------------------------------------------------------------------- locks


def lock_text(records: Sequence[RepoDataRecord], channels: Sequence[str]) -> str:
    """The env's conda lock (the pixi.lock format rattler reads and writes)."""
    from rattler import Channel, LockFile, LockPlatform

    platform = LockPlatform(current_platform())
    lock = LockFile([platform])
    for record in sorted(records, key=lambda r: r.name.normalized):
        lock.add_conda_package("default", platform, record)
    lock.set_channels("default", [Channel(url).to_lock_channel() for url in channels])
    with tempfile.TemporaryDirectory(prefix="userpkg-lock-") as tmp:
        path = Path(tmp) / CONDA_LOCK
        lock.to_path(path)
        text = path.read_text(encoding="utf-8")
    # The plan reads this lock next: give it the records' own summary rather
    # than a YAML parse (the parse costs as much as the solve for 250 packages).
    _remember(text, {str(r.name.normalized): _summary(r) for r in records})
    return text


def _summary(record: RepoDataRecord) -> CondaLocked:
    return CondaLocked(
        name=str(record.name.normalized),
        version=str(record.version),
        build=str(record.build),
        channel=str(record.channel or "").rstrip("/"),
        size=int(record.size or 0),
        depends=tuple(str(d) for d in record.depends),
    )


_parsed: dict[str, dict[str, CondaLocked]] = {}
_records: dict[str, list[RepoDataRecord]] = {}


def _remember(text: str, packages: dict[str, CondaLocked]) -> None:
    with _lock:
        while len(_parsed) >= 16:
            _parsed.pop(next(iter(_parsed)))
        _parsed[text] = packages


class SolvedLock:
    """A solve's records as the env's next conda lock, written out on first use.

    Planning needs only the packages (for the diff); the lock's text, which
    costs as much as a fifth of the solve to write, is made when the plan is
    applied, never for a dry run.
    """

    def __init__(
        self, records: Sequence[RepoDataRecord], channels: Sequence[str], *, solved: bool = True
    ) -> None:
        self.records = list(records)
        self.channels = list(channels)
        #: The records are the channels' own, as this process's solve chose them (not read
        #: from a lock another party wrote).
        self.solved = solved

    @functools.cached_property
    def packages(self) -> dict[str, CondaLocked]:
        return {str(r.name.normalized): _summary(r) for r in self.records}

    @functools.cached_property
    def text(self) -> str:
        return lock_text(self.records, self.channels)


#: A conda lock as committed text, or as a solve's result not yet written out.
Lock = str | SolvedLock


def packages_of(lock: object) -> dict[str, CondaLocked]:
    """The packages of a conda lock: committed text, or a solve's :class:`SolvedLock`."""
    if isinstance(lock, SolvedLock):
        return dict(lock.packages)
    return parse_lock(str(lock))


def records_of(lock: object) -> list[RepoDataRecord]:
    if isinstance(lock, SolvedLock):
        return list(lock.records)
    return lock_records(str(lock))


def lock_records(text: str) -> list[RepoDataRecord]:
    """The records of a conda lock for this platform, for :func:`install` or as preferences.

    InvalidSpec when rattler cannot read the lock, or it has no packages for this platform.
    Read once per text: a change reads its env's lock for the plan and for the solve.
    """
    if not _has_packages(text):
        return []
    with _lock:
        known = _records.get(text)
    if known is not None:
        return list(known)
    from rattler import LockFile

    with tempfile.TemporaryDirectory(prefix="userpkg-lock-") as tmp:
        path = Path(tmp) / CONDA_LOCK
        path.write_text(text, encoding="utf-8")
        try:
            lock = LockFile.from_path(path)
            env = lock.environment("default")
            here = [p for p in lock.platforms() if p.name == current_platform()]
            records = env.conda_repodata_records_for_platform(here[0]) if env and here else None
        except Exception as exc:
            raise InvalidSpec(f"the conda lock cannot be read: {first_line(exc)}") from None
        if not records:
            raise InvalidSpec(
                f"the conda lock has no packages for this platform ({current_platform()})"
            )
    _remember(text, {str(r.name.normalized): _summary(r) for r in records})
    with _lock:
        while len(_records) >= 4:
            _records.pop(next(iter(_records)))
        _records[text] = list(records)
    return list(records)


def _has_packages(text: str) -> bool:
    """Whether a conda lock lists any package (``- conda: URL`` entries)."""
    return re.search(r"(?m)^\s*- conda: ", text) is not None


def parse_lock(text: str) -> dict[str, CondaLocked]:
    """name -> package of a conda lock.

    Read by rattler when this process has loaded it anyway (a change to a conda
    env), else as YAML (listing envs needs no rattler).  Recently written or
    read locks are remembered, so a plan, its apply and the reads that follow
    parse each lock once.
    """
    if not _has_packages(text):
        return {}
    known = _parsed.get(text)
    if known is not None:
        return dict(known)
    if "rattler" in sys.modules:
        with contextlib.suppress(InvalidSpec):
            lock_records(text)  # remembers its packages
            known = _parsed.get(text)
            if known is not None:
                return dict(known)
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 8x faster
    data = yaml.load(text, Loader=loader) or {}
    out: dict[str, CondaLocked] = {}
    for pkg in data.get("packages") or []:
        url = str(pkg.get("conda") or "")
        if not url:
            continue
        stem = url.rsplit("/", 1)[-1]
        for ext in (".tar.bz2", ".conda"):
            stem = stem.removesuffix(ext)
        parts = stem.rsplit("-", 2)
        if len(parts) != 3:
            continue
        name = str(pkg.get("name") or parts[0])
        out[name] = CondaLocked(
            name=name,
            version=str(pkg.get("version") or parts[1]),
            build=str(pkg.get("build") or parts[2]),
            channel=str(pkg.get("channel") or "").rstrip("/"),
            size=int(pkg.get("size") or 0),
            depends=tuple(str(d) for d in pkg.get("depends") or ()),
        )
    _remember(text, out)
    return dict(out)


def current_platform() -> str:
    from rattler.platform import Platform

    return str(Platform.current())


def check_imported_lock(source: str, conda_lock: str, conda_specs: tuple[str, ...]) -> None:
    """An imported conda lock must be a lock file rattler reads, with packages for this platform.

    It comes from another party: read in full, never through the shortcuts the
    env's own locks take.
    """
    import yaml

    try:
        data = yaml.safe_load(conda_lock) if conda_lock.strip() else {}
        if not isinstance(data, dict) or not isinstance(data.get("packages") or [], list):
            raise ValueError("not a conda lock")
        locked = parse_lock(conda_lock)
        lock_records(conda_lock)
    except InvalidSpec as exc:
        raise InvalidSpec(f"{source}: {exc.message}") from None
    except Exception:
        raise InvalidSpec(f"{source}: its conda lock is not valid") from None
    for spec in conda_specs:
        name = re.split(r"[\s=<>!~\[]", spec.split("::")[-1].strip())[0]
        if name and name not in locked:
            raise InvalidSpec(
                f"{source}: {name} is asked for but is not among the lock's conda packages"
            )


def python_of(conda_lock: object) -> str:
    """X.Y of the python in a conda lock ("" when the env has none)."""
    pkg = packages_of(conda_lock).get("python")
    return ".".join(pkg.version.split(".")[:2]) if pkg else ""


def python_moves(prefix: Path, conda_lock: object) -> bool:
    """Whether installing ``conda_lock`` changes the env's Python X.Y (installed -> planned)."""
    installed = installed_versions(prefix).get("python")
    planned = python_of(conda_lock)
    if installed is None or not planned:
        return False
    return ".".join(installed[0].split(".")[:2]) != planned
