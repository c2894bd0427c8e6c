"""Run a parsed command against the core, and map every failure the one way.

Front ends parse a line with :mod:`.grammar`, call :func:`guarded_dispatch`
and render the :class:`Outcome` (or the error) as fits them.  The core service
is imported only when a service is built, so ``--help`` and a bad command line
never load it or the engines behind it.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import (
    AccessDenied,
    Cancelled,
    InvalidRequest,
    TransactionFailed,
    UserPkgError,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..core.events import ProgressFn
    from ..core.policy.rules import Policy
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
    args: argparse.Namespace,
    *,
    progress: ProgressFn | None = None,
    confirm: ConfirmFn | None = None,
) -> Outcome:
    """Call the service for a parsed command; raises the core's errors as they come.

    A change whose audit record could not be written stands (the log never undoes a
    commit), and its outcome says so in ``notes``: the user learns the log is broken.
    """
    from ..core.audit import watch

    with watch() as missed:
        outcome = _dispatch(svc, args, progress=progress, confirm=confirm)
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


def _dispatch(
    svc: UserPkgService,
    args: argparse.Namespace,
    *,
    progress: ProgressFn | None = None,
    confirm: ConfirmFn | None = None,
) -> Outcome:
    handler = HANDLERS.get(args.verb)
    if handler is None:  # pragma: no cover - the grammar prevents it
        raise InvalidRequest(f"unknown verb {args.verb!r}")
    return handler(svc, args, _Call(progress, confirm))


def _envs(svc: UserPkgService, args: argparse.Namespace, call: _Call) -> Outcome:
    envs = svc.list_envs()
    return Outcome(args.verb, [e.to_dict() for e in envs], envs)


def _create(svc: UserPkgService, args: argparse.Namespace, call: _Call) -> Outcome:
    result = svc.create(
        args.name,
        kind=args.kind,
        python=args.python,
        specs=args.specs,
        from_file=args.from_file,
        kernel=args.kernel,
        dry_run=args.dry_run,
        progress=call.progress,
        channels=args.channels,
        pypi_specs=getattr(args, "pypi_specs", ()),
        confirm=call.confirm,
    )
    return Outcome(args.verb, result.to_dict(), result)


def _env(svc: UserPkgService, args: argparse.Namespace, call: _Call) -> Outcome:
    """One env's summary (the REST API's GET envs/{env})."""
    info = svc.env_info(svc.require(args.env))
    return Outcome(args.verb, info.to_dict(), info)


def _change(svc: UserPkgService, args: argparse.Namespace, call: _Call) -> Outcome:
    """install, remove, update; ``change`` (a REST body) may do all three in one transaction."""
    verb = args.verb
    result = svc.change(
        args.env,
        install=args.specs if verb in ("install", "change") else (),
        remove=args.names if verb == "remove" else getattr(args, "remove", ()),
        update=args.names if verb == "update" else getattr(args, "update", ()),
        update_all=verb in ("update", "change") and args.update_all,
        dry_run=args.dry_run,
        progress=call.progress,
        confirm=call.confirm,
        pypi=args.pypi,
    )
    return Outcome(verb, result.to_dict(), result)


def _rollback(svc: UserPkgService, args: argparse.Namespace, call: _Call) -> Outcome:
    result = svc.rollback(
        args.revision,
        args.env,
        dry_run=args.dry_run,
        progress=call.progress,
        confirm=call.confirm,
    )
    return Outcome(args.verb, result.to_dict(), result)


def _list(svc: UserPkgService, args: argparse.Namespace, call: _Call) -> Outcome:
    pkgs = svc.packages(args.env)
    # A layer sees its whole base: a person is shown the env's own (and what it
    # asked for), JSON gets everything.
    shown = [p for p in pkgs if args.base or p.source != "base" or p.requested]
    return Outcome(args.verb, [p.to_dict() for p in pkgs], (shown, len(pkgs) - len(shown)))


def _history(svc: UserPkgService, args: argparse.Namespace, call: _Call) -> Outcome:
    revs = svc.history(args.env)
    return Outcome(args.verb, [r.to_dict() for r in revs], revs)


def _export(svc: UserPkgService, args: argparse.Namespace, call: _Call) -> Outcome:
    text = svc.export(args.env, args.format)
    if args.output:
        _write_output(Path(args.output), text)
        return Outcome(args.verb, {"path": args.output, "format": args.format}, None)
    return Outcome(args.verb, {"format": args.format, "text": text}, text)


def _delete(svc: UserPkgService, args: argparse.Namespace, call: _Call) -> Outcome:
    svc.delete(args.name)
    return Outcome(args.verb, {"deleted": args.name}, args.name)


def _search(svc: UserPkgService, args: argparse.Namespace, call: _Call) -> Outcome:
    found = svc.search(args.query, source=args.source, limit=args.limit)
    return Outcome(args.verb, found.to_dict(), found)


def _info(svc: UserPkgService, args: argparse.Namespace, call: _Call) -> Outcome:
    package = svc.info(args.package, source=args.source)
    return Outcome(args.verb, package.to_dict(), package)


def _policy(svc: UserPkgService, args: argparse.Namespace, call: _Call) -> Outcome:
    if args.policy_file and not args.check:
        raise InvalidRequest("--policy FILE goes with --check")
    if args.check:
        candidate = _policy_file(Path(args.policy_file)) if args.policy_file else None
        violations = svc.policy_check(candidate)
        body = {"check": True, "violations": violations}
        return Outcome(args.verb, body, body, ok=not violations)
    described = svc.policy_info()
    return Outcome(args.verb, described, described)


def _kinds(svc: UserPkgService, args: argparse.Namespace, call: _Call) -> Outcome:
    from ..core.kinds import describe

    found = describe()
    return Outcome(args.verb, found, found)


def _mirror(svc: UserPkgService, args: argparse.Namespace, call: _Call) -> Outcome:
    from .mirrorverb import run_mirror

    return Outcome(args.verb, *run_mirror(args, call.progress))


def _doctor(svc: UserPkgService, args: argparse.Namespace, call: _Call) -> Outcome:
    reports = svc.doctor(args.env, deep=args.deep)
    return Outcome(args.verb, reports, reports, ok=all(r["ok"] for r in reports))


#: What runs each verb: a new verb is one grammar entry and one handler here.
HANDLERS: dict[str, Callable[[UserPkgService, argparse.Namespace, _Call], Outcome]] = {
    "envs": _envs,
    "create": _create,
    "env": _env,
    "install": _change,
    "remove": _change,
    "update": _change,
    "change": _change,
    "rollback": _rollback,
    "list": _list,
    "history": _history,
    "export": _export,
    "delete": _delete,
    "search": _search,
    "info": _info,
    "policy": _policy,
    "kinds": _kinds,
    "doctor": _doctor,
    "mirror": _mirror,
}


def guarded_dispatch(
    svc: UserPkgService | Callable[[], UserPkgService],
    args: argparse.Namespace,
    *,
    progress: ProgressFn | None = None,
    confirm: ConfirmFn | None = None,
) -> Outcome | UserPkgError:
    """:func:`dispatch`, with every failure turned into the error a user is shown.

    ``svc`` may be a factory (such as :func:`make_service`), so that a failure
    to build the service (a broken config file) is reported the same way.
    """
    try:
        if args.verb == "mirror":  # the administrator's verb: no user's service, no user's config
            from .mirrorverb import run_mirror

            return Outcome(args.verb, *run_mirror(args, progress))
        service = svc() if callable(svc) else svc
        return dispatch(service, args, progress=progress, confirm=confirm)
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
