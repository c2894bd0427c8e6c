"""The ``layer`` kind: a venv over a base interpreter that sees all of its packages.

The base is the server's own interpreter, or (``create --over``) the Python of
an administrator's shared env (:mod:`..shared`): the context's ``base_python``
either way.  The layer installs only what the base lacks, resolved against the
base's installed versions, and never shadows a base package unless the user
asks for that package by name.  A layer over an env of this project records
that env and the revision it was solved against (``base-env``,
``base-revision``), so that ``envs`` and ``doctor`` can say when the base
changed.  ``default`` is a layer.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from ..errors import InvalidRequest, TransactionFailed
from ..events import Reporter
from ..manifest import Manifest
from ..pylock import parse_lock
from ..pypi import uv as uvbackend
from ..records import Change, Package
from ..specs import canonical_name
from ..store import META_DIR, EnvStore
from ..transaction import site_packages_dirs
from . import pypi
from .base import (
    ChangeRequest,
    Context,
    CreateRequest,
    EnvState,
    Intent,
    Solution,
    bridge_env,
    major_minor,
)
from .venv import PyPIIntent, VenvKind

BASE_PTH = "_userpkg_base.pth"


class LayerKind(VenvKind):
    """A PyPI layer over the base interpreter (see the module docstring)."""

    name = "layer"
    extends_base = True
    python_version = False
    base_link = BASE_PTH
    summary = "a layer over the server's Python: sees its packages, adds your own"
    exports = VenvKind.exports

    def manifest_for(self, ctx: Context, name: str) -> Manifest:
        """A layer's manifest before any request: the base interpreter's facts."""
        info = uvbackend.python_info(ctx.base_python)
        base_env = managed_prefix(str(info["executable"]))
        return Manifest(
            name,
            self.name,
            major_minor(str(info["version"])),
            str(info["executable"]),
            tuple(str(s) for s in info["site"]),  # type: ignore[attr-defined]
            base_env=str(base_env or ""),
            base_revision=base_revision(str(base_env)) if base_env else -1,
        )

    def change_intent(self, ctx: Context, state: EnvState, request: ChangeRequest) -> Intent:
        """A change is solved against the base as it is now: its revision is recorded."""
        intent = super().change_intent(ctx, state, request)
        manifest = intent.manifest
        if not manifest.base_env:
            return intent
        now = replace(manifest, base_revision=base_revision(manifest.base_env))
        return replace(intent, manifest=now)

    def _python(self, ctx: Context, request: CreateRequest) -> str | None:
        if request.python:
            raise InvalidRequest(
                "a layer environment uses the server's own Python; "
                "use --kind venv to choose another Python version"
            )
        imported = request.imported
        if imported is not None and imported.python:
            base = self.manifest_for(ctx, request.name).python
            if imported.python != base:
                raise InvalidRequest(
                    f"{imported.source} asks for Python {imported.python}, but a layer "
                    f"environment uses the server's Python {base}; use --kind venv"
                )
        return None

    def prepare(self, ctx: Context, prefix: Path, intent: Intent) -> Intent:
        assert isinstance(intent, PyPIIntent)
        uvbackend.create_venv(prefix, ctx.base_python)
        manifest = self.manifest_for(ctx, intent.manifest.name)
        write_base_pth(prefix, manifest.base_site)
        return type(intent)(
            manifest.with_pypi(list(intent.reqs)),
            intent.command,
            reqs=intent.reqs,
            lock_text=intent.lock_text,
        )

    def base(self, manifest: Manifest) -> dict[str, str]:
        return base_packages(manifest.base_site)

    def imported_lock(self, manifest: Manifest, lock_text: str) -> str:
        return pypi.drop_held(pypi.strip_tool_table(lock_text), self.base(manifest))

    def solve_layer(
        self, ctx: Context, manifest: Manifest, current: str, intent: PyPIIntent, report: Reporter
    ) -> str:
        from packaging.requirements import Requirement

        base = self.base(manifest)
        shadowed = parse_lock(current)
        upgrade = set(intent.upgrade)
        constraints: list[str] = []
        for name, version in base.items():
            if name in upgrade or (name in shadowed and name in manifest.pypi):
                continue  # named in `update`, or a shadow the user still asks for
            if name in manifest.pypi:
                req = Requirement(manifest.pypi[name])
                if not req.specifier.contains(version, prereleases=True):
                    continue  # the user asked for something the base does not have
            constraints.append(f"{name}=={pypi.public(version)}")
        # What the base already satisfies (and the layer does not shadow) adds
        # nothing to solve: its dependencies are base packages, pinned above.
        requirements = [
            text
            for name, text in manifest.pypi.items()
            if name not in base
            or name in shadowed
            or name in upgrade
            or not Requirement(text).specifier.contains(pypi.public(base[name]), prereleases=True)
            or Requirement(text).extras
        ]
        prefix = ctx.store.prefix(manifest.name)
        return pypi.solve_layer(
            str(uvbackend.env_python(prefix)),
            requirements,
            current,
            options=ctx.uv,
            report=report,
            constraints=constraints,
            upgrade=intent.upgrade_all,
            upgrade_packages=intent.upgrade,
            held=base,
            policy=ctx.policy,
        )

    def diff(
        self, ctx: Context, state: EnvState, solution: Solution
    ) -> tuple[list[Change], int, list[str]]:
        changes, download, notes = super().diff(ctx, state, solution)
        base = self.base(solution.manifest)
        for change in changes:
            if change.new and change.name in base:
                notes.append(
                    f"{change.name} {change.new} will shadow the base environment's "
                    f"{base[change.name]}"
                )
        return changes, download, notes

    def packages(self, ctx: Context, state: EnvState) -> list[Package]:
        out = super().packages(ctx, state)
        locked = parse_lock(state.pypi_lock)
        for name, version in base_packages(state.manifest.base_site).items():
            if name not in locked:
                out.append(Package(name, version, "base", None, name in state.manifest.pypi))
        return out

    def kernel_env(self, ctx: Context, state: EnvState) -> dict[str, str] | None:
        # Over the server's interpreter, the layer's kernel imports this package; over a
        # shared env it cannot, and %userpkg goes through the bridge as in a venv.
        if "ipykernel" in parse_lock(state.pypi_lock) or "ipykernel" in self.base(state.manifest):
            base_env = state.manifest.base_env
            if not base_env:
                return {}
            extra = bridge_env(ctx)
            if (Path(base_env) / "conda-meta").is_dir():  # a conda base: as its own kernel
                extra["CONDA_PREFIX"] = base_env
            return extra
        return None


def managed_prefix(python: str) -> Path | None:
    """The prefix of the env of this project ``python`` belongs to (a shared env), or None."""
    prefix = Path(python).parent.parent
    return prefix if (prefix / META_DIR / "revisions").is_dir() else None


def base_revision(prefix: str) -> int:
    """The current revision of the env at ``prefix`` (-1: it is gone)."""
    path = Path(prefix)
    revisions = EnvStore(path.parent).revisions(path.name)
    return revisions[-1] if revisions else -1


def write_base_pth(prefix: Path, site_dirs: tuple[str, ...]) -> None:
    """Make the base interpreter's packages importable behind the layer's own.

    ``site.addsitedir`` (rather than a plain path line) also runs the base's own
    ``.pth`` files, so editable installs of the base keep working.
    """
    sites = site_packages_dirs(prefix)
    if not sites:
        raise TransactionFailed("the new environment has no site-packages directory")
    lines = "; ".join(f"site.addsitedir({d!r})" for d in site_dirs)
    (sites[0] / BASE_PTH).write_text(f"import site; {lines}\n", encoding="utf-8")


def base_packages(site_dirs: Iterable[str]) -> dict[str, str]:
    """Canonical name -> version of what the base interpreter can import.

    Cached on the directories' modification times: installing or removing a
    distribution adds or deletes a ``*.dist-info`` entry, which changes them.
    """
    dirs = tuple(site_dirs)
    stamps = []
    for directory in dirs:
        try:
            stamps.append(os.stat(directory).st_mtime_ns)
        except OSError:
            stamps.append(-1)
    return dict(_base_packages(dirs, tuple(stamps)))


@functools.lru_cache(maxsize=8)
def _base_packages(dirs: tuple[str, ...], stamps: tuple[int, ...]) -> tuple[tuple[str, str], ...]:
    import importlib.metadata

    out: dict[str, str] = {}
    for dist in importlib.metadata.distributions(path=list(dirs)):
        try:
            name = canonical_name(dist.metadata["Name"])
        except (KeyError, TypeError):
            continue
        out.setdefault(name, dist.version)
    return tuple(out.items())
