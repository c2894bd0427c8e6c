"""Run a parsed command against the core, and map every failure the one way.

Front ends build a command (:mod:`.verbs`: from a line with :mod:`.grammar`,
from a request with :mod:`.bodies`), call :func:`guarded_dispatch` and render
the :class:`Outcome` (or the error) as fits them.  The core service
is imported only when a service is built, so ``--help`` and a bad command line
never load it or the engines behind it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..core.errors import (
    AccessDenied,
    Cancelled,
    InvalidRequest,
    TransactionFailed,
    UserPkgError,
)
from .verbs import (
    Change,
    Command,
    Create,
    Delete,
    Doctor,
    Env,
    Envs,
    Export,
    History,
    Info,
    Install,
    Kinds,
    List,
    Mirror,
    PackageChange,
    Provides,
    Remove,
    Rollback,
    Search,
    Update,
)
from .verbs import Policy as PolicyCommand

if TYPE_CHECKING:
    from ..core.events import ProgressFn
    from ..core.policy.rules import Policy
    from ..core.records import Plan, Result
    from ..core.service import ConfirmFn, UserPkgService


@dataclass(frozen=True)
class Outcome:
    """What a verb returned: JSON-able ``data`` and the objects in ``value``."""

    verb: str
    data: Any
    value: Any
    ok: bool = True


def make_service() -> UserPkgService:
    """The service as the user's and the administrator's Jupyter config files set it up."""
    from ..core.service import UserPkgService
    from .config import UserPkg, load_config_files

    return UserPkgService.from_config(UserPkg(config=load_config_files()))


def dispatch(
    svc: UserPkgService,
    command: Command,
    *,
    progress: ProgressFn | None = None,
    confirm: ConfirmFn | None = None,
) -> Outcome:
    """Call the service for a command; raises the core's errors as they come.

    A change whose audit record could not be written stands (the log never undoes a
    commit), and its outcome says so in ``notes``: the user learns the log is broken.
    """
    from ..core.audit import watch

    with watch() as missed:
        outcome = _dispatch(svc, command, _Call(progress, confirm))
    if not missed:
        return outcome
    if isinstance(outcome.data, dict) and "plan" in outcome.data:  # a Result
        result = replace(outcome.value, notes=(*outcome.value.notes, *missed))
        return replace(outcome, data=result.to_dict(), value=result)
    if isinstance(outcome.data, dict):  # delete
        return replace(outcome, data={**outcome.data, "notes": missed})
    return outcome


@dataclass(frozen=True)
class _Call:
    """How the front end follows a change: progress events, and a confirmation."""

    progress: ProgressFn | None = None
    confirm: ConfirmFn | None = None


def _dispatch(svc: UserPkgService, command: Command, call: _Call) -> Outcome:
    handler = HANDLERS.get(command.verb)
    if handler is None:  # pragma: no cover - every command has its handler
        raise InvalidRequest(f"unknown verb {command.verb!r}")
    return handler(svc, command, call)


def _envs(svc: UserPkgService, command: Envs, call: _Call) -> Outcome:
    # The listing is the same list while no env changed: so are its dicts (a server
    # asks for them on every GET envs, and keeps the JSON of the same list).
    envs = svc.list_envs()
    kept = svc.__dict__.get("_envs_data")
    if kept is None or kept[0] is not envs:
        kept = (envs, [e.to_dict() for e in envs])
        svc.__dict__["_envs_data"] = kept
    return Outcome(command.verb, kept[1], envs)


def _target(svc: UserPkgService, env: str | None, shared: bool) -> UserPkgService:
    """The service a change of ``env`` runs with: the shared dir's for the administrator's
    ``--shared``; a user's change of a shared env is refused (:mod:`..core.shared`)."""
    from ..core import shared as sharing

    if shared:
        if env is None:
            raise InvalidRequest("--shared needs the environment's name: -n NAME")
        return sharing.admin(svc, env)
    sharing.for_change(svc, env)
    return svc


def _noted(svc: UserPkgService, env: str | None, call: _Call) -> _Call:
    """The administrator's change of a shared env: its plan names the users' layers over
    it that the change breaks (:mod:`..core.layerscan`), before it is confirmed."""
    from ..core.layerscan import plan_notes

    if env is None:
        return call
    ask, prefix = call.confirm, svc.store.prefix(env)

    def confirm(plan: Plan) -> bool:
        noted = replace(plan, messages=(*plan.messages, *plan_notes(prefix, plan)))
        return ask(noted) if ask is not None else True

    return replace(call, confirm=confirm)


def _settled(
    svc: UserPkgService, verb: str, env: str | None, result: Result, shared: bool
) -> Outcome:
    """A change's outcome; a shared env's files are then made read-only to users, and its
    plan names the users' layers it breaks."""
    if shared and env is not None:
        from ..core.layerscan import plan_notes
        from ..core.shared import shared_mode

        if result.applied:
            shared_mode(svc.store.prefix(env), svc.kernels_dir)
        notes = plan_notes(svc.store.prefix(env), result.plan) if verb != "create" else ()
        plan = replace(result.plan, messages=(*result.plan.messages, *notes))
        result = replace(result, plan=plan)
    return Outcome(verb, result.to_dict(), result)


def _reading(svc: UserPkgService, env: str | None) -> UserPkgService:
    from ..core.shared import for_reading

    return for_reading(svc, env)


def _create(svc: UserPkgService, command: Create, call: _Call) -> Outcome:
    from ..core import shared as sharing

    kind = command.kind
    if command.shared and command.over is None:
        svc = sharing.admin(svc, command.name, create=True)
    else:
        sharing.for_create(svc, command.name)
    if command.over is not None:
        flags = {"--kind": kind, "--python": command.python, "-c": command.channels or None}
        given = tuple(flag for flag, value in flags.items() if value)
        given += ("--shared",) if command.shared else ()
        svc, kind = sharing.over(svc, command.over, given=given), "layer"
    result = svc.create(
        command.name,
        kind=kind,
        python=command.python,
        specs=command.specs,
        from_file=command.from_file,
        kernel=command.kernel,
        dry_run=command.dry_run,
        progress=call.progress,
        channels=command.channels,
        pypi_specs=command.pypi_specs,
        confirm=call.confirm,
    )
    return _settled(svc, command.verb, command.name, result, command.shared)


def _env(svc: UserPkgService, command: Env, call: _Call) -> Outcome:
    """One env's summary (the REST API's GET envs/{env})."""
    from ..core.shared import annotated

    reader = _reading(svc, command.env)
    info = reader.env_info(reader.require(command.env))
    info = annotated(svc, info, shared=reader is not svc)
    return Outcome(command.verb, info.to_dict(), info)


def _change(svc: UserPkgService, command: PackageChange, call: _Call) -> Outcome:
    """install, remove, update; ``change`` (a REST body) may do all three in one transaction."""
    parts = command.parts()
    svc = _target(svc, command.env, command.shared)
    call = _noted(svc, command.env, call) if command.shared else call
    result = svc.change(
        command.env,
        install=parts.install,
        remove=parts.remove,
        update=parts.update,
        update_all=parts.update_all,
        dry_run=command.dry_run,
        progress=call.progress,
        confirm=call.confirm,
        pypi=command.pypi,
    )
    return _settled(svc, command.verb, command.env, result, command.shared)


def _rollback(svc: UserPkgService, command: Rollback, call: _Call) -> Outcome:
    svc = _target(svc, command.env, command.shared)
    call = _noted(svc, command.env, call) if command.shared else call
    result = svc.rollback(
        command.revision,
        command.env,
        dry_run=command.dry_run,
        progress=call.progress,
        confirm=call.confirm,
    )
    return _settled(svc, command.verb, command.env, result, command.shared)


def _list(svc: UserPkgService, command: List, call: _Call) -> Outcome:
    pkgs = _reading(svc, command.env).packages(command.env)
    # A layer sees its whole base: a person is shown the env's own (and what it
    # asked for), JSON gets everything.
    shown = [p for p in pkgs if command.base or p.source != "base" or p.requested]
    return Outcome(command.verb, [p.to_dict() for p in pkgs], (shown, len(pkgs) - len(shown)))


def _history(svc: UserPkgService, command: History, call: _Call) -> Outcome:
    revs = _reading(svc, command.env).history(command.env)
    return Outcome(command.verb, [r.to_dict() for r in revs], revs)


def _export(svc: UserPkgService, command: Export, call: _Call) -> Outcome:
    if command.notebook is not None and command.format != "notebook":
        raise InvalidRequest("a NOTEBOOK is given with --format notebook only")
    text = _reading(svc, command.env).export(command.env, command.format)
    if command.notebook is not None:
        from ..core.notebooks import write_metadata

        write_metadata(Path(command.notebook), json.loads(text))
        return Outcome(command.verb, {"path": command.notebook, "format": "notebook"}, None)
    if command.output:
        _write_output(Path(command.output), text)
        return Outcome(command.verb, {"path": command.output, "format": command.format}, None)
    return Outcome(command.verb, {"format": command.format, "text": text}, text)


def _delete(svc: UserPkgService, command: Delete, call: _Call) -> Outcome:
    svc = _target(svc, command.name, command.shared)
    svc.delete(command.name)
    if command.shared:  # the kernels' index was written again
        from ..core.shared import shared_mode

        shared_mode(svc.kernels_dir)
    return Outcome(command.verb, {"deleted": command.name}, command.name)


def _search(svc: UserPkgService, command: Search, call: _Call) -> Outcome:
    found = svc.search(command.query, source=command.source, limit=command.limit)
    return Outcome(command.verb, found.to_dict(), found)


def _info(svc: UserPkgService, command: Info, call: _Call) -> Outcome:
    package = svc.info(command.package, source=command.source)
    return Outcome(command.verb, package.to_dict(), package)


def _provides(svc: UserPkgService, command: Provides, call: _Call) -> Outcome:
    found = svc.provides(command.module, command.env)
    return Outcome(command.verb, found.to_dict(), found)


def _policy(svc: UserPkgService, command: PolicyCommand, call: _Call) -> Outcome:
    if command.policy_file and not command.check:
        raise InvalidRequest("--policy FILE goes with --check")
    if command.check:
        file = command.policy_file
        violations = svc.policy_check(_policy_file(Path(file)) if file else None)
        body = {"check": True, "violations": violations}
        return Outcome(command.verb, body, body, ok=not violations)
    described = svc.policy_info()
    return Outcome(command.verb, described, described)


def _kinds(svc: UserPkgService, command: Kinds, call: _Call) -> Outcome:
    from ..core.kinds import describe

    found = describe()
    return Outcome(command.verb, found, found)


def _mirror(svc: UserPkgService, command: Mirror, call: _Call) -> Outcome:
    from .mirrorverb import run_mirror

    return Outcome(command.verb, *run_mirror(command, call.progress))


def _doctor(svc: UserPkgService, command: Doctor, call: _Call) -> Outcome:
    from ..core.shared import doctor_notes

    reports = doctor_notes(svc, svc.doctor(command.env, deep=command.deep))
    return Outcome(command.verb, reports, reports, ok=all(r["ok"] for r in reports))


#: How a handler is called: the service, its verb's command, the front end's callbacks.
Handler = Callable[["UserPkgService", Any, _Call], Outcome]
C = TypeVar("C", bound=Command)


def _entry(
    cls: type[C], handler: Callable[[UserPkgService, C, _Call], Outcome]
) -> tuple[str, Handler]:
    """``cls``'s verb and its handler, which mypy checks takes ``cls``."""
    return cls.verb, handler


#: What runs each verb: a new verb is one command, one grammar entry and one handler here.
HANDLERS: dict[str, Handler] = dict(
    [
        _entry(Envs, _envs),
        _entry(Create, _create),
        _entry(Env, _env),
        _entry(Install, _change),
        _entry(Remove, _change),
        _entry(Update, _change),
        _entry(Change, _change),
        _entry(Rollback, _rollback),
        _entry(List, _list),
        _entry(History, _history),
        _entry(Export, _export),
        _entry(Delete, _delete),
        _entry(Search, _search),
        _entry(Info, _info),
        _entry(Provides, _provides),
        _entry(PolicyCommand, _policy),
        _entry(Kinds, _kinds),
        _entry(Doctor, _doctor),
        _entry(Mirror, _mirror),
    ]
)


def guarded_dispatch(
    svc: UserPkgService | Callable[[], UserPkgService],
    command: Command,
    *,
    progress: ProgressFn | None = None,
    confirm: ConfirmFn | None = None,
) -> Outcome | UserPkgError:
    """:func:`dispatch`, with every failure turned into the error a user is shown.

    ``svc`` may be a factory (such as :func:`make_service`), so that a failure
    to build the service (a broken config file) is reported the same way.
    """
    try:
        if isinstance(command, Mirror):  # the administrator's verb: no user's service or config
            from .mirrorverb import run_mirror

            return Outcome(command.verb, *run_mirror(command, progress))
        service = svc() if callable(svc) else svc
        return dispatch(service, command, progress=progress, confirm=confirm)
    except (Exception, KeyboardInterrupt) as exc:
        return as_user_error(exc)


def as_user_error(exc: BaseException) -> UserPkgError:
    """The error a user is shown for any failure: one line, never a traceback.

    An interrupt means the change was undone (the pipeline defers SIGINT while
    it commits); anything that is not a :class:`UserPkgError` is a bug.
    """
    if isinstance(exc, UserPkgError):
        return exc
    if isinstance(exc, KeyboardInterrupt):
        return Cancelled("interrupted; the environment was left unchanged")
    if isinstance(exc, PermissionError):
        where = exc.filename or "a file of the environment"
        return AccessDenied(
            f"permission denied: {where}; it must belong to you and be writable by you "
            f"(see `ls -ld {where}`), or set UserPkg.envs_dir to a directory of your own",
            details=str(exc),
        )
    return TransactionFailed(f"internal error: {exc!r}")


def error_body(exc: BaseException) -> dict[str, Any]:
    """The ``error`` JSON shape for any failure: ``{"code", "message", "details", ...}``.

    One mapping for every front end: ``--json`` prints it, the REST API sends
    it (adding ``reason``, the field of Jupyter's own errors) and the panel
    reads it.  The status that goes with it is the error's ``http_status`` or
    ``exit_code``.
    """
    return as_user_error(exc).to_dict()


def _policy_file(path: Path) -> Policy:
    """A policy file an administrator wants to try (validated as the real one would be)."""
    import json

    from ..core.policy.rules import PolicyError, from_data

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"{path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise PolicyError(f"{path} is not valid JSON: {exc}") from None
    return from_data(data, str(path))


def _write_output(path: Path, text: str) -> None:
    """Write an export where the user asked, or say in one line why not."""
    from ..core.files import atomic_write

    if not path.parent.is_dir():
        raise InvalidRequest(f"cannot write {path}: the directory {path.parent} does not exist")
    try:
        atomic_write(path, text)
    except OSError as exc:
        raise InvalidRequest(f"cannot write {path}: {exc.strerror or exc}") from None
