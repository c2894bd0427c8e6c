"""How a conda env's two layers are solved: conda's records, then PyPI's on top.

The conda engine solves with plain inputs; the policy's one loop wraps it
(:mod:`..policy.within`).  The PyPI layer holds the conda-installed Python
packages fixed at the versions the conda layer leaves.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from ..conda import backend as condabackend
from ..conda import meta as condameta
from ..conda import specs as condaspecs
from ..errors import InvalidRequest
from ..events import Reporter
from ..manifest import Manifest
from ..policy import enforce as policyenforce
from ..policy import within
from ..pypi import uv as uvbackend
from ..specs import canonical_name, parse_pypi_specs
from . import pypi
from .base import EMPTY_LOCK, Context, EnvState, Intent, major_minor

if TYPE_CHECKING:
    from packaging.requirements import Requirement


@dataclass(frozen=True)
class CondaIntent(Intent):
    """A conda env's request, split into its two layers."""

    #: The conda layer must be solved again (new specs, removals, updates).
    resolve_conda: bool = False
    conda_update: tuple[str, ...] = ()
    pypi_reqs: tuple[Requirement, ...] = ()
    pypi_remove: tuple[str, ...] = ()
    pypi_update: tuple[str, ...] = ()
    update_all: bool = False
    #: create: add ipykernel when the env gets Python; an imported lock, exactly.
    kernel: bool = False
    conda_lock_text: str | None = None
    pypi_lock_text: str | None = None


def solve_conda(
    ctx: Context, state: EnvState, intent: CondaIntent, notes: list[str]
) -> tuple[Manifest, condameta.Lock]:
    """The conda layer, within the policy (:func:`..policy.within.solve_conda`); a new
    env with Python gets ipykernel from its channels, else from PyPI on top."""
    manifest = intent.manifest
    urls = list(manifest.channels)
    keep = [
        r
        for r in condameta.lock_records(state.conda_lock)
        if not intent.update_all and r.name.normalized not in intent.conda_update
    ]

    held, moving = state.manifest.conda, set(intent.conda_update)

    kept = [(r.name.normalized, str(r.version)) for r in keep]

    def solve(wanted: Manifest) -> list[Any]:
        specs = condaspecs.parse_specs(wanted.conda.values(), ctx.conda.channel_alias)
        engine = partial(
            condabackend.solve,
            urls,
            specs,
            options=ctx.conda,
            locked=keep,
            refresh_all=bool(intent.conda_update or intent.update_all),
            notes=notes,
        )
        sources = condabackend.solve_sources(urls, specs, ctx.conda)
        return within.solve_conda(
            ctx.policy,
            engine,
            specs,
            lambda names: condabackend.records_of(names, sources, ctx.conda),
            kept=kept,
            asked={n for n, t in wanted.conda.items() if held.get(n) != t} | moving,
        )

    if intent.conda_update and ctx.policy.restricts_packages:  # a pin refused since
        manifest = manifest.with_conda(
            policyenforce.repin_conda(
                ctx.policy,
                dict(manifest.conda),
                intent.conda_update,
                lambda names: condabackend.records_of(names, urls, ctx.conda),
                lambda text: condaspecs.parse_specs([text], ctx.conda.channel_alias)[0],
            )
        )
    records = solve(manifest)
    solved = {r.name.normalized for r in records}
    # A new env with Python gets a kernel: ipykernel from its channels if they
    # have it, else from PyPI on top.
    if intent.kernel and "python" in solved and "ipykernel" not in solved:
        if "ipykernel" in condabackend.query_names(urls, ctx.conda):
            manifest = manifest.with_conda({"ipykernel": "ipykernel"})
            records = solve(manifest)
        elif not ctx.policy.pypi:  # not from PyPI either: an env without a kernel, said so
            notes.append(
                "its channels have no ipykernel and the administrator's policy allows no "
                "PyPI packages: the environment gets no kernel"
            )
        elif "ipykernel" not in manifest.pypi:
            manifest = manifest.with_pypi(parse_pypi_specs(["ipykernel"]))
    return manifest, condameta.SolvedLock(records, urls)


def solve_pypi(
    ctx: Context,
    state: EnvState,
    manifest: Manifest,
    conda_lock: condameta.Lock,
    intent: CondaIntent,
    report: Reporter,
) -> str:
    """The PyPI layer, with the conda-installed Python packages held fixed."""
    from packaging.version import InvalidVersion, Version

    if not manifest.pypi:
        return EMPTY_LOCK
    conda = condameta.packages_of(conda_lock)
    if "python" not in conda:
        raise InvalidRequest(
            f"PyPI packages need Python in environment {manifest.name!r}: "
            f"install it first (`install -n {manifest.name} python`)"
        )
    held: dict[str, str] = {}
    for pkg in conda.values():
        if pkg.is_python_package:
            with contextlib.suppress(InvalidVersion):
                held[canonical_name(pkg.name)] = str(Version(pkg.version))
    prefix = ctx.store.prefix(state.name)
    linked = condameta.installed_versions(prefix)
    for cname, (version, build, meta) in linked.items():
        staying = conda.get(cname)
        if staying is not None and (staying.version, staying.build) == (version, build):
            held.update(condameta.python_dists(meta))  # by the names they install
    installed = linked.get("python")
    planned = conda["python"].version
    same = installed is not None and installed[0] == planned
    return pypi.solve_layer(
        str(uvbackend.env_python(prefix)) if same else ctx.base_python,
        manifest.requirements(),
        state.pypi_lock,
        options=ctx.uv,
        report=report,
        constraints=[f"{n}=={v}" for n, v in held.items()],
        upgrade=intent.update_all,
        upgrade_packages=intent.pypi_update,
        python_version="" if same else major_minor(planned),
        held=held,
        policy=ctx.policy,
    )
