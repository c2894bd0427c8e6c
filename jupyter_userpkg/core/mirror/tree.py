"""Writing one snapshot's tree: PyPI pages and files, conda repodata and packages.

Every file comes from the store (downloaded once, verified) by a hard link.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from email.parser import HeaderParser
from pathlib import Path
from typing import Any

from . import pages
from .condaclosure import KEYS, ChannelData
from .config import MirrorConfig
from .filestore import FileStore, link
from .records import Decision
from .searchindex import Entry
from .upstream import UpFile, Upstream

Tick = Callable[[str], None]


def write_pypi(
    build: Path,
    store: FileStore,
    config: MirrorConfig,
    upstream: Upstream,
    served: list[Decision],
    tick: Tick,
) -> tuple[dict[str, dict[str, Any]], list[Entry]]:
    """Project pages (HTML and JSON), files and ``.metadata`` of every served version."""
    by_name: dict[str, list[Decision]] = {}
    for d in served:
        by_name.setdefault(d.name, []).append(d)
    entries: dict[str, dict[str, Any]] = {}
    search: list[Entry] = []
    simple = build / "pypi" / "simple"
    for name, decisions in sorted(by_name.items()):
        versions = {d.version for d in decisions}
        files = [
            f
            for f in upstream.files(name)
            if f.version in versions
            and pages.wheel_fits(f.filename, config.pypi.python, config.pypi.platforms)
        ]
        served_files = [_serve(build, store, upstream, f, tick) for f in files]
        ordered = upstream.versions(name)
        shown = [v for v in ordered if v in versions]
        (simple / name).mkdir(parents=True, exist_ok=True)
        (simple / name / "index.html").write_text(pages.project_html(name, served_files))
        (simple / name / "index.json").write_text(pages.project_json(name, shown, served_files))
        for d in decisions:
            names = [f.filename for f in files if f.version == d.version]
            entries[d.key] = {"name": name, "version": d.version, "files": names}
        search.append(Entry(name, "pypi", name, tuple(shown), _summary(store, files)))
    names = sorted(by_name)
    simple.mkdir(parents=True, exist_ok=True)
    (simple / "index.html").write_text(pages.root_html(names))
    (simple / "index.json").write_text(pages.root_json(names))
    return entries, search


def _serve(
    build: Path, store: FileStore, upstream: Upstream, f: UpFile, tick: Tick
) -> pages.ServedFile:
    tick(f.filename)
    path = store.fetch(f"pypi/{f.filename}", f.url, f.sha256)
    link(path, build / "pypi" / "files" / f.filename)
    sha = f.sha256 or hashlib.sha256(path.read_bytes()).hexdigest()
    meta_sha = ""
    if f.is_wheel:
        rel = f"pypi/{f.filename}.metadata"
        meta = store.path(rel)
        if not meta.exists():
            from .upstream import wheel_metadata

            data = upstream.metadata(f) if f.has_metadata else wheel_metadata(path.read_bytes(), f)
            meta = store.put(rel, data)
        meta_sha = hashlib.sha256(meta.read_bytes()).hexdigest()
        link(meta, build / "pypi" / "files" / f"{f.filename}.metadata")
    return pages.ServedFile(
        f.filename, sha, path.stat().st_size, f.requires_python, f.upload_time, meta_sha
    )


def _summary(store: FileStore, files: list[UpFile]) -> str:
    for f in reversed(files):
        meta = store.path(f"pypi/{f.filename}.metadata")
        if meta.exists():
            return HeaderParser().parsestr(meta.read_text("utf-8", "replace")).get("Summary") or ""
    return ""


def write_conda(
    build: Path,
    store: FileStore,
    channels: list[ChannelData],
    served: list[Decision],
    previous: Path,
    tick: Tick,
) -> tuple[dict[str, dict[str, Any]], list[Entry]]:
    """Each channel's upstream repodata filtered to the served files, and the files."""
    entries: dict[str, dict[str, Any]] = {}
    versions: dict[str, set[str]] = {}
    wanted = {(d.channel, d.subdir, d.filename): d for d in served}
    for channel in channels:
        for subdir, data in channel.repodata.items():
            old = _old_repodata(previous, channel.name, subdir)
            kept: dict[str, dict[str, Any]] = {k: {} for k in KEYS}
            for key in KEYS:
                for fn, rec in {**(old.get(key) or {}), **(data.get(key) or {})}.items():
                    d = wanted.get((channel.name, subdir, fn))
                    if d is None:
                        continue
                    tick(fn)
                    rel = f"conda/{channel.name}/{subdir}/{fn}"
                    path = store.fetch(rel, f"{channel.url}/{subdir}/{fn}", rec.get("sha256", ""))
                    link(path, build / rel)
                    kept[key][fn] = rec
                    entries[d.key] = {
                        "name": d.name, "version": d.version, "channel": channel.name,
                        "subdir": subdir, "filename": fn,
                    }  # fmt: skip
                    versions.setdefault(d.name, set()).add(d.version)
            out = {k: v for k, v in data.items() if k not in (*KEYS, "removed")}
            out.update(kept, removed=[])
            _write_repodata(build / "conda" / channel.name / subdir, out)
    search = [Entry(n, "conda", n, tuple(sorted(v))) for n, v in sorted(versions.items())]
    return entries, search


def _old_repodata(previous: Path, name: str, subdir: str) -> dict[str, Any]:
    """The published repodata: where a file still in its grace period is found when the
    upstream has dropped it."""
    try:
        data = json.loads((previous / "conda" / name / subdir / "repodata.json").read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_repodata(directory: Path, data: dict[str, Any]) -> None:
    """``repodata.json``, and ``repodata.json.zst`` where zstandard is installed (clients
    fall back to the plain file)."""
    directory.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=1, sort_keys=True).encode()
    (directory / "repodata.json").write_bytes(text)
    try:
        import zstandard
    except ImportError:
        return
    (directory / "repodata.json.zst").write_bytes(zstandard.ZstdCompressor(level=10).compress(text))
