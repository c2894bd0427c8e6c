"""The pipeline's check step: the administrator's policy on a plan, whatever produced it.

A solve (already steered within the policy by :mod:`.policy.within`), a lock
installed exactly, a rollback: each plan is judged here again before anything is
touched, by the policy's pure judgements (:mod:`.policy.enforce`): versions,
licences of the PyPI packages it adds, required packages against everything the
env will import (its kind says what its base provides), new channels, and
requirements the solve did not need to look at.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import kinds
from .kinds.base import Context, EnvState, Solution


def judge_plan(
    ctx: Context, state: EnvState, solution: Solution, changes: Sequence[Any], command: str
) -> None:
    """Raise PolicyDenied when the plan from ``state`` to ``solution`` breaks the policy."""
    if ctx.policy.empty:
        return
    from .policy import enforce as policyenforce
    from .policy.pypi import check_asked, check_licences

    channels = _new_channels(state.manifest, solution.manifest)
    policyenforce.check_plan(ctx.policy, changes, channels, ctx.conda)
    if ctx.policy.required_packages:
        have = _names_after(solution)
        policyenforce.check_required(ctx.policy, changes, have, state.revision < 0)
    check_licences(ctx.policy, ctx.uv, changes)
    asked = solution.manifest.pypi.items() - state.manifest.pypi.items()
    if asked and not command.startswith("rollback"):
        # A request the solve may not have needed (the env holds it already).
        check_asked(ctx.policy, ctx.uv, [text for _, text in asked])


def _names_after(solution: Solution) -> set[str]:
    """Every package name the env holds after a plan: its locks' and what its kind's
    base provides."""
    from .conda.meta import packages_of
    from .pylock import parse_lock

    names = set(parse_lock(solution.pypi_lock)) | set(packages_of(solution.conda_lock))
    return names | set(kinds.of(solution.manifest).base(solution.manifest))


def _new_channels(old: Any, new: Any) -> list[str]:
    """Channels a plan brings in (env channels, ``channel::`` of specs) that ``old`` had not."""

    def named(manifest: Any) -> set[str]:
        found = set(manifest.channels)
        found |= {t.split("::", 1)[0] for t in manifest.conda.values() if "::" in t}
        return found - {"*"}  # any of the env's channels

    return sorted(named(new) - named(old))
