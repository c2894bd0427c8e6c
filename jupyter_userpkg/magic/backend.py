"""The in-process side of ``%userpkg``: the command layer, run in this process.

Used by the magic when the kernel can import the core (the server's
interpreter, or a layer env over it), and by :mod:`.bridge` for kernels that
cannot (venv envs).  Both paths answer with a :class:`.reply.Reply`, the
outcome as a cell shows it, so a cell renders one shape whichever ran the line.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import shlex
import site
import sys
from contextlib import redirect_stdout
from dataclasses import replace
from io import StringIO
from pathlib import Path

from ..commands.dispatch import guarded_dispatch, make_service
from ..commands.grammar import parse_command
from ..commands.render import error_lines, render_text
from ..commands.verbs import Changing, Delete, Targeted
from ..core import kinds
from ..core.errors import BadCommandLine, UserPkgError
from ..core.events import ProgressFn
from ..core.names import DEFAULT_ENV
from ..core.records import Plan
from ..core.service import UserPkgService
from ..core.transaction import site_packages_dirs
from .reply import Reply
from .stale import stale_after, top_level_modules


class KernelHost:
    """What this kernel process is: its env, and the layer it hosts in-process."""

    def __init__(self, svc: UserPkgService) -> None:
        self.svc = svc
        prefix = Path(sys.prefix).resolve()
        envs_dir = svc.store.envs_dir.resolve()
        name = prefix.name if prefix.parent == envs_dir else None
        self.env: str | None = name if name and svc.store.exists(name) else None
        # .pth files this process has run: at start-up, Python ran its own env's.
        self.seen_pth: set[str] = set()
        if self.env is not None:
            for own in site_packages_dirs(prefix):
                self.seen_pth |= {p.name for p in own.glob("*.pth")}

    def target(self, requested: str | None) -> str | None:
        """The env a command without ``-n`` means here (None: the default env)."""
        return requested if requested is not None else self.env

    def hosts(self, env: str) -> bool:
        """Whether changes to ``env`` are what this process imports from."""
        if env == self.env:
            return True
        # A kernel on the base interpreter hosts the default layer only: other
        # layers are solved on their own and are not stacked into this process.
        if self.env is not None or env != DEFAULT_ENV or not self.svc.store.exists(env):
            return False
        manifest = self.svc.store.read_manifest(env)
        # site.getsitepackages() lists dirs that may not exist (a user site never
        # made, Debian's dist-packages); only existing ones are ever on sys.path.
        base = {d for d in manifest.base_site if os.path.isdir(d)}
        return kinds.of(manifest).extends_base and base <= set(sys.path)

    def activate(self, env: str) -> bool:
        """Put a hosted layer's site-packages on sys.path, ahead of the base's.

        The layer's own ``.pth`` files (editable installs, namespace packages)
        are processed once each, also those a later change adds, and their paths
        go right after the layer's directory.  ``_userpkg_base.pth`` is skipped:
        this process already has the base on its path.
        """
        if not self.hosts(env):
            return False
        sites = site_packages_dirs(self.svc.store.prefix(env))
        if not sites:
            return False
        layer = str(sites[0])
        first = layer not in sys.path and env != self.env
        manifest = self.svc.store.read_manifest(env)
        base_link = kinds.of(manifest).base_link
        if first:
            base_positions = [sys.path.index(d) for d in manifest.base_site if d in sys.path]
            sys.path.insert(min(base_positions, default=0), layer)
        before = list(sys.path)
        known = set(sys.path)
        for name in sorted(os.listdir(layer)):
            if name.endswith(".pth") and name != base_link and name not in self.seen_pth:
                self.seen_pth.add(name)
                site.addpackage(layer, name, known)
        added = [p for p in sys.path if p not in before]
        if added:
            sys.path[:] = [p for p in sys.path if p not in added]
            at = sys.path.index(layer) + 1
            sys.path[at:at] = added
        importlib.invalidate_caches()
        return first


class StaleWatch:
    """Remember what a plan touches, and report what is imported but changed."""

    def __init__(self) -> None:
        self.modules: dict[str, set[str]] = {}
        self.plan: Plan | None = None

    def confirm(self, plan: Plan) -> bool:
        """Called with the plan before anything is touched; never declines."""
        self.plan = plan
        for change in plan.changes:
            try:
                dist = importlib.metadata.distribution(change.name)
            except importlib.metadata.PackageNotFoundError:
                continue  # not importable here before the change: cannot be stale
            self.modules[change.name] = top_level_modules(dist)
        return True

    def stale(self) -> list[str]:
        if self.plan is None:
            return []
        return stale_after([c.to_dict() for c in self.plan.changes], self.modules)


class LocalBackend:
    """Runs ``%userpkg`` lines with the core in this process."""

    def __init__(self, svc: UserPkgService | None = None, *, host_aware: bool = True) -> None:
        self.svc = svc or make_service()
        self.host = KernelHost(self.svc) if host_aware else None

    def loaded(self) -> None:
        """A kernel on the base interpreter sees what earlier sessions installed."""
        if self.host and self.host.env is None and self.svc.store.exists(DEFAULT_ENV):
            self.host.activate(DEFAULT_ENV)

    def advisories(self) -> list[str]:
        """What the policy now refuses in the env this kernel runs (or hosts), with the fix."""
        from ..commands.render import advisory_lines

        env = (self.host.target(None) if self.host else None) or DEFAULT_ENV
        if not self.svc.store.exists(env):
            return []
        info = self.svc.env_info(env)
        return advisory_lines([(env, a) for a in info.advisories], "%userpkg")

    def run(self, line: str, progress: ProgressFn | None, default_env: str | None = None) -> Reply:
        help_text = StringIO()
        try:
            with redirect_stdout(help_text):
                args = parse_command(shlex.split(line, comments=True), prog="%userpkg")
        except SystemExit:  # --help
            return Reply(verb="help", text=help_text.getvalue())
        except (BadCommandLine, ValueError) as exc:
            return Reply.failed(str(exc))
        if isinstance(args, Targeted) and args.env is None:
            args = replace(args, env=self.host.target(None) if self.host else default_env)
        said: list[str] = []
        ends_kernel = False
        if isinstance(args, Delete) and not args.shared:
            # As in the terminal: the kernels on the env are named, and shut down
            # only with -y (no one can answer a question in a cell).
            from ..commands.runningkernels import kernels_first
            from .ownkernel import own_kernel_id

            refused, mine = kernels_first(
                args.name, yes=args.yes, ask=None, say=said.append, own=own_kernel_id()
            )
            if refused is not None:
                return Reply.failed(*error_lines(refused))
            ends_kernel = mine is not None
        if isinstance(args, Changing):  # no stdin in a kernel: a plan is applied or shown
            args = replace(args, yes=True)
        watch = StaleWatch()
        outcome = guarded_dispatch(self.svc, args, progress=progress, confirm=watch.confirm)
        if isinstance(outcome, UserPkgError):
            return Reply.failed(*error_lines(outcome))
        if args.json:  # the JSON shapes, as the CLI prints them
            return Reply(verb="json", data=outcome.data, text=json.dumps(outcome.data, indent=2))
        said += base_changed(self.svc, args)
        if ends_kernel:
            said.append(
                "this notebook's kernel ran on it and shuts down now: "
                "choose another kernel (Kernel > Change Kernel...)"
            )
        reply = Reply(
            verb=args.verb,
            data=outcome.data,
            text="".join(f"{line}\n" for line in said) + render_text(outcome, "%userpkg"),
            result=isinstance(args, Changing),
            ends_kernel=ends_kernel,
        )
        env = reply.changed_env
        if env is not None and self.host is not None and self.host.hosts(env):
            self.host.activate(env)
            importlib.invalidate_caches()
            reply = replace(reply, stale=tuple(watch.stale()))
        return reply


def base_changed(svc: UserPkgService, args: object) -> list[str]:
    """A layer over a shared env that the administrator changed since the layer was solved:
    said with every ``%userpkg`` line on it (a change solves it again, and says nothing)."""
    from ..core.shared import layer_base, stale_note

    if not isinstance(args, Targeted) or args.env is None or not svc.store.exists(args.env):
        return []
    try:
        base = layer_base(svc, args.env, svc.store.current(args.env))
    except (UserPkgError, OSError):
        return []
    note = stale_note(args.env, *base) if base is not None else None
    return [note.replace("jupyter userpkg", "%userpkg")] if note else []
