"""Frozen records of ``search`` and ``info``, shared by the core and every front end.

Apart from :mod:`.records` so that the verbs that never search (``envs`` above
all, whose start-up is measured) do not pay for building these classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class SearchHit:
    """One package a search found: where, how well it matched, what is known of it."""

    name: str
    source: Literal["pypi", "conda"]
    #: The index URL (PyPI) or the channel URL (conda) it comes from.
    where: str
    match: Literal["exact", "segment", "prefix", "substring"]
    version: str | None = None
    summary: str | None = None
    #: Why the administrator's policy refuses it (rule, reason, advisory), if it does.
    blocked: dict[str, str] | None = None
    #: True when the administrator's filtered mirror holds it (found in its search
    #: index); None when no mirror says either way.
    mirror: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            ("index" if self.source == "pypi" else "channel"): self.where,
            "version": self.version,
            "summary": self.summary,
            "match": self.match,
            "blocked": self.blocked,
            "in_mirror": self.mirror,
        }


@dataclass(frozen=True)
class SearchResult:
    """A search: the hits, ranked; notes for the user; whether caches stood in for the network."""

    query: str
    results: tuple[SearchHit, ...]
    notes: tuple[str, ...] = ()
    offline: bool = False
    #: Names one edit away from the query when none is the query itself ("did you mean").
    suggestions: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "results": [h.to_dict() for h in self.results],
            "notes": list(self.notes),
            "offline": self.offline,
            "suggestions": list(self.suggestions),
        }


@dataclass(frozen=True)
class PackageInfo:
    """What ``info`` says of one package, from an index (PyPI) or a channel (conda)."""

    name: str
    source: Literal["pypi", "conda"]
    where: str
    summary: str | None = None
    #: Newest first.
    versions: tuple[str, ...] = ()
    latest: str | None = None
    license: str | None = None
    home_page: str | None = None
    requires_python: str | None = None
    notes: tuple[str, ...] = ()
    offline: bool = False
    #: conda only: the latest build's dependencies and subdir.
    depends: tuple[str, ...] = ()
    subdir: str | None = None
    #: The policy's verdict on the package as a whole, and on single versions.
    blocked: dict[str, str] | None = None
    blocked_versions: dict[str, dict[str, str]] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "source": self.source,
            ("index" if self.source == "pypi" else "channel"): self.where,
            "summary": self.summary,
            "versions": list(self.versions),
            "latest": self.latest,
            "license": self.license,
            "home_page": self.home_page,
            "requires_python": self.requires_python,
            "notes": list(self.notes),
            "offline": self.offline,
            "blocked": self.blocked,
            "blocked_versions": self.blocked_versions or {},
        }
        if self.source == "conda":
            out["depends"] = list(self.depends)
            out["subdir"] = self.subdir
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PackageInfo:
        """The inverse of :meth:`to_dict` (details are cached on disk in this shape)."""
        source: Literal["pypi", "conda"] = "conda" if data.get("source") == "conda" else "pypi"
        return cls(
            name=str(data["name"]),
            source=source,
            where=str(data.get("index" if source == "pypi" else "channel") or ""),
            summary=data.get("summary"),
            versions=tuple(str(v) for v in data.get("versions", ())),
            latest=data.get("latest"),
            license=data.get("license"),
            home_page=data.get("home_page"),
            requires_python=data.get("requires_python"),
            notes=tuple(str(n) for n in data.get("notes", ())),
            offline=bool(data.get("offline", False)),
            depends=tuple(str(d) for d in data.get("depends", ())),
            subdir=data.get("subdir"),
        )
