"""Which requested PyPI names no configured source has: each looked up once, side by side.

uv's resolver stops at the first requested name the index lacks and names that one
only.  Naming them all by solving again without each one costs a solve per missing
name, and every solve asks the index about every remaining name: 150 missing names
made 13,362 requests.  Once a solve fails on a missing name, each requested name's
project page (PEP 503/691) is fetched instead, once per index, many at a time, and
the find-links locations are listed once; the names no source has are reported
together, and nothing is solved again.  A name that cannot be judged (an index that
does not answer, offline) is not called missing: uv's own word stands for it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from ..options import UvOptions
from ..specs import canonical_name

#: Project pages fetched at once (one connection pool, that of :func:`.pypiindex.client`).
WORKERS = 16


def absent(options: UvOptions, names: Sequence[str]) -> list[str]:
    """The ``names`` (canonical, in their order) that no index and no find-links
    location of ``options`` has; those that cannot be told are left out."""
    from .index import index_url

    if options.offline:
        return []
    keys = list(dict.fromkeys(canonical_name(n) for n in names))
    linked = _find_links_names(options.find_links)
    keys = [k for k in keys if k not in linked]
    indexes = list(dict.fromkeys([*options.extra_index_urls, index_url(options)]))
    with ThreadPoolExecutor(max_workers=min(WORKERS, max(len(keys), 1))) as pool:
        lacking = list(pool.map(lambda key: _lacking(indexes, key), keys))
    return [k for k, lacks in zip(keys, lacking, strict=True) if lacks]


def _lacking(indexes: Sequence[str], key: str) -> bool:
    """Whether every index answers "no such project" for ``key`` (404 or 410)."""
    import httpx

    from .index import _ACCEPT, client

    for index in indexes:
        try:
            response = client().get(f"{index.rstrip('/')}/{key}/", headers={"Accept": _ACCEPT})
        except httpx.HTTPError:
            return False  # not known: uv's own word stands
        if response.status_code not in (404, 410):
            return False
    return True


def _find_links_names(locations: Sequence[str]) -> set[str]:
    """Canonical project names of the distribution files in the find-links locations
    (directories, or pages of links); a location that cannot be read lists nothing."""
    out: set[str] = set()
    for location in locations:
        for filename in _filenames(location):
            name = _project_of(filename)
            if name:
                out.add(name)
    return out


def _filenames(location: str) -> list[str]:
    import httpx

    from .index import client
    from .pages import page_files

    parts = urlsplit(location)
    if parts.scheme in ("http", "https"):
        try:
            response = client().get(location)
            files = page_files(response) if response.status_code == 200 else []
        except (httpx.HTTPError, ValueError, KeyError):
            return []
        return [str(f.get("filename") or "") for f in files]
    path = parts.path if parts.scheme == "file" else location
    try:
        return os.listdir(path)
    except OSError:
        return []


def _project_of(filename: str) -> str | None:
    """The canonical project name a wheel's or sdist's file name carries."""
    from .pages import dist_name_version

    found = dist_name_version(filename)
    return canonical_name(found[0]) if found is not None else None
