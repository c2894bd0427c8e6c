"""``mirror sync``: write the planned snapshot beside the published one and publish it
by an atomic switch of ``current``.

The snapshot is built under ``output/.build-<id>`` from the verified store
(``output/.store``) by hard links, renamed to ``output/<id>`` when whole, and
``current`` (a symlink) is replaced by a rename: a reader of the served tree
sees the old snapshot or the new one, never a half-written one.  A killed sync
leaves ``current`` as it was; the next one removes the partial build and
downloads only what the store lacks.  A sync that would publish the same content
publishes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .config import MirrorConfig
from .engines import (
    InvalidRequest,
    ProgressEvent,
    ProgressFn,
    atomic_write,
    fsync_dir,
    normalize,
)
from .filestore import FileStore
from .plan import CURRENT, PAGES, SNAPSHOT, Built, MirrorPlan, build_plan
from .records import Decision

DECISIONS = "decisions.jsonl"
STORE = ".store"
#: Inputs that built the published snapshot's content again (see ``_known_inputs``).
INPUTS = ".inputs.json"


@dataclass(frozen=True)
class SyncResult:
    snapshot: str
    published: bool
    plan: MirrorPlan
    counts: dict[str, int]
    bytes: int
    downloaded: int
    downloaded_bytes: int
    seconds: float
    pruned: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "snapshot": self.snapshot, "published": self.published, "counts": self.counts,
            "bytes": self.bytes, "downloaded": self.downloaded,
            "downloaded_bytes": self.downloaded_bytes, "seconds": round(self.seconds, 3),
            "pruned": list(self.pruned), "plan": self.plan.to_dict(),
        }  # fmt: skip


def sync(
    config: MirrorConfig, *, prune: bool = False, progress: ProgressFn | None = None
) -> SyncResult:
    started = time.monotonic()
    output = config.output
    output.mkdir(parents=True, exist_ok=True)
    from filelock import FileLock, Timeout

    try:
        with FileLock(str(output / ".sync.lock"), timeout=0):
            return _sync(config, prune, progress, started)
    except Timeout:
        raise InvalidRequest(
            f"another sync of {output} is running; try again when it ends"
        ) from None


def _sync(
    config: MirrorConfig, prune: bool, progress: ProgressFn | None, started: float
) -> SyncResult:
    output = config.output
    _say(progress, "plan", "solving the closure")
    built = build_plan(config, prune=prune)
    store = FileStore(output / STORE)
    current = _read_snapshot(output / CURRENT)
    inputs = built.inputs_digest()
    if inputs in _known_inputs(output, current):  # nothing new: nothing to build
        return _unchanged(built, current, store, output, prune, started)
    # What writes a snapshot is imported only when there is one to write.
    from .searchindex import FILENAME, render
    from .tree import write_conda, write_pypi

    store.clean()
    for stale in output.glob(".build-*"):
        shutil.rmtree(stale, ignore_errors=True)
    now = datetime.now(UTC)
    snap_id = now.strftime("%Y%m%dT%H%M%S%fZ")
    build = output / f".build-{snap_id}"
    build.mkdir()
    served = built.served()
    total = _file_count(config, built, list(served.values()))
    done = [0]

    def tick(name: str) -> None:
        done[0] += 1
        _say(progress, "files", name, done[0], total)

    previous = output / CURRENT
    pypi = [d for d in served.values() if d.source == "pypi"]
    conda = [d for d in served.values() if d.source == "conda"]
    entries, search = write_pypi(build, store, config, built.upstream, pypi, tick)
    conda_entries, conda_search = write_conda(build, store, built.channels, conda, previous, tick)
    entries.update(conda_entries)
    for key, since in built.leaving.items():
        if key in entries:
            entries[key]["leaving"] = since
    (build / DECISIONS).write_text(_decisions(built), encoding="utf-8")
    (build / FILENAME).write_text(render([*search, *conda_search]), encoding="utf-8")
    content = _digest(build)
    if current.get("content_sha256") == content:
        shutil.rmtree(build)
        # The same snapshot from other inputs (a policy rule no served package meets, say):
        # noted, so that the next sync with nothing new does not build it again.
        atomic_write(
            output / INPUTS, json.dumps({"snapshot": current.get("id"), "inputs_sha256": inputs})
        )
        return _unchanged(built, current, store, output, prune, started)
    snapshot = _snapshot(config, built, snap_id, now, entries, content, build)
    snapshot.update(previous=current.get("id", ""), inputs_sha256=inputs)
    (build / SNAPSHOT).write_text(json.dumps(snapshot, indent=1), encoding="utf-8")
    _publish(output, build, snap_id)
    built.cache.save()
    built.upstream.save()
    pruned = _prune(output, snap_id, current.get("id", ""), _page_names(built)) if prune else ()
    _say(progress, "done", f"published {snap_id}")
    return _result(built, snap_id, True, snapshot, store, started, pruned)


def _file_count(config: MirrorConfig, built: Built, served: list[Decision]) -> int:
    """How many files the snapshot serves (for the progress line's n/total)."""
    from .pages import wheel_fits

    count = sum(1 for d in served if d.source == "conda")
    for d in served:
        if d.source == "pypi":
            count += sum(
                1
                for f in built.upstream.files(d.name)
                if f.version == d.version
                and wheel_fits(f.filename, config.pypi.python, config.pypi.platforms)
            )
    return count


def _unchanged(
    built: Built, current: dict[str, Any], store: FileStore, output: Path, prune: bool,
    started: float,
) -> SyncResult:  # fmt: skip
    """Nothing to publish: the solves are kept, and ``--prune`` still prunes."""
    built.cache.save()
    built.upstream.save()
    kept = (current.get("id", ""), current.get("previous", ""))
    pruned = _prune(output, *kept, _page_names(built)) if prune else ()
    return _result(built, kept[0], False, current, store, started, pruned)


def _say(
    progress: ProgressFn | None,
    phase: str,
    message: str,
    done: int | None = None,
    total: int | None = None,
) -> None:
    if progress is not None:
        progress(ProgressEvent(phase, message, None, done, total))


def _decisions(built: Built) -> str:
    leaving = {lv.key: lv for lv in built.plan.remove}
    lines = []
    judged = {d.key: d for d in built.closure.decisions}
    for key in sorted(set(judged) | set(leaving)):
        d = judged.get(key) or leaving[key].decision
        assert d is not None
        row = d.to_dict()
        if key in leaving:
            lv = leaving[key]
            row["decision"] = "out"
            row["evidence"] = "; ".join(
                filter(None, [row["evidence"], _grace_text(lv.removed, lv.due)])
            )
        lines.append(json.dumps(row, sort_keys=True))
    return "".join(line + "\n" for line in lines)


def _grace_text(removed: bool, due: str) -> str:
    return "removed" if removed else f"still served until {due}, then removed by sync --prune"


def _digest(build: Path) -> str:
    """What the snapshot serves, as one hash (file names, sizes, pages, repodata)."""
    h = hashlib.sha256()
    for path in sorted(build.rglob("*")):
        if path.is_file():
            rel = path.relative_to(build).as_posix()
            h.update(rel.encode() + b"\0")
            if path.suffix in (".json", ".html", ".jsonl", ".tsv", ".metadata"):
                h.update(path.read_bytes())
            else:
                h.update(str(path.stat().st_size).encode())
    return h.hexdigest()


def _known_inputs(output: Path, current: dict[str, Any]) -> set[str]:
    """The inputs the published snapshot is known to be built from: those it was
    published with, and those a later sync found to build the same content."""
    known = {str(current.get("inputs_sha256", ""))}
    try:
        noted = json.loads((output / INPUTS).read_text(encoding="utf-8"))
        if noted.get("snapshot") == current.get("id"):
            known.add(str(noted.get("inputs_sha256", "")))
    except (OSError, ValueError, AttributeError):
        pass
    return known - {""}


def _read_snapshot(current: Path) -> dict[str, Any]:
    try:
        data = json.loads((current / SNAPSHOT).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _snapshot(
    config: MirrorConfig, built: Built, snap_id: str, now: datetime,
    entries: dict[str, dict[str, Any]], content: str, build: Path,
) -> dict[str, Any]:  # fmt: skip
    from .searchindex import FILENAME, FORMAT

    decisions: list[Decision] = list(built.closure.decisions)
    size = sum(p.stat().st_size for p in build.rglob("*") if p.is_file())
    return {
        "id": snap_id,
        "time": now.isoformat(),
        "upstreams": {"pypi": config.pypi.upstream, "conda": list(config.conda.channels)},
        "policy_sha256": built.plan.policy_sha256,
        "counts": {
            "pypi_versions": sum(1 for k in entries if k.startswith("pypi/")),
            "conda_files": sum(1 for k in entries if k.startswith("conda/")),
            "in": sum(1 for d in decisions if d.decision == "in"),
            "out": sum(1 for d in decisions if d.decision == "out"),
        },
        "bytes": size,
        "search_index": {"file": FILENAME, "format": FORMAT},
        "content_sha256": content,
        "entries": entries,
    }


def _publish(output: Path, build: Path, snap_id: str) -> None:
    """The whole snapshot under its name, then ``current`` switched by one rename."""
    for path in build.rglob("*"):
        if path.is_dir():
            fsync_dir(path)
    final = output / snap_id
    os.replace(build, final)
    fsync_dir(output)
    tmp = output / f".current-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(snap_id, tmp, target_is_directory=True)
    os.replace(tmp, output / CURRENT)
    fsync_dir(output)


def _page_names(built: Built) -> set[str]:
    """The projects whose kept upstream pages stay: those the snapshot serves (in their
    grace period too) and those this run read (a refused request's page is read at every
    sync: kept, it costs the upstream a 304)."""
    served = {normalize(d.name) for d in built.served().values() if d.source == "pypi"}
    return served | built.upstream.names()


def _prune(output: Path, snap_id: str, previous: str, pages: set[str]) -> tuple[str, ...]:
    """Old snapshots (all but the published one and the one before it), the store's
    files no remaining snapshot links to, and the kept upstream pages of projects that
    left the closure (``pages``: the projects whose pages stay)."""
    removed = []
    for path in sorted(output.iterdir()):
        if (
            path.name.startswith(".")
            or path.name in (CURRENT, snap_id, previous)
            or path.is_symlink()
        ):
            continue
        if path.is_dir() and (path / SNAPSHOT).exists():
            shutil.rmtree(path)
            removed.append(path.name)
    store = output / STORE
    for path in sorted(store.rglob("*")) if store.is_dir() else []:
        if path.is_file() and path.stat().st_nlink == 1:
            path.unlink()
            removed.append(path.relative_to(output).as_posix())
    kept_pages = output / PAGES
    for path in sorted(kept_pages.iterdir()) if kept_pages.is_dir() else []:
        stale = path.name.startswith(".") and path.name.endswith(".tmp")  # a killed save's
        if stale or (path.suffix == ".json" and path.stem not in pages):
            path.unlink()
            removed.append(path.relative_to(output).as_posix())
    return tuple(removed)


def _result(
    built: Built, snap_id: str, published: bool, snapshot: dict[str, Any],
    store: FileStore, started: float, pruned: tuple[str, ...],
) -> SyncResult:  # fmt: skip
    return SyncResult(
        snap_id, published, built.plan, dict(snapshot.get("counts", {})),
        int(snapshot.get("bytes", 0)), store.downloaded, store.bytes,
        time.monotonic() - started, pruned,
    )  # fmt: skip
