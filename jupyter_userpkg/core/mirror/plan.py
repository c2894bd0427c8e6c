"""``mirror plan``: the closure compared with the published snapshot, written nowhere.

What a sync would add, keep and remove (with each one's reason), what the
policy leaves out and who asked for it, and which users' envs a change would
break: an env whose lock holds a version the new mirror will not hold.
Something that leaves the closure stays served for ``grace_days`` and goes with
``sync --prune`` after that.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .condaclosure import ChannelData, conda_closure
from .config import MirrorConfig
from .engines import Policy, normalize
from .pagecache import PageCache
from .pypiclosure import Found, pypi_closure
from .records import Broken, Closure, Decision, Group, Source
from .seeds import collect
from .solvecache import SolveCache
from .upstream import Upstream

CURRENT = "current"
SNAPSHOT = "snapshot.json"
#: uv's solves kept between syncs (written by sync only).
SOLVES = ".solves.json"
#: Upstream project pages kept for conditional requests (written by sync only).
PAGES = ".pages"


@dataclass(frozen=True)
class Leaving:
    """A key the new closure does not hold: since when, and when it may go."""

    key: str
    since: str
    due: str
    removed: bool
    decision: Decision | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "key": self.key, "since": self.since, "after": self.due, "removed": self.removed,
        }  # fmt: skip
        if self.decision is not None:
            out.update(rule=self.decision.rule, evidence=self.decision.evidence)
        return out


@dataclass(frozen=True)
class MirrorPlan:
    add: tuple[Decision, ...]
    keep: tuple[Decision, ...]
    remove: tuple[Leaving, ...]
    refused: tuple[Decision, ...]
    broken: tuple[Broken, ...]
    notes: tuple[str, ...]
    policy_sha256: str
    first: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "add": [d.to_dict() for d in self.add],
            "keep": [d.to_dict() for d in self.keep],
            "remove": [r.to_dict() for r in self.remove],
            "refused": [d.to_dict() for d in self.refused],
            "broken": [b.to_dict() for b in self.broken],
            "notes": list(self.notes),
            "policy_sha256": self.policy_sha256,
            "first_sync": self.first,
        }


@dataclass
class Built:
    """The plan with what a sync needs to write it (the upstreams as read)."""

    plan: MirrorPlan
    closure: Closure
    policy: Policy
    upstream: Upstream
    cache: SolveCache
    channels: list[ChannelData] = field(default_factory=list)
    #: key -> when it left the closure (kept in the snapshot until pruned).
    leaving: dict[str, str] = field(default_factory=dict)

    def inputs_digest(self) -> str:
        """One hash of everything a snapshot is made from: what it serves and why, what
        leaves and when, the policy, the upstream pages of the served projects and each
        channel's upstream repodata.  The same hash: the same snapshot."""
        served = sorted((k, d.to_dict()) for k, d in self.served().items())
        pages = sorted({d.name for d in self.served().values() if d.source == "pypi"})
        data = {
            "served": served,
            "leaving": [lv.to_dict() for lv in self.plan.remove],
            "policy": self.plan.policy_sha256,
            "pages": [self.upstream.digest(n) for n in pages],
            "repodata": [sorted(c.digests.items()) for c in self.channels],
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()

    def served(self) -> dict[str, Decision]:
        """Every key the new snapshot holds: the closure and what is still in its grace."""
        out = self.closure.wanted()
        for leaving in self.plan.remove:
            if not leaving.removed and leaving.decision is not None:
                out[leaving.key] = leaving.decision
        return out


#: Policy fields that say how users reach, search and ask the mirror, not what it holds:
#: a change of them publishes no new snapshot.
NOT_RULES = ("mirror", "mirror_request_help", "search_index")


def policy_digest(policy: Policy) -> str:
    rules = {k: v for k, v in policy.to_dict().items() if k not in NOT_RULES}
    text = json.dumps(rules, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def read_current(output: Path) -> dict[str, Any]:
    """The published snapshot's ``snapshot.json`` (empty before the first sync)."""
    try:
        data = json.loads((output / CURRENT / SNAPSHOT).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def build_plan(config: MirrorConfig, *, prune: bool = False, now: datetime | None = None) -> Built:
    now = now or datetime.now(UTC)
    policy = config.policy()
    groups, notes = collect(config)
    found = Found(notes=list(notes))
    kept = config.output / ".store" / "pypi"
    upstream = Upstream(config.pypi.upstream, kept=kept, pages=PageCache(config.output / PAGES))
    cache = SolveCache(config.output / SOLVES, upstream.digest)
    pypi_closure(config, policy, groups, found, upstream, cache)
    channels = conda_closure(config, policy, groups, found)
    closure = Closure(tuple(found.by_key.values()), tuple(found.notes), tuple(groups))
    current = read_current(config.output)
    previous: dict[str, dict[str, Any]] = current.get("entries", {})
    wanted = closure.wanted()
    add = tuple(d for k, d in sorted(wanted.items()) if k not in previous)
    keep = tuple(d for k, d in sorted(wanted.items()) if k in previous)
    remove, leaving = _leaving(config, closure, previous, now, prune)
    refused = tuple(d for d in closure.decisions if d.decision == "out")
    plan = MirrorPlan(
        add, keep, remove, refused, (), tuple(closure.notes), policy_digest(policy), not current
    )
    built = Built(plan, closure, policy, upstream, cache, channels, leaving)
    broken = _broken(groups, built)
    built.plan = MirrorPlan(**{**plan.__dict__, "broken": broken})
    return built


def _leaving(
    config: MirrorConfig,
    closure: Closure,
    previous: dict[str, dict[str, Any]],
    now: datetime,
    prune: bool,
) -> tuple[tuple[Leaving, ...], dict[str, str]]:
    wanted = closure.wanted()
    judged = {d.key: d for d in closure.decisions}
    out = []
    leaving = {}
    for key, entry in sorted(previous.items()):
        if key in wanted:
            continue
        since = str(entry.get("leaving") or now.isoformat())
        due = datetime.fromisoformat(since) + timedelta(days=config.grace_days)
        removed = prune and now >= due
        old = _entry_decision(key, entry)
        why = judged.get(key)
        decision = old if why is None else why
        out.append(Leaving(key, since, due.isoformat(), removed, decision))
        if not removed:
            leaving[key] = since
    return tuple(out), leaving


def _entry_decision(key: str, entry: dict[str, Any]) -> Decision:
    source: Source = "conda" if key.startswith("conda/") else "pypi"
    return Decision(
        source, entry.get("name", ""), entry.get("version", ""), "out", "no longer needed",
        "no seed, request or lock needs it any more", (), (),
        entry.get("channel", ""), entry.get("subdir", ""), entry.get("filename", ""),
    )  # fmt: skip


def _broken(groups: list[Group], built: Built) -> tuple[Broken, ...]:
    """Users' envs whose lock holds a version the mirror will not hold (now, or after
    the grace period)."""
    wanted = built.closure.wanted()
    held = {(d.source, normalize(d.name), d.version) for d in wanted.values()}
    judged = {(d.source, normalize(d.name), d.version): d for d in built.closure.decisions}
    graced = {
        (lv.decision.source, normalize(lv.decision.name), lv.decision.version): lv
        for lv in built.plan.remove
        if lv.decision is not None and not lv.removed
    }
    out = []
    for group in groups:
        for source, name, version in group.locked:
            key = (source, normalize(name), version)
            if key in held:
                continue
            decision = judged.get(key)
            why = f"{decision.rule}: {decision.evidence}" if decision else "not upstream"
            if key in graced:
                why += f" (served until {graced[key].due}, then removed by --prune)"
            out.append(Broken(group.need, source, name, version, why))
    return tuple(out)
