"""``%userpkg``: the notebook front end.

``%load_ext jupyter_userpkg`` registers the magic.  It takes the CLI's verbs
and flags (the command layer's grammar) and renders for a notebook: a progress
line updated in place, a compact HTML summary with a plain-text fallback, and
errors as one line on stderr, never a traceback.  No stdin: plans are applied
(``-y``) unless ``--dry-run`` is given.

Which env: ``-n ENV`` if given; else the env the kernel runs in when that is a
managed env; else ``default``.  A kernel running the base interpreter hosts the
``default`` layer in-process: the layer's site-packages goes on ``sys.path``
ahead of the base's, so what ``%userpkg install`` adds imports in the next cell.

Where the kernel can import the core (the server's interpreter, or a layer
over it), the work runs in this process (:mod:`.backend`).  A venv env's
kernel cannot, so it hands the line to the server's interpreter
(:mod:`.bridge`), which streams progress events back as JSON lines.  This
module imports only the standard library, and of this package only modules
that do too (``core.events``, ``commands.render``, ``.stale``); IPython when
the magic is registered or drawn.  So it loads in either kind of kernel, and
in the server's interpreter that runs the bridge.

After a change, distributions that were upgraded, downgraded, removed or newly
shadowed while one of their modules is imported are named, with the advice to
restart; when nothing imported changed, nothing is said about restarting.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import html
import importlib
import importlib.metadata
import json
import os
import signal
import subprocess
import sys
import threading
from typing import Any

# Both modules import only the standard library, as this one must.
from ..commands.render import advisory_lines, progress_text
from ..core.events import ProgressEvent
from .ownkernel import KERNEL_ID_VAR, end_later, own_kernel_id
from .reply import Reply
from .stale import canonical, stale_after, top_level_modules


def _display(bundle: dict[str, str], **kwargs: Any) -> Any:
    from IPython.display import display

    return display(bundle, raw=True, **kwargs)  # type: ignore[no-untyped-call]


def read_event(raw: str) -> ProgressEvent | None:
    """A progress event from the bridge's JSON line (``ProgressEvent.to_dict()``), or None."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("phase"), str):
        return None
    return ProgressEvent.from_dict(data)


class Progress:
    """One output, updated in place with each progress event while the work goes on."""

    def __init__(self) -> None:
        self.handle: Any = None

    def __call__(self, event: Any) -> None:
        text = f"userpkg: {progress_text(event)}"
        bar = ""
        if event.done is not None and event.total:
            bar = f' <progress value="{int(event.done)}" max="{int(event.total)}"></progress>'
        bundle = {
            "text/plain": text,
            "text/html": f'<div class="jp-userpkg-progress">{html.escape(text)}{bar}</div>',
        }
        if self.handle is None:
            self.handle = _display(bundle, display_id=True)
        else:
            self.handle.update(bundle, raw=True)

    def finish(self, bundle: dict[str, str] | None) -> None:
        if self.handle is not None:
            self.handle.update(bundle or {"text/plain": ""}, raw=True)
        elif bundle is not None:
            _display(bundle)


def result_bundle(data: dict[str, Any], text: str, stale: list[str]) -> dict[str, str]:
    """The plan and result as HTML, with the CLI's text as the plain fallback."""
    text = text.rstrip("\n")
    plan = data["plan"]
    rows = []
    layers = any(c["source"] == "conda" for c in plan["changes"])  # conda + PyPI: say which
    for change in plan["changes"]:
        mark = {"add": "+", "remove": "-", "change": "~"}[change["action"]]
        if change["action"] == "change":
            versions = f"{html.escape(change['old'])} &rarr; {html.escape(change['new'])}"
        else:
            versions = html.escape(str(change["new"] or change["old"]))
        rows.append(
            f"<tr class='jp-userpkg-{change['action']}'><td>{mark}</td>"
            f"<td>{html.escape(change['name'])}</td><td>{versions}</td>"
            + (f"<td>{html.escape(change['source'])}</td>" if layers else "")
            + "</tr>"
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


class BridgeBackend:
    """For kernels that cannot import the core: run the line in the server's Python."""

    def __init__(self, python: str, env: str | None) -> None:
        self.python, self.env = python, env

    def loaded(self) -> None:
        return None

    def advisories(self) -> list[str]:
        """What the policy now refuses in this kernel's env (asked of the server's Python)."""
        if not self.env:
            return []
        reply = self.run("envs", lambda _event: None)
        for env in reply.data if isinstance(reply.data, list) else []:
            if isinstance(env, dict) and env.get("name") == self.env and env.get("advisories"):
                return advisory_lines([(self.env, a) for a in env["advisories"]], "%userpkg")
        return []

    def run(self, line: str, progress: Any) -> Reply:
        # What this kernel imports from, before the change (for the stale report).
        modules: dict[str, set[str]] = {}
        for dist in importlib.metadata.distributions():
            name = dist.metadata["Name"]
            if name:
                modules.setdefault(canonical(str(name)), top_level_modules(dist))
        args = [self.python, "-m", "jupyter_userpkg.magic.bridge", line, self.env or ""]
        kernel_id = own_kernel_id()  # the bridge names this kernel among those on an env
        env = {**os.environ, KERNEL_ID_VAR: kernel_id} if kernel_id else None
        try:
            proc = subprocess.Popen(
                args,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                text=True,
                encoding="utf-8",
                errors="replace",
            )
        except OSError as exc:
            return Reply.failed(f"cannot run the server's Python {self.python!r}: {exc.strerror}")
        assert proc.stdout is not None and proc.stderr is not None
        stdout = proc.stdout
        chunks: list[str] = []
        reader = threading.Thread(target=lambda: chunks.append(stdout.read()), daemon=True)
        reader.start()  # read the reply while progress streams (no pipe can fill up)
        other: list[str] = []
        while True:
            try:
                for raw in proc.stderr:
                    event = read_event(raw)
                    if event is None:
                        other.append(raw.rstrip())
                    else:
                        progress(event)
                reader.join()
                proc.wait()
                break
            except KeyboardInterrupt:
                # Pass it on: the bridge undoes the change and answers; wait for that.
                with contextlib.suppress(OSError):
                    proc.send_signal(signal.SIGINT)
        try:
            reply = Reply.from_json("".join(chunks).strip().splitlines()[-1])
        except (ValueError, IndexError):
            last = next((line for line in reversed(other) if line.strip()), "no answer")
            return Reply.failed(f"the server's Python could not run the command: {last}")
        if reply.applied:
            importlib.invalidate_caches()
            if reply.changed_env == self.env:
                stale = stale_after(reply.changes, modules)
                reply = dataclasses.replace(reply, stale=tuple(stale))
        return reply


def _backend() -> Any:
    """In-process, unless this kernel's kernelspec says its env needs the bridge."""
    if os.environ.get("JUPYTER_USERPKG_MAGIC") == "bridge":
        python = os.environ.get("JUPYTER_USERPKG_SERVER_PYTHON") or sys.executable
        return BridgeBackend(python, os.environ.get("JUPYTER_USERPKG_ENV"))
    from .backend import LocalBackend

    return LocalBackend()


@functools.cache
def _magics_class() -> type[Any]:
    """The IPython class of ``%userpkg``, made when first needed.

    IPython is imported here, not at the top: the bridge runs in the server's
    interpreter, which loads this package and need not have IPython.
    """
    from IPython.core.magic import Magics, line_magic, magics_class

    @magics_class
    class UserPkgMagics(Magics):
        """The ``%userpkg`` line magic."""

        def __init__(self, shell: Any, backend: Any = None) -> None:
            super().__init__(shell)
            self.backend = backend or _backend()

        @line_magic
        def userpkg(self, line: str) -> None:
            """Manage package environments: `%userpkg install scipy` (see `%userpkg --help`)."""
            run_line(self.backend, line)

    return UserPkgMagics


def run_line(backend: Any, line: str) -> None:
    """Run one ``%userpkg`` line and draw its progress, result or error in the cell."""
    progress = Progress()
    try:
        reply: Reply = backend.run(line, progress)
    except KeyboardInterrupt:
        reply = Reply.failed("interrupted")
    if reply.error:
        progress.finish(None)
        first, *rest = reply.error
        sys.stderr.write("\n".join([f"userpkg: error: {first}", *rest]) + "\n")
        sys.stderr.flush()
        return
    if reply.result:
        progress.finish(result_bundle(reply.data, reply.text, list(reply.stale)))
        return
    progress.finish(None)
    sys.stdout.write(reply.text)
    sys.stdout.flush()
    kernel_id = own_kernel_id()
    if reply.ends_kernel and kernel_id:
        end_later(kernel_id)  # after the answer is out


def __getattr__(name: str) -> Any:
    """``UserPkgMagics``, the IPython class, on first use (see :func:`_magics_class`)."""
    if name == "UserPkgMagics":
        return _magics_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_ipython_extension(ipython: Any) -> None:
    magics = _magics_class()(ipython)
    ipython.register_magics(magics)
    magics.backend.loaded()
    from .importoffer import install as install_import_offer

    install_import_offer(ipython, magics.backend)
    if not getattr(ipython, "_userpkg_advised", False):  # once per kernel, reloads included
        ipython._userpkg_advised = True
        warn(magics.backend)


def warn(backend: Any) -> None:
    """What the administrator's policy now refuses in this env (a security advisory, say),
    with the command that fixes it."""
    try:
        lines = backend.advisories()
    except Exception:  # a warning must never keep the magic from loading
        return
    if lines:
        sys.stderr.write("".join(f"userpkg: {line}\n" for line in lines))
        sys.stderr.flush()
