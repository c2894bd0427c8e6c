"""Every env as ``envs`` lists it, kept between calls by a process that lists often.

The server lists all envs on every ``GET envs`` and every few seconds (its
watcher), and a listing must show a change the CLI or a kernel made in another
process at once.  A committed revision never changes (:mod:`.store`), so what was
read of it (its summary, the policy's advisories) is kept, and a later listing
checks each kept env with two ``stat`` calls on plain string paths, no directory
read and no file read, and asks the caller about its kernelspecs:

- its current revision's directory is still the one read (same inode and
  time: an env deleted and made again has new ones);
- the next revision's directory does not exist (a commit renames ``<N+1>.tmp``
  to ``<N+1>``, and revisions are numbered one after another);
- what the caller's ``kernels`` says of it is what it said (whether its
  ``kernel.json`` exists, say).

A commit is seen whatever the time, also within one tick of the file system's
clock.  One read of the envs dir finds envs made or deleted since.  An env that
fails a check is read again; one that cannot be read is listed as broken and read
again next time.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

from .errors import UserPkgError
from .records import EnvInfo
from .store import META_DIR, EnvStore

#: Reads one env at a revision; raises when it cannot.
ReadFn = Callable[[str, int], EnvInfo]
#: What says an env's kernelspecs are as they were (compared with ``==``).
KernelFn = Callable[[str], object]


@dataclass(frozen=True)
class _Seen:
    """What a listing read of one env, and what says it still holds."""

    revision: int
    #: (inode, mtime_ns) of the revision's directory.
    stamp: tuple[int, int]
    kernel: object
    info: EnvInfo


class EnvListing:
    """The envs of one store, read again only where they changed since the last call."""

    def __init__(self, store: EnvStore) -> None:
        self.store = store
        self._seen: dict[str, _Seen] = {}
        self._last: list[EnvInfo] = []
        self._lock = threading.Lock()

    def envs(self, kernels: KernelFn, read: ReadFn) -> list[EnvInfo]:
        """Every env, sorted by name; one ``read`` raises for is listed as ``broken``.

        While nothing changed, the same list object is returned, so a front end may
        keep what it made of it (the server keeps the JSON it sent).  Calls from several
        threads take turns: a request that comes while the server's watcher reads every
        env for the first time waits for that read and then finds it done, instead of
        reading every env a second time beside it."""
        with self._lock:
            return self._envs(kernels, read)

    def _envs(self, kernels: KernelFn, read: ReadFn) -> list[EnvInfo]:
        envs = str(self.store.envs_dir)
        seen, out = self._seen, []
        now: dict[str, _Seen] = {}
        for name in self.store.candidates():
            revs = f"{envs}/{name}/{META_DIR}/revisions/"
            kernel = kernels(name)
            known = seen.get(name)
            if known is None or known.kernel != kernel or not _holds(revs, known):
                known = self._read(name, revs, kernel, read)
                if known is None:
                    continue
            if known.revision >= 0:
                now[name] = known
            out.append(known.info)
        last = self._last
        if len(out) == len(last) and all(a is b for a, b in zip(out, last, strict=True)):
            return last
        self._seen, self._last = now, out
        return out

    def _read(self, name: str, revs: str, kernel: object, read: ReadFn) -> _Seen | None:
        """Read one env afresh; None when it is not (or no longer) an env."""
        revisions = self.store.revisions(name)
        if not revisions:
            return None
        revision = revisions[-1]
        try:
            made = os.stat(revs + str(revision))
        except OSError:
            return None  # deleted while listed
        stamp = (made.st_ino, made.st_mtime_ns)
        try:
            info = read(name, revision)
        except (UserPkgError, OSError, ValueError):  # listed as broken, read again next time
            path = str(self.store.prefix(name))
            return _Seen(-1, stamp, kernel, EnvInfo(name, "broken", path, None, 0, -1, ""))
        return _Seen(revision, stamp, kernel, info)


def _holds(revs: str, known: _Seen) -> bool:
    """Whether the env is still at the revision ``known`` read, in the directory it read."""
    try:
        made = os.stat(revs + str(known.revision))
    except OSError:
        return False
    if (made.st_ino, made.st_mtime_ns) != known.stamp:
        return False
    return not os.access(revs + str(known.revision + 1), os.F_OK)
