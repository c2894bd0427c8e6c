"""UserPkgService: the facade every front end calls.

The CLI, the server's REST handlers and the ``%userpkg`` magics only parse
input, call one method here and render what it returns.  Every method that
changes an env follows the same path: validate -> take the env lock -> finish
any interrupted transaction -> plan -> (dry run: stop) -> journal -> apply ->
commit a revision.
"""

from __future__ import annotations

import contextlib
import functools
import getpass
import importlib.metadata
import os
import re
import shutil
import sys
import time
import tomllib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tomlkit
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from . import condabackend, kernels, uvbackend
from .condabackend import CondaOptions
from .errors import (
    Declined,
    EnvExists,
    InvalidRequest,
    PackageNotFound,
    RevisionNotFound,
    TransactionFailed,
    UserPkgError,
)
from .exports import FORMATS, Imported, export_env, read_import
from .names import DEFAULT_ENV, validate_env_name
from .proc import sigint_deferred
from .records import ENV_KINDS, Action, Change, EnvInfo, Package, Plan, Result, RevisionRecord
from .specs import parse_pypi_specs, validate_package_name
from .store import EnvStore, Manifest, parse_lock
from .transaction import EnvLock, Transaction, installed_dists, site_packages_dirs

#: Progress callback: (phase, message).  Phases: solve, download, install, commit.
ProgressFn = Callable[[str, str], None]
#: Confirmation callback: sees the plan, returns whether to apply it.
ConfirmFn = Callable[[Plan], bool]

EMPTY_LOCK = 'lock-version = "1.0"\ncreated-by = "jupyter-userpkg"\npackages = []\n'


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user database entry (containers)
        return str(os.getuid()) if hasattr(os, "getuid") else ""


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
    out: dict[str, str] = {}
    for dist in importlib.metadata.distributions(path=list(dirs)):
        try:
            name = canonicalize_name(dist.metadata["Name"])
        except (KeyError, TypeError):
            continue
        out.setdefault(name, dist.version)
    return tuple(out.items())


class UserPkgService:
    """Environments, plans, transactions, history and export for one user."""

    def __init__(
        self,
        envs_dir: Path | str,
        *,
        base_python: str | None = None,
        lock_timeout: float = 300.0,
        uv_options: uvbackend.UvOptions | None = None,
        kernels_dir: Path | str | None = None,
        conda_options: CondaOptions | None = None,
    ) -> None:
        self.store = EnvStore(Path(envs_dir))
        self.base_python = base_python or sys.executable
        self.lock_timeout = lock_timeout
        self.uv = uv_options or uvbackend.UvOptions()
        self.conda = conda_options or CondaOptions()
        self._kernels_dir = Path(kernels_dir) if kernels_dir else None

    @property
    def kernels_dir(self) -> Path:
        """Where kernelspecs go: configured, else the user's Jupyter data dir (now)."""
        return self._kernels_dir or kernels.default_kernels_dir()

    @classmethod
    def from_config(cls, config: Any) -> UserPkgService:
        """Build from a :class:`~jupyter_userpkg.core.config.UserPkg` configurable."""
        return cls(
            config.envs_dir,
            base_python=config.base_python,
            lock_timeout=config.lock_timeout,
            kernels_dir=config.kernels_dir or None,
            uv_options=uvbackend.UvOptions(
                default_index=config.default_index,
                extra_index_urls=tuple(config.extra_index_urls),
                cache_dir=config.uv_cache_dir,
                offline=config.offline,
            ),
            conda_options=CondaOptions(
                channel_alias=config.channel_alias,
                default_channels=tuple(config.default_channels),
                pkgs_dir=config.conda_pkgs_dir,
                shared_pkgs_dirs=tuple(config.shared_pkgs_dirs),
                repodata_cache_dir=config.repodata_cache_dir,
                repodata_ttl=config.repodata_ttl,
                offline=config.offline,
            ),
        )

    # ------------------------------------------------------------------ reading

    def require(self, name: str) -> str:
        """``name`` if it is an existing env, else EnvNotFound (with a hint)."""
        validate_env_name(name)
        self.store.current(name)
        return name

    def _state(self, name: str | None) -> tuple[str, Manifest, str, bool]:
        """(env, manifest, lock text, exists) for reading.

        Without a name this is the ``default`` env; before its first change it
        reads as an empty layer over the base, and nothing is created for that.
        """
        if name not in (None, DEFAULT_ENV) or self.store.exists(DEFAULT_ENV):
            env = self.require(DEFAULT_ENV if name is None else name)
            return env, self.store.read_manifest(env), self.store.read_lock(env), True
        return DEFAULT_ENV, self._virtual_default(), EMPTY_LOCK, False

    def _virtual_default(self) -> Manifest:
        return self._layer_manifest(DEFAULT_ENV)

    def _layer_manifest(self, name: str) -> Manifest:
        """A layer's manifest before any request: the base interpreter's facts."""
        info = uvbackend.python_info(self.base_python)
        return Manifest(
            name,
            "layer",
            _major_minor(str(info["version"])),
            str(info["executable"]),
            tuple(str(s) for s in info["site"]),  # type: ignore[attr-defined]
        )

    def list_envs(self) -> list[EnvInfo]:
        """Every env; one whose metadata cannot be read is listed as ``broken``."""
        out = []
        for name in self.store.names():
            try:
                out.append(self.env_info(name))
            except (UserPkgError, OSError, ValueError):
                out.append(EnvInfo(name, "broken", str(self.store.prefix(name)), None, 0, -1, ""))
        return out

    def env_info(self, name: str) -> EnvInfo:
        manifest = self.store.read_manifest(name)
        locked = parse_lock(self.store.read_lock(name))
        conda = condabackend.parse_lock(self.store.read_conda_lock(name))
        return EnvInfo(
            name=name,
            kind=manifest.kind,
            path=str(self.store.prefix(name)),
            kernel=self._kernel_of(name),
            packages=len(locked) + len(conda),
            revision=self.store.current(name),
            python=manifest.python,
        )

    def packages(self, name: str | None = None) -> list[Package]:
        env, manifest, lock_text, exists = self._state(name)
        locked = parse_lock(lock_text)
        out = [
            Package(p.name, p.version, "pypi", p.index, p.name in manifest.pypi)
            for p in locked.values()
        ]
        if exists and manifest.kind == "conda":
            out += [
                Package(p.name, p.version, "conda", p.channel, p.name in manifest.conda)
                for p in condabackend.parse_lock(self.store.read_conda_lock(env)).values()
            ]
        if manifest.kind == "layer":
            for pname, version in base_packages(manifest.base_site).items():
                if pname not in locked:
                    out.append(Package(pname, version, "base", None, pname in manifest.pypi))
        return sorted(out, key=lambda p: (p.name, p.source))

    def history(self, name: str | None = None) -> list[RevisionRecord]:
        env, _, _, exists = self._state(name)
        if not exists:
            return []
        return [self.store.read_record(env, rev) for rev in self.store.revisions(env)]

    def export(self, name: str | None = None, fmt: str = "requirements") -> str:
        if fmt not in FORMATS:
            raise InvalidRequest(f"unknown export format {fmt!r}; use one of: {', '.join(FORMATS)}")
        env, manifest, lock_text, exists = self._state(name)
        conda_lock = self.store.read_conda_lock(env) if exists else ""
        return export_env(manifest, lock_text, fmt, conda_lock)

    # ----------------------------------------------------------------- creating

    def create(
        self,
        name: str,
        *,
        kind: str | None = None,
        python: str | None = None,
        specs: Iterable[str] = (),
        from_file: str | None = None,
        kernel: bool = True,
        dry_run: bool = False,
        progress: ProgressFn | None = None,
        channels: Iterable[str] = (),
        pypi_specs: Iterable[str] = (),
    ) -> Result:
        """Create an env; with specs or ``from_file``, install them in the same revision 0.

        ``kind`` defaults to the kind recorded in an exported lock, else ``layer``.
        ``kernel`` adds ipykernel (unless installing a lock exactly), so that the
        env gets a kernelspec.  For a conda env, ``specs`` are conda MatchSpecs
        (from ``channels``) and ``pypi_specs`` go on top through uv.
        """
        validate_env_name(name)
        imported = read_import(Path(from_file)) if from_file else None
        if imported is not None and imported.kind == "conda" and kind not in (None, "conda"):
            raise InvalidRequest(
                f"{Path(str(from_file)).name} describes a conda environment: "
                "create it with --kind conda"
            )
        if (kind or (imported.kind if imported else None)) == "conda":
            return self._create_conda(
                name,
                python,
                list(specs),
                list(pypi_specs),
                list(channels),
                imported,
                kernel=kernel,
                dry_run=dry_run,
                progress=progress,
            )
        if list(channels):
            raise InvalidRequest("channels are for conda environments: add --kind conda")
        reqs = parse_pypi_specs([*specs, *pypi_specs])
        lock_text: str | None = None
        if imported is not None:
            kind = kind or imported.kind
            lock_text = imported.lock_text
            if lock_text is not None and reqs:
                raise InvalidRequest(
                    "a lock is installed exactly as it is: create the environment from it "
                    "first, then install more packages"
                )
            reqs = list(imported.requirements) + reqs
        kind = kind or "layer"
        if (
            kernel
            and lock_text is None
            and "ipykernel" not in {canonicalize_name(r.name) for r in reqs}
        ):
            reqs.append(Requirement("ipykernel"))
        if kind not in ENV_KINDS:
            raise InvalidRequest(
                f"unknown environment kind {kind!r}; use one of: {', '.join(ENV_KINDS)}"
            )
        if python and kind == "layer":
            raise InvalidRequest(
                "a layer environment uses the server's own Python; "
                "use --kind venv to choose another Python version"
            )
        if imported is not None and imported.python:
            if kind == "venv":
                python = python or imported.python
            elif imported.python != (base := self._layer_manifest(name).python):
                raise InvalidRequest(
                    f"{Path(str(from_file)).name} asks for Python {imported.python}, but a layer "
                    f"environment uses the server's Python {base}; use --kind venv"
                )
        return self._create_guarded(
            name,
            kind,
            lambda: self._create_locked(
                name, kind, python, reqs, lock_text, dry_run=dry_run, progress=progress
            ),
            progress,
        )

    def _create_guarded(
        self, name: str, kind: str, build: Callable[[], Result], progress: ProgressFn | None
    ) -> Result:
        """Run ``build`` under the env lock; on any failure nothing of the env is left."""
        with self._lock(name):
            prefix = self.store.prefix(name)
            if self.store.exists(name):
                raise EnvExists(f"environment {name!r} already exists")
            twin = next((e for e in self.store.names() if e.lower() == name.lower()), None)
            if twin is not None:  # kernelspec names (and some filesystems) ignore case
                raise EnvExists(
                    f"environment {twin!r} already exists; names must differ in more than case"
                )
            self._clear_debris(name)
            if os.path.lexists(prefix):
                raise EnvExists(
                    f"{prefix} exists and is not an environment of jupyter-userpkg; "
                    "choose another name"
                )
            marker = self.store.creating_marker(name)
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()  # from here on, the prefix is ours to remove if this fails
            self._progress(progress, "create", f"creating {kind} environment {name!r}")
            try:
                result = build()
            except BaseException:
                shutil.rmtree(prefix, ignore_errors=True)
                marker.unlink(missing_ok=True)
                raise
            marker.unlink(missing_ok=True)
            if result.applied:
                self._sync_kernel_after_commit(name)
            return result

    def _create_conda(
        self,
        name: str,
        python: str | None,
        specs: list[str],
        pypi_specs: list[str],
        channels: list[str],
        imported: Imported | None,
        *,
        kernel: bool,
        dry_run: bool,
        progress: ProgressFn | None,
    ) -> Result:
        """A conda prefix: conda packages through rattler, PyPI ones on top through uv."""
        if imported is not None and imported.conda_lock_text is not None and (specs or pypi_specs):
            raise InvalidRequest(
                "a lock is installed exactly as it is: create the environment from it "
                "first, then install more packages"
            )
        if python and not re.fullmatch(r"\d+(\.\d+){0,2}", python):
            raise InvalidRequest(f"--python takes a version like 3.11, not {python!r}")
        wanted = [*(imported.conda_specs if imported else ()), *specs]
        if python:
            wanted.append(f"python {python}.*")
        conda_specs = condabackend.parse_specs(wanted, self.conda.channel_alias)
        reqs = parse_pypi_specs([*(str(r) for r in imported.requirements)] if imported else [])
        reqs += parse_pypi_specs(pypi_specs)
        sources = (
            channels
            or list(imported.channels if imported else ())
            or list(self.conda.default_channels)
        )
        urls = list(
            dict.fromkeys(condabackend.channel_url(c, self.conda.channel_alias) for c in sources)
        )
        manifest = Manifest(
            name,
            "conda",
            "",
            channels=tuple(urls),
            conda={condabackend.spec_name(m): condabackend.spec_text(m) for m in conda_specs},
        ).with_pypi(reqs)
        command = f"create {name} --kind conda" + "".join(f" -c {c}" for c in sources)
        command += "".join(f" {m}" for m in wanted) + "".join(f" --pypi {r}" for r in reqs)

        notes: list[str] = []

        def build() -> Result:
            nonlocal manifest
            prefix = self.store.prefix(name)
            self._progress(progress, "solve", "resolving conda packages")
            new_conda: condabackend.Lock
            if imported is not None and imported.conda_lock_text is not None:
                new_conda = imported.conda_lock_text
                new_pypi = _strip_tool_table(imported.lock_text or EMPTY_LOCK)
            else:

                def solve() -> list[Any]:
                    return condabackend.solve(
                        urls,
                        condabackend.parse_specs(manifest.conda.values(), self.conda.channel_alias),
                        options=self.conda,
                        notes=notes,
                    )

                records = solve()
                solved = {r.name.normalized for r in records}
                # An env with Python gets a kernel: ipykernel from its channels if they
                # have it, else from PyPI on top.
                if kernel and "python" in solved and "ipykernel" not in solved:
                    if "ipykernel" in condabackend.query_names(urls, self.conda):
                        manifest = manifest.with_conda({"ipykernel": "ipykernel"})
                        records = solve()
                    elif "ipykernel" not in manifest.pypi:
                        manifest = manifest.with_pypi([Requirement("ipykernel")])
                new_conda = condabackend.SolvedLock(records, urls)
                new_pypi = self._solve_conda_pypi(prefix, manifest, new_conda, EMPTY_LOCK)
            manifest = replace(manifest, python=_conda_python(new_conda))
            plan = self._plan(name, command, manifest, EMPTY_LOCK, new_pypi, -1, "", new_conda)
            plan = replace(plan, messages=plan.messages + tuple(notes))
            if dry_run:
                return Result(plan, None, applied=False)
            prefix.mkdir(parents=True)
            self._install_conda(prefix, plan, EMPTY_LOCK, progress)
            record = RevisionRecord(0, _now(), command, plan.changes, _user())
            self.store.commit(name, manifest.to_toml(), new_pypi, record, plan.conda_lock_text)
            self._progress(progress, "commit", f"created environment {name!r}")
            return Result(plan, 0, applied=True)

        return self._create_guarded(name, "conda", build, progress)

    def _clear_debris(self, name: str) -> None:
        """Remove what an interrupted ``create`` left (only what it marked as its own)."""
        marker = self.store.creating_marker(name)
        if marker.exists() and not self.store.exists(name):
            shutil.rmtree(self.store.prefix(name), ignore_errors=True)
            marker.unlink(missing_ok=True)

    def _sweep(self) -> None:
        """Finish interrupted deletes and creates; safe at any time."""
        trash = self.store.envs_dir / ".trash"
        if trash.is_dir():
            for entry in os.listdir(trash):
                shutil.rmtree(trash / entry, ignore_errors=True)
        locks = self.store.envs_dir / ".locks"
        for marker in locks.glob("*.creating") if locks.is_dir() else ():
            name = marker.name.removesuffix(".creating")
            with self._lock(name):
                self._clear_debris(name)

    def _create_locked(
        self,
        name: str,
        kind: str,
        python: str | None,
        reqs: list[Requirement],
        lock_text: str | None,
        *,
        dry_run: bool,
        progress: ProgressFn | None,
    ) -> Result:
        prefix = self.store.prefix(name)
        interpreter = python or self.base_python
        uvbackend.create_venv(prefix, interpreter)
        if kind == "layer":
            manifest = self._layer_manifest(name)
            _write_layer_pth(prefix, manifest.base_site)
        else:
            info = uvbackend.python_info(str(uvbackend.env_python(prefix)))
            manifest = Manifest(name, kind, _major_minor(str(info["version"])))
        manifest = manifest.with_pypi(reqs)
        command = f"create {name} --kind {kind}" + (f" --python {python}" if python else "")
        command += "".join(f" {r}" for r in reqs)
        if lock_text is not None:
            new_lock = _strip_tool_table(lock_text)
            if kind == "layer":
                new_lock = _drop_base_satisfied(new_lock, base_packages(manifest.base_site))
        elif reqs:
            new_lock = self._solve(prefix, manifest, EMPTY_LOCK, progress=progress)
        else:
            new_lock = EMPTY_LOCK
        plan = self._plan(name, command, manifest, EMPTY_LOCK, new_lock, -1)
        if dry_run:
            shutil.rmtree(prefix, ignore_errors=True)
            return Result(plan, None, applied=False)
        if not plan.empty:
            self._progress(progress, "install", _summary(plan))
            uvbackend.sync(
                str(uvbackend.env_python(prefix)),
                new_lock,
                options=self.uv,
                on_line=self._uv_lines(progress),
            )
        record = RevisionRecord(0, _now(), command, plan.changes, _user())
        self.store.commit(name, manifest.to_toml(), new_lock, record)
        self._progress(progress, "commit", f"created environment {name!r}")
        return Result(plan, 0, applied=True)

    def delete(self, name: str) -> None:
        validate_env_name(name)
        self._sweep()
        with self._lock(name):
            self._clear_debris(name)
            self.require(name)
            prefix = self.store.prefix(name)
            trash = self.store.envs_dir / ".trash"
            trash.mkdir(exist_ok=True)
            target = trash / f"{name}-{uuid.uuid4().hex[:8]}"
            os.rename(prefix, target)  # atomic: the env is gone for every reader at once
            kernels.remove(self.kernels_dir, name, self.store.envs_dir)
            shutil.rmtree(target, ignore_errors=True)

    # ----------------------------------------------------------------- changing

    def change(
        self,
        name: str | None = None,
        *,
        install: Iterable[str] = (),
        remove: Iterable[str] = (),
        update: Iterable[str] = (),
        update_all: bool = False,
        dry_run: bool = False,
        progress: ProgressFn | None = None,
        confirm: ConfirmFn | None = None,
        pypi: bool = False,
    ) -> Result:
        """Install, remove and/or update packages in one planned transaction.

        ``confirm`` sees the plan before anything is touched and may decline it.
        In a conda env, ``install`` takes conda MatchSpecs unless ``pypi``.
        """
        install, remove, update = list(install), list(remove), list(update)
        if not (install or remove or update or update_all):
            raise InvalidRequest("nothing to do: name at least one package")
        target = validate_env_name(DEFAULT_ENV if name is None else name)
        is_conda = self.store.exists(target) and self.store.read_manifest(target).kind == "conda"
        check = condabackend.validate_name if is_conda else validate_package_name
        remove_names = [check(n) for n in remove]
        update_names = [check(n) for n in update]
        reqs = parse_pypi_specs(install) if pypi or not is_conda else []
        command = " ".join(
            part
            for part in (
                ("install " + " ".join(install)) if install else "",
                ("remove " + " ".join(remove)) if remove else "",
                ("update " + " ".join(update)) if update else "",
                "update --all" if update_all else "",
            )
            if part
        ) + (" --pypi" if pypi and is_conda else "")
        if is_conda:
            conda_specs = (
                [] if pypi else condabackend.parse_specs(install, self.conda.channel_alias)
            )
            return self._change_conda(
                target,
                command,
                conda_specs,
                reqs,
                remove_names,
                update_names,
                update_all=update_all,
                pypi=pypi,
                dry_run=dry_run,
                progress=progress,
                confirm=confirm,
            )
        created_default = False
        if name in (None, DEFAULT_ENV) and not self.store.exists(DEFAULT_ENV):
            # The default env before its first change: check the request against an
            # empty layer; only a change that will really be applied creates it.
            virtual = self._virtual_default()
            self._check_names(DEFAULT_ENV, virtual, {}, remove_names, update_names)
            if dry_run and reqs:
                preview = self.create(DEFAULT_ENV, kind="layer", specs=install, dry_run=True)
                return Result(replace(preview.plan, command=command), None, applied=False)
            if not reqs:  # update --all of nothing
                plan = self._plan(DEFAULT_ENV, command, virtual, EMPTY_LOCK, EMPTY_LOCK, -1)
                return Result(plan, None, applied=False)
            with contextlib.suppress(EnvExists):  # another process made it first
                self.create(DEFAULT_ENV, kind="layer")
                created_default = True
        env = self.require(DEFAULT_ENV if name is None else name)
        try:
            return self._change_locked(
                env,
                command,
                reqs,
                remove_names,
                update_names,
                update_all,
                dry_run,
                progress,
                confirm,
            )
        except BaseException:
            # A first change that failed leaves no trace: not even the default env.
            if created_default and self.store.revisions(env) == [0]:
                with contextlib.suppress(UserPkgError, OSError):
                    self.delete(env)
            raise

    def _change_locked(
        self,
        env: str,
        command: str,
        reqs: list[Requirement],
        remove_names: list[str],
        update_names: list[str],
        update_all: bool,
        dry_run: bool,
        progress: ProgressFn | None,
        confirm: ConfirmFn | None,
    ) -> Result:
        with self._lock(env):
            self._recover(env)
            current_rev = self.store.current(env)
            manifest = self.store.read_manifest(env)
            old_lock = self.store.read_lock(env)
            locked = parse_lock(old_lock)
            prefix = self.store.prefix(env)
            base = self._check_names(env, manifest, locked, remove_names, update_names)
            new_manifest = manifest.with_pypi(reqs).without_pypi(remove_names)
            if self._already_satisfied(reqs, manifest, locked, base) and not (
                remove_names or update_names or update_all
            ):
                new_lock = old_lock  # what is installed already meets every spec
                solve_started = solve_ended = 0.0
            else:
                self._progress(progress, "solve", "resolving")
                solve_started = time.perf_counter()
                new_lock = self._solve(
                    prefix,
                    new_manifest,
                    old_lock,
                    upgrade=update_all,
                    upgrade_packages=update_names,
                    progress=progress,
                )
                solve_ended = time.perf_counter()
            plan = self._plan(env, command, new_manifest, old_lock, new_lock, current_rev)
            if dry_run:
                return Result(plan, None, applied=False)
            if plan.empty and new_manifest == manifest:
                return Result(plan, None, applied=False)
            self._confirm(confirm, plan)
            result = self._apply(env, plan, progress)
            if solve_started:
                result.timings["solve"] = solve_ended - solve_started
            return result

    def _change_conda(
        self,
        env: str,
        command: str,
        specs: list[Any],
        reqs: list[Requirement],
        remove_names: list[str],
        update_names: list[str],
        *,
        update_all: bool,
        pypi: bool,
        dry_run: bool,
        progress: ProgressFn | None,
        confirm: ConfirmFn | None,
    ) -> Result:
        """A change to a conda env: the conda layer through rattler, then the PyPI layer."""
        with self._lock(env):
            self._recover(env)
            current_rev = self.store.current(env)
            manifest = self.store.read_manifest(env)
            old_pypi = self.store.read_lock(env)
            old_conda = self.store.read_conda_lock(env)
            conda_locked = condabackend.parse_lock(old_conda)
            pypi_locked = parse_lock(old_pypi)
            conda_remove, pypi_remove = [], []
            for pname in remove_names:
                cname, canon = pname.lower(), canonicalize_name(pname)
                if not pypi and cname in manifest.conda:
                    conda_remove.append(cname)
                elif canon in manifest.pypi:
                    pypi_remove.append(canon)
                elif cname in manifest.conda:
                    raise InvalidRequest(
                        f"{pname!r} is a conda package in {env!r}: remove it without --pypi"
                    )
                elif cname in conda_locked or canon in pypi_locked:
                    raise InvalidRequest(
                        f"{pname!r} was installed as a dependency, not requested; "
                        "remove the packages that need it instead"
                    )
                else:
                    raise PackageNotFound(f"{pname!r} is not installed in environment {env!r}")
            conda_update, pypi_update = [], []
            for pname in update_names:
                cname, canon = pname.lower(), canonicalize_name(pname)
                if not pypi and cname in conda_locked:
                    conda_update.append(cname)
                elif canon in pypi_locked:
                    pypi_update.append(canon)
                else:
                    raise PackageNotFound(f"{pname!r} is not installed in environment {env!r}")
            new_manifest = (
                manifest.with_conda(
                    {condabackend.spec_name(m): condabackend.spec_text(m) for m in specs}
                )
                .without_conda(conda_remove)
                .with_pypi(reqs)
                .without_pypi(pypi_remove)
            )
            solve_started = time.perf_counter()
            new_conda: condabackend.Lock = old_conda
            notes: list[str] = []
            if specs or conda_remove or conda_update or update_all:
                self._progress(progress, "solve", "resolving conda packages")
                keep = [
                    r
                    for r in condabackend.lock_records(old_conda)
                    if not update_all and r.name.normalized not in conda_update
                ]
                records = condabackend.solve(
                    list(new_manifest.channels),
                    condabackend.parse_specs(new_manifest.conda.values(), self.conda.channel_alias),
                    options=self.conda,
                    locked=keep,
                    refresh_all=bool(conda_update or update_all),
                    notes=notes,
                )
                new_conda = condabackend.SolvedLock(records, new_manifest.channels)
            new_pypi = old_pypi
            if (
                reqs
                or pypi_remove
                or pypi_update
                or update_all
                or (
                    condabackend.packages_of(new_conda) != conda_locked
                    and (new_manifest.pypi or pypi_locked)
                )
            ):
                self._progress(progress, "solve", "resolving PyPI packages")
                new_pypi = self._solve_conda_pypi(
                    self.store.prefix(env),
                    new_manifest,
                    new_conda,
                    old_pypi,
                    upgrade=update_all,
                    upgrade_packages=pypi_update,
                    progress=progress,
                )
            solve_ended = time.perf_counter()
            new_manifest = replace(new_manifest, python=_conda_python(new_conda))
            plan = self._plan(
                env, command, new_manifest, old_pypi, new_pypi, current_rev, old_conda, new_conda
            )
            plan = replace(plan, messages=plan.messages + tuple(notes))
            if dry_run or (plan.empty and new_manifest == manifest):
                return Result(plan, None, applied=False)
            self._confirm(confirm, plan)
            result = self._apply(env, plan, progress)
            result.timings["solve"] = solve_ended - solve_started
            return result

    def _solve_conda_pypi(
        self,
        prefix: Path,
        manifest: Manifest,
        conda_lock: condabackend.Lock,
        current_lock: str,
        *,
        upgrade: bool = False,
        upgrade_packages: Iterable[str] = (),
        progress: ProgressFn | None = None,
    ) -> str:
        """The PyPI layer of a conda env, with the conda-installed Python packages held fixed."""
        if not manifest.pypi:
            return EMPTY_LOCK
        conda = condabackend.packages_of(conda_lock)
        if "python" not in conda:
            raise InvalidRequest(
                f"PyPI packages need Python in environment {manifest.name!r}: "
                f"install it first (`install -n {manifest.name} python`)"
            )
        held: dict[str, str] = {}
        for pkg in conda.values():
            if pkg.is_python_package:
                with contextlib.suppress(InvalidVersion):
                    held[canonicalize_name(pkg.name)] = str(Version(pkg.version))
        linked = condabackend.installed_versions(prefix)
        for cname, (version, build, meta) in linked.items():
            staying = conda.get(cname)
            if staying is not None and (staying.version, staying.build) == (version, build):
                held.update(condabackend.python_dists(meta))  # by the names they install
        installed = linked.get("python")
        planned = conda["python"].version
        same = installed is not None and installed[0] == planned
        text = uvbackend.compile_lock(
            str(uvbackend.env_python(prefix)) if same else self.base_python,
            manifest.requirements(),
            options=self.uv,
            constraints=[f"{n}=={v}" for n, v in held.items()],
            preferences=current_lock if parse_lock(current_lock) else "",
            upgrade=upgrade,
            upgrade_packages=upgrade_packages,
            python_version="" if same else _major_minor(planned),
            on_line=self._uv_lines(progress),
        )
        return _drop_base_satisfied(text, held)

    def _install_conda(
        self, prefix: Path, plan: Plan, old_pypi_lock: str, progress: ProgressFn | None
    ) -> None:
        """Link the conda packages of the plan, then put its PyPI layer on top."""
        if not plan.empty:
            self._progress(progress, "install", _summary(plan))
        old, new = parse_lock(old_pypi_lock), parse_lock(plan.lock_text)
        removed = [n for n in old if n not in new]
        moves = _python_moves(prefix, plan)  # the PyPI layer goes to a new site-packages
        changed = [n for n in new if moves or n not in old or old[n].version != new[n].version]
        python = str(uvbackend.env_python(prefix))
        # Uninstall first, with the Python that installed them: a conda package that
        # replaces a PyPI one of the same name must keep its files, and a new Python
        # X.Y leaves nothing behind in the old site-packages.
        leaving = list(old) if moves else removed
        if leaving:
            uvbackend.install_pinned(python, EMPTY_LOCK, remove=leaving, options=self.uv)
        if any(c.source == "conda" for c in plan.changes):
            condabackend.install(
                prefix, condabackend.records_of(plan.conda_lock), options=self.conda
            )
        if changed:
            uvbackend.install_pinned(
                python, plan.lock_text, options=self.uv, on_line=self._uv_lines(progress)
            )

    def _kernel_of(self, env: str) -> str | None:
        name = kernels.kernel_name(env)
        return name if (self.kernels_dir / name / "kernel.json").is_file() else None

    def _sync_kernel_after_commit(self, env: str) -> None:
        """The change is committed: a kernelspec that cannot be written is for doctor."""
        with contextlib.suppress(OSError, UserPkgError, KeyboardInterrupt):
            self._sync_kernel(env)

    def _sync_kernel(self, env: str) -> bool:
        """Give the env a kernelspec iff it has ipykernel; True if anything changed."""
        manifest = self.store.read_manifest(env)
        has_kernel = (
            "ipykernel" in parse_lock(self.store.read_lock(env))
            or (manifest.kind == "layer" and "ipykernel" in base_packages(manifest.base_site))
            or "ipykernel" in condabackend.parse_lock(self.store.read_conda_lock(env))
        )
        if not has_kernel:
            return kernels.remove(self.kernels_dir, env, self.store.envs_dir)
        extra = {"JUPYTER_USERPKG_ENV": env}
        if manifest.kind == "conda":
            extra["CONDA_PREFIX"] = str(self.store.prefix(env))
        if manifest.kind in ("venv", "conda"):
            # The magic there runs its commands in this (the server's) interpreter.
            extra["JUPYTER_USERPKG_MAGIC"] = "bridge"
            extra["JUPYTER_USERPKG_SERVER_PYTHON"] = sys.executable
            # The env cannot import jupyter_userpkg; its kernel reaches our package
            # (and, through it, this interpreter) for the %userpkg magic only.
            extra["PYTHONPATH"] = str(kernels.magic_support_dir(self.store.envs_dir))
        spec = kernels.kernelspec(env, self.store.prefix(env), self.store.envs_dir, extra)
        return kernels.write(self.kernels_dir, env, spec)

    def _check_names(
        self,
        env: str,
        manifest: Manifest,
        locked: dict[str, Any],
        remove_names: list[str],
        update_names: list[str],
    ) -> dict[str, str]:
        """Refuse removing or updating what the env does not hold; return the base."""
        base = base_packages(manifest.base_site) if manifest.kind == "layer" else {}
        for pname in remove_names:
            if pname not in manifest.pypi:
                raise self._not_removable(env, pname, locked, base)
        for pname in update_names:
            if pname in locked or pname in manifest.pypi:
                continue
            if pname in base:
                raise InvalidRequest(
                    f"{pname!r} comes from the base environment ({base[pname]}); to use another "
                    f"version in {env!r}, install it, e.g. `install '{pname}>{base[pname]}'`"
                )
            raise PackageNotFound(f"{pname!r} is not installed in environment {env!r}")
        return base

    def rollback(
        self,
        revision: int,
        name: str | None = None,
        *,
        dry_run: bool = False,
        progress: ProgressFn | None = None,
        confirm: ConfirmFn | None = None,
    ) -> Result:
        """Return to the packages and manifest of ``revision``, as a new revision."""
        if name in (None, DEFAULT_ENV) and not self.store.exists(DEFAULT_ENV):
            raise RevisionNotFound(f"environment {DEFAULT_ENV!r} has no revision {revision}")
        env = self.require(DEFAULT_ENV if name is None else name)
        with self._lock(env):
            self._recover(env)
            current_rev = self.store.current(env)
            target_manifest = self.store.read_manifest(env, revision)
            target_lock = self.store.read_lock(env, revision)
            old_lock = self.store.read_lock(env)
            plan = self._plan(
                env,
                f"rollback {revision}",
                target_manifest,
                old_lock,
                target_lock,
                current_rev,
                self.store.read_conda_lock(env),
                self.store.read_conda_lock(env, revision),
            )
            if dry_run or revision == current_rev:
                return Result(plan, None, applied=False)
            self._confirm(confirm, plan)
            return self._apply(env, plan, progress)

    def doctor(self, name: str | None = None) -> list[dict[str, Any]]:
        """Finish interrupted transactions and compare each env with its lock."""
        names = self.store.names() if name is None else [self.require(name)]
        self._sweep()
        for env in kernels.ours(self.kernels_dir, self.store.envs_dir).values():
            with self._lock(env):
                if not self.store.exists(env):  # the env went without its kernelspec
                    kernels.remove(self.kernels_dir, env, self.store.envs_dir)
        reports = []
        for env in names:
            with self._lock(env):
                try:
                    recovered = self._recover(env)
                    problems = self._verify(env)
                    if self._sync_kernel(env):
                        recovered = ((recovered or "") + "; repaired its kernelspec").lstrip("; ")
                except (UserPkgError, OSError, ValueError) as exc:
                    recovered, problems = None, [f"cannot be checked: {exc}"]
            reports.append(
                {"env": env, "recovered": recovered, "problems": problems, "ok": not problems}
            )
        return reports

    # ---------------------------------------------------------------- internals

    def _lock(self, name: str) -> EnvLock:
        return EnvLock(self.store.lock_path(name), name, self.lock_timeout)

    def _recover(self, env: str) -> str | None:
        """Complete or undo a transaction a killed process left behind."""
        txn = Transaction(self.store.prefix(env))
        txn.cleanup_leftovers()
        self.store.drop_uncommitted(env)
        if not txn.active:
            return None
        journal = txn.journal()
        if journal is None:  # killed before the journal was armed: nothing was touched
            txn.finish()
            return None
        to_rev = int(journal["to_revision"])  # type: ignore[call-overload]
        if to_rev in self.store.revisions(env):
            txn.finish()
            return f"completed the interrupted change to revision {to_rev}"
        txn.roll_back()
        txn.finish()
        return f"rolled back an interrupted change (revision {to_rev} was never committed)"

    def _verify(self, env: str) -> list[str]:
        prefix = self.store.prefix(env)
        locked = parse_lock(self.store.read_lock(env))
        have = {n: v for n, (v, _) in installed_dists(prefix).items()}
        if self.store.read_manifest(env).kind == "conda":
            return self._verify_conda(env, prefix, locked, have)
        problems = []
        for pname, pkg in sorted(locked.items()):
            if pname not in have:
                problems.append(f"{pname} {pkg.version} is in the lock but not installed")
            elif have[pname] != pkg.version:
                problems.append(f"{pname} is {have[pname]} but the lock says {pkg.version}")
        for pname in sorted(set(have) - set(locked)):
            problems.append(f"{pname} {have[pname]} is installed but not in the lock")
        if not uvbackend.env_python(prefix).exists():
            problems.append("the environment's python is missing")
        return problems

    def _verify_conda(
        self, env: str, prefix: Path, locked: dict[str, Any], have: dict[str, str]
    ) -> list[str]:
        problems = []
        conda = condabackend.parse_lock(self.store.read_conda_lock(env))
        linked = condabackend.installed_versions(prefix)
        for pname, pkg in sorted(conda.items()):
            if pname not in linked:
                problems.append(f"{pname} {pkg.version} is in the lock but not installed")
            elif linked[pname][:2] != (pkg.version, pkg.build):
                problems.append(
                    f"{pname} is {linked[pname][0]} ({linked[pname][1]}) but the lock says "
                    f"{pkg.version} ({pkg.build})"
                )
        for pname in sorted(set(linked) - set(conda)):
            problems.append(f"{pname} {linked[pname][0]} is installed but not in the lock")
        for pname, lpkg in sorted(locked.items()):
            if have.get(pname) != lpkg.version:
                problems.append(f"{pname} {lpkg.version} (PyPI) is in the lock but not installed")
        return problems

    def _not_removable(
        self, env: str, pname: str, locked: dict[str, Any], base: dict[str, str]
    ) -> UserPkgError:
        if pname in locked:
            return InvalidRequest(
                f"{pname!r} was installed as a dependency, not requested; "
                f"remove the packages that need it instead"
            )
        if pname in base:
            return InvalidRequest(
                f"{pname!r} comes from the base environment of {env!r}, "
                "which this environment cannot change"
            )
        return PackageNotFound(f"{pname!r} is not installed in environment {env!r}")

    @staticmethod
    def _already_satisfied(
        reqs: list[Requirement], manifest: Manifest, locked: dict[str, Any], base: dict[str, str]
    ) -> bool:
        """True when the installed versions meet every new spec as they are.

        Then re-solving could only return the same lock (installed versions are
        the solver's preferences), so the no-op answer skips the solver.
        """
        if not reqs:
            return False
        for req in reqs:
            pname = canonicalize_name(req.name)
            if req.marker is not None:
                return False
            if req.extras:
                known = manifest.pypi.get(pname)
                if known is None or not req.extras <= Requirement(known).extras:
                    return False
            version = locked[pname].version if pname in locked else base.get(pname)
            if version is None or not req.specifier.contains(version, prereleases=True):
                return False
        return True

    def _solve(
        self,
        prefix: Path,
        manifest: Manifest,
        current_lock: str,
        *,
        upgrade: bool = False,
        upgrade_packages: Iterable[str] = (),
        progress: ProgressFn | None = None,
    ) -> str:
        upgrade_packages = list(upgrade_packages)
        constraints: list[str] = []
        base: dict[str, str] = {}
        if manifest.kind == "layer":
            base = base_packages(manifest.base_site)
            shadowed = parse_lock(current_lock)
            for pname, version in base.items():
                if pname in upgrade_packages or (pname in shadowed and pname in manifest.pypi):
                    continue  # named in `update`, or a shadow the user still asks for
                if pname in manifest.pypi:
                    req = Requirement(manifest.pypi[pname])
                    if not req.specifier.contains(version, prereleases=True):
                        continue  # the user asked for something the base does not have
                constraints.append(f"{pname}=={_public(version)}")
        requirements = manifest.requirements()
        if base:
            # What the base already satisfies (and the layer does not shadow) adds
            # nothing to solve: its dependencies are base packages, pinned above.
            requirements = [
                text
                for pname, text in manifest.pypi.items()
                if pname not in base
                or pname in shadowed
                or pname in upgrade_packages
                or not Requirement(text).specifier.contains(_public(base[pname]), prereleases=True)
                or Requirement(text).extras
            ]
        if not requirements:
            return EMPTY_LOCK
        text = uvbackend.compile_lock(
            str(uvbackend.env_python(prefix)),
            requirements,
            options=self.uv,
            constraints=constraints,
            preferences=current_lock if parse_lock(current_lock) else "",
            upgrade=upgrade,
            upgrade_packages=upgrade_packages,
            on_line=self._uv_lines(progress),
        )
        return _drop_base_satisfied(text, base) if base else text

    def _plan(
        self,
        env: str,
        command: str,
        manifest: Manifest,
        old_lock: str,
        new_lock: str,
        from_revision: int,
        old_conda: str = "",
        new_conda: condabackend.Lock = "",
    ) -> Plan:
        old, new = parse_lock(old_lock), parse_lock(new_lock)
        changes: list[Change] = []
        download = 0
        conda_old, conda_new = (
            condabackend.parse_lock(old_conda),
            condabackend.packages_of(new_conda),
        )
        for pname in sorted(set(conda_old) | set(conda_new)):
            was, now = conda_old.get(pname), conda_new.get(pname)
            if was and now and (was.version, was.build) == (now.version, now.build):
                continue
            before = was and (
                was.version
                if not now or now.version != was.version
                else f"{was.version} ({was.build})"
            )
            after = now and (
                now.version
                if not was or now.version != was.version
                else f"{now.version} ({now.build})"
            )
            action: Action = "add" if was is None else "remove" if now is None else "change"
            changes.append(Change(pname, action, before or None, after or None, "conda"))
            if now is not None:
                download += now.size
        for pname in sorted(set(old) | set(new)):
            before = old[pname].version if pname in old else None
            after = new[pname].version if pname in new else None
            if before == after:
                continue
            action = "add" if before is None else "remove" if after is None else "change"
            changes.append(Change(pname, action, before, after, "pypi"))
            if after is not None:
                download += new[pname].size
        messages: list[str] = []
        prefix = self.store.prefix(env)
        for pname, (version, _) in sorted(installed_dists(prefix).items()):
            # Only a plan with changes runs the installer, which removes these.
            if changes and pname not in old and pname not in new and manifest.kind != "conda":
                messages.append(
                    f"{pname} {version} was installed by other means and will be removed "
                    "(add it with `install` to keep it)"
                )
        if manifest.kind == "layer":
            base = base_packages(manifest.base_site)
            for change in changes:
                if change.new and change.name in base:
                    messages.append(
                        f"{change.name} {change.new} will shadow the base environment's "
                        f"{base[change.name]}"
                    )
        return Plan(
            env,
            command,
            tuple(changes),
            download,
            manifest.to_toml(),
            new_lock,
            from_revision,
            tuple(messages),
            new_conda,
        )

    def _apply(self, env: str, plan: Plan, progress: ProgressFn | None) -> Result:
        """Journal, install, commit; on any failure before the commit, undo."""
        prefix = self.store.prefix(env)
        new_rev = plan.from_revision + 1
        txn = Transaction(prefix)
        # Back up every installed distribution the new lock does not keep as it
        # is, including any installed by other means (the sync removes those).
        new_locked = parse_lock(plan.lock_text)
        old_pypi = self.store.read_lock(env)
        touched = [
            pname
            for pname, (version, _) in installed_dists(prefix).items()
            if pname not in new_locked or new_locked[pname].version != version
        ]
        roots: set[str] = set()
        if plan.is_conda:
            # Conda's Python packages are the conda layer's: back up what the PyPI
            # layer replaces, and the files of every conda package that goes.  A new
            # Python X.Y relinks every noarch Python package and moves the PyPI
            # layer to another site-packages: then everything is backed up.
            old_locked = parse_lock(old_pypi)
            moves = _python_moves(prefix, plan)
            touched = [
                p for p in (installed_dists(prefix) if moves else touched) if p in old_locked
            ]
            new_conda = condabackend.packages_of(plan.conda_lock)
            for cname, (version, build, meta) in condabackend.installed_versions(prefix).items():
                now = new_conda.get(cname)
                if moves or now is None or (now.version, now.build) != (version, build):
                    roots |= condabackend.owned_paths(meta)
        timings: dict[str, float] = {}
        clock = time.perf_counter()
        try:
            txn.begin(new_rev, touched, {"command": plan.command}, roots)
        except OSError as exc:
            txn.finish()  # the journal was never armed: nothing was touched
            raise TransactionFailed(
                f"could not prepare the change: {exc.strerror or exc}; nothing was changed"
            ) from None
        timings["journal"] = time.perf_counter() - clock
        try:
            clock = time.perf_counter()
            if plan.is_conda:
                self._install_conda(prefix, plan, old_pypi, progress)
            elif not plan.empty:
                self._progress(progress, "install", _summary(plan))
                uvbackend.sync(
                    str(uvbackend.env_python(prefix)),
                    plan.lock_text,
                    options=self.uv,
                    on_line=self._uv_lines(progress),
                )
            timings["install"] = time.perf_counter() - clock
            clock = time.perf_counter()
            record = RevisionRecord(new_rev, _now(), plan.command, plan.changes, _user())
            self.store.commit(env, plan.manifest_text, plan.lock_text, record, plan.conda_lock_text)
        except BaseException as exc:
            if new_rev not in self.store.revisions(env):  # not committed: undo
                with sigint_deferred():
                    txn.roll_back()
                    txn.finish()
                if isinstance(exc, UserPkgError | KeyboardInterrupt):
                    raise
                raise TransactionFailed(
                    f"the change failed and was undone: {exc}", details=repr(exc)
                ) from exc
            # Interrupted after the commit point: the change is complete.
        txn.finish()
        timings["commit"] = time.perf_counter() - clock
        self._sync_kernel_after_commit(env)
        self._progress(progress, "commit", f"revision {new_rev}")
        return Result(plan, new_rev, applied=True, timings=timings)

    @staticmethod
    def _confirm(confirm: ConfirmFn | None, plan: Plan) -> None:
        if confirm is not None and not plan.empty and not confirm(plan):
            raise Declined("cancelled; nothing was changed")

    @staticmethod
    def _progress(progress: ProgressFn | None, phase: str, message: str) -> None:
        from typing import cast

        from .events import ProgressFn as EventFn
        from .events import Reporter

        Reporter(cast("EventFn | None", progress))(phase, message)

    @staticmethod
    def _uv_lines(progress: ProgressFn | None) -> Callable[[str], None] | None:
        from typing import cast

        from .events import ProgressFn as EventFn
        from .events import Reporter

        return Reporter(cast("EventFn | None", progress)).uv_lines()


def _major_minor(version: str) -> str:
    """``3.11.7`` -> ``3.11``."""
    return ".".join(version.split(".")[:2])


def _python_moves(prefix: Path, plan: Plan) -> bool:
    """Whether a conda plan changes the env's Python X.Y (installed -> planned)."""
    installed = condabackend.installed_versions(prefix).get("python")
    planned = condabackend.packages_of(plan.conda_lock).get("python")
    if installed is None or planned is None:
        return False
    return _major_minor(installed[0]) != _major_minor(planned.version)


def _conda_python(conda_lock: condabackend.Lock) -> str:
    """X.Y of the python in a conda lock ("" when the env has none)."""
    pkg = condabackend.packages_of(conda_lock).get("python")
    return _major_minor(pkg.version) if pkg else ""


def _summary(plan: Plan) -> str:
    counts = {a: sum(1 for c in plan.changes if c.action == a) for a in ("add", "change", "remove")}
    return f"{counts['add']} to add, {counts['change']} to change, {counts['remove']} to remove"


def _write_layer_pth(prefix: Path, site_dirs: tuple[str, ...]) -> None:
    """Make the base interpreter's packages importable behind the layer's own.

    ``site.addsitedir`` (rather than a plain path line) also runs the base's own
    ``.pth`` files, so editable installs of the base keep working.
    """
    sites = site_packages_dirs(prefix)
    if not sites:
        raise TransactionFailed("the new environment has no site-packages directory")
    site = sites[0]
    lines = "; ".join(f"site.addsitedir({d!r})" for d in site_dirs)
    (site / "_userpkg_base.pth").write_text(f"import site; {lines}\n", encoding="utf-8")


def _drop_base_satisfied(lock_text: str, base: dict[str, str]) -> str:
    """Remove from a lock what the base interpreter already provides at that version.

    Works on the ``[[packages]]`` blocks of uv's output as text (a TOML
    round trip of a lock listing every platform's wheels costs more than the
    solve); the result is checked by parsing it.
    """
    head, *blocks = re.split(r"(?m)^(?=\[\[packages\]\]\s*$)", lock_text)
    kept = []
    for block in blocks:
        data = tomllib.loads(block).get("packages", [{}])[0]
        pname = canonicalize_name(str(data.get("name", "")))
        if pname in base and _public(base[pname]) == _public(str(data.get("version", ""))):
            continue
        kept.append(block)
    if len(kept) == len(blocks):
        return lock_text
    out = head + "".join(kept)
    if not kept and "packages = []" not in head:
        out = out.rstrip("\n") + "\npackages = []\n"
    tomllib.loads(out)  # still a valid lock
    return out


def _public(version: str) -> str:
    """The public part of a version (``2.1+cpu`` -> ``2.1``), normalised.

    A base built locally (``+cu118``, distro or conda builds) is pinned by the
    version an index can serve, and counts as satisfying that version.
    """
    try:
        return Version(version).public
    except InvalidVersion:
        return version


def _strip_tool_table(lock_text: str) -> str:
    doc = tomlkit.parse(lock_text)
    if "tool" in doc:
        del doc["tool"]
    return tomlkit.dumps(doc)
