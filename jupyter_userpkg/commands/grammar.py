"""The grammar of every front end's command line: ``jupyter userpkg`` and ``%userpkg``.

One argparse parser, so a verb and its flags mean the same in a terminal and
in a cell; what it parses becomes the verb's command (:mod:`.verbs`).  This
module imports nothing but the standard library and the error hierarchy:
``--help`` and a bad command line must answer without loading the core service
or any engine.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from ..core.errors import BadCommandLine
from ..core.kinds import KINDS
from .verbs import COMMANDS, Command, Update, from_namespace

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


@dataclass(frozen=True)
class _Flags:
    """The option groups verbs share (argparse parents)."""

    common: argparse.ArgumentParser
    env: argparse.ArgumentParser
    changing: argparse.ArgumentParser

    @classmethod
    def make(cls) -> _Flags:
        common = _Parser(add_help=False)
        common.add_argument("--json", action="store_true", help="print JSON instead of text")
        env_opt = _Parser(add_help=False)
        env_opt.add_argument("-n", "--name", dest="env", help="environment (default: 'default')")
        changing = _Parser(add_help=False)
        changing.add_argument(
            "--dry-run", action="store_true", help="show the plan, change nothing"
        )
        changing.add_argument(
            "-y", "--yes", action="store_true", help="do not ask for confirmation"
        )
        return cls(common, env_opt, changing)


Subparsers = Any  # argparse's private _SubParsersAction
_SHARED_HELP = "administrator: the shared environment of that name (see the admin guide)"


def _shared(p: argparse.ArgumentParser) -> None:
    p.add_argument("--shared", action="store_true", help=_SHARED_HELP)


_PYPI_HELP = "PyPI packages (in a conda env: on top of its conda packages)"


def _envs(sub: Subparsers, f: _Flags) -> None:
    sub.add_parser("envs", parents=[f.common], help="list environments")


def _create(sub: Subparsers, f: _Flags) -> None:
    p = sub.add_parser("create", parents=[f.common], help="create an environment")
    p.add_argument("--dry-run", action="store_true", help="show the plan, change nothing")
    # conda users type `create -y`: accepted, and create never asks anyway.
    p.add_argument("-y", "--yes", action="store_true", help="accepted; create does not ask")
    p.set_defaults(yes=True)
    p.add_argument("name")
    p.add_argument(
        "--kind",
        choices=list(KINDS),
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
    p.add_argument(
        "--shared",
        action="store_true",
        help="administrator: create it in the shared envs dir, for every user",
    )
    p.add_argument(
        "--over",
        metavar="SHARED_ENV",
        help="a layer of your own over a shared environment: sees its packages, adds yours",
    )
    p.add_argument("specs", nargs="*", metavar="SPEC")


def _install(sub: Subparsers, f: _Flags) -> None:
    p = sub.add_parser("install", parents=[f.common, f.env, f.changing], help="install packages")
    p.add_argument("--pypi", action="store_true", help=_PYPI_HELP)
    _shared(p)
    p.add_argument("specs", nargs="+", metavar="SPEC")


def _remove(sub: Subparsers, f: _Flags) -> None:
    p = sub.add_parser("remove", parents=[f.common, f.env, f.changing], help="remove packages")
    p.add_argument("--pypi", action="store_true", help=_PYPI_HELP)
    _shared(p)
    p.add_argument("names", nargs="+", metavar="NAME")


def _update(sub: Subparsers, f: _Flags) -> None:
    p = sub.add_parser("update", parents=[f.common, f.env, f.changing], help="update packages")
    p.add_argument("--pypi", action="store_true", help=_PYPI_HELP)
    _shared(p)
    p.add_argument("--all", action="store_true", dest="update_all", help="update everything")
    p.add_argument("names", nargs="*", metavar="NAME")


def _list(sub: Subparsers, f: _Flags) -> None:
    p = sub.add_parser("list", parents=[f.common, f.env], help="list an environment's packages")
    p.add_argument(
        "--base",
        action="store_true",
        help="a layer: also the base environment's packages it sees (--json lists them all)",
    )


def _history(sub: Subparsers, f: _Flags) -> None:
    sub.add_parser("history", parents=[f.common, f.env], help="list an environment's revisions")


def _rollback(sub: Subparsers, f: _Flags) -> None:
    p = sub.add_parser(
        "rollback", parents=[f.common, f.env, f.changing], help="return to an earlier revision"
    )
    p.add_argument("revision", type=int)
    _shared(p)


def _export(sub: Subparsers, f: _Flags) -> None:
    p = sub.add_parser("export", parents=[f.common, f.env], help="export an environment")
    p.add_argument(
        "--format",
        choices=["requirements", "environment", "lock", "notebook", "pep723"],
        default="requirements",
        help="notebook: the env as a notebook's metadata.userpkg (written into NOTEBOOK); "
        "pep723: a '# /// script' block for juv, marimo and uv run",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument(
        "notebook",
        nargs="?",
        metavar="NOTEBOOK",
        help="with --format notebook: the .ipynb whose metadata records the env",
    )


def _delete(sub: Subparsers, f: _Flags) -> None:
    p = sub.add_parser("delete", parents=[f.common], help="delete an environment")
    p.add_argument(
        "-y",
        "--yes",
        action="store_true",
        help="shut down the kernels that run on it first, without asking",
    )
    _shared(p)
    p.add_argument("name")


def _source_flags(p: argparse.ArgumentParser) -> None:
    one = p.add_mutually_exclusive_group()
    one.add_argument(
        "--pypi",
        dest="source",
        action="store_const",
        const="pypi",
        help="PyPI only (the configured index)",
    )
    one.add_argument(
        "--conda",
        dest="source",
        action="store_const",
        const="conda",
        help="the configured conda channels only",
    )


def _search(sub: Subparsers, f: _Flags) -> None:
    p = sub.add_parser(
        "search", parents=[f.common], help="find packages by name on PyPI and conda channels"
    )
    p.add_argument("query", metavar="QUERY", help="a package name or part of one")
    _source_flags(p)
    p.add_argument(
        "--limit", type=int, default=50, metavar="N", help="show at most N (default: 50)"
    )


def _info(sub: Subparsers, f: _Flags) -> None:
    p = sub.add_parser(
        "info", parents=[f.common], help="a package's versions, summary, licence and home page"
    )
    p.add_argument("package", metavar="PACKAGE")
    _source_flags(p)


def _provides(sub: Subparsers, f: _Flags) -> None:
    p = sub.add_parser(
        "provides",
        parents=[f.common, f.env],
        help="which package provides an import name ('No module named X'), with the evidence",
    )
    p.add_argument("module", metavar="MODULE", help="the name `import` could not find")


def _policy(sub: Subparsers, f: _Flags) -> None:
    p = sub.add_parser(
        "policy",
        parents=[f.common],
        help="the administrator's policy: what may be installed, and where it comes from",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="list the environments that violate the policy, and why",
    )
    p.add_argument(
        "--policy",
        dest="policy_file",
        metavar="FILE",
        help="with --check: judge by this policy file instead (try one before deploying it)",
    )


def _doctor(sub: Subparsers, f: _Flags) -> None:
    p = sub.add_parser(
        "doctor", parents=[f.common], help="verify, and recover an interrupted transaction"
    )
    p.add_argument("-n", "--name", dest="env", help="environment (default: all)")
    p.add_argument(
        "--deep",
        action="store_true",
        help="also check every installed file against its package's recorded hash",
    )


def _kinds(sub: Subparsers, f: _Flags) -> None:
    sub.add_parser("kinds", parents=[f.common], help="the kinds of env and what each can do")


def _mirror(sub: Subparsers, f: _Flags) -> None:
    from .mirrorverb import add_parser

    add_parser(sub, f.common)


#: One grammar entry per verb, in the order ``--help`` lists them; the ``dest`` of each
#: argument is a field of the verb's command (``verbs.COMMANDS``).
GRAMMAR: dict[str, Callable[[Subparsers, _Flags], None]] = {
    "envs": _envs,
    "create": _create,
    "install": _install,
    "remove": _remove,
    "update": _update,
    "list": _list,
    "history": _history,
    "rollback": _rollback,
    "export": _export,
    "delete": _delete,
    "search": _search,
    "info": _info,
    "provides": _provides,
    "policy": _policy,
    "kinds": _kinds,
    "doctor": _doctor,
    "mirror": _mirror,
}


def build_parser(prog: str = PROG, only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every verb, or of ``only`` that one (the same rules, built faster).

    ``prog`` is what usage lines and ``--help`` call it.
    """
    flags = _Flags.make()
    parser = _Parser(prog=prog, description="User-level package environments for Jupyter.")
    sub = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    sub.required = True
    for verb, add in GRAMMAR.items():
        if only is None or verb == only:
            add(sub, flags)
    return parser


#: Every verb, in the order ``--help`` lists them.
VERBS = tuple(GRAMMAR)


def parse_command(argv: Sequence[str], prog: str = PROG) -> Command:
    """The command of a command line (the CLI's or a ``%userpkg`` line), or BadCommandLine.

    ``--help`` prints to stdout and raises SystemExit, as argparse does: the
    front end decides where that text goes.
    """
    argv = list(argv)
    verb = argv[0] if argv and argv[0] in VERBS else None  # else: the whole grammar answers
    parser = build_parser(prog, only=verb)
    parsed = parser.parse_args(argv)
    command = from_namespace(COMMANDS[parsed.verb], parsed)
    if isinstance(command, Update) and not command.names and not command.update_all:
        parser.error("update needs package names or --all")
    return command
