"""The change pipeline, written once for every kind and every changing verb.

::

    lock -> recover -> request -> solve -> plan -> check -> confirm
         -> apply through the journal -> commit -> kernels

``create``, ``install``/``remove``/``update``, ``rollback`` and ``create
--from`` all pass through :meth:`Pipeline.create`, :meth:`Pipeline.change` and
:meth:`Pipeline.rollback`, which differ only in where the request comes from.
What a step means for an env is its kind's (:mod:`.kinds`); the guarantees are
the pipeline's: one writer per env (the lock), an interrupted change is
finished or undone before anything else (recover), nothing of an existing env
is touched before the plan is checked and confirmed (``create`` builds a new,
marked prefix that any failure removes), and a change that fails before its
commit is undone by the journal (see :mod:`.transaction`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import cancel, envquota, kernels, kinds, refusals
from .audit import user
from .checkstep import judge_plan
from .errors import (
    Declined,
    EnvBusy,
    EnvExists,
    InvalidEnvName,
    TransactionFailed,
    UserPkgError,
)
from .events import WAITING, Reporter
from .kinds.base import (
    EMPTY_LOCK,
    ChangeRequest,
    Context,
    CreateRequest,
    EnvKind,
    EnvState,
    Intent,
    Solution,
    check_size,
)
from .names import DEFAULT_ENV
from .proc import sigint_deferred
from .records import CheckFn, ConfirmFn, Plan, Result, RevisionRecord
from .request import for_create, refuse_asked
from .transaction import EnvLock, Transaction, recover


def now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


class Pipeline:
    """Runs changes through the steps above; holds no state of its own but settings."""

    def __init__(
        self,
        ctx: Context,
        *,
        lock_timeout: float,
        kernels_dir: Callable[[], os.PathLike[str] | str],
        checks: Sequence[CheckFn] = (),
        audit: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.ctx = ctx
        self.lock_timeout = lock_timeout
        self.kernels_dir = kernels_dir
        self.checks = tuple(checks)
        self.audit = audit

    # ------------------------------------------------------------- the verbs

    def create(
        self,
        kind_name: str | None,
        request: CreateRequest,
        *,
        dry_run: bool,
        report: Reporter,
        confirm: ConfirmFn | None = None,
        audit: bool = True,
    ) -> Result:
        """A new env at revision 0 (of ``kind_name``, else the kind the request implies);
        on any failure nothing of it is left; a refusal is logged (:mod:`.refusals`)."""
        asked = " ".join(["create", request.name, *request.specs, *request.pypi_specs])
        with refusals.logged(self.ctx.policy, self.audit, request.name, asked, dry_run):
            kind, request = for_create(self.ctx, kind_name, request)  # the request step
            store, name = self.ctx.store, request.name
            check_size(request.size)
            intent = kind.create_intent(self.ctx, request)  # validated before any file
            if not request.kernel:  # --no-kernel: recorded, so it holds for every change
                intent = replace(intent, manifest=replace(intent.manifest, kernels=False))
            with self.lock(name, report):
                cancel.checkpoint()
                # From the claim on, the prefix is ours to remove if this fails.
                marker = self._claim(name)
                prefix = store.prefix(name)
                report("create", f"creating {kind.name} environment {name!r}")
                try:
                    intent = kind.prepare(self.ctx, prefix, intent)
                    empty = EnvState(name, -1, intent.manifest)
                    solution = kind.solve(self.ctx, empty, intent, report)
                    plan = self.plan(kind, empty, intent.command, solution)
                    if dry_run:
                        shutil.rmtree(prefix, ignore_errors=True)
                        marker.unlink(missing_ok=True)
                        return Result(plan, None, applied=False)
                    if confirm is not None and not confirm(plan):
                        raise Declined("cancelled; nothing was created")
                    cancel.checkpoint()
                    kind.apply(self.ctx, empty, plan, report)
                    cancel.checkpoint()
                    self._commit_tail("create", name, plan, 0, audit=audit)
                except BaseException:
                    shutil.rmtree(prefix, ignore_errors=True)
                    marker.unlink(missing_ok=True)
                    raise
                with cancel.shielded():
                    marker.unlink(missing_ok=True)
                    report("commit", f"created environment {name!r}")
                    self.sync_kernel_after_commit(name)
                return Result(plan, 0, applied=True)

    def change(
        self,
        env: str,
        request: ChangeRequest,
        *,
        dry_run: bool,
        confirm: ConfirmFn | None,
        report: Reporter,
    ) -> Result:
        """install / remove / update in one planned transaction; ``default`` is made by
        its first change; a refusal is logged."""
        asked = request.command(pypi_flag=request.pypi)
        with refusals.logged(self.ctx.policy, self.audit, env, asked, dry_run):
            check_size(request.size)
            if env == DEFAULT_ENV and not self.ctx.store.exists(DEFAULT_ENV):
                return self._first_change(request, dry_run=dry_run, confirm=confirm, report=report)
            intents: dict[int, Intent] = {}

            def intent_of(state: EnvState) -> Intent:  # read once per revision the change sees
                if state.revision not in intents:
                    kind = kinds.of(state.manifest)
                    intents[state.revision] = kind.change_intent(self.ctx, state, request)
                return intents[state.revision]

            if not dry_run:
                # A request that cannot be right is refused before waiting for the lock
                # or recovering anything, against the committed revision.
                intent_of(self.state(env))
            with self.writing(env, dry_run, report):
                state = self.state(env)
                kind = kinds.of(state.manifest)
                intent = intent_of(state)
                solution = kind.solve(self.ctx, state, intent, report)
                cancel.checkpoint()
                plan = self.plan(kind, state, intent.command, solution)
                if dry_run or (plan.empty and solution.manifest == state.manifest):
                    return Result(plan, None, applied=False)
                return self._apply(kind, state, plan, solution, confirm, report)

    def _first_change(
        self, request: ChangeRequest, *, dry_run: bool, confirm: ConfirmFn | None, report: Reporter
    ) -> Result:
        """``default`` before its first change: the request is checked against an empty
        layer (the policy refuses before anything is made); only a change that will
        really be applied creates it, and one that fails leaves not even the env."""
        layer = kinds.default_kind()
        virtual = EnvState(DEFAULT_ENV, -1, layer.manifest_for(self.ctx, DEFAULT_ENV))
        intent = layer.change_intent(self.ctx, virtual, request)
        if request.install:
            refuse_asked(self.ctx, intent)
        if dry_run and request.install:
            made = CreateRequest(DEFAULT_ENV, specs=request.install)
            preview = self.create(layer.name, made, dry_run=True, report=Reporter(None))
            return Result(with_command(preview, intent.command).plan, None, applied=False)
        if not request.install:  # update --all of nothing
            plan = self.plan(layer, virtual, intent.command, empty_solution(virtual))
            return Result(plan, None, applied=False)
        created = False
        with contextlib.suppress(EnvExists):  # another process made it first
            # Made for this change, it is logged with it (and not at all if it fails).
            new = CreateRequest(DEFAULT_ENV)
            self.create(layer.name, new, dry_run=False, report=Reporter(None), audit=False)
            created = True
        try:
            return self.change(
                DEFAULT_ENV, request, dry_run=dry_run, confirm=confirm, report=report
            )
        except BaseException:
            if created and self.ctx.store.revisions(DEFAULT_ENV) == [0]:
                with contextlib.suppress(UserPkgError, OSError), cancel.shielded():
                    self.delete(DEFAULT_ENV, audit=False)
            raise

    def rollback(
        self,
        env: str,
        revision: int,
        *,
        dry_run: bool,
        confirm: ConfirmFn | None,
        report: Reporter,
    ) -> Result:
        """Return to the packages and manifest of ``revision``, as a new revision."""
        asked = f"rollback {revision}"
        with (
            refusals.logged(self.ctx.policy, self.audit, env, asked, dry_run),
            self.writing(env, dry_run, report),
        ):
            state = self.state(env)
            target = self.state(env, revision)
            kind = kinds.of(target.manifest)
            solution = Solution(target.manifest, target.pypi_lock, target.conda_lock)
            plan = self.plan(kind, state, f"rollback {revision}", solution)
            if dry_run or revision == state.revision:
                return Result(plan, None, applied=False)
            return self._apply(kind, state, plan, solution, confirm, report)

    # ------------------------------------------------------------- the steps

    def lock(self, env: str, report: Reporter | None = None) -> EnvLock:
        """The env's writer lock; ``report`` hears a ``wait`` event only when another
        writer (a job, the terminal, a kernel) holds it."""
        self.ctx.store.ensure()

        def waiting() -> None:
            if report is not None:
                report("wait", WAITING)

        return EnvLock(self.ctx.store.lock_path(env), env, self.lock_timeout, on_wait=waiting)

    @contextlib.contextmanager
    def writing(self, env: str, dry_run: bool, report: Reporter | None = None) -> Iterator[None]:
        """The env lock and recovery, for a change that may write.

        A dry run is a reader: it plans from the last committed revision (which
        a revision's atomic rename keeps whole) and never waits for a writer.
        What a plan reads from the prefix itself (notes on distributions installed
        by other means, the conda packages a PyPI layer must keep) is then as the
        prefix is now, which a change in flight may be altering.
        """
        if dry_run:
            yield
            return
        with self.lock(env, report):
            cancel.checkpoint()
            self.recover(env)
            yield

    def state(self, env: str, revision: int | None = None) -> EnvState:
        """The env at ``revision`` (default: the current one), as the kinds read it."""
        store = self.ctx.store
        rev = store.current(env) if revision is None else revision
        return EnvState(
            env,
            rev,
            store.read_manifest(env, rev),
            store.read_lock(env, rev),
            store.read_conda_lock(env, rev),
        )

    def recover(self, env: str) -> str | None:
        """Complete or undo a transaction a killed process left behind."""
        return recover(self.ctx.store, env)

    def plan(self, kind: EnvKind, state: EnvState, command: str, solution: Solution) -> Plan:
        """The solved change as a user sees it, then checked: by the administrator's policy
        (also a rollback, which does not solve), then by the caller's checks."""
        changes, download, notes = kind.diff(self.ctx, state, solution)
        plan = Plan(
            state.name,
            command,
            tuple(changes),
            download,
            solution.manifest,
            solution.pypi_lock,
            state.revision,
            tuple(notes),
            solution.conda_lock,
        )
        judge_plan(self.ctx, state, solution, changes, command)  # the policy
        for check in self.checks:
            check(plan)
        return plan

    def _apply(
        self,
        kind: EnvKind,
        state: EnvState,
        plan: Plan,
        solution: Solution,
        confirm: ConfirmFn | None,
        report: Reporter,
    ) -> Result:
        """confirm -> apply through the journal -> commit -> kernels."""
        if confirm is not None and not plan.empty and not confirm(plan):
            raise Declined("cancelled; nothing was changed")
        cancel.checkpoint()
        env = state.name
        new_rev = plan.from_revision + 1
        txn = Transaction(self.ctx.store.prefix(env))
        backup = kind.backup(self.ctx, state, plan)
        timings: dict[str, float] = {}
        if solution.seconds:
            timings["solve"] = solution.seconds
        clock = time.perf_counter()
        try:
            txn.begin(new_rev, backup.dists, {"command": plan.command}, backup.paths)
        except OSError as exc:
            txn.finish()  # the journal was never armed: nothing was touched
            raise TransactionFailed(
                f"could not prepare the change: {exc.strerror or exc}; nothing was changed"
            ) from None
        timings["journal"] = time.perf_counter() - clock
        try:
            clock = time.perf_counter()
            kind.apply(self.ctx, state, plan, report)
            timings["install"] = time.perf_counter() - clock
            cancel.checkpoint()  # the last safe point: after it, the change is complete
            clock = time.perf_counter()
            action = "rollback" if plan.command.startswith("rollback") else "change"
            self._commit_tail(action, env, plan, new_rev)
        except BaseException as exc:
            if new_rev not in self.ctx.store.revisions(env):  # not committed: undo
                with sigint_deferred():
                    txn.roll_back()
                    txn.finish()
                if isinstance(exc, UserPkgError | KeyboardInterrupt):
                    raise
                raise TransactionFailed(
                    f"the change failed and was undone: {exc}", details=repr(exc)
                ) from exc
            # Interrupted after the commit point: the change is complete.
        timings["commit"] = time.perf_counter() - clock
        clock = time.perf_counter()
        with cancel.shielded():
            txn.finish()  # dropping the journal is part of its cost
            timings["journal"] += time.perf_counter() - clock
            self.sync_kernel_after_commit(env)
            report("commit", f"revision {new_rev}")
        return Result(plan, new_rev, applied=True, timings=timings)

    def _commit_tail(
        self, action: str, env: str, plan: Plan, revision: int, *, audit: bool = True
    ) -> None:
        """The one commit of create, change and rollback: the revision's rename, then its
        audit record; shielded, since after the rename the change is complete."""
        with cancel.shielded():
            self._commit(env, plan, revision)
            if audit:
                self._audit(action, env, plan, revision)

    def _audit(self, action: str, env: str, plan: Plan | None, revision: int | None) -> None:
        """One audit record of a committed change; a log that fails never undoes it."""
        if self.audit is None:
            return
        entry = {
            "time": now(),
            "user": user(),
            "env": env,
            "action": action,
            "revision": revision,
            "command": plan.command if plan else "delete",
            "changes": [c.to_dict() for c in plan.changes] if plan else [],
        }
        with contextlib.suppress(OSError):
            self.audit(entry)

    def _commit(self, env: str, plan: Plan, revision: int) -> None:
        record = RevisionRecord(revision, now(), plan.command, plan.changes, user())
        conda_lock = plan.conda_lock_text
        self.ctx.store.commit(env, plan.manifest_text, plan.lock_text, record, conda_lock)

    # ------------------------------------------------------ create and delete

    def _claim(self, name: str) -> Path:
        """Refuse a name that is taken (also in another case), clear a killed create's
        debris, and mark the name as being created within the policy's ``max_envs``
        (counted with the creates running now: :mod:`.envquota`); the marker's path."""
        store = self.ctx.store
        if name.lower() == DEFAULT_ENV and name != DEFAULT_ENV:
            raise InvalidEnvName(
                f"{name!r} differs from {DEFAULT_ENV!r} only in case; names must differ in more "
                "than case"
            )
        if store.exists(name):
            raise EnvExists(f"environment {name!r} already exists")
        twin = next((e for e in store.names() if e.lower() == name.lower()), None)
        if twin is not None:  # kernelspec names (and some filesystems) ignore case
            raise EnvExists(
                f"environment {twin!r} already exists; names must differ in more than case"
            )
        self.clear_debris(name)
        prefix = store.prefix(name)
        if os.path.lexists(prefix):
            raise EnvExists(
                f"{prefix} exists and is not an environment of jupyter-userpkg; choose another name"
            )
        return envquota.claim(store, name, self.ctx.policy.max_envs, self.lock_timeout)

    def delete(self, name: str, *, audit: bool = True) -> None:
        """Remove an env and its kernelspec; readers see it go at once, in one rename."""
        store = self.ctx.store
        self.sweep()
        with self.lock(name):
            self.clear_debris(name)
            store.current(name)  # EnvNotFound, with its hint
            trash = store.envs_dir / ".trash"
            trash.mkdir(exist_ok=True)
            target = trash / f"{name}-{os.urandom(4).hex()}"
            os.rename(store.prefix(name), target)
            if audit:
                self._audit("delete", name, None, None)
            kernels.remove(Path(self.kernels_dir()), name, store.envs_dir)
            shutil.rmtree(target, ignore_errors=True)

    def clear_debris(self, name: str) -> None:
        """Remove what an interrupted ``create`` left (only what it marked as its own)."""
        store = self.ctx.store
        marker = store.creating_marker(name)
        if marker.exists() and not store.exists(name):
            shutil.rmtree(store.prefix(name), ignore_errors=True)
            marker.unlink(missing_ok=True)

    def sweep(self) -> None:
        """Finish interrupted deletes and creates; safe at any time."""
        envs_dir = self.ctx.store.envs_dir
        trash = envs_dir / ".trash"
        if trash.is_dir():
            for entry in os.listdir(trash):
                shutil.rmtree(trash / entry, ignore_errors=True)
        locks = envs_dir / ".locks"
        for marker in locks.glob("*.creating") if locks.is_dir() else ():
            name = marker.name.removesuffix(".creating")
            # A create still running holds its lock: its marker is not debris (yet).
            with contextlib.suppress(EnvBusy), EnvLock(self.ctx.store.lock_path(name), name, 0):
                self.clear_debris(name)

    # ----------------------------------------------------------------- kernels

    def sync_kernel_after_commit(self, env: str) -> None:
        """The change is committed: a kernelspec that cannot be written is for doctor."""
        with contextlib.suppress(OSError, UserPkgError, KeyboardInterrupt):
            self.sync_kernel(env)

    def sync_kernel(self, env: str) -> bool:
        """Give the env its kernelspecs: the Python one iff its kind says it can run one,
        and one for each kernelspec its packages ship; True if anything changed.

        An env made with ``--no-kernel`` gets none of these, but a Python kernel once
        the user asks for ipykernel by name."""
        store = self.ctx.store
        kernels_dir = Path(self.kernels_dir())
        state = self.state(env)
        kind = kinds.of(state.manifest)
        extra = kind.kernel_env(self.ctx, state)
        from . import envconfig

        tools: dict[str, str] = {}
        with contextlib.suppress(OSError):
            tools = envconfig.write(self.ctx, store.prefix(env), conda=kind.channels)
        manifest, prefix = state.manifest, store.prefix(env)
        common = {"JUPYTER_USERPKG_ENV": env, **tools}
        wanted = []
        asked = "ipykernel" in manifest.pypi or "ipykernel" in manifest.conda
        if extra is not None and (manifest.kernels or asked):
            spec = kernels.kernelspec(env, prefix, store.envs_dir, {**common, **extra})
            wanted.append(kernels.KernelFiles(kernels.kernel_name(env), spec))
        if manifest.kernels:
            wanted += kernels.shipped_kernels(env, prefix, store.envs_dir, common)
        return kernels.sync(kernels_dir, env, store.envs_dir, wanted)


def empty_solution(state: EnvState) -> Solution:
    """A plan of nothing for ``state`` (an ``update --all`` of an env not made yet)."""
    return Solution(state.manifest, EMPTY_LOCK)


def with_command(result: Result, command: str) -> Result:
    return replace(result, plan=replace(result.plan, command=command))
