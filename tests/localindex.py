"""A PyPI-style simple index on loopback, serving wheels the tests build.

Real uv installs from it as from any index.  Files can be served slowly
(``slow`` seconds per 64 KiB), so a test can act while uv is downloading:
cancel a job, kill a server.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import os
import re
import threading
import time
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any


def build_wheel(
    directory: Path,
    name: str,
    version: str,
    *,
    padding: int = 0,
    requires: Sequence[str] = (),
    license_expression: str | None = None,
    classifiers: Sequence[str] = (),
    uploaded: float | None = None,
    modules: Sequence[str] | None = None,
    import_names: Sequence[str] = (),
) -> Path:
    """A pure-Python wheel of module ``name`` whose ``VERSION`` (and ``__version__``)
    is ``version``, depending on the PEP 508 specs in ``requires``.

    ``padding`` bytes of incompressible data make the download take a while.
    ``license_expression`` and ``classifiers`` go into its metadata; ``uploaded`` (epoch
    seconds) is the upload time the index reports for it (PEP 700).  ``modules`` are the
    top-level packages it installs when they differ from ``name`` (``python-slugify``
    installs ``slugify``); ``import_names`` go into its metadata as ``Import-Name`` (PEP 794).
    """

    dist = f"{re.sub(r'[-_.]+', '_', name)}-{version}"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: test package\n"
    metadata += "".join(f"Requires-Dist: {spec}\n" for spec in requires)
    if license_expression:
        metadata += f"License-Expression: {license_expression}\n"
    metadata += "".join(f"Classifier: {c}\n" for c in classifiers)
    metadata += "".join(f"Import-Name: {n}\n" for n in import_names)
    init = f"VERSION = {version!r}\n__version__ = VERSION\n".encode()
    files: dict[str, bytes] = {
        **{f"{m}/__init__.py": init for m in (modules if modules is not None else [name])},
        f"{dist}.dist-info/METADATA": metadata.encode(),
        f"{dist}.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    if padding:
        files[f"{next(iter(modules or [name]))}/padding.bin"] = os.urandom(padding)
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist}.dist-info/RECORD,,")
    files[f"{dist}.dist-info/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = directory / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_STORED) as zf:
        for path, data in files.items():
            zf.writestr(path, data)
    if uploaded is not None:
        os.utime(wheel, (uploaded, uploaded))
    return wheel


def wheel_metadata(wheel: Path) -> bytes:
    """The METADATA of a wheel (what an index serves beside it, PEP 658)."""
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        return zf.read(name)


def _norm(name: str) -> str:
    """PEP 503: the one spelling of a project's name in index URLs."""
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class _Server(http.server.ThreadingHTTPServer):
    """A listen backlog of a real server's size: socketserver's 5 drops the connections
    of a client that reads more pages at once, each then retried after a second."""

    request_queue_size = 128
    daemon_threads = True


class LocalIndex:
    """Serves every wheel of ``directory`` as a PEP 503 simple index.

    With ``json`` set, project pages are PEP 691 JSON for clients that ask for it, with
    each file's upload time (its mtime, PEP 700) and core metadata (PEP 658/714), as
    PyPI serves them.  ``<wheel>.metadata`` is always served.
    """

    def __init__(self, directory: Path, *, json: bool = False, etags: bool = False) -> None:
        self.directory = directory
        #: Project pages carry an ETag (from their wheels' names, sizes and times, as a
        #: static server's come from the file's) and a request that sends it back gets
        #: 304 Not Modified without the page being built, as PyPI answers.
        self.etags = etags
        #: (path, status) of every answer to a project page.
        self.answers: list[tuple[str, int]] = []
        self._lock = threading.Lock()
        self._listing: tuple[str, ...] = ()
        self._grouped: dict[str, list[Path]] = {}
        self.slow = 0.0
        #: Seconds each core-metadata file takes to serve (a solve that takes a while).
        self.metadata_delay = 0.0
        self.json = json
        #: Every request's path, in the order they came (what a client cost the index).
        self.requests: list[str] = []
        #: Whether files are served in parts on request (HTTP ``Range``), as PyPI's are.
        self.ranges = True
        #: Every ``Range`` header asked of a file: (path, header).
        self.range_requests: list[tuple[str, str]] = []
        index = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            head = False
            etag = ""

            def do_HEAD(self) -> None:
                self.head = True
                self.do_GET()

            def do_GET(self) -> None:
                index.requests.append(self.path)
                parts = [p for p in self.path.split("?")[0].split("/") if p]
                if parts[:1] == ["simple"] and len(parts) == 1:
                    names = sorted({w.name.split("-")[0] for w in index.wheels()})
                    body = "".join(f'<a href="/simple/{n}/">{n}</a>\n' for n in names)
                    return self._send(f"<html><body>{body}</body></html>".encode(), "text/html")
                if parts[:1] == ["simple"] and len(parts) == 2:
                    wheels = index.project_wheels(parts[1])
                    if not wheels:
                        index.answers.append((self.path, 404))
                        return self._send(b"not found", "text/plain", 404)
                    as_json = index.json and "vnd.pypi.simple.v1+json" in self.headers.get(
                        "Accept", ""
                    )
                    tag = index.etag(wheels, as_json)
                    if tag and self.headers.get("If-None-Match") == tag:
                        index.answers.append((self.path, 304))
                        self.send_response(304)
                        self.send_header("ETag", tag)
                        self.end_headers()
                        return None
                    index.answers.append((self.path, 200))
                    self.etag = tag
                    if as_json:
                        return self._send(
                            index.project_json(parts[1], wheels),
                            "application/vnd.pypi.simple.v1+json",
                        )
                    links = "".join(
                        f'<a href="/files/{w.name}#sha256={_sha256(w)}">{w.name}</a>\n'
                        for w in wheels
                    )
                    return self._send(f"<html><body>{links}</body></html>".encode(), "text/html")
                if parts[:1] == ["files"] and len(parts) == 2 and parts[1].endswith(".metadata"):
                    wheel = index.directory / parts[1].removesuffix(".metadata")
                    time.sleep(index.metadata_delay)
                    if wheel.is_file():
                        return self._send(wheel_metadata(wheel), "text/plain")
                if parts[:1] == ["files"] and len(parts) == 2:
                    path = index.directory / parts[1]
                    if path.is_file():
                        return self._send_file(path.read_bytes())
                return self._send(b"not found", "text/plain", 404)

            def _send_file(self, body: bytes) -> None:
                """The file, or the part ``Range`` asks for (``bytes=a-b``, ``bytes=-n``)."""
                asked = self.headers.get("Range", "")
                match = re.fullmatch(r"bytes=(\d*)-(\d*)", asked.strip())
                if not index.ranges or not match or not (match[1] or match[2]):
                    return self._send(body, "application/octet-stream")
                index.range_requests.append((self.path, asked))
                size = len(body)
                if match[1]:
                    start = int(match[1])
                    end = min(int(match[2]) if match[2] else size - 1, size - 1)
                else:
                    start, end = max(size - int(match[2]), 0), size - 1
                content_range = f"bytes {start}-{end}/{size}"
                self._send(body[start : end + 1], "application/octet-stream", 206, content_range)

            def _send(
                self, body: bytes, ctype: str, status: int = 200, content_range: str = ""
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                if content_range:
                    self.send_header("Content-Range", content_range)
                self.send_header("Content-Length", str(len(body)))
                if self.etag:
                    self.send_header("ETag", self.etag)
                    self.send_header("Vary", "Accept")
                self.end_headers()
                if self.head:
                    return
                for start in range(0, len(body), 65536):
                    if index.slow and ctype == "application/octet-stream":
                        time.sleep(index.slow)
                    try:
                        self.wfile.write(body[start : start + 65536])
                    except OSError:
                        return

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def project_wheels(self, name: str) -> list[Path]:
        """The project's wheels, from the directory's listing grouped by project (grouped
        again whenever the listing differs): a page costs the index little, as PyPI's."""
        listing = tuple(sorted(f for f in os.listdir(self.directory) if f.endswith(".whl")))
        with self._lock:
            if listing != self._listing:
                grouped: dict[str, list[Path]] = {}
                for f in listing:
                    grouped.setdefault(_norm(f.split("-")[0]), []).append(self.directory / f)
                self._listing, self._grouped = listing, grouped
            return list(self._grouped.get(_norm(name), []))

    def etag(self, wheels: list[Path], as_json: bool) -> str:
        if not self.etags:
            return ""
        stats = [(w.name, s.st_size, s.st_mtime_ns) for w in wheels for s in [w.stat()]]
        return f'"{hashlib.sha256(repr((stats, as_json)).encode()).hexdigest()[:32]}"'

    def project_json(self, name: str, wheels: list[Path]) -> bytes:
        import json
        from datetime import UTC, datetime

        files = []
        for w in wheels:
            meta = hashlib.sha256(wheel_metadata(w)).hexdigest()
            uploaded = datetime.fromtimestamp(w.stat().st_mtime, UTC)
            files.append(
                {
                    "filename": w.name,
                    "url": f"/files/{w.name}",
                    "hashes": {"sha256": _sha256(w)},
                    "size": w.stat().st_size,
                    "upload-time": uploaded.isoformat().replace("+00:00", "Z"),
                    "core-metadata": {"sha256": meta},
                }
            )
        body = {"meta": {"api-version": "1.1"}, "name": name, "files": files}
        return json.dumps(body).encode()

    def wheels(self) -> Iterator[Path]:
        return iter(sorted(self.directory.glob("*.whl")))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/simple"

    def __enter__(self) -> LocalIndex:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
