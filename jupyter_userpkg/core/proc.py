"""The one subprocess helper: argument lists only, never a shell string."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from . import cancel
from .errors import BackendUnavailable, Cancelled


def _pdeathsig_prefix() -> list[str]:
    """On Linux, a command prefix that makes the child die with us.

    A SIGKILLed server or kernel must not leave uv writing into an env while
    the next command recovers it.  util-linux's ``setpriv --pdeathsig KILL``
    sets ``PR_SET_PDEATHSIG`` and execs the command, so no Python code runs
    between fork and exec (a ``preexec_fn`` would run the interpreter's
    after-fork hooks in the child, where a kernel interrupt prints tracebacks).
    The signal follows the thread that forked: in the server that is a worker
    thread of the default executor, which lives as long as the server.
    """
    if not sys.platform.startswith("linux"):
        return []
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--"] if setpriv else []


_PREFIX = _pdeathsig_prefix()


@dataclass(frozen=True)
class ProcResult:
    """What a finished child process returned."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def run(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    drop: Sequence[str] = (),
    cwd: str | None = None,
    on_line: Callable[[str], None] | None = None,
    timeout: float | None = None,
) -> ProcResult:
    """Run ``args`` and capture its output.

    The child gets this process's environment without the variables whose
    names start with one of ``drop``, with ``env`` on top.  ``on_line``
    receives stderr lines as they arrive (tools like uv report progress
    there).  A KeyboardInterrupt terminates the child and is re-raised as
    :class:`Cancelled`, so callers roll back through their usual path; so
    does a cancel request of the caller's :mod:`.cancel` scope, which stops
    the child at once.
    """
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(tuple(drop))}
    if env:
        full_env.update(env)
    started: list[subprocess.Popen[str]] = []
    finished = threading.Event()
    try:
        cancel.checkpoint()
        proc = _spawn(list(args), full_env, cwd, started)
        _watch(proc, finished)
        if on_line is None:
            out, err = proc.communicate(timeout=timeout)
        else:
            assert proc.stderr is not None and proc.stdout is not None
            err_lines: list[str] = []
            for line in proc.stderr:
                err_lines.append(line)
                on_line(line.rstrip("\n"))
            out = proc.stdout.read()
            proc.wait(timeout=timeout)
            err = "".join(err_lines)
    except KeyboardInterrupt:
        _stop(*started)
        raise Cancelled("interrupted; the environment was left unchanged") from None
    except subprocess.TimeoutExpired:
        _stop(*started)
        raise BackendUnavailable(f"{os.path.basename(args[0])} did not finish in time") from None
    except BaseException:
        # Whatever stops us (a progress callback cancelling a job, say), the
        # child must not go on writing into an env that is being rolled back.
        _stop(*started)
        raise
    finally:
        finished.set()
    cancel.checkpoint()  # a child stopped by a cancel request is not a failure of its own
    return ProcResult(tuple(args), proc.returncode, out, err)


def _watch(proc: subprocess.Popen[str], finished: threading.Event) -> None:
    """Stop ``proc`` when the caller's cancel scope asks for it (if there is one)."""
    request = cancel.current()
    if request is None:
        return

    def watch() -> None:
        while not finished.wait(0.05):
            if request.is_set():
                _stop(proc)
                return

    threading.Thread(target=watch, name="userpkg-cancel", daemon=True).start()


@contextlib.contextmanager
def sigint_deferred() -> Iterator[None]:
    """Hold SIGINT back (main thread only) while undoing a change.

    A second Ctrl-C must not cut a roll back short; it arrives when the block
    ends.  (The journal would still let the next command finish the job.)
    """
    if not (
        hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
    ):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _spawn(
    args: list[str], env: dict[str, str], cwd: str | None, started: list[subprocess.Popen[str]]
) -> subprocess.Popen[str]:
    """Start the child, recorded in ``started`` before an interrupt can land.

    SIGINT is held back around the fork, so a KeyboardInterrupt cannot fall
    between the child's start and its recording (the caller stops what it
    finds in ``started``).  The child inherits the blocked signal: children are
    stopped with SIGTERM.
    """
    blocked = hasattr(signal, "pthread_sigmask") and (
        threading.current_thread() is threading.main_thread()
    )
    if blocked:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        started.append(
            subprocess.Popen(
                [*_PREFIX, *args],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=cwd,
                text=True,
                encoding="utf-8",
                errors="replace",
            )
        )
    except OSError as exc:
        raise BackendUnavailable(f"cannot run {args[0]}: {exc.strerror or exc}") from None
    finally:
        if blocked:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    return started[-1]


def _stop(*procs: subprocess.Popen[str]) -> None:
    """Terminate children politely, then firmly."""
    for proc in procs:
        try:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=5)
        except (subprocess.TimeoutExpired, OSError):
            proc.kill()
            proc.wait()
