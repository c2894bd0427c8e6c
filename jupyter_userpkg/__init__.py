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


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    """The server extension, :class:`.server.app.UserPkgApp` (imported only when a server
    asks: the CLI never needs tornado)."""
    from .server.app import UserPkgApp

    return [{"module": "jupyter_userpkg", "app": UserPkgApp}]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext jupyter_userpkg``: register the ``%userpkg`` magic."""
    from .magic import load_ipython_extension as load

    load(ipython)
