"""The PyPI layer: what every kind that installs from PyPI shares.

A ``venv`` env is nothing but this layer; a ``layer`` env is this layer over
the base interpreter; a ``conda`` env puts this layer on top of its conda
packages.  Each of them solves with :func:`solve_layer` (``uv pip compile``),
diffs with :func:`diff_locks`, verifies with :func:`verify_layer` and exports
the layer's pins with :func:`pins`.
"""

from __future__ import annotations

import contextlib
import re
import time
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidRequest, PackageNotFound
from ..events import Reporter
from ..manifest import Manifest
from ..options import UvOptions
from ..pylock import LockedPackage, parse_lock
from ..pypi import progress as uvprogress
from ..pypi import uv as uvbackend
from ..records import Action, Change
from ..specs import canonical_name
from ..transaction import installed_dists
from .base import EMPTY_LOCK

if TYPE_CHECKING:
    from packaging.requirements import Requirement

    from ..policy.rules import Policy


def _names(lock_text: str) -> list[tuple[str, str]]:
    return [(p.name, p.version) for p in parse_lock(lock_text).values()]


def solve_layer(
    python: str,
    requirements: Sequence[str],
    current_lock: str,
    *,
    options: UvOptions,
    report: Reporter,
    constraints: Iterable[str] = (),
    upgrade: bool = False,
    upgrade_packages: Iterable[str] = (),
    python_version: str = "",
    held: Mapping[str, str] | None = None,
    policy: Policy | None = None,
) -> str:
    """Resolve the layer's requirements into its next lock (``EMPTY_LOCK`` for none).

    The current lock's versions are the solver's preferences, so only what must
    move moves.  ``held`` packages (name -> version: the base's, or conda's) are
    pinned by the caller's constraints and left out of the result.  Within a
    ``policy``, refused packages are kept from uv's choices (:mod:`..pypipolicy`).
    """
    if not requirements:
        return EMPTY_LOCK
    constraints = list(constraints)

    def compile_lock(reqs: Sequence[str], extra: Sequence[str] = ()) -> str:
        return uvbackend.compile_lock(
            python,
            list(reqs),
            options=options,
            constraints=[*constraints, *extra],
            preferences=current_lock if parse_lock(current_lock) else "",
            upgrade=upgrade,
            upgrade_packages=upgrade_packages,
            python_version=python_version,
            on_line=report.uv_lines(),
        )

    try:
        if policy is None or policy.empty:
            text = compile_lock(requirements)
        else:
            from ..policy import pypi as pypipolicy

            text = pypipolicy.solve_within(
                policy,
                options,
                requirements,
                current_lock,
                lambda extra: compile_lock(requirements, extra),
                moving=[n for n, _ in _names(current_lock)] if upgrade else list(upgrade_packages),
                held=held or {},
            )
    except PackageNotFound as exc:
        raise _every_missing(exc, requirements, options) from None
    return drop_held(text, held) if held else text


#: How uv's resolver names the requested packages the index does not have.
_NOT_ON_INDEX = "package not found on the index: "


def _every_missing(
    first: PackageNotFound, requirements: Sequence[str], options: UvOptions
) -> PackageNotFound:
    """uv names one missing package a solve; the other requested names are looked up
    once each, side by side (:mod:`..pypimissing`), never by solving again without the
    missing one: that cost a solve per missing name, each asking the index about all
    the rest.  A requirement with a URL or a marker is not looked up (it may not be
    the index's to have)."""
    from packaging.requirements import Requirement

    from ..pypi import missing as pypimissing

    if not first.message.startswith(_NOT_ON_INDEX):
        return first
    named = {canonical_name(n) for n in first.message[len(_NOT_ON_INDEX) :].split(", ")}
    parsed = [Requirement(req) for req in requirements]
    requested = [canonical_name(r.name) for r in parsed]
    lookup = [canonical_name(r.name) for r in parsed if not (r.url or r.marker)]
    missing = named | set(pypimissing.absent(options, [n for n in lookup if n not in named]))
    if len(missing) < 2:
        return first
    ordered = [n for n in dict.fromkeys(requested) if n in missing]
    ordered += sorted(missing - set(ordered))  # a missing dependency, not a request
    return PackageNotFound(
        _NOT_ON_INDEX + ", ".join(ordered), details=first.details, missing=ordered
    )


def timed_solve(report: Reporter, message: str) -> Timer:
    """Report the solve phase and time it (the seconds go into the result's timings)."""
    report("solve", message)
    return Timer()


class Timer:
    """Seconds since it was made."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started


def diff_locks(
    old_text: str, new_text: str, options: UvOptions | None = None
) -> tuple[list[Change], int, list[str]]:
    """The PyPI layer's changes between two locks, the bytes to download, and a note
    naming how many packages come from uv's cache instead (with ``options``)."""
    old, new = parse_lock(old_text), parse_lock(new_text)
    changes: list[Change] = []
    download = cached = 0
    wheels = uv_cached_wheels(options) if options is not None else None
    for name in sorted(set(old) | set(new)):
        before = old[name].version if name in old else None
        after = new[name].version if name in new else None
        if before == after:
            continue
        action: Action = "add" if before is None else "remove" if after is None else "change"
        changes.append(Change(name, action, before, after, "pypi"))
        if after is not None:
            if wheels is not None and wheels(name, after):
                cached += 1
            else:
                download += new[name].size
    notes = []
    if cached:
        what = "package" if cached == 1 else "packages"
        rest = "" if download else ": nothing to download"
        notes.append(f"{cached} PyPI {what} from uv's cache{rest}")
    return changes, download, notes


def uv_cached_wheels(options: UvOptions) -> Callable[[str, str], bool] | None:
    """Whether uv's cache holds a wheel of (name, version) (:mod:`..pypi.progress`)."""
    return uvprogress.cached_wheels(options)


def watch_downloads(
    options: UvOptions, plan_changes: Sequence[Change], lock_text: str, report: Reporter
) -> contextlib.AbstractContextManager[object]:
    """While uv installs the plan: ``download`` events for each package it has
    prepared, with bytes of the known total and ``n of m packages``.

    Only the plan's PyPI packages the cache lacks count; with nothing to
    download (or no one listening) nothing is watched.
    """
    if report.sink is None or options.offline:
        return contextlib.nullcontext()
    locked = parse_lock(lock_text)
    adding = [
        (c.name, c.new, locked[c.name].size if c.name in locked else 0)
        for c in plan_changes
        if c.source == "pypi" and c.new is not None
    ]
    holds, wanted = uvprogress.wanted(options, adding)
    if holds is None or not wanted:
        return contextlib.nullcontext()

    def sink(message: str, package: str | None, done: int | None, total: int | None) -> None:
        report("download", message, package=package, done=done, total=total)

    return uvprogress.DownloadWatch(holds, wanted, sink)


def already_satisfied(
    reqs: Sequence[Requirement],
    manifest: Manifest,
    locked: Mapping[str, LockedPackage],
    base: Mapping[str, str],
) -> bool:
    """True when the installed versions meet every new spec as they are.

    Then re-solving could only return the same lock (installed versions are
    the solver's preferences), so the no-op answer skips the solver.
    """
    from packaging.requirements import Requirement

    if not reqs:
        return False
    for req in reqs:
        name = canonical_name(req.name)
        if req.marker is not None:
            return False
        if req.extras:
            known = manifest.pypi.get(name)
            if known is None or not req.extras <= Requirement(known).extras:
                return False
        version = locked[name].version if name in locked else base.get(name)
        if version is None or not req.specifier.contains(version, prereleases=True):
            return False
    return True


def check_names(
    env: str,
    manifest: Manifest,
    locked: Mapping[str, LockedPackage],
    remove: Sequence[str],
    update: Sequence[str],
    base: Mapping[str, str],
) -> None:
    """Refuse removing or updating what the layer does not hold, saying why."""
    for name in remove:
        if name not in manifest.pypi:
            raise not_removable(env, name, name in locked, base)
    for name in update:
        if name in locked or name in manifest.pypi:
            continue
        if name in base:
            raise InvalidRequest(
                f"{name!r} comes from the base environment ({base[name]}); to use another "
                f"version in {env!r}, install it, e.g. `install '{name}>{base[name]}'`"
            )
        raise PackageNotFound(f"{name!r} is not installed in environment {env!r}")


def not_removable(
    env: str, name: str, is_dependency: bool, base: Mapping[str, str]
) -> InvalidRequest | PackageNotFound:
    if is_dependency:
        return InvalidRequest(
            f"{name!r} was installed as a dependency, not requested; "
            "remove the packages that need it instead"
        )
    if name in base:
        return InvalidRequest(
            f"{name!r} comes from the base environment of {env!r}, "
            "which this environment cannot change"
        )
    return PackageNotFound(f"{name!r} is not installed in environment {env!r}")


def marker_notes(manifest: Manifest) -> list[str]:
    """Requests whose environment marker is false for the env's Python: nothing installs them.

    Said in the plan, so that a request that changes nothing does not look ignored.
    """
    if not any(";" in text for text in manifest.pypi.values()):
        return []  # no marker at all (and no packaging to load for it)
    from packaging.markers import default_environment
    from packaging.requirements import Requirement

    here: dict[str, str] = {k: str(v) for k, v in default_environment().items()}
    if manifest.python and not here["python_full_version"].startswith(manifest.python + "."):
        here["python_version"] = manifest.python
        here["python_full_version"] = manifest.python + ".0"
    notes = []
    for text in manifest.pypi.values():
        req = Requirement(text)
        if req.marker is not None and not req.marker.evaluate(here):
            notes.append(
                f"{req.name} is not installed: its marker `{req.marker}` is false for "
                f"Python {here['python_version']} on this machine"
            )
    return notes


def stray_dists(prefix: Path, old_lock: str, new_lock: str) -> list[str]:
    """Notes on distributions installed by other means, which a sync removes."""
    old, new = parse_lock(old_lock), parse_lock(new_lock)
    return [
        f"{name} {version} was installed by other means and will be removed "
        "(add it with `install` to keep it)"
        for name, (version, _) in sorted(installed_dists(prefix).items())
        if name not in old and name not in new
    ]


def changed_dists(prefix: Path, new_lock: str, only: Iterable[str] | None = None) -> list[str]:
    """Installed distributions the new lock drops or moves (the journal keeps their files)."""
    new = parse_lock(new_lock)
    keep = None if only is None else set(only)
    return [
        name
        for name, (version, _) in installed_dists(prefix).items()
        if (keep is None or name in keep) and (name not in new or new[name].version != version)
    ]


def verify_layer(prefix: Path, lock_text: str) -> list[str]:
    """The layer's distributions against its lock, in words."""
    locked = parse_lock(lock_text)
    have = {n: v for n, (v, _) in installed_dists(prefix).items()}
    problems = []
    for name, pkg in sorted(locked.items()):
        if name not in have:
            problems.append(f"{name} {pkg.version} is in the lock but not installed")
        elif have[name] != pkg.version:
            problems.append(f"{name} is {have[name]} but the lock says {pkg.version}")
    for name in sorted(set(have) - set(locked)):
        problems.append(f"{name} {have[name]} is installed but not in the lock")
    return problems


def changed_files(prefix: Path, only: Iterable[str] | None = None) -> list[str]:
    """Installed files that differ from their distribution's RECORD (``doctor --deep``).

    A file changed after installation (by hand, or through a cache another user
    can write, since envs hard-link from uv's cache) no longer has the hash its
    RECORD lists.  ``only`` limits the check to those distributions.
    """
    import base64
    import csv
    import hashlib

    keep = None if only is None else set(only)
    problems = []
    for name, (version, dist_info) in sorted(installed_dists(prefix).items()):
        if keep is not None and name not in keep:
            continue
        try:
            rows = list(csv.reader((dist_info / "RECORD").read_text("utf-8").splitlines()))
        except (OSError, csv.Error):
            problems.append(f"{name} {version}: its RECORD cannot be read")
            continue
        for row in rows:
            if len(row) < 2 or not row[1].startswith("sha256="):
                continue  # RECORD itself, and files recorded without a hash (.pyc)
            path = (dist_info.parent / row[0]).resolve()
            try:
                digest = hashlib.sha256(path.read_bytes()).digest()
            except OSError:
                problems.append(f"{name} {version}: {row[0]} is missing")
                continue
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != row[1][7:]:
                problems.append(f"{name} {version}: {row[0]} differs from what was installed")
    return problems


def pins(lock_text: str) -> list[str]:
    """``name==version`` of every package of a lock, sorted by name."""
    locked = parse_lock(lock_text)
    return [f"{p.name}=={p.version}" for p in sorted(locked.values(), key=lambda p: p.name)]


def drop_held(lock_text: str, held: Mapping[str, str]) -> str:
    """Remove from a lock what is already provided at that version (the base, conda).

    Works on the ``[[packages]]`` blocks of uv's output as text (a TOML round
    trip of a lock listing every platform's wheels costs more than the solve);
    the result is checked by parsing it.
    """
    head, *blocks = re.split(r"(?m)^(?=\[\[packages\]\]\s*$)", lock_text)
    kept = []
    for block in blocks:
        data: dict[str, Any] = tomllib.loads(block).get("packages", [{}])[0]
        name = canonical_name(str(data.get("name", "")))
        if name in held and public(held[name]) == public(str(data.get("version", ""))):
            continue
        kept.append(block)
    if len(kept) == len(blocks):
        return lock_text
    out = head + "".join(kept)
    if not kept and "packages = []" not in head:
        out = out.rstrip("\n") + "\npackages = []\n"
    tomllib.loads(out)  # still a valid lock
    return out


def public(version: str) -> str:
    """The public part of a version (``2.1+cpu`` -> ``2.1``), normalised.

    A base built locally (``+cu118``, distro or conda builds) is pinned by the
    version an index can serve, and counts as satisfying that version.
    """
    from packaging.version import InvalidVersion, Version

    try:
        return Version(version).public
    except InvalidVersion:
        return version


#: A table's header line, ``[name...]`` or ``[[name...]]``: its first key, quoted or bare.
_TABLE_HEADER = re.compile(
    r"""\s*\[\[?\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))[^\]]*\]\]?\s*(#.*)?"""
)


def strip_tool_table(lock_text: str) -> str:
    """An imported lock without our ``[tool.jupyter-userpkg]`` table.

    The tables under ``tool`` are dropped line by line (a full tomlkit round trip of a
    30-package lock took ~75 ms of ``create --from``); the result is kept only when it
    reads as the lock less ``tool`` (``tomllib``), else tomlkit does it (a ``tool`` key
    written inline, a string holding a header-like line)."""
    kept: list[str] = []
    dropping = False
    for line in lock_text.splitlines(keepends=True):
        header = _TABLE_HEADER.fullmatch(line.rstrip("\r\n"))
        if header:
            dropping = next(g for g in header.groups()[:3] if g is not None) == "tool"
        if not dropping:
            kept.append(line)
    fast = "".join(kept)
    try:
        wanted = {k: v for k, v in tomllib.loads(lock_text).items() if k != "tool"}
        if tomllib.loads(fast) == wanted:
            return fast
    except tomllib.TOMLDecodeError:
        pass
    import tomlkit

    doc = tomlkit.parse(lock_text)
    if "tool" in doc:
        del doc["tool"]
    return tomlkit.dumps(doc)


def summary(changes: Sequence[Change]) -> str:
    counts = {a: sum(1 for c in changes if c.action == a) for a in ("add", "change", "remove")}
    return f"{counts['add']} to add, {counts['change']} to change, {counts['remove']} to remove"


def installs(changes: Sequence[Change], source: str = "pypi") -> int:
    """How many packages of ``source`` a plan adds or changes (the link events' total)."""
    return sum(1 for c in changes if c.source == source and c.new is not None)
