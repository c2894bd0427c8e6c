"""The pipeline's request step: what a request means before anything is solved or touched.

For every kind alike: which kind a new env is (the one asked for, the one a file
names, the one that takes channels for a file asking for conda packages, else the
default), what the administrator's policy refuses before any solve (a kind holding
only PyPI packages when PyPI is not allowed, a requested name or version only
refused releases satisfy), and what it adds (the required and default packages a
new env gets).  The kind then says what the request means for it
(``create_intent``/``change_intent``).  ``max_envs`` is counted when the new
env's name is claimed, under the envs-dir lock (:mod:`.envquota`).
"""

from __future__ import annotations

from dataclasses import replace

from . import kinds
from .errors import InvalidSpec, PolicyDenied
from .kinds.base import Context, CreateRequest, EnvKind, Intent


def for_create(
    ctx: Context, kind: str | None, request: CreateRequest
) -> tuple[EnvKind, CreateRequest]:
    """The kind of a new env and its request with the policy's additions, or the
    policy's refusal."""
    from .policy.enforce import policy_additions

    imported = request.imported
    if imported is not None and imported.kind is not None and imported.kind not in kinds.KINDS:
        raise InvalidSpec(f"{imported.source}: unknown environment kind {imported.kind!r}")
    chosen = kinds.get(kind or kinds.for_import(imported))
    if not ctx.policy.pypi and not chosen.channels:  # PyPI is all it could hold
        raise PolicyDenied(
            f"a {chosen.name} environment holds packages from PyPI, which the "
            "administrator's policy does not allow (pypi: false); create a conda "
            "environment instead (--kind conda)"
        )
    added = policy_additions(ctx.policy, request.specs, imported)
    return chosen, replace(request, specs=(*request.specs, *added))


def refuse_asked(ctx: Context, intent: Intent) -> None:
    """Refuse, before any env is made or solved, requests only refused versions satisfy."""
    if ctx.policy.empty:
        return
    from .policy.pypi import check_asked

    check_asked(ctx.policy, ctx.uv, intent.manifest.requirements())
