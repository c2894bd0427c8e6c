"""A small package index on loopback for ``search`` and ``info``: PEP 691 (or PEP 503 HTML).

It serves ``/simple/`` (the project list), ``/simple/<name>/`` (files with
requires-python and yanked) and PyPI's JSON API ``/pypi/<name>/json`` for the
projects that have it, and records every path asked for, so a test can tell
that nothing reached it.  ``stop()`` closes the port: the index is then
unreachable, as a server that went away.
"""

from __future__ import annotations

import html
import http.server
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any


def key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class Project:
    name: str
    summary: str = ""
    #: version -> (requires-python, yanked)
    versions: dict[str, tuple[str | None, bool]] = field(default_factory=dict)
    #: Fields of the JSON API's ``info`` (license, license_expression, classifiers...).
    info: dict[str, Any] = field(default_factory=dict)
    #: Whether ``/pypi/<name>/json`` answers for it (else 404: an index without the API).
    json_api: bool = True
    #: Listed, but its pages are gone (404), as a deleted project in a stale list.
    gone: bool = False


class SearchIndex:
    """The index's projects and its HTTP server (started on construction)."""

    def __init__(self, projects: list[Project], *, html_pages: bool = False) -> None:
        self.projects = {key(p.name): p for p in projects}
        self.html_pages = html_pages
        self.requests: list[str] = []
        index = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                index.requests.append(self.path)
                status, kind, body = index.answer(self.path)
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/simple"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------------ pages

    def answer(self, path: str) -> tuple[int, str, str]:
        path = path.split("?")[0]
        if path == "/simple/":
            return self.project_list()
        match = re.fullmatch(r"/(?:simple/([^/]+)/|pypi/([^/]+)/json)", path)
        project = self.projects.get((match.group(1) or match.group(2)) if match else "")
        if match and project is not None and not project.gone:
            if match.group(1):
                return self.project_page(project)
            if project.json_api:
                return 200, "application/json", json.dumps(self.json_api(project))
        return 404, "text/plain", "not found"

    def project_list(self) -> tuple[int, str, str]:
        if self.html_pages:
            anchors = "".join(
                f'<a href="/simple/{k}/">{html.escape(p.name)}</a>\n'
                for k, p in self.projects.items()
            )
            return 200, "text/html", f"<!DOCTYPE html><html><body>\n{anchors}</body></html>"
        body = {
            "meta": {"api-version": "1.0"},
            "projects": [{"name": p.name} for p in self.projects.values()],
        }
        return 200, "application/vnd.pypi.simple.v1+json", json.dumps(body)

    def files(self, project: Project) -> list[dict[str, Any]]:
        out = []
        for version, (requires, yanked) in project.versions.items():
            filename = f"{key(project.name).replace('-', '_')}-{version}.tar.gz"
            out.append(
                {
                    "filename": filename,
                    "url": f"https://files.invalid/{filename}",
                    "hashes": {"sha256": "0" * 64},
                    "requires-python": requires,
                    "yanked": yanked,
                }
            )
        return out

    def project_page(self, project: Project) -> tuple[int, str, str]:
        files = self.files(project)
        if self.html_pages:
            anchors = []
            for f in files:
                attrs = f'href="{f["url"]}"'
                if f["requires-python"]:
                    attrs += f' data-requires-python="{html.escape(f["requires-python"])}"'
                if f["yanked"]:
                    attrs += ' data-yanked=""'
                anchors.append(f"<a {attrs}>{f['filename']}</a><br/>\n")
            return 200, "text/html", "<html><body>\n" + "".join(anchors) + "</body></html>"
        body = {"meta": {"api-version": "1.0"}, "name": key(project.name), "files": files}
        return 200, "application/vnd.pypi.simple.v1+json", json.dumps(body)

    def json_api(self, project: Project) -> dict[str, Any]:
        finals = [v for v, (_, yanked) in project.versions.items() if not yanked]
        info = {
            "name": project.name,
            "summary": project.summary,
            "version": finals[-1] if finals else "",
            "requires_python": project.versions.get(finals[-1], (None, False))[0]
            if finals
            else None,
            "license": None,
            "license_expression": None,
            "classifiers": [],
            "home_page": None,
            "project_urls": None,
            **project.info,
        }
        releases = {
            v: [{"filename": f"x-{v}.tar.gz", "yanked": yanked}]
            for v, (_, yanked) in project.versions.items()
        }
        return {"info": info, "releases": releases, "urls": []}
