"""Upstream project pages kept between syncs, with the validators the upstream gave.

A sync with nothing new reads every page of the closure again to learn that nothing
changed; with the page's ``ETag`` (or ``Last-Modified``) sent back, the upstream answers
``304 Not Modified`` without a body, and the files are taken from the page kept here.
PyPI, nginx and ``python -m http.server`` all answer so.  The cache is only a cache:
a file that cannot be read is a page never read, and nothing is written but by
``save`` (``mirror plan`` writes nothing).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: A normalized project name (anything else is not kept: it names no file of ours).
_KEY = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,198}[a-z0-9])?")


@dataclass(frozen=True)
class KeptPage:
    """A page as it was read: the URL asked, its validators and its files (the fields
    of each, as the reader gave them; their URLs absolute)."""

    url: str
    etag: str
    modified: str
    files: tuple[dict[str, Any], ...]

    def validators(self) -> dict[str, str]:
        """The conditional request's headers (the ETag when there is one: it is exact)."""
        if self.etag:
            return {"If-None-Match": self.etag}
        return {"If-Modified-Since": self.modified} if self.modified else {}


class PageCache:
    """``<dir>/<project>.json``, one per page an upstream gave a validator for."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._fresh: dict[str, KeptPage] = {}
        self._lock = threading.Lock()

    def get(self, key: str, url: str) -> KeptPage | None:
        """The page of ``key`` read before from ``url`` (another upstream's is not it)."""
        if not _KEY.fullmatch(key):
            return None
        try:
            data = json.loads((self.directory / f"{key}.json").read_text(encoding="utf-8"))
            files = tuple(dict(item) for item in data["files"])
            page = KeptPage(str(data["url"]), str(data["etag"]), str(data["modified"]), files)
        except (OSError, ValueError, TypeError, KeyError):
            return None
        return page if page.url == url and page.validators() else None

    def put(
        self, key: str, url: str, etag: str, modified: str, files: list[dict[str, Any]]
    ) -> None:
        page = KeptPage(url, etag, modified, tuple(files))
        if _KEY.fullmatch(key) and page.validators():
            with self._lock:
                self._fresh[key] = page

    def save(self) -> None:
        """Write the pages read afresh this run.  Each file by a rename, not synced: a
        page lost in a crash is read again, and one that does not parse is not used."""
        with self._lock:
            fresh, self._fresh = self._fresh, {}
        if not fresh:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        for key, page in fresh.items():
            _write(self.directory / f"{key}.json", _to_json(page))


def _to_json(page: KeptPage) -> str:
    data = {"url": page.url, "etag": page.etag, "modified": page.modified, "files": page.files}
    return json.dumps(data, separators=(",", ":"))


def _write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with open(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
