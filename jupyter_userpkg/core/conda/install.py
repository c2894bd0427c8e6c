"""Installing conda packages into a prefix with rattler, with progress events.

Apart from :mod:`.condabackend` (the engine's loop, gateway, caches and solve),
which it runs on.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ..errors import BackendUnavailable
from ..events import Reporter
from ..options import CondaOptions
from .backend import package_cache, run
from .meta import installed_records, installed_versions

if TYPE_CHECKING:
    from rattler import RepoDataRecord


def install(
    prefix: Path,
    records: Sequence[RepoDataRecord],
    *,
    options: CondaOptions,
    on_event: Reporter | None = None,
    links: int | None = None,
) -> None:
    """Make the prefix hold exactly ``records`` (rattler computes the difference).

    ``on_event`` hears ``download`` (bytes of each package), ``remove`` and
    ``install`` (packages unlinked, and linked of ``links``) in the caller's thread.
    """
    import rattler

    if options.offline:  # rattler would download what the caches lack: say so instead
        missing = _not_cached(prefix, records, options)
        if missing:
            raise BackendUnavailable(
                f"working offline, and the package cache does not hold {', '.join(missing)}; "
                "connect to the network once, or turn offline mode off"
            )
    prefix.mkdir(parents=True, exist_ok=True)
    reporter = _InstallReporter(links)
    try:
        run(
            rattler.install(
                list(records),
                prefix,
                installed_packages=installed_records(prefix),
                package_cache=package_cache(options),
                show_progress=False,
                execute_link_scripts=False,
                reporter=cast(Any, reporter) if on_event is not None else None,
            ),
            cancellable=False,
            while_waiting=(lambda: reporter.drain(on_event)) if on_event is not None else None,
        )
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        text = str(exc).strip()
        raise BackendUnavailable(
            f"installing conda packages failed: {text.splitlines()[0] if text else exc}",
            details=text,
        ) from None
    finally:
        if on_event is not None:
            with contextlib.suppress(Exception):  # progress never hides the outcome
                reporter.drain(on_event)


def _not_cached(
    prefix: Path, records: Sequence[RepoDataRecord], options: CondaOptions
) -> list[str]:
    """``name-version-build`` of each record to link that no package cache holds."""
    have = {
        f"{name}-{version}-{build}"
        for name, (version, build, _) in installed_versions(prefix).items()
    }
    caches = [Path(p) for p in options.shared_pkgs_dirs] + [options.pkgs()]
    missing = []
    for record in records:
        key = f"{record.name.normalized}-{record.version}-{record.build}"
        if key not in have and not any(
            (cache / key / "info" / "index.json").is_file() for cache in caches
        ):
            missing.append(key)
    return sorted(missing)


class _InstallReporter:
    """rattler's installer callbacks, queued for the thread that waits on the install.

    The callbacks run on rattler's threads; a front end's progress callback
    (a notebook cell's display) must run in the caller's thread, so events
    wait in a queue that :meth:`drain` empties there.
    """

    def __init__(self, links: int | None) -> None:
        import queue

        self.events: queue.SimpleQueue[tuple[str, str, int | None, int | None]] = (
            queue.SimpleQueue()
        )
        self.links = links
        self.linked = 0
        self.unlinked = 0
        self.counting = threading.Lock()  # callbacks arrive on several of rattler's threads
        self.names: dict[int, str] = {}
        self.downloads: dict[int, str] = {}

    def on_populate_cache_start(self, operation: int, package_name: str) -> int:
        self.names[operation] = package_name
        return operation

    def on_download_start(self, cache_entry: int) -> int:
        self.downloads[cache_entry] = self.names.get(cache_entry, "")
        return cache_entry

    def on_download_progress(self, download_idx: int, progress: int, total: int | None) -> None:
        self.events.put(("download", self.downloads.get(download_idx, ""), progress, total))

    def on_unlink_start(self, operation: int, package_name: str) -> int:
        with self.counting:
            self.unlinked += 1
            self.events.put(("remove", package_name, self.unlinked, None))
        return operation

    def on_link_start(self, operation: int, package_name: str) -> int:
        with self.counting:
            self.linked += 1
            self.events.put(("install", package_name, self.linked, self.links))
        return operation

    def drain(self, on_event: Reporter) -> None:
        import queue

        last_download: dict[str, tuple[int | None, int | None]] = {}
        while True:
            try:
                phase, name, done, total = self.events.get_nowait()
            except queue.Empty:
                break
            if phase == "download":  # many per package: keep the latest of each
                last_download[name] = (done, total)
                continue
            verb = "linking" if phase == "install" else "unlinking"
            on_event(phase, f"{verb} {name}", package=name, done=done, total=total)
        for name, (done, total) in last_download.items():
            on_event("download", f"downloading {name}", package=name, done=done, total=total)
