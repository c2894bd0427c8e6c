"""UserPkgService: the facade the command layer calls.

Reading verbs (``envs``, ``list``, ``history``, ``export``) ask the env's kind; changing verbs
(``create``, ``install``/``remove``/``update``, ``rollback``) go through the one change pipeline
(:mod:`.pipeline`); ``delete`` and ``doctor`` take the same lock and recovery.  Nothing here knows
which kinds exist (:mod:`.kinds`); ``search``, ``info`` read indexes; shared envs: :mod:`.shared`.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import kernels, shared
from .errors import (
    EnvDamaged,
    InvalidRequest,
    RevisionNotFound,
)
from .kernelindex import Listing
from .listing import EnvListing
from .names import DEFAULT_ENV, validate_env_name
from .options import CondaOptions, SearchOptions, UvOptions
from .policy.rules import Policy
from .records import CheckFn, ConfirmFn, EnvInfo, Package, Result, RevisionRecord
from .store import EnvStore

if TYPE_CHECKING:
    from .audit import AuditLog, SyslogLog
    from .events import ProgressFn
    from .kinds.base import Context, EnvState
    from .pipeline import Pipeline
    from .policy.sources import Loaded
    from .provides import Provides
    from .search.facade import Sources
    from .searchrecords import PackageInfo, SearchResult

__all__ = ["CheckFn", "ConfirmFn", "UserPkgService"]


class UserPkgService:
    """Environments, plans, transactions, history and export for one user."""

    def __init__(
        self,
        envs_dir: Path | str,
        *,
        base_python: str | None = None,
        lock_timeout: float = 300.0,
        uv_options: UvOptions | None = None,
        kernels_dir: Path | str | None = None,
        conda_options: CondaOptions | None = None,
        checks: Sequence[CheckFn] = (),
        search_options: SearchOptions | None = None,
        policy: Policy | None = None,
        audit_log: Path | str | None = None,
        policy_notes: Sequence[str] = (),
        notebook_lock_max_bytes: int = 256 * 1024,
        shared_envs: shared.Shared | None = None,
    ) -> None:
        self.store = EnvStore(Path(envs_dir))
        self.shared = shared_envs or shared.Shared()  # the administrator's (:mod:`.shared`)
        self.base_python = base_python or sys.executable
        self.lock_timeout = lock_timeout
        self.uv = uv_options or UvOptions()
        self.conda = conda_options or CondaOptions()
        self._kernels_dir = Path(kernels_dir) if kernels_dir else None
        self._checks = tuple(checks)
        self.search_options = search_options or SearchOptions(
            offline=self.uv.offline or self.conda.offline
        )
        self._listing = EnvListing(self.store)
        self._kernel_listing = Listing()  # the kernels dir's index (:mod:`.kernelindex`)
        #: The administrator's policy (see :mod:`.policy`), and what loading it noted.
        self.policy = policy or Policy()
        self.policy_notes = tuple(policy_notes)
        self.audit_log = audit_log or None
        #: A notebook's metadata carries the env's lock text up to this size.
        self.notebook_lock_max_bytes = notebook_lock_max_bytes

    # The pipeline, the kinds and the engines load on the first change: reading
    # verbs (``envs``) start in the time of any Jupyter command.

    @functools.cached_property
    def ctx(self) -> Context:
        from .kinds.base import Context

        return Context(self.store, self.base_python, self.uv, self.conda, self.policy)

    @functools.cached_property
    def pipeline(self) -> Pipeline:
        from .pipeline import Pipeline

        return Pipeline(
            self.ctx,
            lock_timeout=self.lock_timeout,
            kernels_dir=lambda: self.kernels_dir,
            checks=self._checks,
            audit=self._audit_log().record,
        )

    def _audit_log(self) -> AuditLog | SyslogLog:
        from .audit import open_log, resolve, user

        return open_log(self.audit_log or resolve("", self.store.envs_dir, user()))

    @property
    def kernels_dir(self) -> Path:
        """Where kernelspecs go: configured, else the user's Jupyter data dir (now)."""
        return self._kernels_dir or kernels.default_kernels_dir()

    @classmethod
    def from_config(cls, config: Any, loaded: Loaded | None = None) -> UserPkgService:
        """Build from a :class:`~jupyter_userpkg.commands.config.UserPkg` configurable, within
        the administrator's policy (read now unless ``loaded``).

        The policy's sources replace the configuration's: a user's config cannot
        point at another index or channel than the administrator chose, nor move
        the audit log.
        """
        from .audit import resolve, user
        from .policy.sources import load

        loaded = loaded or load()
        policy, admin = loaded.policy, loaded.settings
        indexes = policy.indexes or (
            (config.default_index, *config.extra_index_urls)
            if config.default_index
            else ("", *config.extra_index_urls)
        )
        find_links = admin["find_links"][0] if "find_links" in admin else config.find_links
        if policy.indexes and "find_links" not in admin:
            find_links = ()  # a user's wheel directory is a source the policy did not choose
        audit = admin["audit_log"][0] if "audit_log" in admin else config.audit_log
        snapshot = policy.snapshot_time.isoformat() if policy.snapshot_time else ""
        return cls(
            config.envs_dir,
            base_python=config.base_python,
            lock_timeout=config.lock_timeout,
            kernels_dir=config.kernels_dir or None,
            uv_options=UvOptions(
                default_index=indexes[0],
                extra_index_urls=tuple(indexes[1:]),
                find_links=tuple(find_links),
                cache_dir=config.uv_cache_dir,
                offline=config.offline,
                exclude_newer=snapshot,
                python_downloads=policy.python_downloads,
            ),
            conda_options=CondaOptions(
                channel_alias=policy.channel_alias or config.channel_alias,
                default_channels=tuple(policy.channels or config.default_channels),
                pkgs_dir=config.conda_pkgs_dir,
                shared_pkgs_dirs=tuple(config.shared_pkgs_dirs),
                repodata_cache_dir=config.repodata_cache_dir,
                repodata_ttl=config.repodata_ttl,
                offline=config.offline,
                exclude_newer=snapshot,
            ),
            search_options=SearchOptions(
                cache_dir=config.search_cache_dir,
                list_ttl=config.search_ttl,
                info_ttl=config.package_info_ttl,
                offline=config.offline,
            ),
            policy=policy,
            audit_log=resolve(audit, Path(config.envs_dir), user()),
            policy_notes=loaded.notes,
            shared_envs=shared.Shared.from_settings(admin),
            notebook_lock_max_bytes=config.notebook_lock_max_bytes,
        )

    # ------------------------------------------------------------------ reading

    def require(self, name: str) -> str:
        """``name`` if it is an existing env, else EnvNotFound (with a hint)."""
        shared.refuse_theirs(self, validate_env_name(name))  # reading verbs: shared.for_reading
        self.store.current(name)
        return name

    def _state(self, name: str | None) -> EnvState:
        """The env to read; without a name, ``default``.

        Before its first change, ``default`` reads as an empty layer over the
        base (revision -1), and nothing is created for that.
        """
        from . import kinds
        from .kinds.base import EnvState

        if name not in (None, DEFAULT_ENV) or self.store.exists(DEFAULT_ENV):
            return self.pipeline.state(self.require(DEFAULT_ENV if name is None else name))
        return EnvState(DEFAULT_ENV, -1, kinds.default_kind().manifest_for(self.ctx, DEFAULT_ENV))

    def list_envs(self) -> list[EnvInfo]:
        """Every env; one whose metadata cannot be read is listed as ``broken``.

        What was read of an env is kept for as long as it stays at that revision
        (:mod:`.listing`): a long-lived process (the server) reads only what changed.
        """
        kernels_of = self._kernel_listing.of(self.kernels_dir, self.store.envs_dir)  # one stat

        def read(name: str, revision: int) -> EnvInfo:
            return self.env_info(name, revision, kernels_of=kernels_of)

        return shared.listed(self, self._listing.envs(kernels_of.get, read))

    def env_info(
        self,
        name: str,
        revision: int | None = None,
        *,
        kernels_of: Mapping[str, tuple[dict[str, str], ...]] | None = None,
    ) -> EnvInfo:
        """One env's summary, read from its metadata alone (no kind, no engine); a listing
        passes the kernels of every env it read once (``kernels_of``)."""
        from . import kinds  # the registry alone: no kind's module loads
        from .kernelindex import PREFIX

        if kernels_of is None:
            kernels_of = self._kernel_listing.of(self.kernels_dir, self.store.envs_dir)

        if revision is None:
            revision = self.store.current(name)
        listed = self.store.read_listed(name, revision)  # written at commit
        if listed is not None:
            kind, python, count = listed["kind"], listed["python"], listed["packages"]
        else:  # a revision committed before summaries, or a file changed since
            kind, python = self.store.read_summary(name, revision)
            count = self.store.count_packages(name, revision)
        if kind not in kinds.KINDS:
            raise EnvDamaged(f"environment {name!r} names an unknown kind {kind!r}")
        kernels = kernels_of.get(name, ())
        advisories: list[dict[str, Any]] = []
        if self.policy.restricts_packages:
            from .policy import view as policyview

            if listed is not None:
                held = listed["held"]
            else:
                held = policyview.held(self.store, name, revision)
            advisories = policyview.advisories(self.policy, held, name)
        return EnvInfo(
            name=name,
            kind=kind,
            path=str(self.store.prefix(name)),
            kernel=next((k["name"] for k in kernels if k["name"] == PREFIX + name.lower()), None),
            kernels=kernels,
            packages=count,
            revision=revision,
            python=python,
            advisories=tuple(advisories),
        )

    def packages(self, name: str | None = None) -> list[Package]:
        from . import kinds

        state = self._state(name)
        found = kinds.of(state.manifest).packages(self.ctx, state)
        return sorted(found, key=lambda p: (p.name, p.source))

    def history(self, name: str | None = None) -> list[RevisionRecord]:
        state = self._state(name)
        if state.revision < 0:
            return []
        return [self.store.read_record(state.name, rev) for rev in self.store.revisions(state.name)]

    def export(self, name: str | None = None, fmt: str = "requirements") -> str:
        from . import kinds
        from .exports import FORMATS, NOTEBOOK_FORMATS

        if fmt not in (*FORMATS, *NOTEBOOK_FORMATS):
            known = ", ".join((*FORMATS, *NOTEBOOK_FORMATS))
            raise InvalidRequest(f"unknown export format {fmt!r}; use one of: {known}")
        state = self._state(name)
        if fmt in NOTEBOOK_FORMATS:
            from .notebooks import export_env

            lock = kinds.of(state.manifest).export(state, "lock")
            return export_env(state.manifest, lock, fmt, self.notebook_lock_max_bytes)
        return kinds.of(state.manifest).export(state, fmt)

    # ----------------------------------------------------------------- changing

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
        confirm: ConfirmFn | None = None,
        audit: bool = True,
    ) -> Result:
        """Create an env; with specs or ``from_file``, install them in the same revision 0.

        ``kind`` defaults to the kind recorded in the file, else ``layer``.
        ``kernel`` adds ipykernel (unless installing a lock exactly), so that the
        env gets a kernelspec.  For a conda env, ``specs`` are conda MatchSpecs
        (from ``channels``) and ``pypi_specs`` go on top through uv.
        """
        from .events import Reporter
        from .kinds.base import CreateRequest
        from .notebooks import read_from

        validate_env_name(name)
        imported = read_from(Path(from_file)) if from_file else None
        request = CreateRequest(
            name,
            python=python,
            specs=tuple(specs),
            pypi_specs=tuple(pypi_specs),
            channels=tuple(channels),
            imported=imported,
            kernel=kernel,
        )
        from .notebooks import create_with_fallback

        def create(made: CreateRequest, ask: ConfirmFn | None) -> Result:
            report = Reporter(progress)
            return self.pipeline.create(
                kind, made, dry_run=dry_run, report=report, confirm=ask, audit=audit
            )

        from .pypi.uv import served

        return create_with_fallback(create, request, confirm, lambda url: served(url, self.uv))

    def delete(self, name: str, *, audit: bool = True) -> None:
        """Remove an env and its kernelspec."""
        self.pipeline.delete(validate_env_name(name), audit=audit)

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
        from .events import Reporter
        from .kinds.base import ChangeRequest

        request = ChangeRequest(
            tuple(install), tuple(remove), tuple(update), update_all=update_all, pypi=pypi
        )
        if request.empty:
            raise InvalidRequest("nothing to do: name at least one package")
        target = validate_env_name(DEFAULT_ENV if name is None else name)
        if target != DEFAULT_ENV or self.store.exists(DEFAULT_ENV):
            self.require(target)  # else: made by this first change (the pipeline's request step)
        return self.pipeline.change(
            target, request, dry_run=dry_run, confirm=confirm, report=Reporter(progress)
        )

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
        from .events import Reporter

        env = self.require(DEFAULT_ENV if name is None else name)
        return self.pipeline.rollback(
            env, revision, dry_run=dry_run, confirm=confirm, report=Reporter(progress)
        )

    def doctor(self, name: str | None = None, *, deep: bool = False) -> list[dict[str, Any]]:
        """Finish interrupted transactions and compare each env with its lock.

        ``deep`` also checks every installed file against its package's hashes.
        """
        from .doctor import check

        names = self.store.names() if name is None else [self.require(name)]
        refused = [f"the administrator's policy: {self.policy.error}"] if self.policy.error else []
        also = [*refused, *self._audit_log().problems()]
        return check(self.pipeline, names, self.kernels_dir, deep=deep, also=also)

    # ------------------------------------------------------------------ finding

    def _sources(self) -> Sources:
        from .search.facade import Sources

        return Sources.within(self.policy, self.uv, self.conda, self.search_options)

    def search(self, query: str, *, source: str | None = None, limit: int = 50) -> SearchResult:
        """Packages whose names match ``query`` on PyPI (the configured index) and/or the
        default conda channels, ranked exact, prefix, substring (see :mod:`.search`)."""
        from dataclasses import replace

        from .search.facade import search

        found = search(query, self._sources(), source=source, limit=limit)
        if not self.policy.restricts_packages and self.policy.pypi:
            return found
        hits = []
        for hit in found.results:
            verdict = self.policy.package_verdict(hit.name, hit.source)
            if verdict is None and hit.version:
                verdict = self.policy.version_verdict(hit.name, hit.version, hit.source)
            hits.append(replace(hit, blocked=verdict.to_dict() if verdict else None))
        return replace(found, results=tuple(hits))

    def info(self, name: str, *, source: str | None = None) -> PackageInfo:
        """One package's versions, summary, licence...: PyPI first, then conda (or ``source``)."""
        from dataclasses import replace

        from .search.facade import info

        found = info(name, self._sources(), source=source)
        policy = self.policy
        whole = policy.package_verdict(found.name, found.source)
        versions = {}
        for version in found.versions:
            verdict = policy.version_verdict(found.name, version, found.source)
            if verdict is not None and whole is None:
                versions[version] = verdict.to_dict()
        if whole is None and policy.allowed_licenses and found.license:
            whole = policy.license_verdict(found.name, found.license)
        return replace(found, blocked=whole.to_dict() if whole else None, blocked_versions=versions)

    def provides(self, text: str, env: str | None = None) -> Provides:
        """Which package provides the import name in ``text`` (an error's text, or the name),
        with its evidence: the user's envs and the base first, then the policy's indexes
        (:mod:`.provides`); the target env's channels too when it has any."""
        from .importnames import site_dirs
        from .provides import Sources, find_provider

        channels: tuple[str, ...] = ()
        if env not in (None, DEFAULT_ENV) or self.store.exists(DEFAULT_ENV):
            name = self.require(env or DEFAULT_ENV)
            channels = self.store.read_manifest(name).channels
        prefixes = tuple((n, self.store.prefix(n)) for n in self.store.listing())
        theirs = [EnvStore(d) for d in self.shared.dirs]  # the administrator's shared envs
        shared_envs = tuple((f"shared:{n}", s.prefix(n)) for s in theirs for n in s.listing())
        sources = Sources(
            envs=prefixes,
            base_dirs=tuple(site_dirs(Path(sys.prefix))),
            uv=self.uv,
            policy=self.policy,
            cache=self.conda.cache_root() / "provides",
            channels=channels,
            conda=self.conda,
            shared=shared_envs,
        )
        return find_provider(text, env or DEFAULT_ENV, sources)

    # ------------------------------------------------------------------ policy

    def policy_info(self) -> dict[str, Any]:
        """The effective policy, each part's origin, where policies are looked for."""
        from .policy.sources import describe_sources
        from .policy.view import describe

        return describe(self.policy, describe_sources(), self.policy_notes)

    def policy_check(self, policy: Policy | None = None) -> list[dict[str, Any]]:
        """Every env against ``policy`` (default: the effective one): what violates it,
        why, and the fix (``policy --check``)."""
        from .policy.rules import PolicyError
        from .policy.view import check_all

        judged = policy or self.policy
        if judged.error:  # no envs can be judged against a policy that cannot be read
            raise PolicyError(f"{judged.error}; environments cannot be checked against it")
        from . import kinds

        return check_all(judged, self.store, lambda m: kinds.of(m).base(m))
