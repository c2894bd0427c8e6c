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


def _dispatch(
    svc: UserPkgService,
    args: argparse.Namespace,
    *,
    progress: ProgressFn | None = None,
    confirm: ConfirmFn | None = None,
) -> Outcome:
    verb = args.verb
    if verb == "envs":
        envs = svc.list_envs()
        return Outcome(verb, [e.to_dict() for e in envs], envs)
    if verb == "create":
        result = svc.create(
            args.name,
            kind=args.kind,
            python=args.python,
            specs=args.specs,
            from_file=args.from_file,
            kernel=args.kernel,
            dry_run=args.dry_run,
            progress=progress,
            channels=args.channels,
            pypi_specs=getattr(args, "pypi_specs", ()),
            confirm=confirm,
        )
        return Outcome(verb, result.to_dict(), result)
    if verb == "env":  # one env's summary (the REST API's GET envs/{env})
        info = svc.env_info(svc.require(args.env))
        return Outcome(verb, info.to_dict(), info)
    if verb in ("install", "remove", "update", "change"):
        # ``change`` (a REST body) may install, remove and update in one transaction.
        result = svc.change(
            args.env,
            install=args.specs if verb in ("install", "change") else (),
            remove=args.names if verb == "remove" else getattr(args, "remove", ()),
            update=args.names if verb == "update" else getattr(args, "update", ()),
            update_all=verb in ("update", "change") and args.update_all,
            dry_run=args.dry_run,
            progress=progress,
            confirm=confirm,
            pypi=args.pypi,
        )
        return Outcome(verb, result.to_dict(), result)
    if verb == "rollback":
        result = svc.rollback(
            args.revision, args.env, dry_run=args.dry_run, progress=progress, confirm=confirm
        )
        return Outcome(verb, result.to_dict(), result)
    if verb == "list":
        pkgs = svc.packages(args.env)
        # A layer sees its whole base: a person is shown the env's own (and what it
        # asked for), JSON gets everything.
        shown = [p for p in pkgs if args.base or p.source != "base" or p.requested]
        return Outcome(verb, [p.to_dict() for p in pkgs], (shown, len(pkgs) - len(shown)))
    if verb == "history":
        revs = svc.history(args.env)
        return Outcome(verb, [r.to_dict() for r in revs], revs)
    if verb == "export":
        text = svc.export(args.env, args.format)
        if args.output:
            _write_output(Path(args.output), text)
            return Outcome(verb, {"path": args.output, "format": args.format}, None)
        return Outcome(verb, {"format": args.format, "text": text}, text)
    if verb == "delete":
        svc.delete(args.name)
        return Outcome(verb, {"deleted": args.name}, args.name)
    if verb == "search":
        found = svc.search(args.query, source=args.source, limit=args.limit)
        return Outcome(verb, found.to_dict(), found)
    if verb == "info":
        package = svc.info(args.package, source=args.source)
        return Outcome(verb, package.to_dict(), package)
    if verb == "policy":
        if args.policy_file and not args.check:
            raise InvalidRequest("--policy FILE goes with --check")
        if args.check:
            candidate = _policy_file(Path(args.policy_file)) if args.policy_file else None
            violations = svc.policy_check(candidate)
            body = {"check": True, "violations": violations}
            return Outcome(verb, body, body, ok=not violations)
        described = svc.policy_info()
        return Outcome(verb, described, described)
    if verb == "mirror":
        from .mirrorverb import run_mirror

        return Outcome(verb, *run_mirror(args, progress))
    if verb == "doctor":
        reports = svc.doctor(args.env, deep=args.deep)
        return Outcome(verb, reports, reports, ok=all(r["ok"] for r in reports))
    raise InvalidRequest(f"unknown verb {verb!r}")  # pragma: no cover - the grammar prevents it


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
