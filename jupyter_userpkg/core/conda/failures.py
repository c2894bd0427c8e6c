"""A failed conda solve or fetch in words a user acts on.

The solver's messages name the first spec it cannot meet, or explain a conflict as a
tree; a channel that cannot be read says so in the engine's terms.  Here they become one
line a user acts on (every missing name at once, the versions there are, the platform),
with the solver's explanation, trimmed, as details.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import BackendUnavailable, PackageNotFound, Unsatisfiable
from ..options import CondaOptions
from .meta import current_platform
from .specs import spec_name

if TYPE_CHECKING:
    from rattler import MatchSpec

#: ``records_of(names, channels, options)``: the records channels serve of names.
RecordsOf = Callable[[list[str], list[str], CondaOptions], list[Any]]

#: What overrides the detection of a virtual package (conda's variables).
_VIRTUAL_HINTS = {
    "__cuda": "CONDA_OVERRIDE_CUDA",
    "__glibc": "CONDA_OVERRIDE_GLIBC",
    "__osx": "CONDA_OVERRIDE_OSX",
    "__archspec": "CONDA_OVERRIDE_ARCHSPEC",
}
#: Lines of the solver's explanation shown to a user; the rest is summarised.
EXPLANATION_LINES = 24


def solve_error(
    exc: Exception,
    sources: list[str],
    specs: Sequence[MatchSpec],
    options: CondaOptions,
    records_of: RecordsOf,
) -> Exception:
    """A failed solve in words a user acts on: a name or version no channel has, or the
    solver's explanation of a conflict (trimmed), or a channel that cannot be read."""
    text = str(exc).strip()
    kind = type(exc).__name__
    if kind != "SolverError":
        return fetch_error(text, sources, options)
    explanation = text.removeprefix("Cannot solve the request because of:").strip()
    missing = re.fullmatch(r"No candidates were found for (\S+)(?: (.*))?\.", explanation)
    if missing:
        return _not_found(
            missing.group(1),
            missing.group(2) or "",
            sources,
            specs,
            lambda names: records_of(names, sources, options),
        )
    # The explanation can name one candidate twice as siblings ("├─ x 2.0, which
    # conflicts..." then "└─ x 2.0, which conflicts..."): keep the last of such a run.
    raw = explanation.splitlines()
    lines = [
        line
        for line, following in zip(raw, [*raw[1:], ""], strict=True)
        if _sibling_text(line) is None or _sibling_text(line) != _sibling_text(following)
    ]
    if len(lines) > EXPLANATION_LINES:
        rest = len(lines) - EXPLANATION_LINES
        lines = [*lines[:EXPLANATION_LINES], f"... ({rest} more lines)"]
    asked = ", ".join(str(s) for s in specs)
    for virtual in sorted(set(re.findall(r"(__[a-z_]+)\b[^\n]*no candidates", explanation))):
        hint = _VIRTUAL_HINTS.get(virtual, "")
        lines.append(
            f"{virtual} is a virtual package: this machine does not provide it"
            + (f" (to override the detection, set {hint})" if hint else "")
        )
    return Unsatisfiable(
        f"the requested packages cannot be installed together ({asked})",
        details="\n".join(lines),
    )


def _sibling_text(line: str) -> tuple[int, str] | None:
    """(indent, text) of a tree line of the solver's explanation, else None."""
    match = re.match(r"^([│ ]*)[├└]─ (.*)$", line)
    return (len(match.group(1)), match.group(2)) if match else None


def fetch_error(text: str, sources: list[str], options: CondaOptions) -> Exception:
    first = text.splitlines()[0] if text else "unknown error"
    if options.offline or ("cache" in text.lower() and "only" in text.lower()):
        # The index is cached per package name, as far as earlier solves looked it up.
        names = sorted(set(re.findall(r"shard for package '([^']+)' is not in the cache", text)))
        which = f" for {', '.join(names)}" if names else ""
        return BackendUnavailable(
            f"working offline, and the package index of {', '.join(sources)} is not cached"
            f"{which}; connect to the network once to fetch it",
            details=text,
        )
    return BackendUnavailable(
        f"cannot read the package index of {', '.join(sources)}: {first}", details=text
    )


def _not_found(
    name: str,
    wanted: str,
    sources: list[str],
    specs: Sequence[MatchSpec],
    lookup: Callable[[list[str]], list[Any]],
) -> Exception:
    """A name no channel has, or a version of it that none has: tell which, for every spec.

    The solver names the first spec it cannot meet; the others are looked up
    here, so that a file with several missing packages names them all at once.
    """
    where = ", ".join(sources)
    asked = {spec_name(s): s for s in specs if s.name is not None}
    names = list(dict.fromkeys([name, *asked]))
    try:
        records = lookup(names)
    except Exception:
        records = []
    by_name: dict[str, list[Any]] = {n: [] for n in names}
    for r in records:
        by_name.setdefault(str(r.name.normalized), []).append(r)
    if name not in asked:  # a dependency, not a request
        if not by_name[name]:
            return PackageNotFound(
                f"no package named {name!r} in the channels {where}", missing=[name]
            )
        return PackageNotFound(
            f"{name} is needed but no version of it fits this platform or the other packages "
            f"(available: {_versions(by_name[name])})",
            unavailable=[name],
        )
    absent = [n for n in names if n in asked and not by_name[n]]
    unmet = [
        n
        for n in names
        if n in asked and by_name[n] and not any(asked[n].matches(r) for r in by_name[n])
    ]
    if name not in absent and name not in unmet:
        unmet.insert(0, name)  # the solver's word for it (rattler's matching can differ)
    parts = []
    if absent:
        quoted = ", ".join(repr(n) for n in absent)
        parts.append(f"no package named {quoted} in the channels {where}")
    for n in unmet:
        spec = str(asked[n].version or "*") if n != name else (wanted.strip() or "*")
        parts.append(
            f"no version of {n} matches {spec!r} in the channels {where} "
            f"(available: {_versions(by_name[n])})"
        )
    message = "; ".join(parts)
    if unmet:
        message += f"; the platform is {current_platform()}"
    return PackageNotFound(message, missing=absent, unavailable=unmet)


def _versions(records: Sequence[Any]) -> str:
    versions = sorted({r.version for r in records})
    return ", ".join(str(v) for v in versions[-8:])
