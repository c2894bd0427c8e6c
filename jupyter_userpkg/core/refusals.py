"""Requests refused before anything changed: in the mirror's words, and in the audit log.

When the administrator's policy says its ``indexes`` and ``channels`` are a filtered
mirror (``"mirror": true``), a package or version they do not serve is not a typo
but something the mirror was not built to hold: the engines' "not found" (uv's
"not found in the package registry" and "no version of", rattler's "No candidates
were found") becomes :class:`~.errors.NotInMirror`, which says so and how to ask
for it (the policy's ``mirror_request_help``, else :data:`DEFAULT_HELP`).

Every request the policy refuses, or the mirror lacks, is one audit record with
``"refused": true`` (who, which env, the request, the code and the reason), so the
administrator's ``mirror plan`` can list what users asked for and did not get.
The env, its manifest and its history are untouched: the record is written after
the refusal, by the pipeline's entry points, and a log that fails never changes
the error the user sees.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from .errors import NotInMirror, PackageNotFound, PolicyDenied, Unsatisfiable, UserPkgError
from .policy.rules import Policy

Audit = Callable[[dict[str, Any]], None]

#: What users are told to do about a package the mirror lacks, unless the policy says.
DEFAULT_HELP = (
    "to have it added, ask your administrator (the packages users asked for and did not "
    "get are listed for them by `jupyter userpkg mirror plan`)"
)
#: The refusals an audit record is written for.
REFUSED = (PolicyDenied, NotInMirror)


def request_help(policy: Policy) -> str:
    """How a user asks for a package the mirror does not hold."""
    return policy.mirror_request_help.strip() or DEFAULT_HELP


def in_mirror_terms(policy: Policy, exc: UserPkgError) -> NotInMirror | None:
    """``exc`` said as the mirror's lack, when the policy's sources are a mirror and the
    engine named what its index or channels do not serve; else None."""
    if not policy.mirror or isinstance(exc, NotInMirror):
        return None
    if not isinstance(exc, PackageNotFound | Unsatisfiable):
        return None
    missing = [str(n) for n in exc.extra.get("missing") or ()]
    versions = [str(n) for n in exc.extra.get("unavailable") or ()]
    if not missing and not versions:
        return None
    lacks = []
    if missing:
        lacks.append(
            f"{', '.join(missing)} {_is(missing)} not in the administrator's package mirror"
        )
    if versions:
        lacks.append(
            f"the version of {', '.join(versions)} this needs {_is(versions)} not in the "
            "administrator's package mirror"
        )
    lack = "; ".join(lacks)
    names = [*missing, *versions]
    helps = request_help(policy)
    details = "\n".join(filter(None, [exc.message, exc.details]))
    return NotInMirror(
        f"{lack} ({exc.message.rstrip('.')}); {helps}",
        details=details,
        packages=[str(n) for n in names],
        help=helps,
    )


def _is(names: list[str]) -> str:
    return "is" if len(names) == 1 else "are"


def refused_entry(
    env: str, command: str, exc: UserPkgError, *, user: str, time: str, dry_run: bool
) -> dict[str, Any]:
    """The audit record of a refused request: who, which env, what was asked, and why."""
    return {
        "time": time,
        "user": user,
        "env": env,
        "action": "refused",
        "refused": True,
        "command": command,
        "code": exc.code,
        "reason": exc.message,
        "packages": list(exc.extra.get("packages") or exc.extra.get("missing") or []),
        "dry_run": dry_run,
    }


@contextlib.contextmanager
def logged(
    policy: Policy, audit: Audit | None, env: str, command: str, dry_run: bool
) -> Iterator[None]:
    """Around a change: what the policy refuses, or the mirror lacks (said in its words),
    is logged as a refused request; the user gets the error as it was."""
    try:
        yield
    except (PackageNotFound, Unsatisfiable) as exc:
        lack = in_mirror_terms(policy, exc)
        if lack is None:
            raise
        _record(audit, env, command, lack, dry_run)
        raise lack from None
    except REFUSED as exc:
        _record(audit, env, command, exc, dry_run)
        raise


#: The refusals already logged (a change that makes ``default`` nests a create in it):
#: logged once, by the innermost entry that saw them.
_LOGGED = "_userpkg_refusal_logged"


def _record(audit: Audit | None, env: str, command: str, exc: UserPkgError, dry_run: bool) -> None:
    """One record; a log that cannot be written is said by the log (never undoes anything)."""
    if audit is None or getattr(exc, _LOGGED, False):
        return
    setattr(exc, _LOGGED, True)
    from .audit import user

    when = datetime.now(UTC).replace(microsecond=0).isoformat()
    entry = refused_entry(env, command, exc, user=user(), time=when, dry_run=dry_run)
    with contextlib.suppress(OSError):
        audit(entry)
