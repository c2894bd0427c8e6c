"""Reading a PEP 503/691 upstream index: project pages, files, hashes, core metadata.

Pages are read once per project and run (PEP 691 JSON when the index serves it,
the HTML page otherwise), conditionally when a page kept from an earlier sync has
a validator (``pagecache``): an unchanged page then costs the upstream no body.

Core metadata comes from the PEP 658 file beside a wheel when the index announces
one, else from the wheel itself; either is checked against its hash before it is used.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import re
import threading
import zipfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin

import httpx

from .engines import UserPkgError, normalize
from .pagecache import KeptPage, PageCache

#: Project pages read side by side.
PREFETCH = 16
JSON_TYPE = "application/vnd.pypi.simple.v1+json"
_ANCHOR = re.compile(r"<a\s+([^>]*)>(.*?)</a>", re.I | re.S)
_ATTR = re.compile(r'([\w-]+)\s*=\s*"([^"]*)"')


class UpstreamError(UserPkgError):
    """An upstream that cannot be read, or a file that is not what it said."""

    code = "upstream_unreachable"
    http_status = 503


@dataclass(frozen=True)
class UpFile:
    """One file of an upstream project page."""

    filename: str
    url: str
    sha256: str
    version: str
    size: int = 0
    upload_time: str = ""
    requires_python: str = ""
    metadata_sha256: str = ""
    #: The index announces a PEP 658 metadata file (with or without a hash).
    has_metadata: bool = False

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")


def file_version(filename: str) -> str | None:
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )

    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[1])
        return str(parse_sdist_filename(filename)[1])
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None


class Upstream:
    """A PEP 503/691 index, read through one HTTP client."""

    def __init__(
        self,
        url: str,
        client: httpx.Client | None = None,
        kept: Path | None = None,
        pages: PageCache | None = None,
    ) -> None:
        """``kept``: a directory of metadata files verified before (``<file>.metadata``);
        ``pages``: the project pages read before, asked again conditionally."""
        self.kept = kept
        self.pages = pages
        self.url = url.rstrip("/")
        self.client = client or httpx.Client(follow_redirects=True, timeout=120)
        self._pages: dict[str, list[UpFile]] = {}
        self._metadata: dict[str, bytes] = {}
        self._lock = threading.RLock()

    def files(self, name: str) -> list[UpFile]:
        """Every file of a project (none when the index does not know it)."""
        key = normalize(name)
        with self._lock:
            if key in self._pages:
                return self._pages[key]
        files = self._read_page(key)  # two threads may read one page: the same answer
        with self._lock:
            return self._pages.setdefault(key, files)

    def prefetch(self, names: Iterable[str]) -> None:
        """Read the pages of ``names`` side by side (an index answers many at once)."""
        with ThreadPoolExecutor(max_workers=PREFETCH) as pool:
            list(pool.map(self.files, sorted(set(names))))

    def names(self) -> set[str]:
        """The projects whose pages this run read (normalized)."""
        with self._lock:
            return set(self._pages)

    def digest(self, name: str) -> str:
        """One hash of a project's page as this run read it (file names and hashes)."""
        files = sorted((f.filename, f.sha256, f.upload_time) for f in self.files(name))
        return hashlib.sha256(repr(files).encode()).hexdigest()

    def versions(self, name: str) -> list[str]:
        """The project's versions, newest first."""
        from packaging.version import InvalidVersion, Version

        def order(v: str) -> Any:
            try:
                return (1, Version(v))
            except InvalidVersion:
                return (0, Version("0"))

        return sorted({f.version for f in self.files(name)}, key=order, reverse=True)

    def _read_page(self, key: str) -> list[UpFile]:
        asked = page = f"{self.url}/{key}/"
        kept, kept_files = self._kept(key, asked)
        headers = {"Accept": f"{JSON_TYPE}, text/html;q=0.1"}
        headers.update(kept.validators() if kept is not None else {})
        try:
            response = self.client.get(asked, headers=headers)
        except httpx.HTTPError as exc:
            raise UpstreamError(f"the upstream index cannot be read ({page}): {exc}") from None
        if response.status_code == 304 and kept is not None:
            return kept_files
        if response.status_code == 404:
            return []
        if response.status_code != 200:
            raise UpstreamError(f"the upstream index answered {response.status_code} for {page}")
        page = str(response.url)
        if response.headers.get("content-type", "").startswith(JSON_TYPE):
            items = [_json_file(page, f) for f in response.json().get("files", [])]
        else:
            items = [
                _html_file(page, attrs, text) for attrs, text in _ANCHOR.findall(response.text)
            ]
        files = [f for f in items if f is not None]
        if self.pages is not None:
            said = response.headers
            rows = [dataclasses.asdict(f) for f in files]
            validators = said.get("etag", ""), said.get("last-modified", "")
            self.pages.put(key, asked, *validators, rows)
        return files

    def _kept(self, key: str, url: str) -> tuple[KeptPage | None, list[UpFile]]:
        """The page read before, with its files (none if they do not read back)."""
        page = self.pages.get(key, url) if self.pages is not None else None
        try:
            return (page, [UpFile(**row) for row in page.files]) if page else (None, [])
        except TypeError:
            return None, []

    def save(self) -> None:
        """Keep the pages read afresh for the next run's conditional requests."""
        if self.pages is not None:
            self.pages.save()

    def metadata(self, file: UpFile) -> bytes:
        """The core metadata of a wheel, checked against the hash the index gave."""
        if file.url in self._metadata:
            return self._metadata[file.url]
        local = self.kept / f"{file.filename}.metadata" if self.kept else None
        if local is not None and local.is_file():
            data = local.read_bytes()
            if not file.metadata_sha256 or hashlib.sha256(data).hexdigest() == file.metadata_sha256:
                self._metadata[file.url] = data
                return data
        if file.has_metadata:
            data = self.get(file.url + ".metadata")
            if file.metadata_sha256 and hashlib.sha256(data).hexdigest() != file.metadata_sha256:
                raise UpstreamError(f"{file.filename}.metadata does not match its hash")
        else:
            data = wheel_metadata(self.get(file.url), file)
        self._metadata[file.url] = data
        return data

    def get(self, url: str) -> bytes:
        try:
            response = self.client.get(url)
        except httpx.HTTPError as exc:
            raise UpstreamError(f"cannot download {url}: {exc}") from None
        if response.status_code != 200:
            raise UpstreamError(f"the upstream answered {response.status_code} for {url}")
        return response.content


def wheel_metadata(data: bytes, file: UpFile) -> bytes:
    if file.sha256 and hashlib.sha256(data).hexdigest() != file.sha256:
        raise UpstreamError(f"{file.filename} does not match the upstream's sha256")
    with zipfile.ZipFile(BytesIO(data)) as zf:
        names = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        if not names:
            raise UpstreamError(f"{file.filename} holds no METADATA")
        return zf.read(names[0])


def _json_file(page: str, item: dict[str, Any]) -> UpFile | None:
    filename = str(item.get("filename", ""))
    version = file_version(filename)
    if version is None or item.get("yanked"):
        return None
    meta = item.get("core-metadata", item.get("dist-info-metadata", False))
    return UpFile(
        filename=filename,
        url=urldefrag(urljoin(page, str(item.get("url", filename))))[0],
        sha256=str((item.get("hashes") or {}).get("sha256", "")),
        version=version,
        size=int(item.get("size") or 0),
        upload_time=str(item.get("upload-time") or ""),
        requires_python=str(item.get("requires-python") or ""),
        metadata_sha256=str(meta.get("sha256", "")) if isinstance(meta, dict) else "",
        has_metadata=bool(meta),
    )


def _html_file(page: str, attr_text: str, text: str) -> UpFile | None:
    attrs = {k.lower(): html.unescape(v) for k, v in _ATTR.findall(attr_text)}
    href = attrs.get("href", "")
    url, fragment = urldefrag(urljoin(page, href))
    filename = html.unescape(text).strip() or url.rsplit("/", 1)[-1]
    version = file_version(filename)
    if version is None or "data-yanked" in attrs:
        return None
    meta = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata", ""))
    return UpFile(
        filename=filename,
        url=url,
        sha256=fragment.removeprefix("sha256=") if fragment.startswith("sha256=") else "",
        version=version,
        requires_python=attrs.get("data-requires-python", ""),
        metadata_sha256=meta.removeprefix("sha256=") if meta.startswith("sha256=") else "",
        has_metadata=bool(meta) and meta != "false",
    )
