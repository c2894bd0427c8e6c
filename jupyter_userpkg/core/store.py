"""On-disk state of environments: manifest, lock and numbered revisions.

Layout (all human-readable; see docs/formats.md)::

    <envs_dir>/
      .locks/<name>.lock              inter-process writer lock (filelock)
      .trash/                         envs being deleted
      <name>/                         the environment itself (a venv)
        .userpkg/
          revisions/<N>/manifest.toml what the user asked for (pixi-like)
          revisions/<N>/pylock.toml   what is installed from PyPI (PEP 751 lock, from uv)
          revisions/<N>/conda.lock    conda envs: the conda packages (pixi.lock format)
          revisions/<N>/revision.json who/when/what command, and the changes
          txn/                        journal of a transaction in flight

A revision directory is written as ``<N>.tmp`` and renamed into place: the
rename is the commit point of every transaction, so a reader sees either the
old or the new revision, never a half-written one.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import tempfile
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import EnvDamaged, EnvNotFound, RevisionNotFound, TransactionFailed
from .names import ENV_NAME_RE, validate_env_name
from .records import RevisionRecord
from .specs import canonical_name

if TYPE_CHECKING:  # imported where used: reading an env needs neither
    from packaging.requirements import Requirement
    from packaging.tags import Tag
    from tomlkit.items import Table

META_DIR = ".userpkg"
MANIFEST = "manifest.toml"
LOCK = "pylock.toml"
RECORD = "revision.json"
CONDA_LOCK = "conda.lock"


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old or the new content."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A new file of an unpredictable name (O_EXCL): nothing planted beside the
    # target, a symlink say, is ever followed.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with open(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
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


@dataclass(frozen=True)
class Manifest:
    """What the user asked for in one environment."""

    name: str
    kind: str
    python: str
    base_python: str = ""
    base_site: tuple[str, ...] = ()
    pypi: dict[str, str] = field(default_factory=dict)  # canonical name -> PEP 508 string
    #: conda envs: package name -> MatchSpec text, and the channels (URLs) in priority order.
    conda: dict[str, str] = field(default_factory=dict)
    channels: tuple[str, ...] = ()

    def requirements(self) -> list[str]:
        return list(self.pypi.values())

    def with_pypi(self, reqs: list[Requirement]) -> Manifest:
        pypi = dict(self.pypi)
        for req in reqs:
            pypi[canonical_name(req.name)] = str(req)
        return replace(self, pypi=pypi)

    def without_pypi(self, names: Sequence[str]) -> Manifest:
        return replace(self, pypi={k: v for k, v in self.pypi.items() if k not in set(names)})

    def with_conda(self, specs: dict[str, str]) -> Manifest:
        return replace(self, conda={**self.conda, **specs})

    def without_conda(self, names: Sequence[str]) -> Manifest:
        return replace(self, conda={k: v for k, v in self.conda.items() if k not in set(names)})

    @property
    def text(self) -> str:
        """The manifest file's text (what a plan's commit writes)."""
        return self.to_toml()

    def to_toml(self) -> str:
        import tomlkit

        doc = tomlkit.document()
        doc.add(tomlkit.comment("jupyter-userpkg manifest: what was asked for in this environment"))
        env = tomlkit.table()
        env["name"] = self.name
        env["kind"] = self.kind
        env["python"] = self.python
        if self.base_python:
            env["base-python"] = self.base_python
            env["base-site-packages"] = list(self.base_site)
        has_conda = bool(self.channels or self.conda)  # an env with a conda layer
        if has_conda:
            env["channels"] = list(self.channels)
        doc["env"] = env
        if has_conda:
            doc["dependencies"] = self.conda_table()
        doc["pypi-dependencies"] = self.pypi_table()
        return tomlkit.dumps(doc)

    def conda_table(self) -> Table:
        """``[dependencies]``: ``name = "version"``, or the whole MatchSpec when it says more."""
        import tomlkit

        deps = tomlkit.table()
        for name in sorted(self.conda):
            spec = self.conda[name]
            rest = spec[len(name) :].strip() if spec.startswith(name) else spec
            simple = spec.startswith(name) and not any(c in rest for c in " []=:")
            deps[name] = (rest or "*") if simple else spec
        return deps

    def pypi_table(self) -> Table:
        """``[pypi-dependencies]``: ``name = "specifier"``, or a table for extras/markers.

        The inverse of :func:`manifest_entry_to_requirement`.
        """
        import tomlkit
        from packaging.requirements import Requirement

        deps = tomlkit.table()
        for key in sorted(self.pypi):
            req = Requirement(self.pypi[key])
            if not req.extras and not req.marker:
                deps[req.name] = str(req.specifier) or "*"
                continue
            entry = tomlkit.inline_table()
            entry["version"] = str(req.specifier) or "*"
            if req.extras:
                entry["extras"] = sorted(req.extras)
            if req.marker:
                entry["markers"] = str(req.marker)
            deps[req.name] = entry
        return deps

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Manifest:
        env = data.get("env", {})
        pypi: dict[str, str] = {}
        for name, value in data.get("pypi-dependencies", {}).items():
            req = manifest_entry_to_requirement(name, value)
            pypi[canonical_name(req.name)] = str(req)
        conda = {
            name: conda_entry_to_spec(name, value)
            for name, value in data.get("dependencies", {}).items()
        }
        return cls(
            name=str(env.get("name", "")),
            kind=str(env.get("kind", "venv")),
            python=str(env.get("python", "")),
            base_python=str(env.get("base-python", "")),
            base_site=tuple(env.get("base-site-packages", ())),
            pypi=pypi,
            conda=conda,
            channels=tuple(str(c) for c in env.get("channels", ())),
        )


def conda_entry_to_spec(name: str, value: Any) -> str:
    """The MatchSpec text of a ``[dependencies]`` entry (inverse of ``conda_table``)."""
    text = str(value).strip()
    if text in ("", "*"):
        return name
    if text.startswith(name) or "::" in text:
        return text
    return f"{name} {text}"


def manifest_entry_to_requirement(name: str, value: Any) -> Requirement:
    """Turn a ``[pypi-dependencies]`` entry (string or table) into a Requirement."""
    from packaging.requirements import Requirement

    if isinstance(value, str):
        spec = "" if value.strip() in ("", "*") else value.strip()
        return Requirement(f"{name}{spec}")
    version = str(value.get("version", "*")).strip()
    extras = value.get("extras") or []
    text = name + (f"[{','.join(extras)}]" if extras else "")
    text += "" if version in ("", "*") else version
    if value.get("markers"):
        text += f"; {value['markers']}"
    return Requirement(text)


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


class EnvStore:
    """Paths and committed revisions of the environments under one directory."""

    def __init__(self, envs_dir: Path) -> None:
        self.envs_dir = envs_dir

    def ensure(self) -> None:
        """Make the envs dir, private to its user (0700), if it is not there yet.

        Other users must not list a user's envs, read their manifests, or hold
        the lock files inside (uv writes its own at mode 0666).  An existing dir
        keeps its mode; ``doctor`` says when other users can reach it.
        """
        if not self.envs_dir.is_dir():
            self.envs_dir.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                self.envs_dir.mkdir(mode=0o700)

    def prefix(self, name: str) -> Path:
        return self.envs_dir / validate_env_name(name)

    def meta(self, name: str) -> Path:
        return self.prefix(name) / META_DIR

    def revisions_dir(self, name: str) -> Path:
        return self.meta(name) / "revisions"

    def lock_path(self, name: str) -> Path:
        """The writer lock of ``name`` and of every name that differs from it only in case.

        Names must differ in more than case (kernelspec names and some filesystems
        ignore it): ``create Race1`` and ``create race1`` take one lock, so the
        second sees the first.
        """
        return self.envs_dir / ".locks" / f"{validate_env_name(name).lower()}.lock"

    def creating_marker(self, name: str) -> Path:
        """Present while ``create`` builds the env: its prefix may then be removed."""
        return self.envs_dir / ".locks" / f"{validate_env_name(name)}.creating"

    def revisions(self, name: str) -> list[int]:
        """Committed revision numbers, ascending."""
        try:
            entries = os.listdir(self.revisions_dir(name))
        except (FileNotFoundError, NotADirectoryError):
            return []
        return sorted(int(e) for e in entries if e.isdigit())

    def exists(self, name: str) -> bool:
        return bool(self.revisions(name))

    def names(self) -> list[str]:
        # Skip what cannot be an env (lost+found, stray files, other people's dirs).
        return [e for e in self._candidates() if self.exists(e)]

    def listing(self) -> dict[str, int]:
        """Every env's current revision, sorted by name: one directory read per env."""
        out = {}
        for name in self._candidates():
            revs = self.revisions(name)
            if revs:
                out[name] = revs[-1]
        return out

    def _candidates(self) -> list[str]:
        try:
            entries = sorted(os.listdir(self.envs_dir))
        except FileNotFoundError:
            return []
        return [e for e in entries if ENV_NAME_RE.fullmatch(e)]

    def current(self, name: str) -> int:
        revs = self.revisions(name)
        if not revs:
            raise EnvNotFound(
                f"environment {name!r} does not exist; "
                "see `jupyter userpkg envs` or create it with `jupyter userpkg create`"
            )
        return revs[-1]

    def read_manifest(self, name: str, revision: int | None = None) -> Manifest:
        rev = self.current(name) if revision is None else revision
        data = self._manifest_data(name, rev)
        try:
            return Manifest.from_data(data)
        except (ValueError, TypeError, AttributeError):
            raise self._damaged(name, rev, MANIFEST, "has an entry that cannot be read") from None

    def read_summary(self, name: str, revision: int) -> tuple[str, str]:
        """(kind, python) of a revision's manifest, without reading what was asked for."""
        env = self._manifest_data(name, revision)["env"]
        return str(env["kind"]), str(env.get("python", ""))

    def _manifest_data(self, name: str, revision: int) -> dict[str, Any]:
        """A revision's manifest as TOML data, with the ``[env]`` table every manifest has."""
        try:
            data = tomllib.loads(self._read(name, revision, MANIFEST))
        except tomllib.TOMLDecodeError:
            raise self._damaged(name, revision, MANIFEST, "is not valid TOML") from None
        env = data.get("env")
        if not isinstance(env, dict) or not isinstance(env.get("kind"), str):
            raise self._damaged(name, revision, MANIFEST, "has no [env] table naming a kind")
        return data

    @staticmethod
    def _damaged(name: str, revision: int, filename: str, why: str) -> EnvDamaged:
        return EnvDamaged(
            f"environment {name!r} is damaged: {filename} of revision {revision} {why}; "
            f"see `jupyter userpkg doctor -n {name}`"
        )

    def damage(self, name: str) -> list[str]:
        """What of every committed revision cannot be read, in words (for ``doctor``)."""
        problems = []
        for revision in self.revisions(name):
            for filename, check in (
                (MANIFEST, lambda r: self.read_manifest(name, r)),
                (RECORD, lambda r: self.read_record(name, r)),
                (LOCK, lambda r: parse_lock(self.read_lock(name, r))),
            ):
                try:
                    check(revision)
                except EnvDamaged as exc:
                    why = exc.message.split(f"{filename} of revision {revision} ", 1)[-1]
                    why = why.split("; ", 1)[0]
                    problems.append(f"{filename} of revision {revision}: {why}")
                except (ValueError, OSError) as exc:
                    problems.append(f"{filename} of revision {revision}: {exc}")
        return problems

    def count_packages(self, name: str, revision: int) -> int:
        """Packages in a revision's locks: the PyPI lock's and the conda lock's, if any.

        Counted without reading each entry: ``envs`` lists many envs at once.
        """
        try:
            pypi = tomllib.loads(self._read(name, revision, LOCK)).get("packages", [])
        except tomllib.TOMLDecodeError:
            raise self._damaged(name, revision, LOCK, "is not valid TOML") from None
        if not all(isinstance(p, dict) and isinstance(p.get("name"), str) for p in pypi):
            raise self._damaged(name, revision, LOCK, "lists a package without a name")
        conda = self.read_conda_lock(name, revision)
        return len(pypi) + len(re.findall(r"(?m)^- conda: ", conda))

    def read_lock(self, name: str, revision: int | None = None) -> str:
        rev = self.current(name) if revision is None else revision
        return self._read(name, rev, LOCK)

    def read_conda_lock(self, name: str, revision: int | None = None) -> str:
        """The conda lock of a revision ("" for envs without conda packages)."""
        rev = self.current(name) if revision is None else revision
        path = self.revisions_dir(name) / str(rev) / CONDA_LOCK
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self._read(name, rev, RECORD)  # RevisionNotFound for a revision that is not there
            return ""

    def read_record(self, name: str, revision: int) -> RevisionRecord:
        try:
            return RevisionRecord.from_dict(json.loads(self._read(name, revision, RECORD)))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise self._damaged(name, revision, RECORD, "cannot be read") from None

    def _read(self, name: str, revision: int, filename: str) -> str:
        path = self.revisions_dir(name) / str(revision) / filename
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            if revision not in self.revisions(name):
                raise RevisionNotFound(
                    f"environment {name!r} has no revision {revision}; "
                    f"see `jupyter userpkg history -n {name}`"
                ) from None
            raise TransactionFailed(
                f"revision {revision} of {name!r} is missing {filename}"
            ) from None

    def commit(
        self,
        name: str,
        manifest: str,
        lock: str,
        record: RevisionRecord,
        conda_lock: str = "",
    ) -> None:
        """Write revision ``record.revision`` and make it current in one rename."""
        revs_dir = self.revisions_dir(name)
        revs_dir.mkdir(parents=True, exist_ok=True)
        final = revs_dir / str(record.revision)
        tmp = revs_dir / f"{record.revision}.tmp"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        for filename, text in (
            (MANIFEST, manifest),
            (LOCK, lock),
            (RECORD, json.dumps(record.to_dict(), indent=2) + "\n"),
            *([(CONDA_LOCK, conda_lock)] if conda_lock else []),
        ):
            with open(tmp / filename, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
        fsync_dir(tmp)
        os.rename(tmp, final)  # the commit point
        # Past the rename the revision is committed: a failing directory fsync
        # must not make the caller undo a change that readers already see.
        with contextlib.suppress(OSError):
            fsync_dir(revs_dir)

    def drop_uncommitted(self, name: str) -> None:
        """Remove half-written revision directories left by a killed commit."""
        revs_dir = self.revisions_dir(name)
        if revs_dir.is_dir():
            for entry in os.listdir(revs_dir):
                if entry.endswith(".tmp"):
                    shutil.rmtree(revs_dir / entry, ignore_errors=True)
