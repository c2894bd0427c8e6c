"""Environments an administrator shares: every user reads them, only the administrator changes them.

Where they live is ``UserPkg.shared_envs_dirs``, and it counts only as an
administrator wrote it: :mod:`.policy.sources` reads it (with the package
sources) from the administrator's config dirs alone, never from a user's config
file or variable.  A dir counts only when no one but the administrator could
have written it either (:func:`.policy.admintrust.untrusted_reason`: owned by
root or the account that installed this package, no other writer along the
path, the path as written and as its links resolve): so no user can make an env
of theirs look shared, nor reach into a shared one through a link.

A shared env is ``<shared_envs_dir>/<name>`` (the first dir holding the name
wins), with the same store, journal and revisions as any env; the
administrator changes it with ``--shared`` through the same pipeline (a service
rooted at the shared dir, :func:`admin`).  A user sees it in ``envs``, reads it
(``list``, ``history``, ``export``), runs its kernel and layers an env of their
own over it (``create --over``); every change to it is refused with one line
(:func:`refusal`).  A user's env may not take a shared env's name; an older
clash is flagged, and ``-n NAME`` then means the user's own.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from .errors import AccessDenied, EnvExists, EnvNotFound, InvalidRequest, UserPkgError
from .names import validate_env_name
from .policy.admintrust import running_as_trusted, untrusted_reason
from .store import EnvStore

if TYPE_CHECKING:
    from .records import EnvInfo

#: Where shared envs' kernelspecs go when the administrator names no other place: a
#: system Jupyter data dir, which every user's server reads.
SYSTEM_KERNELS = Path("/usr/local/share/jupyter/kernels")
#: What an administrator's config sets (both are read from administrators' dirs only).
SETTINGS = ("shared_envs_dirs", "shared_kernels_dir")


@dataclass(frozen=True)
class Shared:
    """The administrator's shared envs dirs that pass the ownership check, and why not others."""

    dirs: tuple[Path, ...] = ()
    kernels_dir: Path = SYSTEM_KERNELS
    #: Dirs (or a kernels dir) an administrator named that are refused, with the reason.
    notes: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: dict[str, tuple[Any, str]]) -> Shared:
        """From the administrator's settings (:attr:`.policy.sources.Loaded.settings`)."""
        value, origin = settings.get("shared_envs_dirs", ((), ""))
        items = [value] if isinstance(value, str) else list(value or ())
        dirs: list[Path] = []
        notes: list[str] = []
        for item in items:
            path = Path(str(item))
            why = _refused(path)
            if why:
                notes.append(f"shared envs dir {path} (set in {origin}) is not used: {why}")
            elif path not in dirs:
                dirs.append(path)
        kernels, k_origin = settings.get("shared_kernels_dir", ("", ""))
        kernels_dir = Path(str(kernels)) if kernels else SYSTEM_KERNELS
        why = _refused(kernels_dir)
        if why and dirs:
            notes.append(f"shared kernels dir {kernels_dir} ({k_origin or 'default'}): {why}")
        return cls(tuple(dirs), kernels_dir, tuple(notes))

    def find(self, name: str) -> Path | None:
        """The shared dir holding env ``name`` (names differ in more than case), or None."""
        wanted = name.lower()
        for directory in self.dirs:
            for env in EnvStore(directory).listing():
                if env.lower() == wanted:
                    return directory
        return None

    def holds(self, envs_dir: Path) -> bool:
        """Is ``envs_dir`` one of the shared dirs (a user's envs_dir pointed at one)?"""
        try:
            here = envs_dir.resolve()
        except OSError:
            return False
        return any(d.resolve() == here for d in self.dirs)


class _Service(Protocol):
    """What of :class:`.service.UserPkgService` this module uses (it sits below it)."""

    store: EnvStore
    shared: Shared
    base_python: str
    audit_log: Path | str | None

    @property
    def kernels_dir(self) -> Path: ...

    def list_envs(self) -> list[EnvInfo]: ...


S = TypeVar("S", bound=_Service)


def _refused(path: Path) -> str | None:
    if not path.is_absolute():
        return "not an absolute path"
    return untrusted_reason(path)


def refuse_theirs(svc: _Service, name: str) -> None:
    """A user naming a shared env where their own is required (a change, through REST's
    checks too) is refused with the one line, not told it does not exist."""
    if not svc.store.exists(name) and svc.shared.find(name):
        raise refusal(name)


def refusal(name: str) -> AccessDenied:
    """The one line every front end gives a user who tries to change a shared env."""
    return AccessDenied(
        f"environment {name!r} is shared and read-only: the administrator changes it "
        f"(create your own env over it: jupyter userpkg create NAME --over {name})"
    )


# ------------------------------------------------------------------ routing


def rooted(svc: S, directory: Path) -> S:
    """The service with ``svc``'s settings over a shared dir (kept: a server's listing
    reads only what changed since)."""
    import copy

    cache: dict[Path, S] = svc.__dict__.setdefault("_shared_services", {})
    if directory not in cache:
        other = copy.copy(svc)
        for built in ("ctx", "pipeline", "_shared_services", "_shared_listed"):
            other.__dict__.pop(built, None)
        other.store = EnvStore(directory, shared=True)
        # The shared kernels dir; no summaries of the user's; the shared dir's own audit log
        # (<dir>/.audit.jsonl, the administrator's).
        for attr, value in (("_kernels_dir", svc.shared.kernels_dir), ("_listed", {})):
            setattr(other, attr, value)
        other.audit_log = None
        # What the service keeps of its own envs and kernels dir: kept apart for this one.
        listing, kernel_listing = vars(svc).get("_listing"), vars(svc).get("_kernel_listing")
        if listing is not None:
            vars(other)["_listing"] = type(listing)(other.store)
        if kernel_listing is not None:
            vars(other)["_kernel_listing"] = type(kernel_listing)()
        cache[directory] = other
    return cache[directory]


def admin(svc: S, name: str, *, create: bool = False) -> S:
    """The service an administrator's ``--shared`` verb runs with, or why not."""
    validate_env_name(name)
    shared = svc.shared
    if not shared.dirs:
        said = f" ({shared.notes[0]})" if shared.notes else ""
        raise InvalidRequest(
            "--shared needs a shared envs dir: an administrator sets UserPkg.shared_envs_dirs "
            f"in /etc/jupyter/jupyter_userpkg_config.json{said}"
        )
    if not running_as_trusted():
        if create:
            raise AccessDenied(
                "only the administrator creates shared environments (--shared); create one "
                f"of your own, or layer it over a shared one: create {name} --over SHARED"
            )
        raise refusal(name)
    why = _refused(shared.kernels_dir)
    if why:  # its kernelspecs would be written where someone else could plant a link
        raise InvalidRequest(f"the shared kernels dir {shared.kernels_dir} is refused: {why}")
    directory = shared.find(name)
    if directory is None and not create:
        raise EnvNotFound(f"shared environment {name!r} does not exist; see `jupyter userpkg envs`")
    if directory is not None and create:
        raise EnvExists(f"shared environment {name!r} already exists in {directory}")
    return rooted(svc, directory or shared.dirs[0])


def for_change(svc: S, name: str | None) -> None:
    """Refuse a user's change of a shared env: one that is not theirs, or their envs dir
    pointed at a shared dir (a shared env's kernel names it)."""
    _not_in_shared_dir(svc, name)
    if name is not None and not svc.store.exists(name) and svc.shared.find(name):
        raise refusal(name)


def _not_in_shared_dir(svc: S, name: str | None) -> None:
    """A user whose envs dir is a shared one (a shared env's kernel names it) changes
    nothing there."""
    if svc.shared.holds(svc.store.envs_dir) and not running_as_trusted():
        raise AccessDenied(
            f"environment {name or 'default'!r} is shared and read-only: the administrator "
            f"changes it ({svc.store.envs_dir} is the administrator's shared envs dir)"
        )


def for_create(svc: S, name: str) -> None:
    """A user's new env may not take the name of a shared env."""
    _not_in_shared_dir(svc, name)
    directory = svc.shared.find(name)
    if directory is not None:
        raise EnvExists(
            f"{name!r} is the name of a shared environment (in {directory}); choose another "
            f"name, or layer your own over it: jupyter userpkg create NAME --over {name}"
        )


def over(svc: S, base: str, *, given: tuple[str, ...]) -> S:
    """The service a ``create --over BASE`` runs with: its layer's base is ``BASE``'s Python.

    ``given`` names the options given with ``--over`` that it sets itself (``--kind``,
    ``--python``, ``-c``, ``--shared``): refused, as the base decides them.
    """
    import copy

    from .pypi.uv import env_python

    validate_env_name(base)
    if given:
        raise InvalidRequest(
            f"--over takes the kind and Python of the environment it layers on: "
            f"leave out {', '.join(given)}"
        )
    directory = svc.shared.find(base)
    if directory is None:
        raise EnvNotFound(
            f"no shared environment {base!r}; `jupyter userpkg envs` lists the shared ones"
        )
    name = next(n for n in EnvStore(directory).listing() if n.lower() == base.lower())
    python = env_python(directory / name)
    if not python.exists():
        raise InvalidRequest(f"the shared environment {name!r} has no Python to layer over")
    layered = copy.copy(svc)
    for built in ("ctx", "pipeline"):
        layered.__dict__.pop(built, None)
    layered.base_python = str(python)
    return layered


def for_reading(svc: S, name: str | None) -> S:
    """The service to read env ``name`` with: the user's own first, else a shared one."""
    if name is None or svc.store.exists(name):
        return svc
    directory = svc.shared.find(name)
    return rooted(svc, directory) if directory is not None else svc


# ------------------------------------------------------------------ listing


def listed(svc: S, own: list[EnvInfo]) -> list[EnvInfo]:
    """``own`` with the shared envs after them (marked), and clashes flagged on the user's.

    Each listing it is made of is the same list while its envs did not change
    (:mod:`.listing`); so is this one, made once from them and kept, and a server keeps
    its JSON (a shared env's revision, which a layer's note compares, is in its list)."""
    if not svc.shared.dirs or svc.shared.holds(svc.store.envs_dir):
        return own
    parts = (own, *(rooted(svc, d).list_envs() for d in svc.shared.dirs))
    kept = svc.__dict__.get("_shared_listed")
    if kept is not None and all(a is b for a, b in zip(kept[0], parts, strict=True)):
        same: list[EnvInfo] = kept[1]
        return same
    out = _merged(svc, own, parts[1:])
    svc.__dict__["_shared_listed"] = (parts, out)
    return out


def _merged(svc: S, own: list[EnvInfo], theirs: tuple[list[EnvInfo], ...]) -> list[EnvInfo]:
    seen: dict[str, EnvInfo] = {}
    for envs in theirs:
        for info in envs:
            seen.setdefault(info.name.lower(), replace(info, shared=True))
    out = []
    for info in own:
        other = seen.get(info.name.lower())
        if other is not None:
            info = replace(info, notes=(*info.notes, clash_note(info.name, other.path)))
        out.append(annotated(svc, info))
    return out + list(seen.values())


def annotated(svc: S, info: EnvInfo, *, shared: bool = False) -> EnvInfo:
    """One env's summary as a user is shown it: a shared env marked so; a layer over a
    shared env with its base, and a note when that base changed since it was solved."""
    if shared:
        return replace(info, shared=True)
    if not svc.shared.dirs:
        return info
    base = layer_base(svc, info.name, info.revision)  # None: no shared env under it
    if base is None:
        return info
    stale = stale_note(info.name, *base)
    return replace(info, over=base[0], notes=(*info.notes, *([stale] if stale else [])))


def layer_base(svc: S, name: str, revision: int) -> tuple[str, int, int] | None:
    """A layer over a shared env: (its name, the revision the layer was solved against,
    its revision now); None for any other env.  Read from the env's manifest once per
    revision (and only where an administrator shares envs: ``listed`` returns early)."""
    cache: dict[tuple[str, int], tuple[str, int]] = svc.__dict__.setdefault("_bases", {})
    key = (name, revision)
    if key not in cache:
        try:
            manifest = svc.store.read_manifest(name, revision)
        except (UserPkgError, OSError, ValueError):
            return None
        cache[key] = (manifest.base_env, manifest.base_revision)
    base_env, solved = cache[key]
    if not base_env:
        return None
    prefix = Path(base_env)
    if not any(prefix.parent == d for d in svc.shared.dirs):
        return None
    revisions = EnvStore(prefix.parent).revisions(prefix.name)
    return prefix.name, solved, revisions[-1] if revisions else -1


def stale_note(name: str, base: str, solved: int, now: int) -> str | None:
    """What a layer's user is told when its shared base changed since it was solved."""
    if now == solved:
        return None
    if now < 0:
        return f"the shared environment {base!r} this layer extends is gone"
    return (
        f"the shared environment {base!r} changed (revision {solved} -> {now}) since this "
        f"layer was solved against it: run `jupyter userpkg update -n {name} --all`"
    )


def clash_note(name: str, path: str) -> str:
    return (
        f"{name!r} is also the name of a shared environment ({path}): -n {name} means yours; "
        "rename yours (create another, delete this one) to reach the shared one"
    )


def doctor_notes(svc: S, reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``doctor``'s reports with the problems that come from the shared envs: a user's env
    with a shared env's name, a layer solved against an older revision of its base."""
    if not svc.shared.dirs or svc.shared.holds(svc.store.envs_dir):
        return reports
    for report in reports:
        env = report["env"]
        directory = svc.shared.find(env)
        found = [clash_note(env, str(directory / env))] if directory is not None else []
        with contextlib.suppress(UserPkgError, OSError):
            base = layer_base(svc, env, svc.store.current(env))
            stale = stale_note(env, *base) if base is not None else None
            found += [stale] if stale else []
        if found:
            report["problems"] = [*report["problems"], *found]
            report["ok"] = False
    return reports


def shared_mode(*paths: Path) -> None:
    """A shared env's files (and its kernelspecs) are read by every user and written by
    the administrator alone: readable by all, writable by none but their owner (uv
    leaves its lock file 0666 in each venv it manages; files written atomically are
    0600)."""
    import stat

    for path in paths:
        for root, dirs, files in os.walk(path):
            for entry in (*dirs, *files):
                full = os.path.join(root, entry)
                try:
                    info = os.lstat(full)
                except OSError:
                    continue
                if stat.S_ISLNK(info.st_mode):
                    continue
                readable = 0o055 if stat.S_ISDIR(info.st_mode) else 0o044
                mode = (stat.S_IMODE(info.st_mode) & ~0o022) | readable
                if mode != stat.S_IMODE(info.st_mode):
                    os.chmod(full, mode)
