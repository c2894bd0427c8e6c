"""Run one ``%userpkg`` line for a kernel that cannot import the core.

A venv env's kernel sees only that env's packages, so its magic starts
``<server python> -m jupyter_userpkg.magic.bridge LINE ENV``: this process runs
the line with the core (:class:`~jupyter_userpkg.magic.backend.LocalBackend`),
writes each progress event to stderr as one JSON line
(``ProgressEvent.to_dict()``, read back by the cell's
:class:`~jupyter_userpkg.magic.BridgeBackend`) and the :class:`.reply.Reply` to
stdout as one JSON line.  An interrupt of the kernel reaches this process too (one process
group): the change is undone here and the reply says so.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING

from .reply import Reply

if TYPE_CHECKING:
    from ..core.events import ProgressEvent


def send_event(event: ProgressEvent) -> None:
    """One progress event, as one JSON line on stderr, at once (the cell is waiting)."""
    sys.stderr.write(json.dumps(event.to_dict()) + "\n")
    sys.stderr.flush()


def main(argv: list[str]) -> int:
    line, env = argv[0], (argv[1] or None) if len(argv) > 1 else None
    reply: Reply
    try:
        from .backend import LocalBackend

        reply = LocalBackend(host_aware=False).run(line, send_event, default_env=env)
    # Failures outside the command (the core cannot be imported here): said in
    # the words of commands.dispatch.as_user_error, without importing it.
    except KeyboardInterrupt:
        reply = Reply.failed("interrupted; the environment was left unchanged")
    except Exception as exc:  # a bug: still one line, never a traceback
        reply = Reply.failed(f"internal error: {exc!r}")
    sys.stdout.write("\n" + reply.to_json() + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    os._exit(code)  # no interpreter teardown work after the answer is out
