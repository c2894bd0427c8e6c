"""Reading what a PyPI-style index serves: its project list, a project page, the JSON API.

Kept apart from the fetching (:mod:`.pypiindex`) so that the rules (which
licence field wins, which versions count, what a static mirror's HTML means)
read in one place.  Pages come in two forms: PEP 691 JSON, and the PEP 503
HTML that static mirrors serve (and that some indexes send whatever one asks).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..namematch import normalize
from ..searchrecords import PackageInfo

if TYPE_CHECKING:
    import httpx
    from packaging.version import Version

_ANCHOR = re.compile(r"<a\s([^>]*)>([^<]*)</a>", re.IGNORECASE)
_ATTR = re.compile(r"([A-Za-z][\w-]*)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'))?")
#: Project URL labels that name a home page, in order of preference (lowercase).
_HOME_LABELS = ("homepage", "home", "home page", "documentation", "source", "repository")
_ODD_EXTENSIONS = (".tar.bz2", ".tar.xz", ".tgz", ".tar", ".egg", ".exe", ".msi", ".rpm", ".dmg")
#: A licence field longer than this is the licence's text, not its name.
_LICENSE_NAME_MAX = 120


def _is_json(response: httpx.Response) -> bool:
    kind = str(response.headers.get("content-type", "")).split(";")[0].strip().lower()
    return kind.endswith("json")


def project_names(response: httpx.Response) -> list[str]:
    """The project names of an index's root page (``projects`` of PEP 691, else the anchors)."""
    if _is_json(response):
        return [str(p["name"]) for p in response.json()["projects"]]
    return [html.unescape(text).strip() for _, text in _ANCHOR.findall(response.text)]


def _version(text: str) -> Version | None:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(text)
    except InvalidVersion:
        return None


def newest_first(versions: Iterable[str]) -> list[str]:
    """Versions, newest first; ones that do not parse go last, in their order."""
    parsed = [(v, _version(v)) for v in dict.fromkeys(versions)]
    good = sorted((p for p in parsed if p[1] is not None), key=lambda p: p[1], reverse=True)  # type: ignore[arg-type, return-value]
    return [v for v, _ in good] + [v for v, p in parsed if p is None]


def latest_of(versions: list[str]) -> str | None:
    """The newest final release, else the newest of all (newest-first input)."""
    for text in versions:
        parsed = _version(text)
        if parsed is not None and not parsed.is_prerelease:
            return text
    return versions[0] if versions else None


def license_of(info: dict[str, Any]) -> str | None:
    """License-Expression, else the licence field (if it is a name), else the classifiers."""
    expression = (info.get("license_expression") or "").strip()
    if expression:
        return str(expression)
    field = (info.get("license") or "").strip()
    if field and "\n" not in field and len(field) <= _LICENSE_NAME_MAX:
        return str(field)
    classified = [
        c.split("::")[-1].strip()
        for c in info.get("classifiers") or ()
        if isinstance(c, str) and c.startswith("License ::") and c.count("::") >= 2
    ]
    if classified:
        return ", ".join(dict.fromkeys(classified))
    if field:
        first = field.splitlines()[0].strip()
        return first[: _LICENSE_NAME_MAX - 1] + "…" if len(first) > _LICENSE_NAME_MAX else first
    return None


def home_page_of(info: dict[str, Any]) -> str | None:
    if info.get("home_page"):
        return str(info["home_page"])
    urls = {str(k).strip().lower(): str(v) for k, v in (info.get("project_urls") or {}).items()}
    return next((urls[label] for label in _HOME_LABELS if urls.get(label)), None)


def from_json_api(data: dict[str, Any], index: str) -> PackageInfo:
    """Details from ``/pypi/<name>/json``: releases with a file that is not yanked."""
    info = data["info"]
    releases: dict[str, list[dict[str, Any]]] = data.get("releases") or {}
    offered = [v for v, files in releases.items() if any(not f.get("yanked") for f in files)]
    versions = newest_first(offered or [str(info["version"])])
    latest = str(info["version"]) if str(info["version"]) in versions else latest_of(versions)
    return PackageInfo(
        name=str(info["name"]),
        source="pypi",
        where=index,
        summary=(info.get("summary") or "").strip() or None,
        versions=tuple(versions),
        latest=latest,
        license=license_of(info),
        home_page=home_page_of(info),
        requires_python=(info.get("requires_python") or "").strip() or None,
    )


def dist_name_version(filename: str) -> tuple[str, str] | None:
    """The (name, version) a wheel's or sdist's file name carries, or None."""
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )

    try:
        if filename.endswith(".whl"):
            name, version, *_ = parse_wheel_filename(filename)
            return str(name), str(version)
        if filename.endswith((".tar.gz", ".zip")):
            name, version = parse_sdist_filename(filename)
            return str(name), str(version)
    except (InvalidWheelFilename, InvalidSdistFilename):
        pass
    return None


def file_version(filename: str, key: str) -> str | None:
    """The version a distribution file's name carries (wheels, sdists, older formats)."""
    found = dist_name_version(filename)
    if found is not None:
        return found[1]
    stem = filename
    for ext in (".tar.gz", ".zip", *_ODD_EXTENSIONS):
        if stem.endswith(ext):
            stem = stem[: -len(ext)]
            break
    match = re.match(r"(.+?)-(\d[^-]*)", stem)
    if match and normalize(match.group(1)) == key:
        return match.group(2)
    return None


def page_files(response: httpx.Response) -> list[dict[str, Any]]:
    """A project page's files as PEP 691 has them: filename, url (as written: relative
    to the page or absolute), yanked, requires-python, core-metadata (PEP 658/714)."""
    if _is_json(response):
        return list(response.json()["files"])
    files = []
    for attrs, text in _ANCHOR.findall(response.text):
        found = {m.group(1).lower(): m.group(2) or m.group(3) or "" for m in _ATTR.finditer(attrs)}
        files.append(
            {
                "filename": html.unescape(text).strip(),
                "url": html.unescape(found.get("href", "")),
                "yanked": "data-yanked" in found,
                "requires-python": html.unescape(found.get("data-requires-python", "")) or None,
                "core-metadata": "data-core-metadata" in found
                or "data-dist-info-metadata" in found,
            }
        )
    return files


def from_project_page(response: httpx.Response, key: str, name: str, index: str) -> PackageInfo:
    """Details from a PEP 691 (or PEP 503) project page: versions and requires-python only."""
    by_version: dict[str, list[dict[str, Any]]] = {}
    for f in page_files(response):
        version = file_version(str(f.get("filename", "")), key)
        if version is not None:
            by_version.setdefault(version, []).append(f)
    offered = [v for v, files in by_version.items() if any(not f.get("yanked") for f in files)]
    versions = newest_first(offered)
    latest = latest_of(versions)
    requires = next(
        (
            str(f["requires-python"])
            for f in by_version.get(latest or "", ())
            if f.get("requires-python")
        ),
        None,
    )
    return PackageInfo(
        name=name,
        source="pypi",
        where=index,
        versions=tuple(versions),
        latest=latest,
        requires_python=requires,
        notes=("this index has no JSON API: summary, licence and home page are not known",),
    )
