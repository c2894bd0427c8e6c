"""The audit log: one JSON record per applied change, for administrators.

Every committed change (create, install/remove/update, rollback, delete) is
recorded as ``{"time", "user", "env", "action", "revision", "command",
"changes"}`` in ``UserPkg.audit_log`` (an administrator's setting, like the
sources; ``{user}`` in it becomes the user's name).  The default is
``<envs dir>/.audit.jsonl``, private to the user like the envs themselves;
``"syslog"`` (or ``"syslog:/path/to/socket"``) sends each record to syslog or
journald instead, which stamp the sender's credentials and which no ordinary
user can rewrite.

The threat is a user of the same machine: they control their environment
variables, so who made a change is the real uid's name, never ``LOGNAME`` or
``USER``; and in a directory shared by users they can pre-create, link or
replace another user's file name.  A log file is therefore opened without
following a symbolic link and written only when it is a regular file of the
writer's own, mode 0600, with one link.  A per-user file is private, not
tamper-proof: its owner can still edit it.

The log is written after the commit and never undoes one: a record that cannot
be written is lost, but never silently.  It goes to the ``jupyter_userpkg``
logger (the server's log), to the change's result (collected by :func:`watch`)
and ``doctor`` says what is wrong with the log (:meth:`AuditLog.problems`).
The ``default`` env made for a first change is logged with that change, not as
a ``create`` of its own.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import stat
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from logging.handlers import SysLogHandler

#: ``audit_log`` values that name syslog (``syslog`` or ``syslog:/path/to/socket``).
SYSLOG = "syslog"
#: The socket of the machine's syslog or journald.
SYSLOG_SOCKET = "/dev/log"
#: The tag of each syslog record (``journalctl -t jupyter-userpkg``).
IDENT = "jupyter-userpkg"
#: A regular file may be opened for appending; a FIFO planted in its place must not block.
FLAGS = (
    os.O_WRONLY
    | os.O_APPEND
    | os.O_CREAT
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
)

_log = logging.getLogger(__name__)
_log.addHandler(logging.NullHandler())  # a CLI prints the note, not a second warning
_missed = threading.local()


def user() -> str:
    """The user's name as revision records and the audit log give it: the real uid's.

    Never the environment (``LOGNAME``, ``USER``), which the user sets at will; a uid
    with no entry in the user database (containers) is given as its number.
    """
    try:
        import pwd
    except ImportError:  # Windows: no uids, and no shared log directory to forge in
        import getpass

        return getpass.getuser()
    from .policy.admintrust import foreign_namespace

    foreign = foreign_namespace()
    # In a user namespace a user made they are "root": name the uid outside it, which
    # the kernel's map gives (an unprivileged user can only map their own uid there).
    uid = _outer_uid(os.getuid()) if foreign else os.getuid()
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        name = str(uid)
    return f"{name} (uid {uid}, in a user namespace)" if foreign else name


def _outer_uid(uid: int) -> int:
    """``uid`` of this user namespace as its parent namespace knows it (``/proc/self/uid_map``)."""
    try:
        with open("/proc/self/uid_map", encoding="ascii") as f:
            for line in f:
                inside, outside, count = (int(x) for x in line.split())
                if inside <= uid < inside + count:
                    return outside + uid - inside
    except (OSError, ValueError):
        pass
    return uid


class AuditRefused(OSError):
    """A log file that is not safely the writer's own: nothing was written to it."""


def _owner(uid: int) -> str:
    try:
        import pwd

        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except (ImportError, KeyError):
        return f"uid {uid}"


def refusal(st: os.stat_result, path: Path) -> str | None:
    """Why a log file with this status must not be written (None: it may), with the fix.

    Another user's file, or one other users can open, would let them read, rewrite or
    swallow the records; a second link is a name that outlives a check of this one.
    """
    if stat.S_ISLNK(st.st_mode):
        return f"{path} is a symbolic link, not written through; ask your administrator"
    if not stat.S_ISREG(st.st_mode):
        return f"{path} is not a regular file; ask your administrator"
    if not hasattr(os, "getuid"):  # Windows: modes and owners say nothing here
        return None
    if st.st_uid != os.getuid():
        return f"{path} belongs to {_owner(st.st_uid)}, not to you; ask your administrator"
    if st.st_nlink > 1:
        return (
            f"{path} has {st.st_nlink} links, and another name could read or replace it; "
            "ask your administrator"
        )
    mode = stat.S_IMODE(st.st_mode)
    if mode != 0o600:
        return (
            f"{path} has mode {mode:04o}, not 0600, so other users may have read or written "
            f"it; check it, then run `chmod 600 {path}`"
        )
    return None


def _missing(reason: str) -> None:
    """A record that was not written: in the log of the process, and for the user."""
    _log.warning("jupyter-userpkg: a change was not recorded in the audit log: %s", reason)
    lines = getattr(_missed, "lines", None)
    if lines is not None:
        lines.append(f"the change was made but not logged: {reason}")


@contextlib.contextmanager
def watch() -> Iterator[list[str]]:
    """Collect, for the user, what this thread could not log during the block.

    Records are written deep in the pipeline, which never fails a committed change for
    them; the command layer tells the user through this instead.
    """
    outer = getattr(_missed, "lines", None)
    lines: list[str] = []
    _missed.lines = lines
    try:
        yield lines
    finally:
        _missed.lines = outer


def _mkdirs(directory: Path) -> None:
    """Create ``directory`` and missing parents, each private (0700) to the writer."""
    missing = []
    while not directory.exists():
        missing.append(directory)
        if directory.parent == directory:
            break
        directory = directory.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):
            os.mkdir(path, 0o700)


class AuditLog:
    """Appends records to one file of the writer's own, each in a single ``write``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __repr__(self) -> str:
        return f"AuditLog({str(self.path)!r})"

    def record(self, entry: dict[str, Any]) -> None:
        """Append ``entry``; raises :class:`OSError` (told to the user) when it cannot."""
        line = (json.dumps(entry, sort_keys=True) + "\n").encode()
        try:
            self._append(line)
        except AuditRefused as exc:
            _missing(str(exc))
            raise
        except OSError as exc:
            _missing(f"{self.path}: {exc.strerror or exc}; ask your administrator")
            raise

    def _append(self, line: bytes) -> None:
        _mkdirs(self.path.parent)
        try:
            fd = os.open(self.path, FLAGS, 0o600)
        except OSError:
            try:  # a link, or another user's file in a sticky dir (fs.protected_regular)
                why = refusal(os.lstat(self.path), self.path)
            except OSError:
                why = None
            if why:
                raise AuditRefused(why) from None
            raise
        try:
            why = refusal(os.fstat(fd), self.path)
            if why:
                raise AuditRefused(why)
            os.write(fd, line)
        finally:
            os.close(fd)

    def read(self) -> list[dict[str, Any]]:
        """The records, read without following a link."""
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            return []
        with os.fdopen(fd, encoding="utf-8") as file:
            return [json.loads(line) for line in file if line.strip()]

    def problems(self) -> list[str]:
        """What ``doctor`` says of the log: why records would be refused, in words."""
        try:
            why = refusal(os.lstat(self.path), self.path)
        except FileNotFoundError:
            why = None
        except OSError as exc:
            why = f"{self.path}: {exc.strerror or exc}; ask your administrator"
        out = [f"the audit log is refused, changes are not logged: {why}"] if why else []
        parent = self.path.parent
        try:
            mode = os.stat(parent).st_mode
        except OSError:
            return out
        if hasattr(os, "getuid") and mode & 0o022 and not mode & stat.S_ISVTX:
            out.append(
                f"the audit log's directory {parent} can be written by other users and is not "
                f"sticky (mode {stat.S_IMODE(mode):04o}): they can replace the log; ask your "
                "administrator"
            )
        return out


class SyslogLog:
    """Sends each record to syslog or journald, which stamp the sender's uid and pid.

    One connection per record: a collector restarted between two changes is found again.
    """

    def __init__(self, address: str = SYSLOG_SOCKET) -> None:
        self.address = address

    def __repr__(self) -> str:
        return f"SyslogLog({self.address!r})"

    def record(self, entry: dict[str, Any]) -> None:
        """Send ``entry`` as one JSON message; raises :class:`OSError` when it cannot."""
        try:
            self._send(json.dumps(entry, sort_keys=True))
        except OSError as exc:
            _missing(f"syslog at {self.address}: {exc.strerror or exc}; ask your administrator")
            raise

    def _send(self, message: str) -> None:
        handler = _handler(self.address)
        try:
            handler.emit(logging.LogRecord(IDENT, logging.INFO, "", 0, message, None, None))
        finally:
            handler.close()
        failure = getattr(handler, "failure", None)
        if failure is not None:
            raise failure if isinstance(failure, OSError) else OSError(str(failure))

    def read(self) -> list[dict[str, Any]]:
        """Nothing: the collector keeps the records (``journalctl -t jupyter-userpkg``)."""
        return []

    def problems(self) -> list[str]:
        """Whether the collector's socket takes a connection (``doctor``)."""
        error = _unreachable(self.address)
        if error is None:
            return []
        return [
            f"the audit log cannot reach syslog at {self.address}: "
            f"{error.strerror or error}; changes are not logged; ask your administrator"
        ]


def _handler(address: str) -> SysLogHandler:
    """A :class:`SysLogHandler` on ``address`` that keeps its failure instead of printing a
    traceback (``logging`` reports a handler's errors on stderr, to the user)."""
    from logging.handlers import SysLogHandler

    class Handler(SysLogHandler):
        failure: BaseException | None = None

        def handleError(self, record: logging.LogRecord) -> None:
            self.failure = sys.exc_info()[1]

    handler = Handler(address=address, facility=SysLogHandler.LOG_USER)
    handler.ident = f"{IDENT}: "
    return handler


def _unreachable(address: str) -> OSError | None:
    """Why no datagram or stream connection to ``address`` can be made (None: it can)."""
    import socket

    error = None
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_UNIX, kind) as sock:
            try:
                sock.connect(address)
            except OSError as exc:
                error = exc
            else:
                return None
    return error


def open_log(target: Path | str) -> AuditLog | SyslogLog:
    """The log ``target`` names: ``syslog[:socket]`` or a file."""
    if isinstance(target, str) and (target == SYSLOG or target.startswith(SYSLOG + ":")):
        return SyslogLog(target.partition(":")[2] or SYSLOG_SOCKET)
    return AuditLog(Path(target))


def resolve(template: str, envs_dir: Path, user: str) -> Path | str:
    """The log's target: ``syslog[:socket]`` as is, the configured path with ``{user}``,
    else beside the envs."""
    if not template:
        return envs_dir / ".audit.jsonl"
    if template == SYSLOG or template.startswith(SYSLOG + ":"):
        return template
    return Path(os.path.expanduser(template.replace("{user}", user)))
