"""jupyter-userpkg: user-level package environments for Jupyter.

This module only declares the Jupyter entry points; the work is in
:mod:`jupyter_userpkg.core`, the command layer (:mod:`.commands`) and the front
ends (:mod:`.cli`, :mod:`.magic`, :mod:`.server`).
"""

from __future__ import annotations

from typing import Any

from .version import __version__

__all__ = ["__version__"]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyter-userpkg"}]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "jupyter_userpkg"}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    """Register the REST handlers (imported lazily: the CLI never needs tornado)."""
    from .server.app import setup_handlers

    setup_handlers(server_app)
    server_app.log.info("jupyter_userpkg %s: server extension loaded", __version__)


async def _start_jupyter_server_extension(server_app: Any) -> None:
    """The loop runs: start looking for envs changed outside the server."""
    watcher = server_app.web_app.settings.get("userpkg_watcher")
    if watcher is not None:
        watcher.start()


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext jupyter_userpkg``: register the ``%userpkg`` magic."""
    from .magic import load_ipython_extension as load

    load(ipython)
