"""``%userpkg``: the notebook front end.

``%load_ext jupyter_userpkg`` registers the magic.  It takes the CLI's verbs
and flags (the same parser), calls the core facade in the kernel's process and
renders the outcome for a notebook: a progress line updated in place, a
compact HTML summary with a plain-text fallback, and errors as one line on
stderr, never a traceback.

Which env: ``-n ENV`` if given; else the env the kernel runs in when that is a
managed env; else ``default``.  A kernel running the base interpreter hosts the
``default`` layer in-process: the layer's site-packages goes on ``sys.path``
ahead of the base's, so what ``%userpkg install`` adds imports in the next cell.

After a change, distributions that were upgraded, downgraded, removed or newly
shadowed while one of their modules is imported are named, with the advice to
restart; when nothing imported changed, nothing is said about restarting.
"""

from __future__ import annotations

import html
import importlib
import importlib.metadata
import shlex
import site
import sys
from pathlib import Path
from typing import Any

from IPython.core.magic import Magics, line_magic, magics_class
from IPython.display import display

from .cli import Outcome, dispatch, error_lines, parse_command, render_text
from .core.errors import BadCommandLine, Cancelled, TransactionFailed, UserPkgError
from .core.names import DEFAULT_ENV
from .core.records import Plan
from .core.service import UserPkgService
from .core.transaction import site_packages_dirs

CHANGING = ("create", "install", "remove", "update", "rollback")
TARGETED = ("install", "remove", "update", "list", "history", "rollback", "export")


def top_level_modules(dist: importlib.metadata.Distribution) -> set[str]:
    """Import names a distribution provides (``top_level.txt``, else its files)."""
    text = dist.read_text("top_level.txt")
    if text:
        return {line.strip() for line in text.splitlines() if line.strip()}
    names: set[str] = set()
    for path in dist.files or ():
        parts = path.parts
        if not parts or parts[0].endswith((".dist-info", ".egg-info")) or parts[0] == "..":
            continue
        first = parts[0]
        if first.endswith(".py"):
            names.add(first[:-3])
        elif len(parts) > 1 and first != "__pycache__" and not first.endswith(".data"):
            names.add(first)
    return names


class KernelHost:
    """What this kernel process is: its env, and the layer it hosts in-process."""

    def __init__(self, svc: UserPkgService) -> None:
        self.svc = svc
        prefix = Path(sys.prefix).resolve()
        envs_dir = svc.store.envs_dir.resolve()
        name = prefix.name if prefix.parent == envs_dir else None
        self.env: str | None = name if name and svc.store.exists(name) else None

    def target(self, requested: str | None) -> str | None:
        """The env a command without ``-n`` means here (None: the default env)."""
        return requested if requested is not None else self.env

    def hosts(self, env: str) -> bool:
        """Whether changes to ``env`` are what this process imports from."""
        if env == self.env:
            return True
        if self.env is not None or not self.svc.store.exists(env):
            return False
        manifest = self.svc.store.read_manifest(env)
        return manifest.kind == "layer" and set(manifest.base_site) <= set(sys.path)

    def activate(self, env: str) -> bool:
        """Put a hosted layer's site-packages on sys.path, ahead of the base's."""
        if env == self.env or not self.hosts(env):
            return False
        sites = site_packages_dirs(self.svc.store.prefix(env))
        if not sites:
            return False
        layer = str(sites[0])
        if layer in sys.path:
            importlib.invalidate_caches()
            return False
        manifest = self.svc.store.read_manifest(env)
        site.addsitedir(layer)  # runs the layer's .pth files (it appends the dir)
        sys.path.remove(layer)
        base_positions = [sys.path.index(d) for d in manifest.base_site if d in sys.path]
        sys.path.insert(min(base_positions, default=0), layer)
        importlib.invalidate_caches()
        return True


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
        out = []
        for change in self.plan.changes:
            imported = sorted(m for m in self.modules.get(change.name, ()) if m in sys.modules)
            if not imported:
                continue
            if change.action == "remove":
                what = f"{change.name} {change.old} was removed"
            elif change.action == "add":
                what = f"{change.name} {change.new} now shadows the version already imported"
            else:
                what = f"{change.name} changed {change.old} -> {change.new}"
            out.append(f"{what} (imported: {', '.join(imported)})")
        return out


class Progress:
    """One output line, updated in place while the core works."""

    def __init__(self) -> None:
        self.handle: Any = None

    def __call__(self, phase: str, message: str) -> None:
        text = f"userpkg: {phase}: {message}"
        bundle = {
            "text/plain": text,
            "text/html": f'<div class="jp-userpkg-progress">{html.escape(text)}</div>',
        }
        if self.handle is None:
            self.handle = display(bundle, raw=True, display_id=True)  # type: ignore[no-untyped-call]
        else:
            self.handle.update(bundle, raw=True)

    def finish(self, bundle: dict[str, str] | None) -> None:
        if self.handle is not None:
            self.handle.update(bundle or {"text/plain": ""}, raw=True)
        elif bundle is not None:
            display(bundle, raw=True)  # type: ignore[no-untyped-call]


def result_bundle(outcome: Outcome, stale: list[str]) -> dict[str, str]:
    """The plan and result as HTML, with the CLI's text as the plain fallback."""
    from contextlib import redirect_stdout
    from io import StringIO

    buffer = StringIO()
    with redirect_stdout(buffer):
        render_text(outcome)
    text = buffer.getvalue().rstrip("\n")
    data = outcome.data
    plan = data["plan"]
    rows = []
    for change in plan["changes"]:
        mark = {"add": "+", "remove": "-", "change": "~"}[change["action"]]
        versions = (
            f"{change['old']} &rarr; {change['new']}"
            if change["action"] == "change"
            else html.escape(str(change["new"] or change["old"]))
        )
        rows.append(
            f"<tr class='jp-userpkg-{change['action']}'><td>{mark}</td>"
            f"<td>{html.escape(change['name'])}</td><td>{versions}</td></tr>"
        )
    if data["applied"]:
        status = f"done: revision {data['revision']}"
    elif plan["changes"]:
        status = "dry run: nothing was changed"
    else:
        status = "nothing to change"
    notes = "".join(f"<li>{html.escape(m)}</li>" for m in plan["messages"])
    parts = [
        "<div class='jp-userpkg-result'>",
        f"<b>{html.escape(plan['env'])}</b>: <code>{html.escape(plan['command'])}</code> "
        f"&mdash; {status}",
    ]
    if rows:
        parts.append("<table>" + "".join(rows) + "</table>")
    if notes:
        parts.append(f"<ul>{notes}</ul>")
    if stale:
        items = "".join(f"<li>{html.escape(s)}</li>" for s in stale)
        parts.append(
            "<div class='jp-userpkg-restart'><b>Restart the kernel</b> to use the new "
            f"versions of modules imported before this change:<ul>{items}</ul></div>"
        )
        text += "\nRestart the kernel to use the new versions of modules imported before:\n"
        text += "\n".join(f"  {s}" for s in stale)
    parts.append("</div>")
    return {"text/plain": text, "text/html": "".join(parts)}


@magics_class
class UserPkgMagics(Magics):
    """The ``%userpkg`` line magic."""

    def __init__(self, shell: Any, svc: UserPkgService | None = None) -> None:
        super().__init__(shell)
        if svc is None:
            from .cli import make_service

            svc = make_service()
        self.svc = svc
        self.host = KernelHost(svc)

    @line_magic
    def userpkg(self, line: str) -> None:
        """Manage package environments: `%userpkg install scipy` (see `%userpkg --help`)."""
        progress = Progress()
        try:
            args = parse_command(shlex.split(line), prog="%userpkg")
        except SystemExit:  # --help was printed
            return
        except (BadCommandLine, ValueError) as exc:
            self._error(str(exc))
            return
        if args.verb in TARGETED and getattr(args, "env", None) is None:
            args.env = self.host.target(None)
        args.yes = True  # no stdin in a kernel: a plan is applied or, with --dry-run, shown
        watch = StaleWatch()
        try:
            outcome = dispatch(self.svc, args, progress=progress, confirm=watch.confirm)
        except UserPkgError as exc:
            progress.finish(None)
            self._error(*error_lines(exc))
            return
        except KeyboardInterrupt:
            progress.finish(None)
            self._error(Cancelled("interrupted; the environment was left unchanged").message)
            return
        except Exception as exc:  # a bug: still one line, never a traceback
            progress.finish(None)
            self._error(TransactionFailed(f"internal error: {exc!r}").message)
            return
        if args.verb not in CHANGING:
            progress.finish(None)
            render_text(outcome)
            return
        env = outcome.data["plan"]["env"]
        stale: list[str] = []
        if outcome.data["applied"] and self.host.hosts(env):
            self.host.activate(env)
            importlib.invalidate_caches()
            stale = watch.stale()
        progress.finish(result_bundle(outcome, stale))

    @staticmethod
    def _error(first: str, *rest: str) -> None:
        sys.stderr.write("\n".join([f"userpkg: error: {first}", *rest]) + "\n")
        sys.stderr.flush()


def load_ipython_extension(ipython: Any) -> None:
    magics = UserPkgMagics(ipython)
    ipython.register_magics(magics)
    # A kernel on the base interpreter sees what earlier sessions installed.
    if magics.host.env is None and magics.svc.store.exists(DEFAULT_ENV):
        magics.host.activate(DEFAULT_ENV)
