"""The part of PyPI's API bandersnatch reads, served from a directory of wheels.

bandersnatch (``api-method = simple``) lists projects from the PEP 691 root page with
each project's ``_last-serial``, reads each project's releases from the JSON API
(``/pypi/<name>/json``, checked against the ``X-PyPI-Last-Serial`` header) and
downloads files whose URL path starts with ``/packages/``.  This serves exactly
that, built per request from the wheels as ``tests.localindex`` builds its pages, so
bandersnatch can mirror the same loopback upstream the benchmark's other clients read.
Every project has serial 1: the upstream does not change between runs.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SERIAL = 1
JSON_TYPE = "application/vnd.pypi.simple.v1+json"


def _norm(name: str) -> str:
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


class _Server(http.server.ThreadingHTTPServer):
    request_queue_size = 128
    daemon_threads = True


class JsonApi:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                parts = [p for p in self.path.split("?")[0].split("/") if p]
                if parts == ["simple"]:
                    return self._send(api.root(), JSON_TYPE)
                if len(parts) == 3 and parts[0] == "pypi" and parts[2] == "json":
                    body = api.project(parts[1])
                    if body is None:
                        return self._send(b"not found", "text/plain", 404)
                    return self._send(body, "application/json")
                if len(parts) == 2 and parts[0] == "packages":
                    path = api.directory / parts[1]
                    if path.is_file():
                        return self._send(path.read_bytes(), "application/octet-stream")
                return self._send(b"not found", "text/plain", 404)

            def _send(self, body: bytes, ctype: str, status: int = 200) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("X-PyPI-Last-Serial", str(SERIAL))
                self.end_headers()
                self.wfile.write(body)

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def wheels(self, name: str | None = None) -> list[Path]:
        out = sorted(self.directory.glob("*.whl"))
        return [w for w in out if name is None or _norm(w.name.split("-")[0]) == _norm(name)]

    def root(self) -> bytes:
        names = sorted({_norm(w.name.split("-")[0]) for w in self.wheels()})
        projects = [{"name": n, "_last-serial": SERIAL} for n in names]
        return json.dumps({"meta": {"api-version": "1.1", "_last-serial": SERIAL},
                           "projects": projects}).encode()  # fmt: skip

    def project(self, name: str) -> bytes | None:
        wheels = self.wheels(name)
        if not wheels:
            return None
        releases: dict[str, list[dict[str, Any]]] = {}
        for w in wheels:
            data = w.read_bytes()
            stamp = datetime.fromtimestamp(w.stat().st_mtime, UTC).isoformat()
            releases.setdefault(w.name.split("-")[1], []).append({
                "filename": w.name, "url": f"{self.url}/packages/{w.name}",
                "digests": {"sha256": hashlib.sha256(data).hexdigest(),
                            "md5": hashlib.md5(data).hexdigest()},
                "size": len(data), "packagetype": "bdist_wheel", "requires_python": None,
                "upload_time_iso_8601": stamp.replace("+00:00", "Z"), "yanked": False,
            })  # fmt: skip
        from packaging.version import Version

        latest = max(releases, key=Version)
        info = {"name": _norm(name), "version": latest}
        return json.dumps({"info": info, "last_serial": SERIAL, "releases": releases,
                           "urls": releases[latest]}).encode()  # fmt: skip

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> JsonApi:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
