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
import json
import os
import re
import shutil
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import summary
from .errors import EnvDamaged, EnvNotFound, RevisionNotFound, TransactionFailed
from .files import fsync_dir
from .manifest import Manifest
from .names import ENV_NAME_RE, validate_env_name
from .pylock import parse_lock
from .records import RevisionRecord

if TYPE_CHECKING:  # imported where used: reading an env needs neither
    pass

META_DIR = ".userpkg"
MANIFEST = "manifest.toml"
LOCK = "pylock.toml"
RECORD = "revision.json"
CONDA_LOCK = "conda.lock"


class EnvStore:
    """Paths and committed revisions of the environments under one directory."""

    def __init__(self, envs_dir: Path, *, shared: bool = False) -> None:
        self.envs_dir = envs_dir
        #: An administrator's shared envs dir: readable by every user (:mod:`.shared`).
        self.shared = shared

    def ensure(self) -> None:
        """Make the envs dir, private to its user (0700), if it is not there yet.

        Other users must not list a user's envs, read their manifests, or hold
        the lock files inside (uv writes its own at mode 0666).  An existing dir
        keeps its mode; ``doctor`` says when other users can reach it.  A shared
        envs dir is made readable by every user (0755), who all read it.
        """
        if not self.envs_dir.is_dir():
            self.envs_dir.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                self.envs_dir.mkdir(mode=0o755 if self.shared else 0o700)
                if self.shared:
                    self.envs_dir.chmod(0o755)  # whatever the umask

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
        return [e for e in self.candidates() if self.exists(e)]

    def listing(self) -> dict[str, int]:
        """Every env's current revision, sorted by name: one directory read per env."""
        out = {}
        for name in self.candidates():
            revs = self.revisions(name)
            if revs:
                out[name] = revs[-1]
        return out

    def candidates(self) -> list[str]:
        """Names in the envs dir that may be envs, sorted (one directory read)."""
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

    def read_listed(self, name: str, revision: int) -> dict[str, Any] | None:
        """What ``envs`` shows of a revision, from the summary written at its commit (None:
        there is none, or a file changed since; read the files themselves)."""
        return summary.read(self.revisions_dir(name) / str(revision))

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
        texts = {MANIFEST: manifest, LOCK: lock, **({CONDA_LOCK: conda_lock} if conda_lock else {})}
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            summary.write(tmp, texts)  # without it, a listing reads the files themselves
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
