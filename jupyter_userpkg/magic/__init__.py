"""``%userpkg``: the notebook front end.

``%load_ext jupyter_userpkg`` registers the magic.  It takes the CLI's verbs
and flags (the same parser) and renders for a notebook: a progress line
updated in place, a compact HTML summary with a plain-text fallback, and
errors as one line on stderr, never a traceback.  No stdin: plans are applied
(``-y``) unless ``--dry-run`` is given.

Which env: ``-n ENV`` if given; else the env the kernel runs in when that is a
managed env; else ``default``.  A kernel running the base interpreter hosts the
``default`` layer in-process: the layer's site-packages goes on ``sys.path``
ahead of the base's, so what ``%userpkg install`` adds imports in the next cell.

Where the kernel can import the core (the server's interpreter, or a layer
over it), the work runs in this process (:mod:`.magic_backend`).  A venv env's
kernel cannot, so it hands the line to the server's interpreter
(:mod:`.bridge`), which streams progress back.  This module imports only the
standard library and IPython, so it loads in either kind of kernel.

After a change, distributions that were upgraded, downgraded, removed or newly
shadowed while one of their modules is imported are named, with the advice to
restart; when nothing imported changed, nothing is said about restarting.
"""

from __future__ import annotations

import contextlib
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

from IPython.core.magic import Magics, line_magic, magics_class
from IPython.display import display

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


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


class Progress:
    """One output line, updated in place while the work goes on."""

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


def stale_after(changes: list[dict[str, Any]], modules: dict[str, set[str]]) -> list[str]:
    """Changed distributions with a module already imported, said exactly."""
    out = []
    for change in changes:
        imported = sorted(m for m in modules.get(change["name"], ()) if m in sys.modules)
        if not imported:
            continue
        if change["action"] == "remove":
            what = f"{change['name']} {change['old']} was removed"
            # A layer's shadow went: the base's version shows through again.
            with contextlib.suppress(importlib.metadata.PackageNotFoundError):
                base = importlib.metadata.version(change["name"])
                what += f"; {base} from the base is used now"
        elif change["action"] == "add":
            what = f"{change['name']} {change['new']} now shadows the version already imported"
        else:
            what = f"{change['name']} changed {change['old']} -> {change['new']}"
        out.append(f"{what} (imported: {', '.join(imported)})")
    return out


class BridgeBackend:
    """For kernels that cannot import the core: run the line in the server's Python."""

    def __init__(self, python: str, env: str | None) -> None:
        self.python, self.env = python, env

    def loaded(self) -> None:
        return None

    def run(self, line: str, progress: Any) -> dict[str, Any]:
        # What this kernel imports from, before the change (for the stale report).
        modules: dict[str, set[str]] = {}
        for dist in importlib.metadata.distributions():
            name = dist.metadata["Name"]
            if name:
                modules.setdefault(_canonical(str(name)), top_level_modules(dist))
        args = [self.python, "-m", "jupyter_userpkg.bridge", line, self.env or ""]
        try:
            proc = subprocess.Popen(
                args,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                text=True,
                encoding="utf-8",
                errors="replace",
            )
        except OSError as exc:
            return {"error": [f"cannot run the server's Python {self.python!r}: {exc.strerror}"]}
        assert proc.stdout is not None and proc.stderr is not None
        stdout = proc.stdout
        chunks: list[str] = []
        reader = threading.Thread(target=lambda: chunks.append(stdout.read()), daemon=True)
        reader.start()  # read the reply while progress streams (no pipe can fill up)
        other: list[str] = []
        while True:
            try:
                for raw in proc.stderr:
                    try:
                        event = json.loads(raw)
                        progress(event["phase"], event["message"])
                    except (ValueError, KeyError, TypeError):
                        other.append(raw.rstrip())
                reader.join()
                proc.wait()
                break
            except KeyboardInterrupt:
                # Pass it on: the bridge undoes the change and answers; wait for that.
                with contextlib.suppress(OSError):
                    proc.send_signal(signal.SIGINT)
        try:
            reply: dict[str, Any] = json.loads("".join(chunks).strip().splitlines()[-1])
        except (ValueError, IndexError):
            last = next((line for line in reversed(other) if line.strip()), "no answer")
            return {"error": [f"the server's Python could not run the command: {last}"]}
        if reply.get("data") and reply.get("verb") in CHANGING and reply["data"].get("applied"):
            importlib.invalidate_caches()
            if reply["data"]["plan"]["env"] == self.env:
                reply["stale"] = stale_after(reply["data"]["plan"]["changes"], modules)
        return reply


def _backend() -> Any:
    """In-process, unless this kernel's kernelspec says its env needs the bridge."""
    if os.environ.get("JUPYTER_USERPKG_MAGIC") == "bridge":
        python = os.environ.get("JUPYTER_USERPKG_SERVER_PYTHON") or sys.executable
        return BridgeBackend(python, os.environ.get("JUPYTER_USERPKG_ENV"))
    from .magic_backend import LocalBackend

    return LocalBackend()


@magics_class
class UserPkgMagics(Magics):
    """The ``%userpkg`` line magic."""

    def __init__(self, shell: Any, backend: Any = None) -> None:
        super().__init__(shell)
        self.backend = backend or _backend()

    @line_magic
    def userpkg(self, line: str) -> None:
        """Manage package environments: `%userpkg install scipy` (see `%userpkg --help`)."""
        progress = Progress()
        try:
            reply = self.backend.run(line, progress)
        except KeyboardInterrupt:
            reply = {"error": ["interrupted"]}
        if "error" in reply:
            progress.finish(None)
            first, *rest = reply["error"]
            sys.stderr.write("\n".join([f"userpkg: error: {first}", *rest]) + "\n")
            sys.stderr.flush()
            return
        if reply["verb"] in CHANGING:
            progress.finish(result_bundle(reply["data"], reply["text"], reply.get("stale", [])))
            return
        progress.finish(None)
        sys.stdout.write(reply["text"])


def load_ipython_extension(ipython: Any) -> None:
    magics = UserPkgMagics(ipython)
    ipython.register_magics(magics)
    magics.backend.loaded()
