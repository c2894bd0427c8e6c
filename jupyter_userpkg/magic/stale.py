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

from ..core.importnames import top_level_modules

__all__ = ["canonical", "stale_after", "top_level_modules"]


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
