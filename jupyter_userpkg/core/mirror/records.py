"""Frozen values of the mirror: who asked, what was asked, and each decision."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Source = Literal["pypi", "conda"]


@dataclass(frozen=True, order=True)
class Need:
    """Who needed a package: a user's env, or a seed file of the administrator."""

    user: str = ""
    env: str = ""
    seed: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"seed": self.seed} if self.seed else {"user": self.user, "env": self.env}

    def __str__(self) -> str:
        return f"seed {self.seed}" if self.seed else f"{self.user}/{self.env}"


@dataclass(frozen=True)
class Group:
    """Requests that live together (one env, one seed file): solved together.

    ``locked`` are (source, name, version) that an env runs; ``channels`` the conda
    channels an env named (the mirror solves against its own upstreams)."""

    need: Need
    pypi: tuple[str, ...] = ()
    conda: tuple[str, ...] = ()
    locked: tuple[tuple[Source, str, str], ...] = ()
    python: str = ""


@dataclass(frozen=True)
class Decision:
    """One package version considered: in or out, by which rule, with what evidence,
    needed by whom and through which dependency path.  Conda decisions are per file
    (``channel``/``subdir``/``filename``)."""

    source: Source
    name: str
    version: str
    decision: Literal["in", "out"]
    rule: str
    evidence: str = ""
    needed_by: tuple[Need, ...] = ()
    path: tuple[str, ...] = ()
    channel: str = ""
    subdir: str = ""
    filename: str = ""

    @property
    def key(self) -> str:
        if self.source == "conda":
            return f"conda/{self.channel}/{self.subdir}/{self.filename}"
        return f"pypi/{self.name}/{self.version}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "version": self.version,
            "source": self.source,
            "decision": self.decision,
            "rule": self.rule,
            "evidence": self.evidence,
            "needed_by": [n.to_dict() for n in self.needed_by],
            "path": list(self.path),
        }
        if self.source == "conda":
            out.update(channel=self.channel, subdir=self.subdir, filename=self.filename)
        return out


@dataclass(frozen=True)
class Broken:
    """A user's env whose lock holds a version the new mirror will not hold."""

    need: Need
    source: Source
    name: str
    version: str
    why: str

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.need.to_dict(),
            "source": self.source,
            "name": self.name,
            "version": self.version,
            "why": self.why,
        }


@dataclass(frozen=True)
class Closure:
    """What the mirror should hold: every decision (in and out) and what could not be read."""

    decisions: tuple[Decision, ...]
    notes: tuple[str, ...] = ()
    groups: tuple[Group, ...] = field(default=(), compare=False)

    def wanted(self) -> dict[str, Decision]:
        return {d.key: d for d in self.decisions if d.decision == "in"}
