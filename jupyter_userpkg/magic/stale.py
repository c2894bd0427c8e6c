"""Which imported modules a change made stale: shared by the cell's front and its backend.

Standard library only: the front imports it in a kernel that has nothing but
ipykernel (a venv env's), and the backend in the server's interpreter.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import re
import sys
from typing import Any


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


def canonical(name: str) -> str:
    """PEP 503's normalised name (this module cannot import packaging)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def stale_after(changes: list[dict[str, Any]], modules: dict[str, set[str]]) -> list[str]:
    """Changed distributions with a module already imported, said exactly."""
    out = []
    for change in changes:
        imported = sorted(m for m in modules.get(change["name"], ()) if m in sys.modules)
        if not imported:
            continue
        if change["action"] == "remove":
            what = f"{change['name']} {change['old']} was removed"
            # A layer's shadow went: the base's version shows through again.
            with contextlib.suppress(importlib.metadata.PackageNotFoundError):
                base = importlib.metadata.version(change["name"])
                what += f"; {base} from the base is used now"
        elif change["action"] == "add":
            what = f"{change['name']} {change['new']} now shadows the version already imported"
        else:
            what = f"{change['name']} changed {change['old']} -> {change['new']}"
        out.append(f"{what} (imported: {', '.join(imported)})")
    return out
