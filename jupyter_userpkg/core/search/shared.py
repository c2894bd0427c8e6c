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
from ..namematch import _SUGGEST_MAX, Hit, NameIndex, _edits, normalize
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
    """The file mapped for the time of one search (see :func:`opened`)."""
    with opened(path, admin=admin) as (data, _):
        yield data


@contextlib.contextmanager
def opened(path: Path, *, admin: bool = True) -> Iterator[tuple[bytes | mmap.mmap, object]]:
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
        # What tells this version of the file from the next (a new snapshot is a new file).
        ident = (info.st_dev, info.st_ino, info.st_mtime_ns, info.st_size)
        if info.st_size == 0:
            yield b"", ident
            return
        with mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as data:
            yield data, ident
    finally:
        os.close(fd)


def _line(data: bytes | mmap.mmap, start: int) -> tuple[bytes, int]:
    """The line starting at ``start``, and where the next one starts."""
    end = data.find(b"\n", start)
    end = len(data) if end < 0 else end
    return data[start:end], end + 1


def _found(line: bytes, match: str) -> Found:
    fields = line.decode("utf-8", "replace").split("\t", 4)
    key, src, name, versions, summary = fields + [""] * (5 - len(fields))
    name = name or key  # an empty name: spelled as its key (a seeded index saves the bytes)
    hit = Hit(name, key, match)  # type: ignore[arg-type]
    return Found(hit, src, tuple(v for v in versions.split(",") if v), summary.strip())


def _first_at_least(data: bytes | mmap.mmap, key: bytes) -> int:
    """Where the first line whose key is at least ``key`` starts (a binary search)."""
    lo, hi = 0, len(data)
    while lo < hi:
        mid = (lo + hi) // 2
        start = data.rfind(b"\n", 0, mid) + 1
        end = data.find(b"\t", start)
        if end < 0 or data[start:end] >= key:
            hi = start
        else:
            nxt = data.find(b"\n", end)
            lo = len(data) if nxt < 0 else nxt + 1
    return lo


def _in_key(data: bytes | mmap.mmap, at: int, source: bytes) -> tuple[int, int] | None:
    """(line start, line end) when ``at`` falls in a key of ``source``'s line, else None
    (a summary or a version holds the text)."""
    start = data.rfind(b"\n", 0, at) + 1
    tab = data.find(b"\t", start)
    if tab < 0 or at >= tab:
        return None
    if source and data[tab + 1 : tab + 2 + len(source)] != source + b"\t":
        return None
    return start, tab


#: (the file's identity, source) -> its lines by name when few (:func:`_lines_of`), or
#: None: a file's composition is learnt once, not scanned again by every search.
_FEW_LINES: dict[tuple[object, bytes], dict[str, int] | None] = {}


def match(
    data: bytes | mmap.mmap, query: str, limit: int, source: str | None, ident: object = None
) -> list[Found]:
    """Up to ``limit`` packages whose names hold ``query``, ranked as :mod:`..namematch`
    ranks them: the exact name, names that hold it as a whole segment, the other
    prefixes, then substrings.  The prefixes are one block of the sorted lines (found by
    a binary search); segments and substrings are found with ``find`` over the mapped
    bytes, which runs at the speed of a memory scan, and stop once ``limit`` are found."""
    q = normalize(query).encode()
    if not q or b"\n" in q or b"\t" in q or limit <= 0 or not data:
        return []
    src = (source or "").encode()
    few = _few(data, src, ident) if src else None
    if few is not None:  # a source of few lines among many: rank its names in memory
        names = NameIndex.build(few)
        return [_found(_line(data, few[h.name])[0], h.match) for h in names.match(query, limit)]
    exact: list[Found] = []
    starts: list[Found] = []
    prefix: list[Found] = []
    pos = _first_at_least(data, q)
    while pos < len(data) and len(exact) + len(starts) + len(prefix) < limit:
        line, pos = _line(data, pos)
        key, _, rest = line.partition(b"\t")
        if not key.startswith(q):
            break
        if src and not rest.startswith(src + b"\t"):
            continue
        if key == q:
            exact.append(_found(line, "exact"))
        elif key[len(q) : len(q) + 1] == b"-":
            starts.append(_found(line, "segment"))
        else:
            prefix.append(_found(line, "prefix"))
    inner: dict[int, Found] = {}
    for pattern in (b"-" + q + b"-", b"-" + q + b"\t"):
        at = data.find(pattern)
        while at >= 0 and len(inner) < limit:
            where = _in_key(data, at, src)
            if where is not None and where[0] not in inner:
                inner[where[0]] = _found(_line(data, where[0])[0], "segment")
            at = data.find(pattern, _next_line(data, at))
    ranked = sorted(inner.values(), key=lambda f: (len(f.hit.key), f.hit.key))
    hits = exact + starts + ranked + prefix
    seen = {(f.hit.key, f.source) for f in hits}
    at = data.find(q)
    while at >= 0 and len(hits) < limit:
        where = _in_key(data, at, src)
        if where is not None and where[0] != at:
            got = _found(_line(data, where[0])[0], "substring")
            if (got.hit.key, got.source) not in seen:
                hits.append(got)
                seen.add((got.hit.key, got.source))
        at = data.find(q, _next_line(data, at))
    return hits[:limit]


#: A source with at most this many lines is ranked in memory (:func:`_lines_of`).
FEW = 20_000


def _lines_of(data: bytes | mmap.mmap, src: bytes) -> dict[str, int] | None:
    """name -> line start of every line of ``src``, when there are at most :data:`FEW` of
    them among many more of the other source (a node's index: all of PyPI, a few
    thousand conda names), found with ``find``; None when the source is not so rare, and
    the sorted lines are walked instead."""
    tag = b"\t" + src + b"\t"
    out: dict[str, int] = {}
    at = data.find(tag)
    while at >= 0:
        if len(out) >= FEW:
            return None
        start = data.rfind(b"\n", 0, at) + 1
        if data.find(b"\t", start) == at:  # the source field, not a summary's text
            end = data.find(b"\t", at + len(tag))
            name = data[at + len(tag) : end] or data[start:at]
            out.setdefault(name.decode("utf-8", "replace"), start)
        at = data.find(tag, _next_line(data, at))
    return out


def _few(data: bytes | mmap.mmap, src: bytes, ident: object) -> dict[str, int] | None:
    """:func:`_lines_of`, learnt once per version of the file (``ident``)."""
    cached = (ident, src)
    if ident is not None and cached in _FEW_LINES:
        return _FEW_LINES[cached]
    few = _lines_of(data, src)
    if ident is not None:
        for old in [k for k in _FEW_LINES if k[0] != ident]:
            _FEW_LINES.pop(old, None)  # an older version of the file: of no use
        _FEW_LINES[cached] = few
    return few


def _next_line(data: bytes | mmap.mmap, at: int) -> int:
    """Where the line after the one holding ``at`` starts (a line is matched once)."""
    end = data.find(b"\n", at)
    return len(data) if end < 0 else end + 1


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
    # As the index spells them (the name of each key's first line).
    lines = [_line(data, _first_at_least(data, k.encode()))[0] for k in out]
    return [_found(line, "exact").hit.name for line in lines]


#: The sources each version of a file holds (a file of one source is scanned once for the
#: other, not by every search).
_SOURCES_IN: dict[object, frozenset[str]] = {}


def sources_in(data: bytes | mmap.mmap, ident: object = None) -> frozenset[str]:
    """Which sources the index holds entries of."""
    known = _SOURCES_IN.get(ident) if ident is not None else None
    if known is None:
        known = frozenset(s for s in ("pypi", "conda") if data.find(f"\t{s}\t".encode()) >= 0)
        if ident is not None:
            _SOURCES_IN.clear()  # one file is searched: an older version's is of no use
            _SOURCES_IN[ident] = known
    return known


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
