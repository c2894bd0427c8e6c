"""The commands: one frozen dataclass per verb, what every front end builds.

The CLI and ``%userpkg`` build them from a parsed command line
(:func:`from_namespace`, called by :func:`.grammar.parse_command`), the REST
API from a request (:mod:`.bodies`); :func:`.dispatch.dispatch` runs them.  The
same request builds the same command whichever front end it came through.
Each class's ``verb`` names it; a field is an argparse ``dest`` of the verb's
grammar entry.  This module imports only the standard library.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, TypeVar

C = TypeVar("C", bound="Command")

if TYPE_CHECKING:
    from dataclasses import dataclass
else:

    def dataclass(**params: Any) -> Any:
        """Defer the dataclass until the class is first used (see :func:`built`).

        Making a frozen dataclass writes and compiles its ``__init__``, ``__eq__``,
        ``__hash__``, ``__repr__``, ``__setattr__`` and ``__delattr__``: about half a
        millisecond per class, a tenth of the start-up of a short command when every
        verb's class is made at import.  A command line builds one verb's command, so
        only that class and its bases are made, when the first instance is.
        """

        def defer(cls: type) -> type:
            cls._dataclass_params = params  # type: ignore[attr-defined]
            return cls

        return defer


def built(cls: type[C]) -> type[C]:
    """``cls`` as the dataclass its decorator says, its bases first; made once."""
    if "__dataclass_fields__" not in cls.__dict__:
        for base in reversed(cls.__mro__):
            params = base.__dict__.get("_dataclass_params")
            if params is not None and "__dataclass_fields__" not in base.__dict__:
                dataclasses.dataclass(**params)(base)  # in place: the same class
    return cls


@dataclass(frozen=True, kw_only=True)
class Command:
    """What every command has: its verb, and ``--json`` (print JSON instead of text)."""

    verb: ClassVar[str]
    json: bool = False

    if not TYPE_CHECKING:

        def __new__(cls, *args: Any, **kwargs: Any) -> Command:
            # The first instance of a class makes its dataclass, so ``__init__`` and
            # the rest exist before ``type.__call__`` looks them up (it does so after).
            return object.__new__(built(cls))


@dataclass(frozen=True, kw_only=True)
class Targeted(Command):
    """A verb acting on one env, named by ``-n`` (None: the front end's default env)."""

    env: str | None = None


@dataclass(frozen=True, kw_only=True)
class Changing(Command):
    """A verb that changes an env: it plans, may ask, and reports a result."""

    dry_run: bool = False
    yes: bool = False


class Parts(NamedTuple):
    """The parts of one change of packages, as ``UserPkgService.change`` takes them."""

    install: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    update: tuple[str, ...] = ()
    update_all: bool = False


@dataclass(frozen=True, kw_only=True)
class PackageChange(Changing, Targeted):
    """install, remove, update and change: one planned change of an env's packages."""

    pypi: bool = False
    shared: bool = False  # the administrator's: the shared env of that name

    def parts(self) -> Parts:  # pragma: no cover - each verb says its own
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class Envs(Command):
    verb: ClassVar[str] = "envs"


@dataclass(frozen=True, kw_only=True)
class Create(Changing):
    verb: ClassVar[str] = "create"
    name: str
    kind: str | None = None
    python: str | None = None
    channels: tuple[str, ...] = ()
    specs: tuple[str, ...] = ()
    pypi_specs: tuple[str, ...] = ()
    kernel: bool = True
    from_file: str | None = None
    yes: bool = True  # create never asks
    shared: bool = False  # the administrator's: in the shared envs dir
    over: str | None = None  # a layer over this shared env


@dataclass(frozen=True, kw_only=True)
class Env(Command):
    """One env's summary (the REST API's ``GET envs/{env}``)."""

    verb: ClassVar[str] = "env"
    env: str


@dataclass(frozen=True, kw_only=True)
class Install(PackageChange):
    verb: ClassVar[str] = "install"
    specs: tuple[str, ...]

    def parts(self) -> Parts:
        return Parts(install=self.specs)


@dataclass(frozen=True, kw_only=True)
class Remove(PackageChange):
    verb: ClassVar[str] = "remove"
    names: tuple[str, ...]

    def parts(self) -> Parts:
        return Parts(remove=self.names)


@dataclass(frozen=True, kw_only=True)
class Update(PackageChange):
    verb: ClassVar[str] = "update"
    names: tuple[str, ...] = ()
    update_all: bool = False

    def parts(self) -> Parts:
        return Parts(update=self.names, update_all=self.update_all)


@dataclass(frozen=True, kw_only=True)
class Change(PackageChange):
    """Install, remove and update in one transaction (a REST body naming several parts)."""

    verb: ClassVar[str] = "change"
    install: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    update: tuple[str, ...] = ()
    update_all: bool = False

    def parts(self) -> Parts:
        return Parts(self.install, self.remove, self.update, self.update_all)


@dataclass(frozen=True, kw_only=True)
class Rollback(Changing, Targeted):
    verb: ClassVar[str] = "rollback"
    revision: int
    shared: bool = False


@dataclass(frozen=True, kw_only=True)
class List(Targeted):
    verb: ClassVar[str] = "list"
    base: bool = False


@dataclass(frozen=True, kw_only=True)
class History(Targeted):
    verb: ClassVar[str] = "history"


@dataclass(frozen=True, kw_only=True)
class Export(Targeted):
    verb: ClassVar[str] = "export"
    format: str = "requirements"
    output: str | None = None
    notebook: str | None = None  # --format notebook: the .ipynb whose metadata it writes


@dataclass(frozen=True, kw_only=True)
class Delete(Command):
    verb: ClassVar[str] = "delete"
    name: str
    yes: bool = False  # shut down the kernels that run on it first, without asking
    shared: bool = False  # the administrator's: asks unless yes


@dataclass(frozen=True, kw_only=True)
class Search(Command):
    verb: ClassVar[str] = "search"
    query: str
    source: str | None = None
    limit: int = 50


@dataclass(frozen=True, kw_only=True)
class Info(Command):
    verb: ClassVar[str] = "info"
    package: str
    source: str | None = None


@dataclass(frozen=True, kw_only=True)
class Policy(Command):
    verb: ClassVar[str] = "policy"
    check: bool = False
    policy_file: str | None = None


@dataclass(frozen=True, kw_only=True)
class Provides(Targeted):
    """Which package provides an import name (``No module named X``), with the evidence."""

    verb: ClassVar[str] = "provides"
    module: str


@dataclass(frozen=True, kw_only=True)
class Kinds(Command):
    verb: ClassVar[str] = "kinds"


@dataclass(frozen=True, kw_only=True)
class Doctor(Command):
    verb: ClassVar[str] = "doctor"
    env: str | None = None  # None: every env
    deep: bool = False


@dataclass(frozen=True, kw_only=True)
class Mirror(Command):
    """The administrator's verb: ``mirror plan|sync --config FILE [--prune]``."""

    verb: ClassVar[str] = "mirror"
    action: str
    config: str
    prune: bool = False


#: Every verb's command, by verb (``env`` and ``change`` are the REST API's own).
COMMANDS: dict[str, type[Command]] = {
    cls.verb: cls
    for cls in (
        Envs,
        Create,
        Env,
        Install,
        Remove,
        Update,
        Change,
        Rollback,
        List,
        History,
        Export,
        Delete,
        Search,
        Info,
        Provides,
        Policy,
        Kinds,
        Doctor,
        Mirror,
    )
}


def from_namespace(cls: type[C], parsed: argparse.Namespace) -> C:
    """The command ``cls`` from argparse's result: each field from the ``dest`` of its name.

    Lists become tuples (a command is frozen).  A ``dest`` that is no field of
    ``cls`` is a grammar entry out of step with its dataclass: a bug, said at once.
    """
    given = {k: v for k, v in vars(parsed).items() if k != "verb"}
    names = {f.name for f in dataclasses.fields(built(cls))}
    unknown = sorted(set(given) - names)
    if unknown:
        raise TypeError(f"{cls.__name__} has no field for the grammar's {', '.join(unknown)}")
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in given.items()}
    return cls(**values)
