"""``jupyter userpkg``: the terminal front end.

It parses arguments, calls :class:`UserPkgService` and renders the result as
text or, with ``--json``, as the JSON shapes shared with the REST API.  Errors
become one line on stderr and a non-zero exit status; never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from .core.config import UserPkg, load_config_files
from .core.errors import (
    BadCommandLine,
    Cancelled,
    InvalidRequest,
    TransactionFailed,
    UserPkgError,
)
from .core.events import ProgressEvent, ProgressFn
from .core.records import Change, Plan, Result
from .core.service import ConfirmFn, UserPkgService
from .core.store import atomic_write

PROG = "jupyter userpkg"


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line (exit status 2)."""

    _intermixing = False

    def error(self, message: str) -> NoReturn:
        raise BadCommandLine(message)

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        """Let options and specs mix (``create NAME --kind venv SPEC``), as conda does."""
        if self._intermixing or self._subparsers is not None:
            return super().parse_known_args(args, namespace)
        self._intermixing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._intermixing = False


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--json", action="store_true", help="print JSON instead of text")
    env_opt = _Parser(add_help=False)
    env_opt.add_argument("-n", "--name", dest="env", help="environment (default: 'default')")
    changing = _Parser(add_help=False)
    changing.add_argument("--dry-run", action="store_true", help="show the plan, change nothing")
    changing.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")

    parser = _Parser(prog=PROG, description="User-level package environments for Jupyter.")
    sub = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    sub.required = True

    sub.add_parser("envs", parents=[common], help="list environments")

    p = sub.add_parser("create", parents=[common], help="create an environment")
    p.add_argument("--dry-run", action="store_true", help="show the plan, change nothing")
    p.add_argument("name")
    p.add_argument(
        "--kind",
        choices=["layer", "venv", "conda"],
        help="layer (default), venv or conda; --from a file: the kind it describes",
    )
    p.add_argument("--python", help="Python version X.Y (venv and conda)")
    p.add_argument(
        "-c",
        "--channel",
        dest="channels",
        action="append",
        default=[],
        metavar="CHANNEL",
        help="conda channel, by name or URL (repeatable; default: the configured channels)",
    )
    p.add_argument(
        "--no-kernel",
        dest="kernel",
        action="store_false",
        help="do not add ipykernel (no kernelspec for this env)",
    )
    p.add_argument(
        "--from",
        dest="from_file",
        metavar="FILE",
        help="requirements.txt, environment.yml or an exported lock",
    )
    p.add_argument("specs", nargs="*", metavar="SPEC")

    pypi_help = "PyPI packages (in a conda env: on top of its conda packages)"
    p = sub.add_parser("install", parents=[common, env_opt, changing], help="install packages")
    p.add_argument("--pypi", action="store_true", help=pypi_help)
    p.add_argument("specs", nargs="+", metavar="SPEC")

    p = sub.add_parser("remove", parents=[common, env_opt, changing], help="remove packages")
    p.add_argument("--pypi", action="store_true", help=pypi_help)
    p.add_argument("names", nargs="+", metavar="NAME")

    p = sub.add_parser("update", parents=[common, env_opt, changing], help="update packages")
    p.add_argument("--pypi", action="store_true", help=pypi_help)
    p.add_argument("--all", action="store_true", dest="update_all", help="update everything")
    p.add_argument("names", nargs="*", metavar="NAME")

    sub.add_parser("list", parents=[common, env_opt], help="list an environment's packages")
    sub.add_parser("history", parents=[common, env_opt], help="list an environment's revisions")

    p = sub.add_parser(
        "rollback", parents=[common, env_opt, changing], help="return to an earlier revision"
    )
    p.add_argument("revision", type=int)

    p = sub.add_parser("export", parents=[common, env_opt], help="export an environment")
    p.add_argument(
        "--format", choices=["requirements", "environment", "lock"], default="requirements"
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")

    p = sub.add_parser("delete", parents=[common], help="delete an environment")
    p.add_argument("name")

    p = sub.add_parser(
        "doctor", parents=[common], help="verify, and recover an interrupted transaction"
    )
    p.add_argument("-n", "--name", dest="env", help="environment (default: all)")
    return parser


def make_service() -> UserPkgService:
    return UserPkgService.from_config(UserPkg(config=load_config_files()))


def parse_command(argv: Sequence[str], prog: str = PROG) -> argparse.Namespace:
    """Parse a command line (the CLI's or a ``%userpkg`` line) or raise BadCommandLine."""
    parser = build_parser()
    parser.prog = prog
    args = parser.parse_args(list(argv))
    if args.verb == "update" and not args.names and not args.update_all:
        parser.error("update needs package names or --all")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `jupyter userpkg`; returns the exit status."""
    raw = sys.argv[1:] if argv is None else list(argv)
    try:
        args = parse_command(raw)
    except BadCommandLine as exc:
        sys.stderr.write(f"{PROG}: error: {exc.message} (see `{PROG} --help`)\n")
        return exc.exit_code
    outcome = guarded_dispatch(
        make_service(),
        args,
        progress=None if args.json or not sys.stderr.isatty() else _progress,
        confirm=_ask
        if not args.json and not getattr(args, "yes", True) and sys.stdin.isatty()
        else None,
    )
    if isinstance(outcome, UserPkgError):
        return _fail(args, outcome)
    if args.json:
        print(json.dumps(outcome.data, indent=2))
    else:
        render_text(outcome)
    sys.stdout.flush()
    return 0 if outcome.ok else 1


def run() -> NoReturn:
    """Console entry point: exit with main()'s status.

    After the conda engine ran, the process ends with ``os._exit``: the
    interpreter's teardown can crash inside py-rattler's runtime, and that
    must never turn a finished command into a failed one.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    if "rattler" in sys.modules:
        os._exit(code)
    sys.exit(code)


def error_lines(exc: UserPkgError) -> list[str]:
    """The message, then the solver's explanation when it says more than the message."""
    lines = [exc.message]
    says_more = exc.details and exc.details.strip() not in exc.message
    if says_more and exc.code == "unsatisfiable":
        lines.append(_indent(str(exc.details)))
    return lines


def _fail(args: argparse.Namespace, exc: UserPkgError) -> int:
    if getattr(args, "json", False):
        print(json.dumps(exc.to_dict()))
    else:
        first, *rest = error_lines(exc)
        sys.stderr.write("\n".join([f"{PROG}: error: {first}", *rest]) + "\n")
    return exc.exit_code


@dataclass(frozen=True)
class Outcome:
    """What a verb returned: JSON-able ``data`` and the objects in ``value``."""

    verb: str
    data: Any
    value: Any
    ok: bool = True


def dispatch(
    svc: UserPkgService,
    args: argparse.Namespace,
    *,
    progress: ProgressFn | None = None,
    confirm: ConfirmFn | None = None,
) -> Outcome:
    """Call the facade for a parsed command; shared by the CLI and the magics."""
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
        )
        return Outcome(verb, result.to_dict(), result)
    if verb in ("install", "remove", "update"):
        result = svc.change(
            args.env,
            install=args.specs if verb == "install" else (),
            remove=args.names if verb == "remove" else (),
            update=args.names if verb == "update" else (),
            update_all=verb == "update" and args.update_all,
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
        return Outcome(verb, [p.to_dict() for p in pkgs], pkgs)
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
    if verb == "doctor":
        reports = svc.doctor(args.env)
        return Outcome(verb, reports, reports, ok=all(r["ok"] for r in reports))
    raise InvalidRequest(f"unknown verb {verb!r}")  # pragma: no cover - argparse prevents it


def guarded_dispatch(
    svc: UserPkgService,
    args: argparse.Namespace,
    *,
    progress: ProgressFn | None = None,
    confirm: ConfirmFn | None = None,
) -> Outcome | UserPkgError:
    """:func:`dispatch`, with every failure turned into the error a user is shown."""
    try:
        return dispatch(svc, args, progress=progress, confirm=confirm)
    except UserPkgError as exc:
        return exc
    except KeyboardInterrupt:
        return Cancelled("interrupted; the environment was left unchanged")
    except Exception as exc:  # a bug: still one line, never a traceback
        return TransactionFailed(f"internal error: {exc!r}")


def render_text(outcome: Outcome) -> None:
    """Print an outcome for a person."""
    verb, value, data = outcome.verb, outcome.value, outcome.data
    if verb in ("create", "install", "remove", "update", "rollback"):
        _render_result(value)
    elif verb == "envs":
        _render_envs(value)
    elif verb == "list":
        _render_packages(value)
    elif verb == "history":
        _render_history(value)
    elif verb == "export":
        sys.stdout.write(value) if value is not None else print(f"wrote {data['path']}")
    elif verb == "delete":
        print(f"deleted {value}")
    elif verb == "doctor":
        _render_doctor(value)


def _write_output(path: Path, text: str) -> None:
    """Write an export where the user asked, or say in one line why not."""
    if not path.parent.is_dir():
        raise InvalidRequest(f"cannot write {path}: the directory {path.parent} does not exist")
    try:
        atomic_write(path, text)
    except OSError as exc:
        raise InvalidRequest(f"cannot write {path}: {exc.strerror or exc}") from None


def _progress(event: ProgressEvent) -> None:
    sys.stderr.write(f"\r\x1b[K{event.phase}: {event.message[:100]}")
    if event.phase == "commit":
        sys.stderr.write("\r\x1b[K")
    sys.stderr.flush()


def _ask(plan: Plan) -> bool:
    sys.stderr.write("\r\x1b[K")
    print(_plan_text(plan))
    try:
        answer = input("Proceed ([y]/n)? ").strip().lower()
    except EOFError:
        return False
    return answer in ("", "y", "yes")


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover


def _change_text(change: Change, width: int = 0, layers: bool = False) -> str:
    """``+ name 1.0``, ``~ name 1.0 -> 2.0`` or ``- name 1.0``; with the layer if asked."""
    mark = {"add": "+", "remove": "-", "change": "~"}[change.action]
    if layers:
        return f"{_change_text(change, width)} ({change.source})"
    if change.action == "change":
        versions = f"{change.old} -> {change.new}"
    else:
        versions = str(change.new if change.action == "add" else change.old)
    return f"{mark} {change.name:<{width}}  {versions}"


def _plan_text(plan: Plan) -> str:
    lines = [f"Environment {plan.env!r}: {plan.command}"]
    if plan.empty:
        lines.append("  nothing to change")
    width = max((len(c.name) for c in plan.changes), default=0)
    layers = plan.is_conda  # a conda env: conda and PyPI layers
    for c in plan.changes:
        lines.append(f"  {_change_text(c, width, layers)}")
    lines += [f"  note: {m}" for m in plan.messages]
    if plan.download_bytes:
        lines.append(f"  download: {_size(plan.download_bytes)}")
    return "\n".join(lines)


def _render_result(result: Result) -> None:
    print(_plan_text(result.plan))
    if result.applied and result.plan.empty:
        print(f"Recorded the request as revision {result.revision}; no package had to change.")
    elif result.applied:
        print(f"Done: revision {result.revision}.")
    elif not result.plan.empty:
        print("Dry run: nothing was changed.")


def _render_envs(envs: list[Any]) -> None:
    if not envs:
        print("no environments yet; `jupyter userpkg install PKG` creates 'default'")
        return
    print(f"{'name':<20} {'kind':<6} {'python':<7} {'packages':>8} {'revision':>8}  path")
    for e in envs:
        print(f"{e.name:<20} {e.kind:<6} {e.python:<7} {e.packages:>8} {e.revision:>8}  {e.path}")


def _render_packages(pkgs: list[Any]) -> None:
    width = max((len(p.name) for p in pkgs), default=4)
    print(f"{'name':<{width}}  {'version':<16} {'source':<6} requested")
    for p in pkgs:
        print(f"{p.name:<{width}}  {p.version:<16} {p.source:<6} {'yes' if p.requested else ''}")


def _render_history(revs: list[Any]) -> None:
    for r in revs:
        print(f"rev {r.revision}  {r.time}  {r.command}")
        for c in r.changes:
            print(f"    {_change_text(c)}")


def _render_doctor(reports: list[dict[str, Any]]) -> None:
    if not reports:
        print("no environments")
    for r in reports:
        status = "ok" if r["ok"] else "PROBLEMS"
        print(f"{r['env']}: {status}")
        if r["recovered"]:
            print(f"  {r['recovered']}")
        for problem in r["problems"]:
            print(f"  - {problem}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
