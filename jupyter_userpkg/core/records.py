"""Frozen records shared by the core and every front end.

Their ``to_dict`` methods produce the JSON shapes of DESIGN.md (``env``,
``package``, ``revision``, ``change``, ``plan``) used by ``--json``, the REST
API and the panel alike.  Those of ``search`` and ``info`` are in
:mod:`.searchrecords` (listing envs need not build them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Action = Literal["add", "remove", "change"]
Source = Literal["pypi", "conda", "base"]


class Deferred(Protocol):
    """Text made on first use: a solve's lock, written out only when a plan is applied."""

    @property
    def text(self) -> str: ...


@dataclass(frozen=True)
class Change:
    """One package's change in a plan or a revision."""

    name: str
    action: Action
    old: str | None
    new: str | None
    source: Source = "pypi"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "action": self.action,
            "old": self.old,
            "new": self.new,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Change:
        return cls(data["name"], data["action"], data.get("old"), data.get("new"), data["source"])


@dataclass(frozen=True)
class Package:
    """One installed package, as ``list`` and the panel show it."""

    name: str
    version: str
    source: Source
    index: str | None
    requested: bool

    def to_dict(self) -> dict[str, Any]:
        """DESIGN's ``package``: a conda package names its ``channel``, others their ``index``."""
        return {
            "name": self.name,
            "version": self.version,
            "source": self.source,
            ("channel" if self.source == "conda" else "index"): self.index,
            "requested": self.requested,
        }


@dataclass(frozen=True)
class RevisionRecord:
    """What one revision did: when, who, which command, which changes."""

    revision: int
    time: str
    command: str
    changes: tuple[Change, ...]
    user: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "time": self.time,
            "command": self.command,
            "user": self.user,
            "changes": [c.to_dict() for c in self.changes],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RevisionRecord:
        return cls(
            revision=int(data["revision"]),
            time=str(data["time"]),
            command=str(data["command"]),
            changes=tuple(Change.from_dict(c) for c in data.get("changes", [])),
            user=str(data.get("user", "")),
        )


@dataclass(frozen=True)
class Plan:
    """A solved change, computed before anything is touched.

    ``manifest_text`` and ``lock_text`` are the files the env will have once the
    plan is applied; ``changes`` is what a user is shown.  The manifest (and a
    conda lock) may be objects that write their text when a plan is applied:
    a dry run never pays for writing files it does not keep.
    """

    env: str
    command: str
    changes: tuple[Change, ...]
    download_bytes: int
    manifest: str | Deferred
    lock_text: str
    from_revision: int
    messages: tuple[str, ...] = field(default=())
    #: The conda lock the env will have (conda envs only): its text, or an
    #: object that writes it on first use (see ``condameta.SolvedLock``).
    conda_lock: str | Deferred = ""

    @property
    def empty(self) -> bool:
        return not self.changes

    @property
    def layered(self) -> bool:
        """The env holds two layers (conda's and PyPI's on top): changes say which."""
        return bool(self.conda_lock)

    @property
    def conda_lock_text(self) -> str:
        lock = self.conda_lock
        return lock if isinstance(lock, str) else lock.text

    @property
    def manifest_text(self) -> str:
        manifest = self.manifest
        return manifest if isinstance(manifest, str) else manifest.text

    def to_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "command": self.command,
            "changes": [c.to_dict() for c in self.changes],
            "download_bytes": self.download_bytes,
            "from_revision": self.from_revision,
            "messages": list(self.messages),
        }


@dataclass(frozen=True)
class EnvInfo:
    """One env as ``envs`` lists it."""

    name: str
    kind: str
    path: str
    kernel: str | None
    packages: int
    revision: int
    python: str
    #: An administrator's shared env: read-only to users (:mod:`.shared`).
    shared: bool = False
    #: A layer over a shared env: that env's name ("" for any other env).
    over: str = ""
    #: What the user must know of it: a name it shares with a shared env, a base that
    #: changed since the layer was solved against it.
    notes: tuple[str, ...] = ()
    #: What the env holds that the administrator's policy now refuses, with the fix.
    advisories: tuple[dict[str, Any], ...] = ()
    #: Every kernelspec of the env (the Python one and those its packages ship):
    #: ``{"name", "display_name", "language"}`` each.
    kernels: tuple[dict[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "shared": self.shared,
            "over": self.over,
            "notes": list(self.notes),
            "kind": self.kind,
            "path": self.path,
            "kernel": self.kernel,
            "kernels": [dict(k) for k in self.kernels],
            "packages": self.packages,
            "revision": self.revision,
            "python": self.python,
            "advisories": list(self.advisories),
        }


@dataclass(frozen=True)
class Result:
    """What an applied change did: the plan and the revision it recorded."""

    plan: Plan
    revision: int | None
    applied: bool
    #: Seconds spent per phase (solve, journal, install, commit), for benchmarks.
    timings: dict[str, float] = field(default_factory=dict)
    #: What the user must know of a change that stands (its audit record was not written).
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": self.plan.to_dict(),
            "revision": self.revision,
            "applied": self.applied,
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
            "notes": list(self.notes),
        }


#: Confirmation callback: sees the plan before anything is touched, returns whether to apply it.
ConfirmFn = Callable[[Plan], bool]
#: A check of a plan before it is applied (the policy's place); raises to refuse it.
CheckFn = Callable[[Plan], None]
