"""The ``venv`` kind: an isolated venv whose packages all come from PyPI through uv.

It is the PyPI layer alone; :mod:`.layer` extends it with a base interpreter.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InvalidRequest
from ..events import Reporter
from ..exports import FORMATS, environment_export, lock_export, requirements_export
from ..manifest import Manifest
from ..pylock import parse_lock
from ..pypi import uv as uvbackend
from ..records import Change, Package, Plan
from ..specs import canonical_name, parse_pypi_specs, validate_package_name
from . import pypi
from .base import (
    EMPTY_LOCK,
    Backup,
    ChangeRequest,
    Context,
    CreateRequest,
    EnvState,
    Intent,
    Solution,
    bridge_env,
    major_minor,
)

if TYPE_CHECKING:
    from packaging.requirements import Requirement


@dataclass(frozen=True)
class PyPIIntent(Intent):
    """A PyPI layer's request: its new specs, and what to move."""

    reqs: tuple[Requirement, ...] = ()
    remove: tuple[str, ...] = ()
    upgrade: tuple[str, ...] = ()
    upgrade_all: bool = False
    #: create: the interpreter (``--python``), and an imported lock installed exactly.
    python: str | None = None
    lock_text: str | None = None


class VenvKind:
    """An isolated venv (see the module docstring)."""

    name = "venv"
    extends_base = False
    channels = False
    python_version = True
    pypi = True
    base_link = ""
    summary = "an isolated venv: PyPI packages only, any Python version"
    exports: tuple[str, ...] = FORMATS

    # ---------------------------------------------------------------- requests

    def create_intent(self, ctx: Context, request: CreateRequest) -> Intent:
        from packaging.requirements import Requirement

        if request.channels:
            raise InvalidRequest("channels are for conda environments: add --kind conda")
        imported = request.imported
        if imported is not None and (imported.needs_channels or imported.kind == "conda"):
            raise InvalidRequest(
                f"{imported.source} describes a conda environment: create it with --kind conda"
            )
        reqs = parse_pypi_specs([*request.specs, *request.pypi_specs])
        lock_text: str | None = None
        if imported is not None:
            lock_text = imported.lock_text
            if lock_text is not None and reqs:
                raise InvalidRequest(
                    "a lock is installed exactly as it is: create the environment from it "
                    "first, then install more packages"
                )
            imported.refuse_unlocked(frozenset(self.base(self.manifest_for(ctx, request.name))))
            reqs = list(imported.requirements) + reqs
        if (
            request.kernel
            and lock_text is None
            and "ipykernel" not in {canonical_name(r.name) for r in reqs}
        ):
            reqs.append(Requirement("ipykernel"))
        python = self._python(ctx, request)
        command = f"create {request.name} --kind {self.name}"
        command += (f" --python {python}" if python else "") + "".join(f" {r}" for r in reqs)
        manifest = Manifest(request.name, self.name, "")
        return PyPIIntent(manifest, command, reqs=tuple(reqs), python=python, lock_text=lock_text)

    def _python(self, ctx: Context, request: CreateRequest) -> str | None:
        """The interpreter the venv is made with (None: the server's)."""
        imported = request.imported
        return request.python or (imported.python if imported else None)

    def prepare(self, ctx: Context, prefix: Path, intent: Intent) -> Intent:
        assert isinstance(intent, PyPIIntent)
        uvbackend.create_venv(
            prefix, _interpreter(ctx, intent.python), python_downloads=ctx.uv.python_downloads
        )
        info = uvbackend.python_info(str(uvbackend.env_python(prefix)))
        manifest = replace(intent.manifest, python=major_minor(str(info["version"])))
        return replace(intent, manifest=manifest.with_pypi(list(intent.reqs)))

    def change_intent(self, ctx: Context, state: EnvState, request: ChangeRequest) -> Intent:
        remove = [validate_package_name(n) for n in request.remove]
        update = [validate_package_name(n) for n in request.update]
        reqs = parse_pypi_specs(list(request.install))
        pypi.check_names(
            state.name,
            state.manifest,
            parse_lock(state.pypi_lock),
            remove,
            update,
            self.base(state.manifest),
        )
        manifest = state.manifest.with_pypi(reqs).without_pypi(remove)
        if update and not ctx.policy.empty:  # a pin the policy now refuses: its nearest
            from ..policy.pypi import repin_refused

            repinned = repin_refused(ctx.policy, ctx.uv, manifest.pypi, update)
            manifest = manifest.with_pypi(parse_pypi_specs(repinned))
        return PyPIIntent(
            manifest,
            request.command(),
            reqs=tuple(reqs),
            remove=tuple(remove),
            upgrade=tuple(update),
            upgrade_all=request.update_all,
        )

    # ----------------------------------------------------------------- solving

    def base(self, manifest: Manifest) -> dict[str, str]:
        """Packages the env sees without holding them (none for a venv)."""
        return {}

    def manifest_for(self, ctx: Context, name: str) -> Manifest:
        """The env's manifest before any request (the base's facts, for a layer)."""
        return Manifest(name, self.name, "")

    def solve(self, ctx: Context, state: EnvState, intent: Intent, report: Reporter) -> Solution:
        assert isinstance(intent, PyPIIntent)
        manifest = intent.manifest
        if intent.lock_text is not None:  # create --from a lock: installed exactly
            return Solution(manifest, self.imported_lock(manifest, intent.lock_text))
        if (
            not (intent.remove or intent.upgrade or intent.upgrade_all)
            and state.revision >= 0
            and pypi.already_satisfied(
                intent.reqs, state.manifest, parse_lock(state.pypi_lock), self.base(manifest)
            )
        ):
            return Solution(manifest, state.pypi_lock)  # what is installed meets every spec
        if not manifest.pypi and state.revision < 0:
            return Solution(manifest, EMPTY_LOCK)
        timer = pypi.timed_solve(report, "resolving")
        lock = self.solve_layer(ctx, manifest, state.pypi_lock, intent, report)
        return Solution(manifest, lock, seconds=timer.seconds)

    def imported_lock(self, manifest: Manifest, lock_text: str) -> str:
        return pypi.strip_tool_table(lock_text)

    def solve_layer(
        self, ctx: Context, manifest: Manifest, current: str, intent: PyPIIntent, report: Reporter
    ) -> str:
        prefix = ctx.store.prefix(manifest.name)
        return pypi.solve_layer(
            str(uvbackend.env_python(prefix)),
            manifest.requirements(),
            current,
            options=ctx.uv,
            report=report,
            upgrade=intent.upgrade_all,
            upgrade_packages=intent.upgrade,
            policy=ctx.policy,
        )

    def diff(
        self, ctx: Context, state: EnvState, solution: Solution
    ) -> tuple[list[Change], int, list[str]]:
        changes, download, notes = pypi.diff_locks(state.pypi_lock, solution.pypi_lock, ctx.uv)
        notes += pypi.marker_notes(solution.manifest)
        if changes:  # only a plan with changes runs the installer, which removes these
            notes += pypi.stray_dists(
                ctx.store.prefix(state.name), state.pypi_lock, solution.pypi_lock
            )
        return changes, download, notes

    # ---------------------------------------------------------------- applying

    def backup(self, ctx: Context, state: EnvState, plan: Plan) -> Backup:
        # Every installed distribution the new lock does not keep as it is,
        # including any installed by other means (the sync removes those).
        return Backup(tuple(pypi.changed_dists(ctx.store.prefix(state.name), plan.lock_text)))

    def apply(self, ctx: Context, state: EnvState, plan: Plan, report: Reporter) -> None:
        if plan.empty:
            return
        report("install", pypi.summary(plan.changes))
        prefix = ctx.store.prefix(state.name)
        with pypi.watch_downloads(ctx.uv, plan.changes, plan.lock_text, report):
            uvbackend.sync(
                str(uvbackend.env_python(prefix)),
                plan.lock_text,
                options=ctx.uv,
                on_line=report.uv_lines(pypi.installs(plan.changes)),
            )

    # ----------------------------------------------------------------- reading

    def verify(self, ctx: Context, state: EnvState, deep: bool = False) -> list[str]:
        prefix = ctx.store.prefix(state.name)
        problems = pypi.verify_layer(prefix, state.pypi_lock)
        if not uvbackend.env_python(prefix).exists():
            problems.append("the environment's python is missing")
        if deep:
            problems += pypi.changed_files(prefix)
        return problems

    def packages(self, ctx: Context, state: EnvState) -> list[Package]:
        requested = state.manifest.pypi
        return [
            Package(p.name, p.version, "pypi", p.index, p.name in requested)
            for p in parse_lock(state.pypi_lock).values()
        ]

    def export(self, state: EnvState, fmt: str) -> str:
        manifest = state.manifest
        if fmt == "requirements":
            return requirements_export(manifest, pypi.pins(state.pypi_lock))
        if fmt == "environment":
            return environment_export(
                manifest.name, [], [f"python={manifest.python}", "pip"], pypi.pins(state.pypi_lock)
            )
        return lock_export(manifest, state.pypi_lock)

    def kernel_env(self, ctx: Context, state: EnvState) -> dict[str, str] | None:
        if "ipykernel" not in parse_lock(state.pypi_lock):
            return None
        return bridge_env(ctx)


def _interpreter(ctx: Context, python: str | None) -> str:
    """What ``uv venv --python`` is given: a version the server's own interpreter is (a
    notebook's or a lock's ``3.11``) names that interpreter, so that uv has no Pythons to
    look for (a quarter of a second); any other version is uv's to find."""
    if not python:
        return ctx.base_python
    own = f"{sys.version_info.major}.{sys.version_info.minor}"
    if python == own and os.path.realpath(ctx.base_python) == os.path.realpath(sys.executable):
        return ctx.base_python
    return python
