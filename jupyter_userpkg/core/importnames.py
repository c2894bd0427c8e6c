"""What installed packages say of themselves: import names, and what needs what.

A plan names distributions (``python-slugify``), a kernel knows modules
(``slugify``); the two are joined by what the installed distribution says of
itself: its ``top_level.txt``, else the top-level entries of its ``RECORD``.
Read before a change is applied, while the files of what it replaces or
removes are still there.  Which packages of an env need a package comes from
their metadata (``Requires-Dist``; a conda package's ``depends`` in
``conda-meta``).  Standard library only.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
from collections.abc import Iterable
from pathlib import Path

_SEPARATORS = re.compile(r"[-_.]+")
_REQUIREMENT_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_EXTRA_MARKER = re.compile(r"\bextra\s*==")


def canonical(name: str) -> str:
    """PEP 503's normalised name."""
    return _SEPARATORS.sub("-", name).lower()


def top_level_modules(dist: importlib.metadata.Distribution) -> set[str]:
    """Import names a distribution provides (``top_level.txt``, else its files)."""
    text = dist.read_text("top_level.txt")
    if text:
        return {line.strip() for line in text.splitlines() if line.strip()}
    names: set[str] = set()
    for path in dist.files or ():
        parts = path.parts
        if not parts or parts[0].endswith((".dist-info", ".egg-info")) or parts[0] == "..":
            continue
        first = parts[0]
        if first.endswith(".py"):
            names.add(first[:-3])
        elif len(parts) > 1 and first != "__pycache__" and not first.endswith(".data"):
            names.add(first)
    return names


def site_dirs(prefix: Path) -> list[Path]:
    """The site-packages dirs of an env's prefix, then those of this interpreter (the base
    a layer env sees)."""
    import site
    import sys

    own = [*(prefix / "lib").glob("python*/site-packages"), prefix / "Lib" / "site-packages"]
    base = [Path(p) for p in (*site.getsitepackages(), *sys.path) if p.endswith("site-packages")]
    return list(dict.fromkeys(p for p in (*sorted(own), *base) if p.is_dir()))


def plan_modules(prefix: Path, plan: dict[str, object]) -> dict[str, list[str]]:
    """The import names of what a plan replaces or removes, read from the env's files
    before it is applied (``plan["changes"]`` as the REST API shapes them)."""
    changes = plan.get("changes")
    names = [
        str(c["name"])
        for c in (changes if isinstance(changes, list) else [])
        if isinstance(c, dict) and c.get("action") in ("remove", "change")
    ]
    return import_names(site_dirs(prefix), names)


def import_names(paths: Iterable[Path], names: Iterable[str]) -> dict[str, list[str]]:
    """For each of ``names`` installed in one of ``paths`` (site-packages dirs, searched in
    order), the import names it provides, sorted; names not installed there are left out."""
    wanted = {canonical(n): n for n in names}
    found: dict[str, list[str]] = {}
    if not wanted:
        return found
    dirs = [str(p) for p in paths if Path(p).is_dir()]
    for dist in importlib.metadata.distributions(path=dirs):
        name = dist.metadata["Name"] or ""
        key = canonical(name)
        if key in wanted and wanted[key] not in found:
            modules = top_level_modules(dist)
            if modules:
                found[wanted[key]] = sorted(modules)
    return found


def required_by(prefix: Path, name: str) -> list[str]:
    """The packages installed in the env at ``prefix`` (not its base) that depend on
    ``name``, sorted: PyPI distributions by their ``Requires-Dist`` (those only an extra
    asks for left out), conda packages by their ``depends``."""
    key = canonical(name)
    found: set[str] = set()
    own = [*(prefix / "lib").glob("python*/site-packages"), prefix / "Lib" / "site-packages"]
    dirs = [str(p) for p in own if p.is_dir()]
    for dist in importlib.metadata.distributions(path=dirs) if dirs else ():
        for spec in dist.requires or ():
            wanted, _, marker = spec.partition(";")
            match = _REQUIREMENT_NAME.match(wanted)
            if match and canonical(match[1]) == key and not _EXTRA_MARKER.search(marker):
                found.add(dist.metadata["Name"] or "")
    for record in sorted((prefix / "conda-meta").glob("*.json")):
        try:
            meta = json.loads(record.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for spec in meta.get("depends") or ():
            first = str(spec).split()[0] if str(spec).split() else ""
            if canonical(first) == key:
                found.add(str(meta.get("name", "")))
    found.discard("")
    return sorted(found, key=canonical)
