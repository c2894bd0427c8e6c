"""What the change pipeline asks of an env kind, and the values it passes along.

The pipeline (:mod:`jupyter_userpkg.core.pipeline`) is written once.  A kind
(``layer``, ``venv``, ``conda``) is one module with one class that fills in
what differs: what a request means, how it solves (engine calls), what it
links and unlinks, what the journal must back up first, how it verifies and
exports.  Everything here is plain data or the :class:`EnvKind` protocol.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..events import Reporter
from ..manifest import Manifest
from ..policy.rules import Policy
from ..records import Change, Deferred, Package, Plan
from ..store import EnvStore

if TYPE_CHECKING:
    from ..exports import Imported
    from ..options import CondaOptions, UvOptions

EMPTY_LOCK = 'lock-version = "1.0"\ncreated-by = "jupyter-userpkg"\npackages = []\n'
#: Most package names one request may hold: each costs the indexes and the solver,
#: and a request of thousands (a pasted list) is better split than waited for.
MAX_NAMES = 500


def check_size(count: int) -> None:
    """InvalidRequest for a request of more than :data:`MAX_NAMES` names, before any work."""
    from ..errors import InvalidRequest

    if count > MAX_NAMES:
        raise InvalidRequest(f"at most {MAX_NAMES} packages in one request; split it")


@dataclass(frozen=True)
class Context:
    """What every kind may use: the store and the engines' settings."""

    store: EnvStore
    base_python: str
    uv: UvOptions
    conda: CondaOptions
    #: The administrator's policy: what the solvers may choose (empty: anything).
    policy: Policy = field(default_factory=Policy)


@dataclass(frozen=True)
class EnvState:
    """An env at one committed revision (or the empty state before ``create``)."""

    name: str
    revision: int
    manifest: Manifest
    pypi_lock: str = EMPTY_LOCK
    conda_lock: str = ""


@dataclass(frozen=True)
class CreateRequest:
    """``create``'s arguments, before the kind has read them."""

    name: str
    python: str | None = None
    specs: tuple[str, ...] = ()
    pypi_specs: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    imported: Imported | None = None
    kernel: bool = True

    @property
    def size(self) -> int:
        """How many names it asks for (an exported lock's pins are not requests)."""
        count = len(self.specs) + len(self.pypi_specs)
        if self.imported is not None and self.imported.lock_text is None:
            count += len(self.imported.requirements) + len(self.imported.conda_specs)
        return count


@dataclass(frozen=True)
class ChangeRequest:
    """``install``/``remove``/``update`` as given (validated by the kind)."""

    install: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    update: tuple[str, ...] = ()
    update_all: bool = False
    pypi: bool = False

    @property
    def empty(self) -> bool:
        return not (self.install or self.remove or self.update or self.update_all)

    @property
    def size(self) -> int:
        """How many names it asks for."""
        return len(self.install) + len(self.remove) + len(self.update)

    def command(self, *, pypi_flag: bool = False) -> str:
        """The command line recorded in the change's revision."""
        parts = [
            ("install " + " ".join(self.install)) if self.install else "",
            ("remove " + " ".join(self.remove)) if self.remove else "",
            ("update " + " ".join(self.update)) if self.update else "",
            "update --all" if self.update_all else "",
        ]
        return " ".join(p for p in parts if p) + (" --pypi" if pypi_flag else "")


@dataclass(frozen=True)
class Intent:
    """A request as the kind understood it: the manifest to reach, and how.

    Kinds subclass it with what their solve needs (the names to upgrade, ...).
    ``command`` is the line recorded in the revision.
    """

    manifest: Manifest
    command: str


@dataclass(frozen=True)
class Solution:
    """What a solve produced: the env's next manifest and locks."""

    manifest: Manifest
    pypi_lock: str
    conda_lock: str | Deferred = ""
    notes: tuple[str, ...] = ()
    #: Seconds the engines spent solving (0 when the solve was skipped).
    seconds: float = 0.0


@dataclass(frozen=True)
class Backup:
    """What the journal must keep before a plan is applied.

    ``dists`` names Python distributions (their RECORD lists the files);
    ``paths`` are paths relative to the prefix (conda packages' files).
    """

    dists: tuple[str, ...] = ()
    paths: frozenset[str] = field(default_factory=frozenset)


class EnvKind(Protocol):
    """One kind of env.  A new kind is one module with one of these, registered once."""

    #: The name users give with ``--kind`` and manifests record.
    name: str
    #: The env sees the server interpreter's packages, so a kernel running that
    #: interpreter can host it in-process (its site-packages on ``sys.path``).
    extends_base: bool
    #: Packages from conda channels (``-c``, ``channel::``) beside PyPI's; the env
    #: carries conda's tool config as well as uv's.
    channels: bool
    #: ``--python X.Y`` chooses the env's Python (a layer has its base's).
    python_version: bool
    #: PyPI packages (through uv), on top of whatever else the env holds.
    pypi: bool
    #: One line saying what the kind is for (``kinds``, the panel's create form).
    summary: str
    #: The ``export`` formats it writes (of ``exports.FORMATS``); a front end offers only
    #: these, and ``export`` refuses the others with what to use instead.
    exports: tuple[str, ...]
    #: The ``.pth`` file that puts the base's site-packages on the path ("": none);
    #: a kernel already running the base skips it when it activates the env.
    base_link: str

    def create_intent(self, ctx: Context, request: CreateRequest) -> Intent:
        """Validate ``create``'s arguments (nothing is touched yet)."""
        ...

    def prepare(self, ctx: Context, prefix: Path, intent: Intent) -> Intent:
        """Make the empty env at ``prefix`` if solving needs it (a venv); may refine the intent."""
        ...

    def change_intent(self, ctx: Context, state: EnvState, request: ChangeRequest) -> Intent:
        """Validate a change against what the env holds; the manifest it leads to."""
        ...

    def solve(self, ctx: Context, state: EnvState, intent: Intent, report: Reporter) -> Solution:
        """Resolve the intent with the engines into the env's next locks."""
        ...

    def diff(
        self, ctx: Context, state: EnvState, solution: Solution
    ) -> tuple[list[Change], int, list[str]]:
        """(changes, download bytes, notes for the user) from ``state`` to ``solution``."""
        ...

    def backup(self, ctx: Context, state: EnvState, plan: Plan) -> Backup:
        """What applying ``plan`` unlinks or overwrites, for the journal to keep."""
        ...

    def apply(self, ctx: Context, state: EnvState, plan: Plan, report: Reporter) -> None:
        """Link and unlink so the prefix holds exactly the plan's locks."""
        ...

    def verify(self, ctx: Context, state: EnvState, deep: bool = False) -> list[str]:
        """Differences between the prefix and its lock, in words.

        ``deep`` also hashes every installed file against what its package
        recorded when it was installed (files changed since then).
        """
        ...

    def base(self, manifest: Manifest) -> dict[str, str]:
        """Packages the env sees without holding them (a layer's base interpreter's)."""
        ...

    def packages(self, ctx: Context, state: EnvState) -> list[Package]:
        """What is installed (for ``list``), from the env's locks; never a solve."""
        ...

    def export(self, state: EnvState, fmt: str) -> str:
        """The env as ``requirements``, ``environment`` or ``lock`` text."""
        ...

    def kernel_env(self, ctx: Context, state: EnvState) -> dict[str, str] | None:
        """Extra kernelspec variables when the env can run a kernel, else None."""
        ...


def bridge_env(ctx: Context) -> dict[str, str]:
    """Kernel variables of an env whose interpreter cannot import this package.

    The magic there runs its commands in this (the server's) interpreter; the
    kernel reaches our package (and, through it, this interpreter) through a
    support directory on its PYTHONPATH, for the ``%userpkg`` magic only.
    """
    from .. import kernels

    return {
        "JUPYTER_USERPKG_MAGIC": "bridge",
        "JUPYTER_USERPKG_SERVER_PYTHON": sys.executable,
        "PYTHONPATH": str(kernels.magic_support_dir(ctx.store.envs_dir)),
    }


def major_minor(version: str) -> str:
    """``3.11.7`` -> ``3.11``."""
    return ".".join(version.split(".")[:2])
