"""A local PyPI-style index whose wheels download slowly (for the cancel test).

It serves each wheel's metadata at once (PEP 658: ``<wheel>.metadata``), so
resolving, and the plan preview, are quick; only the download of the wheel
itself, during the install, is slow: ``SLOW_SECONDS`` per 64 KiB.  The one
package, ``userpkg-slow-demo``, is a test wheel with incompressible padding
(``tests.localindex.build_wheel``): its download takes about half a minute,
long enough for a person, or a test, to press cancel while it runs.
"""

from __future__ import annotations

import hashlib
import http.server
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

from tests.localindex import build_wheel

PACKAGE = "userpkg_slow_demo"
VERSION = "1.0"
PADDING = 4 * 1024 * 1024
SLOW_SECONDS = 0.5
CHUNK = 65536


def _metadata(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        return zf.read(name)


class SlowIndex:
    """A PEP 503 simple index of the wheels built into ``directory``, on loopback."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        wheel = build_wheel(directory, PACKAGE, VERSION, padding=PADDING)
        files = {
            wheel.name: (wheel.read_bytes(), True),
            wheel.name + ".metadata": (_metadata(wheel), False),
        }
        sha = {name: hashlib.sha256(data).hexdigest() for name, (data, _) in files.items()}
        project = PACKAGE.replace("_", "-")
        link = (
            f'<a href="/files/{wheel.name}#sha256={sha[wheel.name]}" '
            f'data-dist-info-metadata="sha256={sha[wheel.name + ".metadata"]}" '
            f'data-core-metadata="sha256={sha[wheel.name + ".metadata"]}">{wheel.name}</a>'
        )
        pages = {
            "/simple/": f'<html><body><a href="/simple/{project}/">{project}</a></body></html>',
            f"/simple/{project}/": f"<html><body>{link}</body></html>",
        }

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if not path.endswith("/") and path.startswith("/simple"):
                    path += "/"
                if path in pages:
                    return self._send(pages[path].encode(), "text/html", slow=False)
                name = path.removeprefix("/files/")
                if path.startswith("/files/") and name in files:
                    data, slow = files[name]
                    return self._send(data, "application/octet-stream", slow=slow)
                return self._send(b"not found", "text/plain", slow=False, status=404)

            def _send(self, body: bytes, ctype: str, *, slow: bool, status: int = 200) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                for start in range(0, len(body), CHUNK):
                    if slow:
                        time.sleep(SLOW_SECONDS)
                    try:
                        self.wfile.write(body[start : start + CHUNK])
                    except OSError:
                        return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/simple"

    def start(self) -> None:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
