"""What uv has downloaded so far, read from its cache while it installs.

uv reports nothing countable while it downloads when its stderr is not a
terminal: one ``Downloading NAME (SIZE)`` line for large files, then
``Prepared N packages`` at the end.  What can be known honestly is which of the
plan's packages uv has finished preparing: each becomes one entry of its
cache (``wheels-v*/<index>/<name>/<version>-<tag>``, a link to the unpacked
archive, made when the file is complete).  With the lock's artifact sizes
that gives packages prepared of the plan's and bytes of the known total;
nothing is guessed inside a file still downloading.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from ..options import UvOptions
from ..proc import run
from ..specs import canonical_name

#: (name, version) -> whether uv's cache holds a prepared wheel of it.
HoldsFn = Callable[[str, str], bool]
#: Where download progress goes: (message, package, bytes done, bytes total).
DownloadFn = Callable[[str, "str | None", "int | None", "int | None"], None]


def cache_root(cache_dir: str) -> Path | None:
    """uv's cache directory for this setting (uv itself says where: ``uv cache dir``)."""
    return _cache_root(cache_dir, os.environ.get("XDG_CACHE_HOME", ""))


@functools.lru_cache(maxsize=8)
def _cache_root(cache_dir: str, xdg: str) -> Path | None:
    from .uv import _DROPPED, _env, uv_bin

    args = [uv_bin(), "cache", "dir", "--no-config"]
    if cache_dir:
        args += ["--cache-dir", cache_dir]
    result = run(args, env=_env(), drop=_DROPPED)
    text = result.stdout.strip()
    return Path(text) if result.returncode == 0 and text else None


def cached_wheels(options: UvOptions) -> HoldsFn | None:
    """Whether uv's cache holds a prepared wheel of (name, version); None without a cache.

    A reading of uv's private layout that errs one way only: a wheel it cannot
    see counts as a download.
    """
    root = cache_root(options.cache_dir)
    if root is None:
        return None

    def holds(name: str, version: str) -> bool:
        # Read afresh each call: a watch asks again while uv fills the cache
        # (a new cache has no bucket before uv's first download).
        buckets = sorted(root.glob("wheels-v*"))
        if not buckets:
            return False
        dirs = [buckets[-1] / "pypi", *(buckets[-1] / "index").glob("*")]
        key = canonical_name(name)
        return any(entry.is_dir() for d in dirs for entry in (d / key).glob(f"{version}-*"))

    return holds


@dataclass(frozen=True)
class Wanted:
    """One package uv will have to download: its name, version and file size (0: unknown)."""

    name: str
    version: str
    size: int


class DownloadWatch:
    """Reports, while uv runs, each wanted package uv has prepared in its cache.

    Every report carries the bytes of the packages prepared so far of the
    wanted total (when the index gave their sizes) and says ``n of m packages``.
    Used as a context manager around the uv call: a thread polls the cache
    every ``interval`` seconds; leaving the block polls once more and stops it.
    """

    def __init__(
        self,
        holds: HoldsFn,
        wanted: Sequence[Wanted],
        report: DownloadFn,
        *,
        interval: float = 0.2,
    ) -> None:
        self._holds = holds
        self._left = list(wanted)
        self._count = len(wanted)
        self._total = sum(w.size for w in wanted)
        self._sized = all(w.size > 0 for w in wanted)
        self._done_bytes = 0
        self._report = report
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="userpkg-uv-watch", daemon=True)

    def _bytes(self) -> tuple[int | None, int | None]:
        return (self._done_bytes, self._total) if self._sized else (None, None)

    def __enter__(self) -> DownloadWatch:
        if self._left:
            what = "package" if self._count == 1 else "packages"
            # The size goes in the counts (each front end writes bytes its own way).
            self._report(f"downloading {self._count} {what}", None, *self._bytes())
            self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
            if kind is None:
                self.poll()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self.poll()

    def poll(self) -> None:
        """Report the wanted packages that are prepared now, one event each."""
        for item in list(self._left):
            if not self._holds(item.name, item.version):
                continue
            self._left.remove(item)
            self._done_bytes += item.size
            n = self._count - len(self._left)
            self._report(
                f"downloaded {item.name} ({n} of {self._count} packages)", item.name, *self._bytes()
            )


def wanted(
    options: UvOptions, packages: Sequence[tuple[str, str, int]]
) -> tuple[HoldsFn | None, list[Wanted]]:
    """The cache reader, and which of (name, version, size) uv will have to download."""
    holds = cached_wheels(options)
    if holds is None:
        return None, []
    return holds, [Wanted(n, v, s) for n, v, s in packages if not holds(n, v)]
