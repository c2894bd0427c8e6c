"""The one error hierarchy of jupyter-userpkg.

Every failure a user can meet is a :class:`UserPkgError` with a stable machine
``code`` (used by scripts, the REST API and tests), a ``message`` written for a
person (one line, says what to do) and optional ``details`` (for example the
solver's full explanation).  Each front end maps these once: the CLI to an exit
status and one line on stderr, the server to an HTTP status and a JSON body,
the magics to one red line in a cell.  Nothing else should escape to a user.
"""

from __future__ import annotations

from typing import Any, ClassVar


def first_line(exc: BaseException) -> str:
    """An exception's first line of text (its type's name when it has none): what a
    one-line message quotes of an engine's or a library's error."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class UserPkgError(Exception):
    """Base class: a failure with a machine code and a human message."""

    code: ClassVar[str] = "error"
    #: HTTP status the server maps this error to.
    http_status: ClassVar[int] = 400
    #: CLI exit status.
    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, details: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.extra = extra

    def to_dict(self) -> dict[str, Any]:
        """The ``error`` JSON shape shared by ``--json``, REST and the panel."""
        out: dict[str, Any] = {"code": self.code, "message": self.message, "details": self.details}
        out.update(self.extra)
        return out

    def __str__(self) -> str:
        return self.message


class InvalidEnvName(UserPkgError):
    code = "invalid_env_name"


class BadCommandLine(UserPkgError):
    """A command line (of the CLI or a ``%userpkg`` line) that does not parse."""

    code = "usage"
    exit_code = 2


class InvalidSpec(UserPkgError):
    code = "invalid_spec"


class InvalidRequest(UserPkgError):
    """A request that is well formed but makes no sense (e.g. removing nothing)."""

    code = "invalid_request"


class EnvNotFound(UserPkgError):
    code = "env_not_found"
    http_status = 404


class EnvExists(UserPkgError):
    code = "env_exists"
    http_status = 409


class PackageNotFound(UserPkgError):
    code = "package_not_found"
    http_status = 404


class NotInMirror(PackageNotFound):
    """The administrator's filtered mirror (the policy's ``indexes`` and ``channels``, with
    ``"mirror": true``) holds no such package or no such version: not a typo to fix but a
    request to make, so the message says how to ask for it (``mirror_request_help``)."""

    code = "not_in_mirror"


class RevisionNotFound(UserPkgError):
    code = "revision_not_found"
    http_status = 404


class JobNotFound(UserPkgError):
    """A job id the server does not know (never made, or forgotten since)."""

    code = "job_not_found"
    http_status = 404


class Unsatisfiable(UserPkgError):
    """The solver proved the request impossible; ``details`` holds its explanation."""

    code = "unsatisfiable"
    http_status = 409


class PolicyDenied(UserPkgError):
    code = "policy_denied"
    http_status = 403


class EnvBusy(UserPkgError):
    code = "env_busy"
    http_status = 423
    exit_code = 3


class BackendUnavailable(UserPkgError):
    code = "backend_unavailable"
    http_status = 503


class AccessDenied(UserPkgError):
    """The operating system refused a file this user needs (owner or mode)."""

    code = "permission_denied"
    http_status = 403


class EnvDamaged(UserPkgError):
    """An env's own files cannot be read as they should (edited, truncated, lost)."""

    code = "env_damaged"
    http_status = 500


class TransactionFailed(UserPkgError):
    code = "transaction_failed"
    http_status = 500


class Cancelled(UserPkgError):
    code = "cancelled"
    http_status = 409
    exit_code = 130


class Declined(Cancelled):
    """The user said no to a plan."""

    code = "declined"
    exit_code = 1
