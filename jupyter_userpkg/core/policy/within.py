"""The one loop that keeps an engine's solve within the policy, for both ecosystems.

An engine solves with plain inputs and knows nothing of the policy.  This loop
solves, judges what the engine chose (:mod:`.enforce`'s pure judgements), adds a
constraint excluding every refused version it chose, and solves again, until a
solution holds nothing the policy refuses; the solver then picks the nearest
allowed version by itself.  When the solver gives up once refused versions are
out, the refusal names the rule instead of the solver's words.

:func:`solve_conda` and :mod:`.pypi`'s ``solve_within`` are this loop with each
ecosystem's judgement.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Collection, Sequence
from typing import Any, TypeVar

from ..errors import PackageNotFound, Unsatisfiable, UserPkgError
from . import enforce
from .rules import Policy

T = TypeVar("T")

#: Judges one solution: constraints excluding what it refuses (none: the solution
#: stands); each refusal is recorded in the reasons by name.
Judge = Callable[[T, enforce.Reasons], list[str]]


def solve_within(
    solve: Callable[[list[str]], T],
    judge: Judge[T],
    *,
    refusable: tuple[type[UserPkgError], ...] = (Unsatisfiable,),
    explain: Callable[[], None] | None = None,
) -> T:
    """``solve(constraints)`` until ``judge`` excludes nothing more.

    A failure of a ``refusable`` kind after some versions were excluded is the
    policy's refusal (:func:`.enforce.refused_in_solve`); ``explain`` first may
    raise a sharper one (a request the policy left nothing to choose from).
    """
    extra: list[str] = []
    reasons: enforce.Reasons = {}
    for _ in range(enforce.MAX_ROUNDS):
        try:
            found = solve(extra)
        except refusable as exc:
            _refuse(exc, reasons, explain)
            raise
        more = judge(found, reasons)
        if not more:
            return found
        extra += more
    why = Unsatisfiable("no solution holds only packages the administrator's policy allows")
    _refuse(why, reasons, explain)
    raise why


def _refuse(
    why: UserPkgError, reasons: enforce.Reasons, explain: Callable[[], None] | None
) -> None:
    if explain is not None:
        explain()
    if reasons:  # nothing fits once the refused versions are out: say which rule
        raise enforce.refused_in_solve(reasons, why) from None


def solve_conda(
    policy: Policy,
    solve: Callable[..., list[Any]],
    specs: Sequence[Any],
    records_of: Callable[[list[str]], list[Any]],
    *,
    kept: Collection[tuple[str, str]] = (),
    asked: Collection[str] | None = None,
) -> list[Any]:
    """A conda solve within ``policy``: ``solve(constraints=..., exclude_newer=...)`` is
    the engine's, ``records_of(names)`` every record the solve's channels serve of
    ``names`` (to exclude every refused version at once).

    ``kept`` (name, version) pairs are installed and stay unjudged; ``asked`` names the
    specs that are new (None: all), the only ones refused by name before any solve: a
    request the env holds already stays, even if refused since.
    """
    exclude_newer: datetime.datetime | None = policy.snapshot_time
    new = [s for s in specs if s.name is not None and (asked is None or s.name.normalized in asked)]
    enforce.check_names(policy, [s.name.normalized for s in new], "conda")
    if not (policy.restricts_packages or policy.allowed_licenses):
        return solve(constraints=[], exclude_newer=exclude_newer)
    held = frozenset(kept)

    def judge(found: list[Any], reasons: enforce.Reasons) -> list[str]:
        return enforce.conda_exclusions(policy, found, records_of, held, reasons)

    def explain() -> None:  # did the policy leave a request nothing to choose?
        enforce.check_conda_specs(policy, new, records_of)

    return solve_within(
        lambda extra: solve(constraints=extra, exclude_newer=exclude_newer),
        judge,
        refusable=(Unsatisfiable, PackageNotFound),
        explain=explain,
    )
