"""The PyPI side of the served tree: PEP 503 HTML and PEP 691 JSON project pages,
each file announced with its sha256 and, for wheels, its PEP 658 metadata file.

Links are relative (``../../files/<file>``), so the tree can be served under any
path of any host.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from dataclasses import dataclass

from packaging.utils import InvalidWheelFilename, parse_wheel_filename

JSON_META = {"api-version": "1.1"}


@dataclass(frozen=True)
class ServedFile:
    filename: str
    sha256: str
    size: int
    requires_python: str = ""
    upload_time: str = ""
    metadata_sha256: str = ""


def _platform_fits(tag_platform: str, platform: str) -> bool:
    if tag_platform == "any":
        return True
    name = platform.lower()
    arm = "aarch64" in name or "arm64" in name
    if "linux" in name:  # uv's "linux" is x86_64
        arch = "aarch64" if arm else "x86_64"
        return tag_platform.startswith(("manylinux", "musllinux", "linux")) and (
            tag_platform.endswith(arch)
        )
    if "macos" in name or "darwin" in name or "apple" in name:
        return tag_platform.startswith("macosx")
    if "windows" in name or name.startswith("win"):
        return tag_platform == ("win_arm64" if arm else "win_amd64")
    return True


def _python_fits(interpreter: str, abi: str, python: str) -> bool:
    major, minor = python.split(".")[:2]
    if interpreter in ("py3", f"py{major}", f"py{major}{minor}", f"cp{major}{minor}"):
        return True
    if abi == "abi3" and interpreter.startswith(f"cp{major}"):
        return int(interpreter[3:] or 0) <= int(minor)
    return False


def wheel_fits(filename: str, pythons: Iterable[str], platforms: Iterable[str]) -> bool:
    """Can some configured Python x platform install this wheel?  (sdists always fit)"""
    if not filename.endswith(".whl"):
        return True
    try:
        tags = parse_wheel_filename(filename)[3]
    except InvalidWheelFilename:
        return False
    pythons, platforms = list(pythons), list(platforms)
    return any(
        _python_fits(t.interpreter, t.abi, py) and _platform_fits(t.platform, pl)
        for t in tags
        for py in pythons
        for pl in platforms
    )


def project_html(name: str, files: list[ServedFile]) -> str:
    links = []
    for f in files:
        attrs = f'href="../../files/{html.escape(f.filename)}#sha256={f.sha256}"'
        if f.requires_python:
            attrs += f' data-requires-python="{html.escape(f.requires_python)}"'
        if f.metadata_sha256:
            meta = f"sha256={f.metadata_sha256}"
            attrs += f' data-core-metadata="{meta}" data-dist-info-metadata="{meta}"'
        links.append(f"    <a {attrs}>{html.escape(f.filename)}</a><br/>")
    body = "\n".join(links)
    return (
        '<!DOCTYPE html>\n<html>\n  <head>\n    <meta name="pypi:repository-version" '
        f'content="1.1">\n    <title>Links for {html.escape(name)}</title>\n  </head>\n'
        f"  <body>\n    <h1>Links for {html.escape(name)}</h1>\n{body}\n  </body>\n</html>\n"
    )


def project_json(name: str, versions: list[str], files: list[ServedFile]) -> str:
    items = []
    for f in files:
        item: dict[str, object] = {
            "filename": f.filename,
            "url": f"../../files/{f.filename}",
            "hashes": {"sha256": f.sha256},
            "size": f.size,
            "requires-python": f.requires_python or None,
            "yanked": False,
        }
        if f.upload_time:
            item["upload-time"] = f.upload_time
        if f.metadata_sha256:
            item["core-metadata"] = {"sha256": f.metadata_sha256}
            item["dist-info-metadata"] = {"sha256": f.metadata_sha256}
        items.append(item)
    body = {"meta": JSON_META, "name": name, "versions": versions, "files": items}
    return json.dumps(body, indent=1)


def root_html(names: list[str]) -> str:
    links = "\n".join(f'    <a href="{n}/">{html.escape(n)}</a><br/>' for n in names)
    return (
        '<!DOCTYPE html>\n<html>\n  <head>\n    <meta name="pypi:repository-version" '
        'content="1.1">\n    <title>Simple index</title>\n  </head>\n'
        f"  <body>\n{links}\n  </body>\n</html>\n"
    )


def root_json(names: list[str]) -> str:
    return json.dumps({"meta": JSON_META, "projects": [{"name": n} for n in names]}, indent=1)
