"""Crash-safe application of a plan to an environment.

Design: an undo journal with hard-link backups.

1. ``begin``: record every path under the env (the "before" tree), hard-link
   the files of every distribution the plan removes or changes into
   ``.userpkg/txn/backup/``, and only then write ``journal.json`` (atomically).
   uv deletes a distribution's files before it writes new ones, so the linked
   backups keep the old bytes.
2. The backend changes the env in place (the env never moves: venvs and conda
   prefixes embed their own path).
3. The new revision directory is renamed into place: the commit point.
4. The journal is removed.

``recover`` (run by every writer under the env lock, and by ``doctor``) finds a
journal left by a killed process.  If its revision was committed, the change is
complete and only the journal goes; otherwise every path absent from the
"before" tree is deleted and the backups are linked back, which restores the
old revision exactly.  Recovery is idempotent, so a kill during recovery is
repaired by the next recovery.  The cost is proportional to the size of the
env's file list plus the files of the touched distributions only.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from . import cancel
from .errors import EnvBusy
from .files import atomic_write, fsync_dir
from .specs import canonical_name
from .store import META_DIR, EnvStore

JOURNAL = "journal.json"
TREE = "tree.txt"
BACKUPS = "backups.txt"
BACKUP = "backup"


class EnvLock:
    """One writer per env across processes; others wait ``timeout`` seconds.

    ``what`` names the locked thing in the busy message when it is not one env
    (the envs dir's lock, which every ``create`` takes for a moment).
    ``on_wait`` is called once, only when another writer holds the lock (a first
    try without waiting failed): a front end then says why nothing moves yet.
    """

    def __init__(
        self,
        path: Path,
        name: str,
        timeout: float,
        *,
        what: str = "",
        on_wait: Callable[[], None] | None = None,
    ) -> None:
        from filelock import FileLock

        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(str(path), timeout=timeout)
        self._name = name
        self._timeout = timeout
        self._what = what or f"environment {name!r}"
        self._on_wait = on_wait

    def __enter__(self) -> EnvLock:
        """Wait for the lock; waiting is a safe point to cancel at (see :mod:`.cancel`)."""
        import time

        from filelock import Timeout

        try:
            self._lock.acquire(timeout=0)
            return self
        except Timeout:
            if self._on_wait is not None:
                self._on_wait()
        deadline = time.monotonic() + self._timeout
        while True:
            try:
                self._lock.acquire(timeout=max(min(0.25, deadline - time.monotonic()), 0))
                return self
            except Timeout:
                cancel.checkpoint()
                if time.monotonic() >= deadline:
                    raise EnvBusy(
                        f"{self._what} is busy: another change to it is running "
                        f"(waited {self._timeout:g} s); try again when it has finished"
                    ) from None

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def walk_tree(prefix: Path) -> Iterator[tuple[str, bool]]:
    """Yield ``(relative path, is_dir)`` for everything in the env but its metadata.

    Symlinks (also to directories) are reported as files and not followed.
    """
    root = str(prefix)
    cut = len(root) + 1
    stack = [root]
    while stack:
        current = stack.pop()
        with os.scandir(current) as it:
            for entry in it:
                rel = entry.path[cut:]
                if rel == META_DIR:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    yield rel, True
                    stack.append(entry.path)
                else:
                    yield rel, False


def site_packages_dirs(prefix: Path) -> list[Path]:
    if os.name == "nt":
        return [prefix / "Lib" / "site-packages"]
    return sorted(p for p in (prefix / "lib").glob("python*/site-packages") if p.is_dir())


def installed_dists(prefix: Path) -> dict[str, tuple[str, Path]]:
    """Canonical name -> (version, dist-info dir) of the distributions in the env."""
    out: dict[str, tuple[str, Path]] = {}
    for site in site_packages_dirs(prefix):
        for entry in site.glob("*.dist-info"):
            stem = entry.name[: -len(".dist-info")]
            name, _, version = stem.rpartition("-")
            if name:
                out[canonical_name(name)] = (version, entry)
    return out


def _owned_paths(prefix: Path, dist_info: Path) -> set[str]:
    """Top-level entries (relative to the prefix) a distribution owns, per its RECORD.

    Whole top-level entries of site-packages are taken, so files a RECORD does
    not list (``__pycache__``) are kept too; files outside site-packages (scripts,
    data files) are taken one by one.
    """
    site = str(dist_info.parent)
    root = str(prefix)
    site_rel = site[len(root) + 1 :]
    owned: set[str] = {os.path.join(site_rel, dist_info.name)}
    try:
        rows = list(csv.reader((dist_info / "RECORD").read_text(encoding="utf-8").splitlines()))
    except (OSError, csv.Error):
        rows = []
    for row in rows:
        path = row[0] if row else ""
        if not path:
            continue
        if path.startswith(".."):
            full = os.path.normpath(os.path.join(site, path))
            if full.startswith(root + os.sep):
                owned.add(full[len(root) + 1 :])
        else:
            owned.add(os.path.join(site_rel, path.replace("/", os.sep).split(os.sep, 1)[0]))
    return owned


class Transaction:
    """The journal of one change to one env (see the module docstring)."""

    def __init__(self, prefix: Path) -> None:
        self.prefix = prefix
        self.dir = prefix / META_DIR / "txn"

    @property
    def active(self) -> bool:
        return self.dir.exists()

    def begin(
        self,
        to_revision: int,
        touched: Iterable[str],
        info: dict[str, object],
        roots: Iterable[str] = (),
    ) -> None:
        """Take the "before" picture and arm the journal.

        ``touched`` names the Python distributions the change removes or
        replaces; ``roots`` adds paths (relative to the prefix) to back up as
        well, e.g. the files of conda packages the change unlinks.
        """
        if self.dir.exists():
            shutil.rmtree(self.dir)
        backup = self.dir / BACKUP
        self.dir.parent.mkdir(parents=True, exist_ok=True)
        self.dir.mkdir(mode=0o700)  # the backups are the env's files: its user's alone
        backup.mkdir()
        dists = installed_dists(self.prefix)
        roots = set(roots)
        for name in touched:
            if canonical_name(name) in dists:
                roots |= _owned_paths(self.prefix, dists[canonical_name(name)][1])
        # Backups are stored flat (backup/<n>), mapped in BACKUPS: creating the
        # env's directory structure again would cost a mkdir per directory.
        tree: list[str] = []
        saved: list[str] = []
        root, dest = str(self.prefix), str(backup)
        for rel, is_dir in walk_tree(self.prefix):
            tree.append(("d " if is_dir else "f ") + rel)
            if not is_dir and _under(rel, roots):
                _link(os.path.join(root, rel), os.path.join(dest, str(len(saved))))
                saved.append(rel)
        fsync_dir(backup)
        for name, lines in ((TREE, tree), (BACKUPS, saved)):
            with open(self.dir / name, "w", encoding="utf-8") as fh:
                fh.write("\n".join(lines) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        atomic_write(self.dir / JOURNAL, json.dumps({"to_revision": to_revision, **info}))

    def journal(self) -> dict[str, object] | None:
        try:
            data: dict[str, object] = json.loads((self.dir / JOURNAL).read_text("utf-8"))
        except (FileNotFoundError, ValueError):
            return None
        return data

    def finish(self) -> None:
        """Drop the journal after a commit (or after nothing was touched)."""
        if not self.dir.exists():
            return
        trash = self.dir.with_name(f"txn.done-{os.urandom(4).hex()}")
        os.rename(self.dir, trash)
        shutil.rmtree(trash, ignore_errors=True)

    def cleanup_leftovers(self) -> None:
        for entry in self.dir.parent.glob("txn.done-*"):
            shutil.rmtree(entry, ignore_errors=True)

    def roll_back(self) -> None:
        """Restore the "before" tree exactly; safe to run again after a crash.

        Order matters: what the change created goes first (so a path that turned
        from a file into a directory, or back, is free again), then the old
        directories are re-made and the backed-up files linked back.
        """
        old_files: set[str] = set()
        old_dirs: set[str] = set()
        for line in (self.dir / TREE).read_text(encoding="utf-8").splitlines():
            if line.startswith("d "):
                old_dirs.add(line[2:])
            elif line.startswith("f "):
                old_files.add(line[2:])
        new_dirs: list[str] = []
        for rel, is_dir in list(walk_tree(self.prefix)):
            if is_dir:
                if rel not in old_dirs:
                    new_dirs.append(rel)
            elif rel not in old_files:
                os.unlink(self.prefix / rel)
        for rel in sorted(new_dirs, key=len, reverse=True):
            shutil.rmtree(self.prefix / rel, ignore_errors=True)
        for rel in sorted(old_dirs, key=len):
            path = self.prefix / rel
            if path.is_symlink() or path.is_file():
                path.unlink()
            path.mkdir(exist_ok=True)
        backup = self.dir / BACKUP
        saved = (self.dir / BACKUPS).read_text(encoding="utf-8").splitlines()
        for number, rel in enumerate(saved):
            src, dst = backup / str(number), self.prefix / rel
            if not rel or not os.path.lexists(src):
                continue  # linked back by an earlier, interrupted recovery
            if os.path.lexists(dst):
                if dst.is_dir() and not dst.is_symlink():
                    shutil.rmtree(dst)
                elif (
                    os.stat(src, follow_symlinks=False).st_ino
                    == os.stat(dst, follow_symlinks=False).st_ino
                ):
                    continue
                else:
                    os.unlink(dst)
            _link(src, dst)


def _under(rel: str, roots: set[str]) -> bool:
    """Whether ``rel`` is one of ``roots`` or inside one (roots are at most 5 deep)."""
    if rel in roots:
        return True
    end = rel.find(os.sep)
    while end != -1:
        if rel[:end] in roots:
            return True
        end = rel.find(os.sep, end + 1)
    return False


def _link(src: Path | str, dst: Path | str) -> None:
    """Hard-link ``src`` (a symlink itself, not its target) to ``dst``; copy as fallback."""
    try:
        os.link(src, dst, follow_symlinks=False)
    except NotImplementedError:  # platforms without linkat(): symlinks are re-created
        if os.path.islink(src):
            os.symlink(os.readlink(src), dst)
        else:
            os.link(src, dst)
    except OSError:  # e.g. a filesystem without hard links
        shutil.copy2(src, dst, follow_symlinks=False)


def recover(store: EnvStore, env: str) -> str | None:
    """Complete or undo a transaction a killed process left behind; say which (or None).

    Run under the env lock by every writer and by ``doctor``.  A journal whose
    revision was committed only goes; otherwise the env is rolled back to the
    revision it had.  Safe to run again after a crash of its own.
    """
    txn = Transaction(store.prefix(env))
    txn.cleanup_leftovers()
    store.drop_uncommitted(env)
    if not txn.active:
        return None
    journal = txn.journal()
    if journal is None:  # killed before the journal was armed: nothing was touched
        txn.finish()
        return None
    to_rev = int(journal["to_revision"])  # type: ignore[call-overload]
    if to_rev in store.revisions(env):
        txn.finish()
        return f"completed the interrupted change to revision {to_rev}"
    txn.roll_back()
    txn.finish()
    return f"rolled back an interrupted change (revision {to_rev} was never committed)"
