"""Files downloaded once, verified, and hard-linked into every snapshot that serves them.

A download goes to a temporary name, its sha256 is checked against the upstream's,
and only then is it renamed into the store: a file in the store is whole and
verified, so a sync killed at any point resumes without downloading it again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import httpx

from .upstream import UpstreamError

CHUNK = 1 << 20


class FileStore:
    def __init__(self, root: Path, client: httpx.Client | None = None) -> None:
        self.root = root
        self._client = client
        self.downloaded = 0
        self.bytes = 0

    @property
    def client(self) -> httpx.Client:
        """Made at the first download (a sync with nothing new makes none)."""
        if self._client is None:
            self._client = httpx.Client(follow_redirects=True, timeout=300)
        return self._client

    def path(self, rel: str) -> Path:
        return self.root / rel

    def clean(self) -> None:
        """Remove what a killed sync left half-written (never a whole file)."""
        if self.root.is_dir():
            for part in self.root.rglob("*.part-*"):
                with contextlib.suppress(OSError):
                    part.unlink()

    def put(self, rel: str, data: bytes) -> Path:
        target = self.path(rel)
        if target.exists():
            return target
        tmp = self._tmp(target)
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        return target

    def fetch(self, rel: str, url: str, sha256: str) -> Path:
        """The file at ``rel``, downloaded from ``url`` unless the store has it."""
        target = self.path(rel)
        if target.exists():
            return target
        tmp = self._tmp(target)
        digest = hashlib.sha256()
        try:
            with open(tmp, "wb") as fh:
                for chunk in self._chunks(url):
                    digest.update(chunk)
                    fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            if sha256 and digest.hexdigest() != sha256:
                raise UpstreamError(
                    f"{url.rsplit('/', 1)[-1]} does not match the upstream's sha256 "
                    f"({digest.hexdigest()} != {sha256}); it was not published"
                )
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        os.replace(tmp, target)
        self.downloaded += 1
        self.bytes += target.stat().st_size
        return target

    def _tmp(self, target: Path) -> Path:
        target.parent.mkdir(parents=True, exist_ok=True)
        return target.with_name(f"{target.name}.part-{os.getpid()}")

    def _chunks(self, url: str) -> Iterator[bytes]:
        if url.startswith("file://"):
            from urllib.request import url2pathname

            with open(url2pathname(urlparse(url).path), "rb") as fh:
                while chunk := fh.read(CHUNK):
                    yield chunk
            return
        try:
            with self.client.stream("GET", url) as response:
                if response.status_code != 200:
                    raise UpstreamError(f"the upstream answered {response.status_code} for {url}")
                yield from response.iter_bytes(CHUNK)
        except httpx.HTTPError as exc:
            raise UpstreamError(f"cannot download {url}: {exc}") from None


def link(source: Path, target: Path) -> None:
    """``target`` as a hard link of ``source`` (a copy where links are not possible)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        target.unlink()
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
