"""Cancelling a change from another thread, at its next safe point.

A front end that runs a change in a worker thread (the server's jobs) opens a
:func:`scope` with a :class:`threading.Event` there; setting the event asks
the change to stop.  The pipeline calls :func:`checkpoint` between its steps
(after waiting for the lock, after solving, before applying, before the
commit); the subprocess helper stops a running engine (uv) at once, and the
conda engine's waits give up on a solve.  Each of these raises
:class:`~.errors.Cancelled`, and the pipeline's usual path undoes what was
begun, so the env stays at its old revision.  After the commit point nothing
checks any more: a committed change is complete.

Without a scope (the CLI, a cell) nothing here costs more than a lookup: an
interrupt (Ctrl-C) is the way to stop those.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextvars import ContextVar

from .errors import Cancelled

_current: ContextVar[threading.Event | None] = ContextVar("userpkg_cancel", default=None)

MESSAGE = "cancelled; the environment was left unchanged"


@contextlib.contextmanager
def scope(event: threading.Event) -> Iterator[threading.Event]:
    """Make ``event`` the cancel request of the code run in this context."""
    token = _current.set(event)
    try:
        yield event
    finally:
        _current.reset(token)


def current() -> threading.Event | None:
    """The cancel request of this context, if a caller gave one."""
    return _current.get()


def requested() -> bool:
    event = _current.get()
    return event is not None and event.is_set()


def checkpoint() -> None:
    """A safe point: stop here (raise Cancelled) if cancelling was asked for."""
    if requested():
        raise Cancelled(MESSAGE)


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """No cancelling inside (the commit and what follows it)."""
    token = _current.set(None)
    try:
        yield
    finally:
        _current.reset(token)
