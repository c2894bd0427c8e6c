"""The one subprocess helper: argument lists only, never a shell string."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .errors import BackendUnavailable, Cancelled


def _pdeathsig() -> Callable[[], None] | None:
    """On Linux, make children die with us (``PR_SET_PDEATHSIG``).

    A SIGKILLed server or kernel must not leave uv writing into an env while
    the next command recovers it.  The libc function is resolved here, before
    any fork, so the child only makes one system call between fork and exec.
    The signal follows the thread that forked: in the server that is a worker
    thread of the default executor, which lives as long as the server.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def set_pdeathsig() -> None:
        prctl(pr_set_pdeathsig, signal.SIGKILL)

    return set_pdeathsig


_PREEXEC = _pdeathsig()


@dataclass(frozen=True)
class ProcResult:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def run(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    on_line: Callable[[str], None] | None = None,
    timeout: float | None = None,
) -> ProcResult:
    """Run ``args`` and capture its output.

    ``on_line`` receives stderr lines as they arrive (tools like uv report
    progress there).  A KeyboardInterrupt terminates the child and is re-raised
    as :class:`Cancelled`, so callers roll back through their usual path.
    """
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    try:
        proc = subprocess.Popen(
            list(args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=full_env,
            cwd=cwd,
            text=True,
            encoding="utf-8",
            errors="replace",
            preexec_fn=_PREEXEC,  # one syscall, resolved before fork
        )
    except OSError as exc:
        raise BackendUnavailable(f"cannot run {args[0]}: {exc.strerror or exc}") from None
    try:
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
        _stop(proc)
        raise Cancelled("interrupted") from None
    except subprocess.TimeoutExpired:
        _stop(proc)
        raise BackendUnavailable(f"{os.path.basename(args[0])} did not finish in time") from None
    except BaseException:
        # Whatever stops us (a progress callback cancelling a job, say), the
        # child must not go on writing into an env that is being rolled back.
        _stop(proc)
        raise
    return ProcResult(tuple(args), proc.returncode, out, err)


def _stop(proc: subprocess.Popen[str]) -> None:
    """Terminate a child politely, then firmly."""
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=5)
    except (subprocess.TimeoutExpired, OSError):
        proc.kill()
        proc.wait()
