"""The ``conda`` kind: a conda prefix from channels through py-rattler, PyPI on top through uv.

Two layers, solved in order: the conda layer (MatchSpecs from the env's
channels, resolvo through rattler) and the PyPI layer (:mod:`.pypi`), which
holds every Python distribution the conda packages installed fixed.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from ..conda import backend as condabackend
from ..conda import install as condainstall
from ..conda import meta as condameta
from ..conda import specs as condaspecs
from ..errors import InvalidRequest, PackageNotFound
from ..events import Reporter
from ..exports import FORMATS, environment_export, lock_export
from ..manifest import Manifest
from ..policy import enforce as policyenforce
from ..pylock import parse_lock
from ..pypi import uv as uvbackend
from ..records import Action, Change, Package, Plan
from ..specs import canonical_name, parse_pypi_specs
from ..transaction import installed_dists
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
)
from .condasolve import CondaIntent, solve_conda, solve_pypi

if TYPE_CHECKING:
    pass


class CondaKind:
    """A conda prefix (see the module docstring)."""

    name = "conda"
    extends_base = False
    channels = True
    python_version = True
    pypi = True
    base_link = ""
    summary = "a conda prefix: packages from conda channels, PyPI packages on top"
    #: Every format but a requirements file, which cannot name conda packages.
    exports: tuple[str, ...] = tuple(f for f in FORMATS if f != "requirements")

    # ---------------------------------------------------------------- requests

    def create_intent(self, ctx: Context, request: CreateRequest) -> Intent:
        imported = request.imported
        if imported is not None and imported.conda_lock_text is not None:
            if request.specs or request.pypi_specs:
                raise InvalidRequest(
                    "a lock is installed exactly as it is: create the environment from it "
                    "first, then install more packages"
                )
            condameta.check_imported_lock(
                imported.source, imported.conda_lock_text, imported.conda_specs
            )
        if imported is not None:
            imported.refuse_unlocked()  # its conda packages were counted when it was read
        python = request.python
        if python and not re.fullmatch(r"\d+(\.\d+){0,2}", python):
            raise InvalidRequest(f"--python takes a version like 3.11, not {python!r}")
        wanted = [*(imported.conda_specs if imported else ()), *request.specs]
        if python:
            wanted.append(f"python {python}.*")
        alias = ctx.conda.channel_alias
        conda_specs = condaspecs.parse_specs(wanted, alias)
        reqs = parse_pypi_specs([str(r) for r in imported.requirements] if imported else [])
        reqs += parse_pypi_specs(list(request.pypi_specs))
        sources = (
            list(request.channels)
            or list(imported.channels if imported else ())
            or list(ctx.conda.default_channels)
        )
        urls = list(dict.fromkeys(u for c in sources for u in condaspecs.channel_urls(c, alias)))
        named = condaspecs.named_channels(wanted)
        policyenforce.check_channels(ctx.policy, [*sources, *named], ctx.conda)
        manifest = Manifest(
            request.name,
            self.name,
            "",
            channels=tuple(urls),
            conda={condaspecs.spec_name(m): condaspecs.spec_text(m) for m in conda_specs},
        ).with_pypi(reqs)
        command = f"create {request.name} --kind conda" + "".join(f" -c {c}" for c in sources)
        command += "".join(f" {m}" for m in wanted) + "".join(f" --pypi {r}" for r in reqs)
        return CondaIntent(
            manifest,
            command,
            resolve_conda=True,
            pypi_reqs=tuple(reqs),
            kernel=request.kernel,
            conda_lock_text=imported.conda_lock_text if imported else None,
            pypi_lock_text=(imported.lock_text or EMPTY_LOCK) if imported else None,
        )

    def prepare(self, ctx: Context, prefix: Path, intent: Intent) -> Intent:
        return intent  # the prefix is made when the plan is applied

    def change_intent(self, ctx: Context, state: EnvState, request: ChangeRequest) -> Intent:
        manifest = state.manifest
        remove = [condaspecs.validate_name(n) for n in request.remove]
        update = [condaspecs.validate_name(n) for n in request.update]
        use_pypi = request.pypi
        reqs = parse_pypi_specs(list(request.install)) if use_pypi else []
        specs = [] if use_pypi else condaspecs.parse_specs(request.install, ctx.conda.channel_alias)
        named = [c for c in condaspecs.named_channels(request.install) if not use_pypi]
        policyenforce.check_channels(ctx.policy, named, ctx.conda)
        conda_remove, pypi_remove = _route_removals(state, remove, use_pypi)
        conda_update, pypi_update = _route_updates(state, update, use_pypi)
        new_manifest = (
            manifest.with_conda({condaspecs.spec_name(m): condaspecs.spec_text(m) for m in specs})
            .without_conda(conda_remove)
            .with_pypi(reqs)
            .without_pypi(pypi_remove)
        )
        if pypi_update and not ctx.policy.empty:  # a PyPI pin refused since: its nearest
            from ..policy.pypi import repin_refused

            fixed = repin_refused(ctx.policy, ctx.uv, new_manifest.pypi, pypi_update)
            new_manifest = new_manifest.with_pypi(parse_pypi_specs(fixed))
        return CondaIntent(
            new_manifest,
            request.command(pypi_flag=use_pypi),
            resolve_conda=bool(specs or conda_remove or conda_update or request.update_all),
            conda_update=tuple(conda_update),
            pypi_reqs=tuple(reqs),
            pypi_remove=tuple(pypi_remove),
            pypi_update=tuple(pypi_update),
            update_all=request.update_all,
        )

    # ----------------------------------------------------------------- solving

    def solve(self, ctx: Context, state: EnvState, intent: Intent, report: Reporter) -> Solution:
        assert isinstance(intent, CondaIntent)
        manifest = intent.manifest
        if intent.conda_lock_text is not None:  # create --from a lock: installed exactly
            pypi_lock = pypi.strip_tool_table(intent.pypi_lock_text or EMPTY_LOCK)
            # Written anew from the records rattler read (this platform's), not copied.
            records = condameta.lock_records(intent.conda_lock_text)
            conda_lock = (
                condameta.SolvedLock(records, manifest.channels, solved=False) if records else ""
            )
            manifest = replace(manifest, python=condameta.python_of(conda_lock))
            return Solution(manifest, pypi_lock, conda_lock)
        timer = pypi.Timer()
        notes: list[str] = []
        new_conda: condameta.Lock = state.conda_lock
        if intent.resolve_conda:
            report("solve", "resolving conda packages")
            manifest, new_conda = solve_conda(ctx, state, intent, notes)
        conda_locked = condameta.parse_lock(state.conda_lock)
        pypi_locked = parse_lock(state.pypi_lock)
        moved = condameta.packages_of(new_conda) != conda_locked
        if (
            intent.pypi_reqs
            or intent.pypi_remove
            or intent.pypi_update
            or intent.update_all
            or (moved and (manifest.pypi or pypi_locked))
            or state.revision < 0
        ):
            report("solve", "resolving PyPI packages")
            pypi_lock = solve_pypi(ctx, state, manifest, new_conda, intent, report)
        else:
            pypi_lock = state.pypi_lock
        manifest = replace(manifest, python=condameta.python_of(new_conda))
        return Solution(manifest, pypi_lock, new_conda, tuple(notes), timer.seconds)

    def diff(
        self, ctx: Context, state: EnvState, solution: Solution
    ) -> tuple[list[Change], int, list[str]]:
        old = condameta.parse_lock(state.conda_lock)
        new = condameta.packages_of(solution.conda_lock)
        changes: list[Change] = []
        download = cached = 0
        for name in sorted(set(old) | set(new)):
            was, now = old.get(name), new.get(name)
            if was and now and (was.version, was.build) == (now.version, now.build):
                continue
            same_version = bool(was and now and now.version == was.version)
            before = was and (f"{was.version} ({was.build})" if same_version else was.version)
            after = now and (f"{now.version} ({now.build})" if same_version else now.version)
            action: Action = "add" if was is None else "remove" if now is None else "change"
            changes.append(Change(name, action, before or None, after or None, "conda"))
            if now is not None and condameta.in_cache(ctx.conda, now):
                cached += 1
            elif now is not None:
                download += now.size
        if changes and not ctx.policy.empty:  # however the plan came to these records
            added = {c.name for c in changes if c.action != "remove"}
            records = condameta.records_of(solution.conda_lock)
            lock = solution.conda_lock
            trusted = isinstance(lock, condameta.SolvedLock) and lock.solved
            served = None if trusted else partial(condabackend.served_records, options=ctx.conda)
            policyenforce.check_conda_records(ctx.policy, records, added, served)
        pypi_changes, pypi_download, pypi_notes = pypi.diff_locks(
            state.pypi_lock, solution.pypi_lock, ctx.uv
        )
        notes = [*solution.notes, *pypi.marker_notes(solution.manifest)]
        if cached:
            what = "package comes" if cached == 1 else "packages come"
            notes.append(f"{cached} conda {what} from the package cache: nothing to download")
        notes += pypi_notes
        return changes + pypi_changes, download + pypi_download, notes

    # ---------------------------------------------------------------- applying

    def backup(self, ctx: Context, state: EnvState, plan: Plan) -> Backup:
        # Conda's Python packages are the conda layer's: back up what the PyPI
        # layer replaces, and the files of every conda package that goes.  A new
        # Python X.Y relinks every noarch Python package and moves the PyPI
        # layer to another site-packages: then everything is backed up.
        prefix = ctx.store.prefix(state.name)
        old_locked = parse_lock(state.pypi_lock)
        moves = condameta.python_moves(prefix, plan.conda_lock)
        dists = pypi.changed_dists(prefix, EMPTY_LOCK if moves else plan.lock_text, old_locked)
        new_conda = condameta.packages_of(plan.conda_lock)
        paths: set[str] = set()
        for cname, (version, build, meta) in condameta.installed_versions(prefix).items():
            now = new_conda.get(cname)
            if moves or now is None or (now.version, now.build) != (version, build):
                paths |= condameta.owned_paths(meta)
        return Backup(tuple(dists), frozenset(paths))

    def apply(self, ctx: Context, state: EnvState, plan: Plan, report: Reporter) -> None:
        """Link the conda packages of the plan, then put its PyPI layer on top."""
        prefix = ctx.store.prefix(state.name)
        prefix.mkdir(parents=True, exist_ok=True)
        if not plan.empty:
            report("install", pypi.summary(plan.changes))
        old, new = parse_lock(state.pypi_lock), parse_lock(plan.lock_text)
        removed = [n for n in old if n not in new]
        moves = condameta.python_moves(
            prefix, plan.conda_lock
        )  # the PyPI layer goes to a new site-packages
        changed = [n for n in new if moves or n not in old or old[n].version != new[n].version]
        python = str(uvbackend.env_python(prefix))
        # Uninstall first, with the Python that installed them: a conda package that
        # replaces a PyPI one of the same name must keep its files, and a new Python
        # X.Y leaves nothing behind in the old site-packages.
        leaving = list(old) if moves else removed
        if leaving:
            uvbackend.install_pinned(python, EMPTY_LOCK, remove=leaving, options=ctx.uv)
        if any(c.source == "conda" for c in plan.changes):
            condainstall.install(
                prefix,
                condameta.records_of(plan.conda_lock),
                options=ctx.conda,
                on_event=report,
                links=pypi.installs(plan.changes, "conda"),
            )
        if changed:
            with pypi.watch_downloads(ctx.uv, plan.changes, plan.lock_text, report):
                uvbackend.install_pinned(
                    python,
                    plan.lock_text,
                    options=ctx.uv,
                    on_line=report.uv_lines(pypi.installs(plan.changes)),
                )

    # ----------------------------------------------------------------- reading

    def verify(self, ctx: Context, state: EnvState, deep: bool = False) -> list[str]:
        prefix = ctx.store.prefix(state.name)
        problems = []
        conda = condameta.parse_lock(state.conda_lock)
        linked = condameta.installed_versions(prefix)
        for name, pkg in sorted(conda.items()):
            if name not in linked:
                problems.append(f"{name} {pkg.version} is in the lock but not installed")
            elif linked[name][:2] != (pkg.version, pkg.build):
                problems.append(
                    f"{name} is {linked[name][0]} ({linked[name][1]}) but the lock says "
                    f"{pkg.version} ({pkg.build})"
                )
        for name in sorted(set(linked) - set(conda)):
            problems.append(f"{name} {linked[name][0]} is installed but not in the lock")
        # conda's own Python packages sit beside the PyPI layer: only the lock's are checked.
        have = {n: v for n, (v, _) in installed_dists(prefix).items()}
        pypi_locked = parse_lock(state.pypi_lock)
        for name, locked in sorted(pypi_locked.items()):
            if have.get(name) != locked.version:
                problems.append(f"{name} {locked.version} (PyPI) is in the lock but not installed")
        if deep:
            for _, _, meta in sorted(linked.values()):
                problems += condameta.changed_files(meta)
            problems += pypi.changed_files(prefix, only=pypi_locked)
        return problems

    def base(self, manifest: Manifest) -> dict[str, str]:
        return {}  # a conda prefix holds all it imports

    def packages(self, ctx: Context, state: EnvState) -> list[Package]:
        manifest = state.manifest
        out = [
            Package(p.name, p.version, "pypi", p.index, p.name in manifest.pypi)
            for p in parse_lock(state.pypi_lock).values()
        ]
        out += [
            Package(p.name, p.version, "conda", p.channel, p.name in manifest.conda)
            for p in condameta.parse_lock(state.conda_lock).values()
        ]
        return out

    def export(self, state: EnvState, fmt: str) -> str:
        manifest = state.manifest
        if fmt == "requirements":
            raise InvalidRequest(
                f"{manifest.name!r} is a conda environment: export it as 'environment' or "
                "'lock' (a requirements file holds PyPI packages only)"
            )
        if fmt == "environment":
            conda = condameta.parse_lock(state.conda_lock)
            specs = [f"{p.name}={p.version}={p.build}" for _, p in sorted(conda.items())]
            return environment_export(
                manifest.name, list(manifest.channels), specs, pypi.pins(state.pypi_lock)
            )
        return lock_export(
            manifest,
            state.pypi_lock,
            channels=list(manifest.channels),
            dependencies=manifest.conda_table(),
            conda_lock=state.conda_lock,
        )

    def kernel_env(self, ctx: Context, state: EnvState) -> dict[str, str] | None:
        has = "ipykernel" in parse_lock(state.pypi_lock) or "ipykernel" in (
            condameta.parse_lock(state.conda_lock)
        )
        if not has:
            return None
        return {"CONDA_PREFIX": str(ctx.store.prefix(state.name)), **bridge_env(ctx)}


def _route_removals(
    state: EnvState, names: list[str], use_pypi: bool
) -> tuple[list[str], list[str]]:
    """Which layer each removal is for (conda unless ``--pypi``), or why it cannot be."""
    env, manifest = state.name, state.manifest
    conda_locked = condameta.parse_lock(state.conda_lock)
    pypi_locked = parse_lock(state.pypi_lock)
    conda_remove, pypi_remove = [], []
    for name in names:
        cname, canon = name.lower(), canonical_name(name)
        if not use_pypi and cname in manifest.conda:
            conda_remove.append(cname)
        elif canon in manifest.pypi:
            pypi_remove.append(canon)
        elif cname in manifest.conda:
            raise InvalidRequest(
                f"{name!r} is a conda package in {env!r}: remove it without --pypi"
            )
        elif cname in conda_locked or canon in pypi_locked:
            raise InvalidRequest(
                f"{name!r} was installed as a dependency, not requested; "
                "remove the packages that need it instead"
            )
        else:
            raise PackageNotFound(f"{name!r} is not installed in environment {env!r}")
    return conda_remove, pypi_remove


def _route_updates(
    state: EnvState, names: list[str], use_pypi: bool
) -> tuple[list[str], list[str]]:
    """Which layer each update is for: the conda layer's packages first, unless ``--pypi``."""
    conda_locked = condameta.parse_lock(state.conda_lock)
    pypi_locked = parse_lock(state.pypi_lock)
    conda_update, pypi_update = [], []
    for name in names:
        cname, canon = name.lower(), canonical_name(name)
        if not use_pypi and cname in conda_locked:
            conda_update.append(cname)
        elif canon in pypi_locked:
            pypi_update.append(canon)
        else:
            raise PackageNotFound(f"{name!r} is not installed in environment {state.name!r}")
    return conda_update, pypi_update
