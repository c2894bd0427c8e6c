"""A local PyPI-style index of small packages that ``policy.json`` judges.

The third test server (port 8890) takes its PyPI packages from here alone,
under the administrator's policy of ``policy.json``:

* ``userpkg-policy-demo`` 1.0, 2.0 and 2.1: version 2.0 is blocked (with a
  reason and an advisory id), so an env that holds it is told to update, and
  the nearest allowed version of a request for 2.0 is 2.1;
* ``userpkg-blocked-demo`` 1.0: the whole package is blocked.

Version 2.1 is served only while the file ``RELEASED`` exists in the index's
directory: a test installs ``userpkg-policy-demo`` before that "release" (and
gets 2.0, the newest then), then makes the file, as the fixed version comes
out.  Pages say ``Cache-Control: no-cache``, so that uv asks again each time.

Nothing else is served: the envs of the policy test are made without a kernel.
The project list, the project pages (PEP 503, with PEP 658 metadata beside each
wheel) and the wheels are answered at once, but for the fixed version's wheel, which takes a
second (the test watches the update's progress on screen).
"""

from __future__ import annotations

import hashlib
import http.server
import re
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

from tests.localindex import build_wheel

PACKAGES = {
    "userpkg_policy_demo": ("1.0", "2.0", "2.1"),
    "userpkg_blocked_demo": ("1.0",),
}

#: The wheel served only once ``RELEASED`` exists.
LATER = "userpkg_policy_demo-2.1-py3-none-any.whl"

#: The file whose existence "releases" ``LATER``.
RELEASED = "userpkg-policy-demo-2.1.released"


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _metadata(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        return zf.read(name)


class PolicyIndex:
    """A PEP 503 simple index of the ``PACKAGES`` wheels, built into ``directory``."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        files: dict[str, bytes] = {}
        links: dict[str, list[tuple[str, str]]] = {}
        for package, versions in PACKAGES.items():
            project = _norm(package)
            for version in versions:
                wheel = build_wheel(directory, package, version)
                data, meta = wheel.read_bytes(), _metadata(wheel)
                files[wheel.name] = data
                files[wheel.name + ".metadata"] = meta
                sha = hashlib.sha256(data).hexdigest()
                meta_sha = hashlib.sha256(meta).hexdigest()
                links.setdefault(project, []).append(
                    (
                        wheel.name,
                        f'<a href="/files/{wheel.name}#sha256={sha}" '
                        f'data-dist-info-metadata="sha256={meta_sha}" '
                        f'data-core-metadata="sha256={meta_sha}">{wheel.name}</a>',
                    )
                )
        listing = "".join(f'<a href="/simple/{p}/">{p}</a>\n' for p in links)
        index = self

        def page(path: str) -> str | None:
            if path == "/simple/":
                return f"<html><body>{listing}</body></html>"
            project = path.removeprefix("/simple/").strip("/")
            if project not in links:
                return None
            anchors = [a for name, a in links[project] if index.serves(name)]
            return f"<html><body>{''.join(anchors)}</body></html>"

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if path.startswith("/simple"):
                    parts = [p for p in path.split("/") if p]
                    path = "/simple/" + "".join(f"{_norm(p)}/" for p in parts[1:])
                text = page(path) if path.startswith("/simple/") else None
                if text is not None:
                    return self._send(text.encode(), "text/html")
                name = path.removeprefix("/files/")
                out = path.startswith("/files/") and name in files
                if out and index.serves(name.removesuffix(".metadata")):
                    if name == LATER:  # the fix's download takes a moment, as a real one
                        time.sleep(1.0)  # does: its progress is on screen to see
                    return self._send(files[name], "application/octet-stream")
                return self._send(b"not found", "text/plain", status=404)

            def _send(self, body: bytes, ctype: str, status: int = 200) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:
                    return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True

    def serves(self, wheel: str) -> bool:
        """Whether a wheel is out: every one but ``LATER`` before its release."""
        return wheel != LATER or (self.directory / RELEASED).exists()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/simple"

    def start(self) -> None:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
