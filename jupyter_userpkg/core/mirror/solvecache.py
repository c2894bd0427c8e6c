"""uv's answers kept between syncs: a solve is asked again only when the upstream
pages of the packages it chose changed (or the requests, exclusions, target or
snapshot did).  A solution whose packages' pages are all as they were is the
solution uv would give again, so a sync with nothing new runs no solver."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .engines import atomic_write

Pins = tuple[dict[str, str], dict[str, list[str]]]


class SolveCache:
    def __init__(self, path: Path | None, digest_of: Callable[[str], str]) -> None:
        self.path = path
        self.digest_of = digest_of
        self.entries: dict[str, Any] = {}
        self.used: dict[str, Any] = {}
        if path is not None:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                self.entries = data if isinstance(data, dict) else {}
            except (OSError, ValueError):
                self.entries = {}

    @staticmethod
    def key(*parts: object) -> str:
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    def get(self, key: str) -> Pins | None:
        entry = self.entries.get(key)
        if not isinstance(entry, dict):
            return None
        pages = entry.get("pages", {})
        if any(self.digest_of(name) != digest for name, digest in pages.items()):
            return None
        self.used[key] = entry
        return dict(entry["pins"]), {k: list(v) for k, v in entry["parents"].items()}

    def names(self) -> set[str]:
        """Every package the kept solves chose (their pages are read again to check them)."""
        return {n for e in self.entries.values() if isinstance(e, dict) for n in e.get("pages", {})}

    def put(self, key: str, pins: Pins) -> None:
        pages = {name: self.digest_of(name) for name in pins[0]}
        self.used[key] = {"pins": pins[0], "parents": pins[1], "pages": pages}

    def save(self) -> None:
        """Keep the solves this run used (the others belong to requests that are gone)."""
        if self.path is not None:
            atomic_write(self.path, json.dumps(self.used, sort_keys=True))
