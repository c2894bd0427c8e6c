"""The conda engine: py-rattler (resolvo) embedded in this process.

No conda, mamba or micromamba is needed.  What this module keeps per process:

* one event loop on a daemon thread that runs every rattler coroutine.  The
  front ends are synchronous (the server calls the facade from worker threads,
  a kernel from its main thread while its own loop runs), and rattler's
  runtime ends cleanly at interpreter exit when its futures were driven from a
  long-lived loop rather than from a fresh ``asyncio.run`` each time;
* one :class:`rattler.Gateway` per repodata cache (the issue's "one gateway per
  process"): a channel's repodata is read once and kept in memory, refreshed
  after ``repodata_ttl`` seconds (a conditional request against the on-disk
  cache), and always refreshed by ``update``;
* the detected virtual packages, keyed by the ``CONDA_OVERRIDE_*`` variables.

rattler is imported lazily: layer and venv users never pay for it.
"""

from __future__ import annotations

import datetime
import functools
import os
import threading
import time
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .. import cancel
from ..errors import Cancelled, PackageNotFound, UserPkgError
from ..options import CondaOptions, private_dir
from . import failures as condaerrors
from .meta import current_platform
from .specs import Restriction, spec_channel, spec_restriction

if TYPE_CHECKING:
    from rattler import Gateway, MatchSpec, PackageCache, RepoDataRecord

T = TypeVar("T")
#: Guards the module's process-wide state (the server calls in from many threads).
_lock = threading.Lock()


# ---------------------------------------------------------------- the loop


class _Loop:
    """A daemon thread running the event loop every rattler coroutine runs on."""

    def __init__(self) -> None:
        import asyncio

        self.loop = asyncio.new_event_loop()
        thread = threading.Thread(target=self.loop.run_forever, name="userpkg-rattler", daemon=True)
        thread.start()


_the_loop: _Loop | None = None


def _loop() -> _Loop:
    global _the_loop
    with _lock:  # two server threads starting at once must share one loop
        if _the_loop is None:
            _the_loop = _Loop()
        return _the_loop


def run(
    coro: Coroutine[Any, Any, T],
    *,
    cancellable: bool = True,
    while_waiting: Callable[[], None] | None = None,
) -> T:
    """Run ``coro`` on the engine's loop and wait for it.

    An interrupt (KeyboardInterrupt) cancels a cancellable coroutine (a solve,
    which changes nothing) at once.  A non-cancellable one (an install into a
    prefix) is waited for, and the interrupt is raised after it: the caller's
    undo must not race a linker still writing into the env.  ``while_waiting``
    runs in the caller's thread every tenth of a second until the work ends.
    """
    import asyncio
    import concurrent.futures

    fut = asyncio.run_coroutine_threadsafe(coro, _loop().loop)
    try:
        stop = cancel.current() if cancellable else None
        if stop is not None:  # a cancel request abandons a solve (it changed nothing)
            while not concurrent.futures.wait([fut], timeout=0.05).done:
                if stop.is_set():
                    fut.cancel()
                    cancel.checkpoint()
        if while_waiting is not None:
            # Wait in steps; a TimeoutError the coroutine raises is its own, not a step's.
            while not concurrent.futures.wait([fut], timeout=0.1).done:
                try:
                    while_waiting()
                except Exception:  # progress is best effort: never abandon the work
                    while_waiting = None
                    break
        return fut.result()
    except KeyboardInterrupt:
        if cancellable:
            fut.cancel()
            raise
        while True:
            try:
                fut.exception()
                break
            except KeyboardInterrupt:
                continue
            except BaseException:
                break
        raise


# ---------------------------------------------------------------- caches


_gateways: dict[tuple[str, bool], Gateway] = {}
_fetched: dict[tuple[str, str], float] = {}


def gateway(options: CondaOptions) -> Gateway:
    """The process's gateway for this repodata cache (made on first use)."""
    from rattler import Gateway, SourceConfig

    key = (str(options.repodata()), options.offline)
    private_dir(options.repodata())
    with _lock:
        if key not in _gateways:
            _gateways[key] = Gateway(
                cache_dir=options.repodata(),
                default_config=SourceConfig(
                    cache_action="force-cache-only" if options.offline else "cache-or-fetch"
                ),
            )
        return _gateways[key]


def refresh(options: CondaOptions, channels: Iterable[str], *, force: bool = False) -> None:
    """Drop in-memory repodata older than the TTL (or all of it, for ``update``)."""
    gateways = [gateway(options), gateway(replace(options, offline=True))]
    now = time.monotonic()
    for url in channels:
        key = (str(options.repodata()), url)
        with _lock:
            seen = _fetched.get(key)
            stale = seen is not None and (force or now - seen > options.repodata_ttl)
            if stale:
                _fetched.pop(key, None)
        if stale:
            for gw in gateways:  # the cache-only one too: it serves when offline
                gw.clear_repodata_cache(url)


def _mark_fetched(options: CondaOptions, channels: Iterable[str]) -> None:
    now = time.monotonic()
    with _lock:
        for url in channels:
            _fetched.setdefault((str(options.repodata()), url), now)


def package_cache(options: CondaOptions) -> PackageCache:
    """Shared read-only layers first, then the user's own writable cache."""
    from rattler import PackageCache, PackageCacheLayer

    private_dir(options.pkgs())
    layers = [PackageCacheLayer(str(p)) for p in options.shared_pkgs_dirs if Path(p).is_dir()]
    layers.append(PackageCacheLayer(str(options.pkgs())))
    return PackageCache.from_layers(layers)


def _override_env() -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("CONDA_OVERRIDE_")))


@functools.lru_cache(maxsize=4)
def _virtual_packages(_key: tuple[tuple[str, str], ...]) -> list[Any]:
    from rattler import VirtualPackage, VirtualPackageOverrides

    return list(VirtualPackage.detect(VirtualPackageOverrides.from_env()))


def virtual_packages() -> list[Any]:
    """``__glibc``, ``__linux``, ``__cuda``... overridable by ``CONDA_OVERRIDE_*``."""
    return _virtual_packages(_override_env())


def platforms() -> list[Any]:
    return [current_platform(), "noarch"]


# ------------------------------------------------------------------ solving


def solve(
    channels: Sequence[str],
    specs: Sequence[MatchSpec],
    *,
    options: CondaOptions,
    locked: Sequence[RepoDataRecord] = (),
    pinned: Sequence[RepoDataRecord] = (),
    constraints: Sequence[str] = (),
    exclude_newer: datetime.datetime | None = None,
    refresh_all: bool = False,
    notes: list[str] | None = None,
) -> list[RepoDataRecord]:
    """Resolve ``specs`` over ``channels`` (URLs) into the records to install.

    ``locked`` records are preferences (what is installed stays unless a spec
    forces a move); ``pinned`` ones cannot move; ``constraints`` (MatchSpec text)
    bound versions without asking for a package; nothing newer than
    ``exclude_newer`` is a candidate.  Errors: PackageNotFound for a name or
    version no channel has, Unsatisfiable (with the solver's explanation) for
    specs that conflict, BackendUnavailable for channels that cannot be read.
    A channel that cannot be reached is planned from its cached index, said in
    ``notes``.  Whoever judges the records (the policy) calls this again with
    more constraints: the engine only solves.
    """
    restrictions = [r for r in map(spec_restriction, specs) if r is not None]
    sources = solve_sources(channels, specs, options)
    refresh(options, sources, force=refresh_all)
    # The solver takes locked records as candidates: none that a restriction refuses.
    locked = [
        r
        for r in locked
        if all(res.admits(r) for res in restrictions if res.name == r.name.normalized)
    ]
    inputs = _SolveInputs(specs, locked, pinned, constraints, exclude_newer, restrictions)
    try:
        try:
            return _solve_once(inputs, sources, options)
        except (Cancelled, UserPkgError):
            raise
        except Exception as exc:
            if type(exc).__name__ == "SolverError" or options.offline:
                raise condaerrors.solve_error(exc, sources, specs, options, records_of) from None
            # A channel cannot be reached: what is cached still serves, said so.
            try:
                records = _solve_once(inputs, sources, replace(options, offline=True))
            except (Cancelled, UserPkgError):
                raise
            except Exception:
                raise condaerrors.solve_error(exc, sources, specs, options, records_of) from None
            note = f"could not reach {', '.join(sources)}; planned from the cached package index"
            if notes is not None and note not in notes:
                notes.append(note)
            return records
    finally:
        _mark_fetched(options, sources)


def solve_sources(
    channels: Sequence[str], specs: Sequence[MatchSpec], options: CondaOptions
) -> list[str]:
    """Every channel a solve of ``specs`` reads: the env's, then those specs name."""
    restrictions = [r for r in map(spec_restriction, specs) if r is not None]
    sources = list(dict.fromkeys(list(channels) + _spec_channels(specs, options)))
    return sources + [u for r in restrictions for u in r.channels if u not in sources]


@dataclass(frozen=True)
class _SolveInputs:
    """One solve's inputs past the channels (the same online and from the cache)."""

    specs: Sequence[MatchSpec]
    locked: Sequence[RepoDataRecord]
    pinned: Sequence[RepoDataRecord]
    constraints: Sequence[str]
    exclude_newer: datetime.datetime | None
    restrictions: Sequence[Restriction]


def _solve_once(
    inputs: _SolveInputs, sources: list[str], options: CondaOptions
) -> list[RepoDataRecord]:
    import rattler

    first = _restricted(inputs.restrictions, sources, options)
    return _unmarked(
        run(
            rattler.solve(
                [*first, *sources],
                list(inputs.specs),
                gateway=gateway(options),
                platforms=platforms(),
                locked_packages=list(inputs.locked),
                pinned_packages=list(inputs.pinned),
                virtual_packages=virtual_packages(),
                timeout=datetime.timedelta(minutes=5),
                exclude_newer=inputs.exclude_newer,
                constraints=[rattler.MatchSpec(c) for c in inputs.constraints] or None,
            )
        )
    )


#: Marks the channel of a record served by :class:`_Candidates` (a channel of its own).
_RESTRICTED = "#restricted"


class _Candidates:
    """A source serving, for each restricted name, only the records its restriction admits.

    It comes first among the sources: under strict channel priority a name it
    serves is taken from it alone, so the solver never sees the other records
    of that name.  Its records carry a channel of their own for that (their
    channel with a mark); :func:`_unmarked` gives them back their channel.
    """

    def __init__(self, records: list[RepoDataRecord]) -> None:
        self.records = records

    async def fetch_package_records(self, platform: Any, name: Any) -> list[RepoDataRecord]:
        return [
            r
            for r in self.records
            if r.name.normalized == name.normalized and r.subdir == str(platform)
        ]

    def package_names(self, platform: Any) -> list[str]:
        return sorted({r.name.normalized for r in self.records if r.subdir == str(platform)})


def _restricted(
    restrictions: Sequence[Restriction], sources: list[str], options: CondaOptions
) -> list[Any]:
    """A :class:`_Candidates` for the restricted names (none when there is none)."""
    from rattler import RepoDataRecord

    if not restrictions:
        return []
    records: list[RepoDataRecord] = []
    for res in restrictions:
        where = list(res.channels) or sources
        found = run(gateway(options).query(where, platforms(), [res.name], recursive=False))
        admitted = [
            r for per in found for r in per if r.name.normalized == res.name and res.admits(r)
        ]
        if not admitted:
            raise PackageNotFound(
                f"no package {res.text()} in the channels {', '.join(where)}", missing=[res.name]
            )
        records += [
            RepoDataRecord(r, r.file_name, r.url, str(r.channel) + _RESTRICTED) for r in admitted
        ]
    return [_Candidates(records)]


def _unmarked(records: Sequence[RepoDataRecord]) -> list[RepoDataRecord]:
    from rattler import RepoDataRecord

    return [
        RepoDataRecord(r, r.file_name, r.url, str(r.channel).removesuffix(_RESTRICTED))
        if str(r.channel).endswith(_RESTRICTED)
        else r
        for r in records
    ]


def served_records(names: list[str], channels: list[str], options: CondaOptions) -> list[Any]:
    """The records ``channels`` serve of ``names``, as fresh as a solve reads them (from
    the cached index when a channel cannot be reached)."""
    try:
        refresh(options, channels)
        return records_of(names, channels, options)
    except (Cancelled, UserPkgError):
        raise
    except Exception:
        return records_of(names, channels, replace(options, offline=True))


def records_of(names: list[str], sources: list[str], options: CondaOptions) -> list[Any]:
    """Every record of ``names`` in ``sources`` (for the policy's judgements)."""
    found = run(gateway(options).query(sources, platforms(), names, recursive=False))
    return [r for channel in found for r in channel]


def _spec_channels(specs: Iterable[MatchSpec], options: CondaOptions) -> list[str]:
    out = []
    for spec in specs:
        url = spec_channel(spec)
        if url:
            out.append(url)
    return out


def query_names(channels: Sequence[str], options: CondaOptions) -> set[str]:
    """Every package name the channels carry (for this platform and noarch)."""
    try:
        names = run(gateway(options).names(list(channels), platforms()))
    except Exception as exc:
        raise condaerrors.fetch_error(str(exc), list(channels), options) from None
    return {str(getattr(n, "normalized", n)) for n in names}
