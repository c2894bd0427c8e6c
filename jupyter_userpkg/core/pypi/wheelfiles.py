"""What a wheel on an index provides to ``import``, read without downloading the wheel.

Which import names a distribution provides is written in its wheel: the
``RECORD`` lists every file, so its top-level entries are the modules and
packages it installs, and ``METADATA`` may carry ``Import-Name`` (PEP 794).
A wheel is a zip whose directory sits at its end, so, as uv and pip read a
wheel's METADATA lazily, the file is read through HTTP range requests: the
tail (the zip's central directory), then the one member wanted.  A wheel of
a few hundred megabytes costs two or three small requests.  An index that
ignores ``Range`` sends the whole file: that is read when it is small, else
the wheel is not judged.

What was read is cached on disk per (index, the file's sha256 from the index
page), in the user's cache dir.  The cache is untrusted input like any file a
user can write: every entry is validated on reading, and one that does not
parse is read again from the index.  A file the index names without a hash is
not cached (nothing ties an entry to its content).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urldefrag, urljoin

from ..files import atomic_write
from ..options import private_dir

if TYPE_CHECKING:
    import httpx

#: Bytes read from a wheel's end first: the central directory of most wheels fits.
TAIL = 64 * 1024
#: Bytes read at once past a cached block (a member's local header and data).
BLOCK = 64 * 1024
#: A whole wheel is read when the index ignores ``Range`` only up to this size.
WHOLE_LIMIT = 20 * 1024 * 1024
#: A member larger than this (a RECORD, METADATA) is not what a wheel holds: not read.
MEMBER_LIMIT = 8 * 1024 * 1024
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SHA256 = re.compile(r"[0-9a-f]{64}")


class WheelUnreadable(Exception):
    """The wheel could not be read (network, not a zip, no RECORD): nothing is judged."""


@dataclass(frozen=True)
class WheelFile:
    """The newest wheel an index lists for a project."""

    filename: str
    url: str
    version: str
    sha256: str | None
    #: The index serves its core metadata beside it (PEP 658/714).
    metadata: bool


@dataclass(frozen=True)
class WheelModules:
    """What one wheel provides: its top-level modules (RECORD) and ``Import-Name`` (PEP 794)."""

    filename: str
    version: str
    modules: tuple[str, ...]
    #: ``Import-Name`` and ``Import-Namespace`` values; None when the metadata has neither.
    import_names: tuple[str, ...] | None

    def to_json(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "version": self.version,
            "modules": list(self.modules),
            "import_names": None if self.import_names is None else list(self.import_names),
        }

    @classmethod
    def from_json(cls, data: Any) -> WheelModules | None:
        """An entry of the cache, or None when it is not one (validated field by field)."""
        if not isinstance(data, dict):
            return None
        filename, version = data.get("filename"), data.get("version")
        modules, names = data.get("modules"), data.get("import_names")
        if not isinstance(filename, str) or not isinstance(version, str):
            return None
        if not isinstance(modules, list) or not _identifiers(modules):
            return None
        if names is not None and not (isinstance(names, list) and _dotted(names)):
            return None
        return cls(filename, version, tuple(modules), None if names is None else tuple(names))


def _identifiers(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(v, str) and _IDENTIFIER.fullmatch(v) for v in value
    )


def _dotted(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(v, str) and all(_IDENTIFIER.fullmatch(p) for p in v.split(".")) for v in value
    )


def newest_wheel(response: httpx.Response, key: str) -> WheelFile | None:
    """The newest non-yanked version's first wheel on a project page (PEP 691 or 503)."""
    from .pages import file_version, newest_first, page_files

    by_version: dict[str, list[dict[str, Any]]] = {}
    for f in page_files(response):
        filename = str(f.get("filename", ""))
        version = file_version(filename, key)
        if filename.endswith(".whl") and version and not f.get("yanked") and f.get("url"):
            by_version.setdefault(version, []).append(f)
    for version in newest_first(by_version):
        f = by_version[version][0]
        url, fragment = urldefrag(urljoin(str(response.url), str(f["url"])))
        given = f.get("hashes")
        hashes: dict[str, Any] = given if isinstance(given, dict) else {}
        sha = str(hashes.get("sha256") or "") or fragment.removeprefix("sha256=")
        meta = f.get("core-metadata") or f.get("dist-info-metadata")
        return WheelFile(
            str(f["filename"]),
            url,
            version,
            sha if _SHA256.fullmatch(sha) else None,
            bool(meta),
        )
    return None


def wheel_modules(
    client: httpx.Client, index: str, wheel: WheelFile, cache: Path | None
) -> WheelModules:
    """What ``wheel`` provides, from the cache when its hash is there, else from the index."""
    entry = _entry_path(cache, index, wheel)
    if entry is not None:
        try:
            found = WheelModules.from_json(json.loads(entry.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            found = None
        if found is not None and found.filename == wheel.filename:
            return found
    names = _pep658_names(client, wheel) if wheel.metadata else None
    modules, from_wheel = _read_wheel(client, wheel.url)
    found = WheelModules(
        wheel.filename, wheel.version, modules, names if names is not None else from_wheel
    )
    if entry is not None:
        try:
            for directory in (entry.parents[2], entry.parents[1], entry.parent):
                private_dir(directory)
            atomic_write(entry, json.dumps(found.to_json()))
        except OSError:  # a cache that cannot be written: this answer still stands
            pass
    return found


def _entry_path(cache: Path | None, index: str, wheel: WheelFile) -> Path | None:
    if cache is None or wheel.sha256 is None:
        return None
    key = hashlib.sha256(f"{index.rstrip('/')}\0{wheel.sha256}".encode()).hexdigest()
    return cache / key[:2] / f"{key}.json"


def _pep658_names(client: httpx.Client, wheel: WheelFile) -> tuple[str, ...] | None:
    """``Import-Name`` from the core metadata the index serves beside the wheel (PEP 658)."""
    import httpx

    try:
        response = client.get(wheel.url + ".metadata")
    except httpx.HTTPError:
        return None
    if response.status_code != 200 or len(response.content) > MEMBER_LIMIT:
        return None
    return import_names(response.text)


def import_names(metadata: str) -> tuple[str, ...] | None:
    """``Import-Name`` / ``Import-Namespace`` values of core metadata (PEP 794), the
    part before any ``;`` private marker; None when it names none."""
    headers = HeaderParser().parsestr(metadata, headersonly=True)
    values = [*(headers.get_all("Import-Name") or ()), *(headers.get_all("Import-Namespace") or ())]
    if not values:
        return None
    out = [str(v).split(";")[0].strip() for v in values]
    return tuple(v for v in out if v and all(_IDENTIFIER.fullmatch(p) for p in v.split(".")))


def record_modules(record: str) -> tuple[str, ...]:
    """The top-level import names a wheel's RECORD installs (as ``importnames`` reads an
    installed one): ``x.py`` and ``x/...``; metadata, data and scripts left out."""
    names: set[str] = set()
    for line in record.splitlines():
        path = line.rsplit(",", 2)[0].strip().strip('"')
        parts = path.split("/")
        first = parts[0]
        if not first or first.endswith((".dist-info", ".data")) or first in ("..", "__pycache__"):
            continue
        stem = first.split(".")[0]
        module_file = first.endswith((".py", ".so", ".pyd"))
        if len(parts) == 1 and module_file and _IDENTIFIER.fullmatch(stem):
            names.add(stem)
        elif len(parts) > 1 and _IDENTIFIER.fullmatch(first):
            names.add(first)
    return tuple(sorted(names))


def _read_wheel(client: httpx.Client, url: str) -> tuple[tuple[str, ...], tuple[str, ...] | None]:
    """(top-level modules from RECORD, Import-Name from METADATA) of the wheel at ``url``."""
    try:
        with zipfile.ZipFile(_RangeFile(client, url)) as zf:
            members = [i for i in zf.infolist() if i.filename.count("/") == 1]
            record = next((i for i in members if i.filename.endswith(".dist-info/RECORD")), None)
            meta = next((i for i in members if i.filename.endswith(".dist-info/METADATA")), None)
            if record is None or record.file_size > MEMBER_LIMIT:
                raise WheelUnreadable(f"{url} has no RECORD")
            modules = record_modules(zf.read(record).decode("utf-8", "replace"))
            names = None
            if meta is not None and meta.file_size <= MEMBER_LIMIT:
                names = import_names(zf.read(meta).decode("utf-8", "replace"))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise WheelUnreadable(f"{url}: {exc}") from None
    return modules, names


class _RangeFile(io.RawIOBase):
    """A read-only file over HTTP range requests: blocks fetched as ``zipfile`` seeks.

    The first request asks for the tail (``bytes=-TAIL``): its ``Content-Range``
    gives the size, and it holds the central directory of most wheels.  A server
    that answers 200 sent the whole file: that is kept if it is small enough.
    """

    def __init__(self, client: httpx.Client, url: str) -> None:
        super().__init__()
        self.client, self.url, self.pos = client, url, 0
        self.blocks: dict[int, bytes] = {}  # start offset -> bytes
        response = self._get({"Range": f"bytes=-{TAIL}"})
        if response.status_code == 206:
            total = response.headers.get("content-range", "").rpartition("/")[2]
            if not total.isdigit():
                raise OSError("the index's Content-Range names no size")
            self.size = int(total)
            self.blocks[self.size - len(response.content)] = response.content
        elif response.status_code == 200:
            if len(response.content) > WHOLE_LIMIT:
                raise OSError("the index ignores range requests and the wheel is large")
            self.size = len(response.content)
            self.blocks[0] = response.content
        else:
            raise OSError(f"HTTP {response.status_code}")

    def _get(self, headers: dict[str, str]) -> httpx.Response:
        import httpx

        try:
            return self.client.get(self.url, headers=headers)
        except httpx.HTTPError as exc:
            raise OSError(str(exc)) from None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence]
        self.pos = max(base + offset, 0)
        return self.pos

    def read(self, size: int = -1) -> bytes:
        end = self.size if size is None or size < 0 else min(self.pos + size, self.size)
        out = b""
        while self.pos < end:
            chunk = self._cached(self.pos, end) or self._fetch(self.pos, end)
            out += chunk
            self.pos += len(chunk)
        return out

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _cached(self, start: int, end: int) -> bytes:
        for first, data in self.blocks.items():
            if first <= start < first + len(data):
                return data[start - first : end - first]
        return b""

    def _fetch(self, start: int, end: int) -> bytes:
        stop = min(max(end, start + BLOCK), self.size) - 1
        response = self._get({"Range": f"bytes={start}-{stop}"})
        if response.status_code != 206 or not response.content:
            raise OSError(f"HTTP {response.status_code} for a range of the wheel")
        self.blocks[start] = response.content
        return response.content[: end - start]
