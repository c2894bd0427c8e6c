"""One small file listing a kernels dir's env kernelspecs, rewritten at every change.

Jupyter's own kernel spec manager reads every kernelspec directory on every
``GET api/kernelspecs``: at 300 envs that is 300 directory listings and JSON
files a request. ``<kernels_dir>/.userpkg-kernels.json`` holds what a server
needs of each of ours (the spec, its resource files, the env and when it was
made); :mod:`.kernels` rewrites it whenever it writes or removes a kernelspec,
under a lock, so a server that stats this one file knows whether anything
changed. A missing or unreadable index is rebuilt from the directories.

Beside it, ``.userpkg-launcher.json`` keeps which envs the user pinned to the
launcher and when each env's kernel was last started.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .files import atomic_write

INDEX = ".userpkg-kernels.json"
LAUNCHER = ".userpkg-launcher.json"
LOCK = ".userpkg-kernels.lock"
VERSION = 1
#: The names of this project's kernelspec directories begin so.
PREFIX = "userpkg-"


def entry(env: str, envs_dir: Path, spec: dict[str, Any], resources: list[str]) -> dict[str, Any]:
    """What the index keeps of one kernelspec."""
    return {"env": env, "envs_dir": str(envs_dir), "spec": spec, "resources": resources}


@contextlib.contextmanager
def locked(kernels_dir: Path) -> Iterator[None]:
    """One writer of the index (and of the launcher file) at a time, across processes."""
    from filelock import FileLock

    kernels_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(kernels_dir / LOCK), timeout=60):
        yield


def read(kernels_dir: Path) -> dict[str, dict[str, Any]]:
    """kernelspec name -> entry; rebuilt from the directories when there is no index
    this reader trusts (only read from them where this process cannot write)."""
    data = _load(kernels_dir / INDEX)
    if data is not None:
        return data
    if not kernels_dir.is_dir():
        return {}
    if not os.access(kernels_dir, os.W_OK):  # a shared kernels dir: read, never write
        return scan(kernels_dir)
    with locked(kernels_dir):
        data = _load(kernels_dir / INDEX)
        if data is None:
            data = scan(kernels_dir)
            _save(kernels_dir, data)
    return data


def _load(path: Path) -> dict[str, dict[str, Any]] | None:
    """The index, if there is one this reader trusts (:func:`_trusted`), else None."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))  # a link: refused
    except OSError:
        return None
    try:
        with open(fd, encoding="utf-8") as fh:
            if not _trusted(path, os.fstat(fh.fileno())):
                return None
            data = json.loads(fh.read())
        if data.get("version") == VERSION and isinstance(data.get("kernels"), dict):
            return dict(data["kernels"])
    except (OSError, ValueError, AttributeError):
        pass
    return None


def _trusted(path: Path, info: os.stat_result) -> bool:
    """Whether no one but this reader or the administrator could have written the index:
    the reader's own file (their kernels dir) that no one else may write, or one owned
    by a trusted account with no other writer along its path (a shared kernels dir)."""
    if os.name == "nt":  # modes do not say who may write there
        return True
    from .policy.admintrust import trusted_uids, untrusted_reason

    if info.st_uid == os.geteuid() and not info.st_mode & 0o022:
        return True
    return info.st_uid in trusted_uids() and untrusted_reason(path) is None


def _save(kernels_dir: Path, kernels: Mapping[str, Any]) -> None:
    text = json.dumps({"version": VERSION, "kernels": kernels})
    atomic_write(kernels_dir / INDEX, text, mode=0o644)  # every user's server reads it


def scan(kernels_dir: Path) -> dict[str, dict[str, Any]]:
    """The index as the directories say it (every ``userpkg-*`` kernelspec of any envs dir)."""
    out: dict[str, dict[str, Any]] = {}
    for directory in sorted(kernels_dir.iterdir()):
        if not directory.name.startswith(PREFIX):
            continue
        try:
            spec = json.loads((directory / "kernel.json").read_text(encoding="utf-8"))
            meta = spec["metadata"]["userpkg"]
            resources = sorted(p.name for p in directory.iterdir() if p.name.startswith("logo-"))
            item = entry(str(meta["env"]), Path(meta["envs_dir"]), spec, resources)
            item["made"] = directory.stat().st_mtime
            out[directory.name] = item
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return out


def rebuild(kernels_dir: Path) -> None:
    """Write the index again from the directories (``doctor``), where this process may."""
    if kernels_dir.is_dir() and os.access(kernels_dir, os.W_OK):
        with locked(kernels_dir):
            _save(kernels_dir, scan(kernels_dir))


def holds(kernels_dir: Path, entries: Mapping[str, dict[str, Any]]) -> bool:
    """Whether the index already has exactly these entries (their times aside)."""
    index = _load(kernels_dir / INDEX) or {}
    return all(
        {k: v for k, v in index.get(name, {}).items() if k != "made"} == item
        for name, item in entries.items()
    )


def names_of(kernels_dir: Path, env: str, envs_dir: Path) -> list[str]:
    index = _load(kernels_dir / INDEX) or {}
    return [
        n for n, e in index.items() if (e.get("env"), e.get("envs_dir")) == (env, str(envs_dir))
    ]


def update(
    kernels_dir: Path, env: str, envs_dir: Path, entries: Mapping[str, dict[str, Any]]
) -> None:
    """Replace the env's entries by ``entries`` (none: the env's kernels are gone)."""
    with locked(kernels_dir):
        index = _load(kernels_dir / INDEX)
        if index is None:
            index = scan(kernels_dir)
        mine = (env, str(envs_dir))
        made = {
            n: e.get("made") for n, e in index.items() if (e.get("env"), e.get("envs_dir")) == mine
        }
        index = {n: e for n, e in index.items() if n not in made}
        now = time.time()
        for name, item in entries.items():
            index[name] = {**item, "made": made.get(name) or now}
        _save(kernels_dir, dict(sorted(index.items())))


class Listing:
    """env -> its kernelspecs (``{"name", "display_name", "language"}``), read from the
    index again only when the file changed: a listing stats one file, reads no
    kernelspec directory."""

    def __init__(self) -> None:
        self._seen: tuple[Any, dict[str, tuple[dict[str, str], ...]]] | None = None

    def of(self, kernels_dir: Path, envs_dir: Path) -> dict[str, tuple[dict[str, str], ...]]:
        key = (kernels_dir, envs_dir, stamp(kernels_dir))
        if self._seen is not None and self._seen[0] == key:
            return self._seen[1]
        found: dict[str, list[dict[str, str]]] = {}
        for name, item in read(kernels_dir).items():  # rebuilt if there is none yet
            if item.get("envs_dir") != str(envs_dir):
                continue
            spec = item.get("spec") or {}
            found.setdefault(str(item.get("env")), []).append(
                {
                    "name": name,
                    "display_name": str(spec.get("display_name", name)),
                    "language": str(spec.get("language", "")),
                }
            )
        by_env = {env: tuple(kernels) for env, kernels in found.items()}
        self._seen = ((kernels_dir, envs_dir, stamp(kernels_dir)), by_env)
        return by_env


def stamp(kernels_dir: Path) -> tuple[int, ...] | None:
    """What changes whenever the index or the launcher file is rewritten, or a kernelspec
    dir comes or goes (the dir itself: where there is no index to trust); None: nothing."""
    out: list[int] = []
    for name in (INDEX, LAUNCHER, "."):
        try:
            info = os.stat(kernels_dir / name)
            out += [info.st_ino, info.st_mtime_ns, info.st_size]
        except OSError:
            out += [0, 0, 0]
    return tuple(out) if any(out) else None


# ------------------------------------------------------------ the launcher


def launcher(kernels_dir: Path) -> tuple[set[str], dict[str, float]]:
    """The envs pinned to the launcher, and when each env's kernel was last started
    (both by the env's Python kernelspec name, ``userpkg-<env>``)."""
    try:
        data = json.loads((kernels_dir / LAUNCHER).read_text(encoding="utf-8"))
        pinned = {str(p) for p in data.get("pinned", [])}
        used = {str(k): float(v) for k, v in dict(data.get("used", {})).items()}
        return pinned, used
    except (OSError, ValueError, AttributeError, TypeError):
        return set(), {}


def _save_launcher(kernels_dir: Path, pinned: set[str], used: dict[str, float]) -> None:
    # The newest 200 uses are plenty for a launcher that shows a few.
    recent = dict(sorted(used.items(), key=lambda kv: -kv[1])[:200])
    text = json.dumps({"pinned": sorted(pinned), "used": recent})
    atomic_write(kernels_dir / LAUNCHER, text)


def pin(kernels_dir: Path, base: str, pinned: bool) -> None:
    """Pin (or unpin) the env whose Python kernelspec name is ``base`` to the launcher."""
    with locked(kernels_dir):
        pins, used = launcher(kernels_dir)
        (pins.add if pinned else pins.discard)(base)
        _save_launcher(kernels_dir, pins, used)


def mark_used(kernels_dir: Path, base: str, when: float | None = None) -> None:
    with locked(kernels_dir):
        pins, used = launcher(kernels_dir)
        used[base] = time.time() if when is None else when
        _save_launcher(kernels_dir, pins, used)
