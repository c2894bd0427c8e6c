"""``jupyter userpkg``: the terminal front end.

Only argv and the terminal live here: the grammar, the dispatch and the text
come from :mod:`jupyter_userpkg.commands`.  Progress is one status line on
stderr (when it is a terminal), plans ask for confirmation (when stdin is a
terminal), ``--json`` prints the JSON shapes shared with the REST API, and an
error is one line on stderr with a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

from .commands.dispatch import error_body, guarded_dispatch, make_service
from .commands.grammar import PROG, parse_command
from .commands.render import error_lines, plan_text, progress_text, render_text
from .commands.verbs import Changing, Delete
from .core.errors import BadCommandLine, UserPkgError

if TYPE_CHECKING:
    from .commands.verbs import Command
    from .core.events import ProgressEvent
    from .core.records import Plan

# ``import httpx`` also imports httpx's own command-line client, and with it rich,
# pygments and click when they are installed: a tenth of a second or more at every start
# of a command that reads an index.  This process never runs that client, and httpx
# itself falls back to a stub when it cannot be imported (a None entry makes it so).
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

#: Erase the terminal's current line (carriage return, then clear to its end).
CLEAR_LINE = "\r\x1b[K"


class StatusLine:
    """Progress events drawn over one another on one line of a terminal."""

    def __init__(self) -> None:
        self.shown = False

    def __call__(self, event: ProgressEvent) -> None:
        width = max(20, shutil.get_terminal_size().columns - 1)
        text = progress_text(event)
        sys.stderr.write(CLEAR_LINE + (text if len(text) <= width else text[: width - 1] + "…"))
        sys.stderr.flush()
        self.shown = True

    def clear(self) -> None:
        """Leave the line empty for what comes next (a prompt, the result, an error)."""
        if self.shown:
            sys.stderr.write(CLEAR_LINE)
            sys.stderr.flush()
            self.shown = False


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `jupyter userpkg`; returns the exit status."""
    raw = sys.argv[1:] if argv is None else list(argv)
    try:
        args = parse_command(raw)
    except BadCommandLine as exc:
        sys.stderr.write(f"{PROG}: error: {exc.message} (see `{PROG} --help`)\n")
        return exc.exit_code
    status = StatusLine() if not args.json and sys.stderr.isatty() else None
    asks = isinstance(args, Changing) and not args.yes and not args.json and sys.stdin.isatty()

    def ask(plan: Plan) -> bool:
        if status is not None:
            status.clear()
        return _ask(plan)

    if isinstance(args, Delete) and args.shared:
        refused = _shared_delete(args, not args.json and sys.stdin.isatty())
        if refused is not None:
            return _fail(args, refused)
    elif isinstance(args, Delete):
        refused = _kernels_first(args, not args.json and sys.stdin.isatty())
        if refused is not None:
            return _fail(args, refused)

    try:
        outcome = guarded_dispatch(
            make_service, args, progress=status, confirm=ask if asks else None
        )
    finally:
        if status is not None:
            status.clear()
    if isinstance(outcome, UserPkgError):
        return _fail(args, outcome)
    try:
        if args.json:
            print(json.dumps(outcome.data, indent=2))
        else:
            sys.stdout.write(render_text(outcome))
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`... | head`): what it read is what it wanted.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
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


def _fail(args: Command, exc: UserPkgError) -> int:
    if args.json:
        print(json.dumps(error_body(exc)))
    else:
        first, *rest = error_lines(exc)
        sys.stderr.write("\n".join([f"{PROG}: error: {first}", *rest]) + "\n")
    return exc.exit_code


def _kernels_first(args: Delete, interactive: bool) -> UserPkgError | None:
    """Before a delete: the kernels that run on the env are named, and shut down with
    ``-y`` or the user's yes (:func:`.commands.runningkernels.kernels_first`); None when
    the delete may go on."""
    from .commands.runningkernels import kernels_first

    def ask(question: str) -> bool:
        try:
            answer = input(question)
        except EOFError:
            answer = "n"
        return answer.strip().lower() in ("", "y", "yes")

    def say(line: str) -> None:
        sys.stderr.write(line + "\n")

    refused, _ = kernels_first(args.name, yes=args.yes, ask=ask if interactive else None, say=say)
    return refused


def _shared_delete(args: Delete, interactive: bool) -> UserPkgError | None:
    """A shared env is every user's: its delete asks, unless ``-y``."""
    from .core.errors import Declined, InvalidRequest

    if args.yes:
        return None
    if not interactive:
        return InvalidRequest(f"delete --shared {args.name} asks first: pass -y to delete it")
    try:
        answer = input(f"Delete the shared environment {args.name} for every user (y/[n])? ")
    except EOFError:
        answer = "n"
    if answer.strip().lower() in ("y", "yes"):
        return None
    return Declined(f"{args.name} was not deleted")


def _ask(plan: Plan) -> bool:
    print(plan_text(plan))
    try:
        answer = input("Proceed ([y]/n)? ").strip().lower()
    except EOFError:
        return False
    return answer in ("", "y", "yes")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
