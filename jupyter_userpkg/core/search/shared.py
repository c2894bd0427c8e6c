"""The administrator's search index: one file a node's servers read instead of each
holding a project list.

The filtered mirror writes it (``search-index.tsv`` in ``current/``,
:mod:`..mirror.searchindex`: one sorted line per package, ``key<TAB>source<TAB>
name<TAB>versions<TAB>summary``); an administrator can seed the same format as a
node-wide cache where there is no mirror.  The policy names it (``search_index``,
a path or URL), or, with ``"mirror": true``, it is the one beside the mirror's
``pypi/simple`` (or ``conda/<channel>``).

A search maps the file, scans it in C (one regular expression over the mapped
bytes) and unmaps it: nothing of it stays in the process, and the page cache
holds one copy for every server of the node.  Names, the newest version and the
summary all come from the one file: no project list is fetched, no details page
asked for.  A URL is copied into the user's search cache (a conditional request
after ``SearchOptions.list_ttl``) and mapped from there.

A local path is the administrator's file, so it is read only if no one else could
have written it (:func:`..policy.admintrust.untrusted_reason`: the file and every
directory above it owned by root or the package's owner and writable by no one
else), never through a link as its last component, only as a regular file; the
opened file is checked again.  Refused, search says why in a note and works as
without the index.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import re
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..errors import BackendUnavailable, first_line
from ..mirror.searchindex import FILENAME
from ..namematch import _SUGGEST_MAX, Hit, _edits, normalize
from ..policy.admintrust import untrusted_reason

#: The characters a key may hold (a normalised name).
_KEY = re.compile(rb"[a-z0-9][a-z0-9._+-]*")


@dataclass(frozen=True)
class Found:
    """A package the index holds, and how it matched."""

    hit: Hit
    source: str
    versions: tuple[str, ...]
    summary: str

    @property
    def latest(self) -> str | None:
        return newest(self.versions)


def newest(versions: tuple[str, ...]) -> str | None:
    """The highest version (PEP 440's order; one it cannot read sorts lowest)."""
    if not versions:
        return None
    from packaging.version import InvalidVersion, Version

    def key(v: str) -> tuple[int, Version | None]:
        try:
            return (1, Version(v))
        except InvalidVersion:
            return (0, None)

    readable = [v for v in versions if key(v)[0]]
    return max(readable, key=lambda v: Version(v)) if readable else versions[-1]


def locate(
    search_index: str, mirror: bool, indexes: tuple[str, ...], channels: tuple[str, ...]
) -> str:
    """Where the policy's search index is: ``search_index``, else (a mirror) the file at
    the mirror's root, found from its ``pypi/simple`` index or ``conda/<name>`` channel."""
    if search_index or not mirror:
        return search_index
    for url in (*indexes, *channels):
        root = re.sub(r"/(pypi/simple|conda/[^/]+)/*$", "", url.rstrip("/"))
        if root != url.rstrip("/"):
            return f"{root}/{FILENAME}"
    return ""


def local_path(where: str) -> Path | None:
    """The local file a ``search_index`` names (a path or a file URL), or None for a URL."""
    if where.startswith("file://"):
        return Path(unquote(urlsplit(where).path))
    if "://" in where:
        return None
    return Path(where)


def refusal(path: Path, info: os.stat_result | None = None) -> str | None:
    """Why ``path`` is not read as the administrator's index (None: it may be)."""
    if not path.is_absolute():
        return f"{path} is not an absolute path"
    reason = untrusted_reason(path)
    if reason is None and info is not None:
        from ..policy.admintrust import trusted_uids

        if not stat.S_ISREG(info.st_mode):
            reason = f"{path} is not a regular file"
        elif info.st_uid not in trusted_uids() or info.st_mode & 0o022:
            reason = f"{path} may have been written by another user"
    return reason


@contextlib.contextmanager
def mapped(path: Path, *, admin: bool = True) -> Iterator[bytes | mmap.mmap]:
    """The file mapped for the time of one search (empty bytes for an empty file).

    ``admin``: the administrator's file, refused unless only they could have written it.
    Raises :class:`BackendUnavailable` with the reason when it cannot be read.
    """
    if admin:
        why = refusal(path)
        if why is not None:
            raise BackendUnavailable(f"the search index {path} is refused: {why}")
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        why = "it is a symbolic link" if os.path.islink(path) else (exc.strerror or str(exc))
        raise BackendUnavailable(f"the search index {path} cannot be read: {why}") from None
    try:
        info = os.fstat(fd)
        why = refusal(path, info) if admin else None
        if why is None and not stat.S_ISREG(info.st_mode):
            why = f"{path} is not a regular file"
        if why is not None:
            raise BackendUnavailable(f"the search index {path} is refused: {why}")
        if info.st_size == 0:
            yield b""
            return
        with mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as data:
            yield data
    finally:
        os.close(fd)


def _line_pattern(q: bytes, source: str | None) -> re.Pattern[bytes]:
    sources = rb"pypi|conda" if source is None else re.escape(source.encode())
    return re.compile(
        rb"^([^\t\n]*" + re.escape(q) + rb"[^\t\n]*)\t(" + sources + rb")\t([^\t\n]*)\t"
        rb"([^\t\n]*)\t([^\n]*)$",
        re.M,
    )


def _rank(key: str, q: str) -> tuple[int, int, int]:
    """(group, length, 0): exact, segment at the start, inner segment, prefix, substring."""
    if key == q:
        return (0, 0, 0)
    if key.startswith(q + "-"):
        return (1, 0, 0)
    if f"-{q}-" in key or key.endswith("-" + q):
        return (2, len(key), 0)
    if key.startswith(q):
        return (3, 0, 0)
    return (4, 0, 0)


_MATCH = ("exact", "segment", "segment", "prefix", "substring")


def match(data: bytes | mmap.mmap, query: str, limit: int, source: str | None) -> list[Found]:
    """Up to ``limit`` packages whose names hold ``query``, ranked as :mod:`..namematch`
    ranks them (exact, segments, prefixes, substrings), by one scan of the mapped file."""
    q = normalize(query)
    if not q or "\n" in q or "\t" in q or limit <= 0 or not data:
        return []
    found: list[tuple[tuple[int, int, int], int, Found]] = []
    for at, m in enumerate(_line_pattern(q.encode(), source).finditer(data)):
        key, src, name, versions, summary = (g.decode("utf-8", "replace") for g in m.groups())
        rank = _rank(key, q)
        if rank[0] == 4 and len(found) >= 4 * limit:
            continue  # enough to fill the list: the rest would be cut anyway
        hit = Hit(name, key, _MATCH[rank[0]])  # type: ignore[arg-type]
        vers = tuple(v for v in versions.split(",") if v)
        found.append((rank, at, Found(hit, src, vers, summary.strip())))
    found.sort(key=lambda f: (f[0], f[1]))
    return [f[2] for f in found[:limit]]


def has_key(data: bytes | mmap.mmap, key: str) -> bool:
    """Whether a normalised name is a line's key: a binary search over the sorted lines."""
    want = key.encode()
    lo, hi = 0, len(data)
    while lo < hi:
        mid = (lo + hi) // 2
        start = data.rfind(b"\n", 0, mid) + 1
        end = data.find(b"\t", start)
        if end < 0:
            return False
        line = data[start:end]
        if line == want:
            return True
        if line < want:
            nxt = data.find(b"\n", end)
            if nxt < 0:
                return False
            lo = nxt + 1
        else:
            hi = start
    return False


def suggest(data: bytes | mmap.mmap, query: str, limit: int) -> list[str]:
    """Names one edit away from ``query`` that the index holds ("did you mean")."""
    q = normalize(query)
    if not q or len(q) > _SUGGEST_MAX or not data:
        return []
    out: list[str] = []
    for key in _edits(q):
        if key != q and key not in out and _KEY.fullmatch(key.encode()) and has_key(data, key):
            out.append(key)
            if len(out) >= limit:
                break
    return out


def sources_in(data: bytes | mmap.mmap) -> frozenset[str]:
    """Which sources the index holds entries of."""
    return frozenset(s for s in ("pypi", "conda") if data.find(f"\t{s}\t".encode()) >= 0)


def fetched_copy(url: str, cache_dir: Path, ttl: float, offline: bool) -> Path:
    """The index at ``url`` as a file in the user's search cache: fetched again (a
    conditional request) when older than ``ttl``; a stale copy serves when the URL
    cannot be reached.  The copy is the user's own cache, like the project list it
    replaces: it can only mislead its owner, never the policy."""
    import hashlib
    import json

    from ..files import atomic_write
    from ..options import private_dir
    from ..pypi.index import client

    target = cache_dir / "shared" / hashlib.sha256(url.encode()).hexdigest()[:16]
    meta_file = target.with_suffix(".json")
    with contextlib.suppress(OSError):
        if offline or time.time() - target.stat().st_mtime <= ttl:
            return target
    meta: dict[str, str] = {}
    with contextlib.suppress(OSError, ValueError):
        meta = json.loads(meta_file.read_text())
    headers = {"If-None-Match": meta["etag"]} if meta.get("etag") else {}
    try:
        response = client().get(url, headers=headers)
    except Exception as exc:
        if target.exists():
            return target
        raise BackendUnavailable(
            f"the search index {url} cannot be fetched ({first_line(exc)})"
        ) from None
    if response.status_code == 304 and target.exists():
        os.utime(target)
        return target
    if response.status_code != 200:
        if target.exists():
            return target
        raise BackendUnavailable(f"the search index {url} answers HTTP {response.status_code}")
    for directory in (cache_dir, target.parent):
        private_dir(directory)
    atomic_write(target, response.content.decode("utf-8", "replace"))
    atomic_write(meta_file, json.dumps({"etag": response.headers.get("etag", "")}))
    return target
