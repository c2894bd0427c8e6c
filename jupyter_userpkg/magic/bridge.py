"""Run one ``%userpkg`` line for a kernel that cannot import the core.

A venv env's kernel sees only that env's packages, so its magic starts
``<server python> -m jupyter_userpkg.bridge LINE ENV``: this process runs the
line with the core (:class:`~jupyter_userpkg.magic_backend.LocalBackend`),
writes progress events to stderr as JSON lines and the reply to stdout as one
JSON line.  An interrupt of the kernel reaches this process too (one process
group): the change is undone here and the reply says so.
"""

from __future__ import annotations

import json
import os
import sys


def main(argv: list[str]) -> int:
    line, env = argv[0], (argv[1] or None) if len(argv) > 1 else None

    def progress(phase: str, message: str) -> None:
        sys.stderr.write(json.dumps({"phase": phase, "message": message}) + "\n")
        sys.stderr.flush()

    try:
        from .magic_backend import LocalBackend

        reply = LocalBackend(host_aware=False).run(line, progress, default_env=env)
    except KeyboardInterrupt:
        reply = {"error": ["interrupted; the environment was left unchanged"]}
    except Exception as exc:  # a bug: still one line, never a traceback
        reply = {"error": [f"internal error: {exc!r}"]}
    sys.stdout.write("\n" + json.dumps(reply) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    os._exit(code)  # no interpreter teardown work after the answer is out
