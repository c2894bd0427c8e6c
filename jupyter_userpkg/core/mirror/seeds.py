"""What was asked for: the administrator's seed files and every user env's manifest
(requests) and lock (what runs), read without changing anything.

A file or env that cannot be read is not a failure: it is named in the notes as
"not checked", so the administrator knows the closure may lack what it needs.
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from .config import MirrorConfig
from .engines import EnvStore, UserPkgError, first_line, parse_lock
from .records import Group, Need, Source


def collect(config: MirrorConfig) -> tuple[list[Group], list[str]]:
    """The groups of requests of every seed file and user env, and what was not checked."""
    groups: list[Group] = []
    notes: list[str] = []
    for pattern in config.seed.requirements:
        for path in _matches(pattern, notes):
            _read(lambda p=path: _requirements_group(p, notes), groups, notes, path)
    for pattern in config.seed.environments:
        for path in _matches(pattern, notes):
            _read(lambda p=path: _environment_group(p), groups, notes, path)
    for pattern in config.seed.envs:
        for envs_dir in _matches(pattern, notes):
            groups += _env_groups(envs_dir, notes)
    return groups, notes


def _matches(pattern: str, notes: list[str]) -> list[Path]:
    found = sorted(Path(p) for p in glob.glob(os.path.expanduser(pattern)))
    if not found:
        notes.append(f"not checked: {pattern} matches nothing")
    return found


def _read(read: Any, groups: list[Group], notes: list[str], path: Path) -> None:
    try:
        groups.append(read())
    except (OSError, ValueError, UserPkgError) as exc:
        notes.append(f"not checked: {path} ({first_line(exc)})")


def _requirements_group(path: Path, notes: list[str]) -> Group:
    """A requirements file: one PEP 508 requirement a line (options and comments skipped;
    a line that is not a requirement is named)."""
    from packaging.requirements import InvalidRequirement, Requirement

    reqs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = line.split(" #", 1)[0].strip()
        if not text or text.startswith(("#", "-")):
            continue
        try:
            reqs.append(str(Requirement(text)))
        except InvalidRequirement:
            notes.append(f"not checked: {path}:{number} {text!r} is not a requirement")
    return Group(Need(seed=str(path)), pypi=tuple(reqs))


def _environment_group(path: Path) -> Group:
    """An ``environment.yml``: conda specs, and PyPI ones under ``pip:``."""
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    conda: list[str] = []
    pypi: list[str] = []
    for item in data.get("dependencies") or []:
        if isinstance(item, str):
            conda.append(item.split("::", 1)[-1])
        elif isinstance(item, dict):
            pypi += [str(p) for p in item.get("pip") or []]
    conda = [c for c in conda if c.split()[0].split("=")[0] not in ("pip",)]
    return Group(Need(seed=str(path)), pypi=tuple(pypi), conda=tuple(conda))


def owner(path: Path) -> str:
    """The user who owns ``path`` (their uid when it has no name)."""
    uid = path.lstat().st_uid  # a link names whoever made it, not what it points at
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return str(uid)


def _env_groups(envs_dir: Path, notes: list[str]) -> list[Group]:
    store = EnvStore(envs_dir)
    try:
        names = store.names()
    except OSError as exc:
        notes.append(f"not checked: {envs_dir} ({exc.strerror or exc})")
        return []
    out = []
    for name in names:
        try:
            group = _env_group(store, name)
            out.append(_plain(group, notes, envs_dir / name))
        except (OSError, ValueError, UserPkgError) as exc:
            notes.append(f"not checked: {envs_dir / name} ({first_line(exc)})")
    return out


#: A conda spec from a user's file: a name and version/build terms, no channel, no URL.
_CONDA_SPEC = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*(\s*[=<>!~*,.|A-Za-z0-9_+-]+)*\s*")
#: A name or version from a user's lock.
_LOCKED = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+!*-]{0,200}")


def _plain(group: Group, notes: list[str], where: Path) -> Group:
    """What a user's env asks for, as plain specs only: a direct URL, a file, a channel or
    anything but a name with versions is left out (and named), since the builder runs
    as the administrator and solves what users wrote."""
    from packaging.requirements import InvalidRequirement, Requirement

    pypi = []
    for text in group.pypi:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            req = None
        if req is None or req.url or "\n" in text:
            notes.append(
                f"not checked: {where} asks for {text!r}, which is not a plain requirement"
            )
        else:
            pypi.append(str(req))
    conda = []
    for text in group.conda:
        if _CONDA_SPEC.fullmatch(text):
            conda.append(text)
        else:
            notes.append(f"not checked: {where} asks for {text!r}, which is not a plain conda spec")
    locked = [t for t in group.locked if _LOCKED.fullmatch(t[1]) and _LOCKED.fullmatch(t[2])]
    return replace(group, pypi=tuple(pypi), conda=tuple(conda), locked=tuple(locked))


def _env_group(store: EnvStore, name: str) -> Group:
    need = Need(user=owner(store.prefix(name)), env=name)
    manifest = store.read_manifest(name)
    locked: list[tuple[Source, str, str]] = [
        ("pypi", pkg.name, pkg.version) for pkg in parse_lock(store.read_lock(name)).values()
    ]
    locked += [("conda", n, v) for n, v in _conda_locked(store.read_conda_lock(name))]
    conda = [f"{n} {s}".strip() if not s.startswith(n) else s for n, s in manifest.conda.items()]
    return Group(
        need,
        pypi=tuple(manifest.pypi.values()),
        conda=tuple(conda),
        locked=tuple(locked),
        python=manifest.python,
    )


def _conda_locked(text: str) -> list[tuple[str, str]]:
    """(name, version) of each conda package of a pixi-format lock, from its file name."""
    import yaml

    if not text.strip():
        return []
    data = yaml.safe_load(text) or {}
    out = []
    for pkg in data.get("packages") or []:
        url = str(pkg.get("conda") or "") if isinstance(pkg, dict) else ""
        stem = url.rsplit("/", 1)[-1].removesuffix(".conda").removesuffix(".tar.bz2")
        parts = stem.rsplit("-", 2)
        if len(parts) == 3:
            out.append((parts[0], parts[1]))
    return out
