"""Export formats, and reading them back for ``create --from``.

* ``requirements``: ``name==version`` for every package of the env's lock.
* ``environment``: a conda-style environment.yml with a ``pip:`` section.
* ``lock``: the env's PEP 751 pylock.toml plus a ``[tool.jupyter-userpkg]``
  table carrying the manifest, so that ``create --from`` restores exactly the
  same packages *and* what was asked for.  A conda env's lock also carries its
  conda lock (pixi.lock format) as ``conda-lock``.

A conda env exports as ``environment`` (channels, ``name=version=build`` pins
and a ``pip:`` section) or ``lock``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .conda import meta as condameta
from .errors import InvalidRequest, InvalidSpec
from .manifest import Manifest, conda_entry_to_spec, manifest_entry_to_requirement
from .pylock import parse_lock
from .pypi.uv import lock_entries
from .specs import canonical_name, parse_pypi_specs

if TYPE_CHECKING:
    from packaging.requirements import Requirement

FORMATS = ("requirements", "environment", "lock")
#: Formats of any env, written from its manifest and lock (:mod:`.notebooks`).
NOTEBOOK_FORMATS = ("notebook", "pep723")


@dataclass(frozen=True)
class Imported:
    """What a file given to ``create --from`` asks for."""

    requirements: tuple[Requirement, ...]
    python: str | None = None
    kind: str | None = None
    lock_text: str | None = None
    #: conda envs: MatchSpecs, channels, and the exact conda lock of an exported lock.
    conda_specs: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    conda_lock_text: str | None = None
    #: The file's name, for messages.
    source: str = ""
    #: It asks for conda packages (beyond python and pip): only a kind that takes
    #: channels can hold it (an environment.yml names no kind of its own).
    needs_channels: bool = False
    #: An exported lock: requests that none of its packages satisfies.
    unlocked: tuple[str, ...] = ()
    #: What the plan says of where this came from (a notebook's lock or its requests).
    note: str = ""
    #: What to make instead when the policy refuses a record of this lock (a
    #: notebook's requests); its ``note`` is completed with the refusal.
    fallback: Imported | None = None

    def refuse_unlocked(self, satisfied: set[str] | frozenset[str] = frozenset()) -> None:
        """InvalidSpec naming every request the lock (or ``satisfied``) does not hold."""
        missing = [n for n in self.unlocked if canonical_name(n) not in satisfied]
        if missing:
            verb = "is" if len(missing) == 1 else "are"
            raise InvalidSpec(
                f"{self.source}: {', '.join(missing)} {verb} asked for but not among the "
                "lock's packages"
            )


def requirements_export(manifest: Manifest, pins: list[str]) -> str:
    """A requirements.txt of the PyPI layer's exact versions."""
    lines = [f"# jupyter-userpkg export of environment {manifest.name!r} ({manifest.kind})"]
    return "\n".join([*lines, *pins]) + "\n"


def environment_export(name: str, channels: list[str], deps: list[str], pins: list[str]) -> str:
    """A conda-style environment.yml: channels, conda dependencies, a ``pip:`` section."""
    import yaml

    dependencies: list[object] = list(deps)
    if pins:
        dependencies.append({"pip": pins})
    doc = {"name": name, "channels": channels, "dependencies": dependencies}
    return str(yaml.safe_dump(doc, sort_keys=False))


def lock_export(
    manifest: Manifest,
    lock_text: str,
    *,
    channels: list[str] | None = None,
    dependencies: object = None,
    conda_lock: str | None = None,
) -> str:
    """The PyPI lock with a ``[tool.jupyter-userpkg]`` table: the manifest (and a conda lock)."""
    import tomlkit

    doc = tomlkit.parse(lock_text)
    tool = tomlkit.table(is_super_table=True)
    ours = tomlkit.table()
    ours["name"] = manifest.name
    ours["kind"] = manifest.kind
    ours["python"] = manifest.python
    if channels is not None:
        ours["channels"] = channels
    if dependencies is not None:
        ours["dependencies"] = dependencies
    if conda_lock is not None:
        ours["conda-lock"] = tomlkit.string(conda_lock, multiline=True, literal=True)
    ours["pypi-dependencies"] = manifest.pypi_table()
    tool["jupyter-userpkg"] = ours
    doc["tool"] = tool
    return tomlkit.dumps(doc)


def read_import(path: Path) -> Imported:
    """Read a requirements.txt, an environment.yml or an exported lock (notebooks and
    scripts: :func:`.notebooks.read_from`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidRequest(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    name = path.name.lower()
    if name.endswith((".yml", ".yaml")):
        imported = _read_environment(text, path)
    elif name.endswith(".toml"):
        imported = read_lock_text(text, path.name)
    else:
        imported = _read_requirements(text, path)
    return replace(imported, source=path.name)


def _read_requirements(text: str, path: Path) -> Imported:
    specs: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-"):
            raise InvalidSpec(
                f"{path.name}, line {number}: options like {line.split()[0]!r} are not "
                "accepted in requirement files; indexes are set by configuration"
            )
        specs.append(line)
    try:
        return Imported(tuple(parse_pypi_specs(specs)))
    except InvalidSpec as exc:
        raise InvalidSpec(f"{path.name}: {exc.message}") from None


def _check_environment(data: dict[str, Any], path: Path) -> None:
    """Every field of an environment file of the shape it must have, else say which."""
    channels = data.get("channels") or []
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        raise InvalidSpec(f"{path.name}: 'channels' must be a list of channel names or URLs")
    for dep in data.get("dependencies") or []:
        if isinstance(dep, str):
            continue
        if isinstance(dep, dict) and set(dep) == {"pip"}:
            pip = dep["pip"] or []
            if isinstance(pip, list) and all(isinstance(p, str) for p in pip):
                continue
            raise InvalidSpec(f"{path.name}: the 'pip' entry must be a list of package specs")
        raise InvalidSpec(
            f"{path.name}: {dep!r} in 'dependencies' is neither a package spec nor a 'pip' list"
        )


def _read_environment(text: str, path: Path) -> Imported:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidSpec(f"{path.name} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict) or not isinstance(data.get("dependencies", []), list):
        raise InvalidSpec(f"{path.name} is not an environment file (no 'dependencies' list)")
    _check_environment(data, path)
    python: str | None = None
    pip_specs: list[str] = []
    channels = [str(c) for c in data.get("channels") or []]
    conda_deps = [
        d
        for d in data.get("dependencies") or []
        if isinstance(d, str)
        and re.split(r"[\s=<>!~]", d.split("::")[-1])[0] not in ("python", "pip")
    ]
    conda_specs = [
        str(d)
        for d in data.get("dependencies") or []
        if isinstance(d, str) and d.split("::")[-1].strip() != "pip"
    ]
    for dep in data.get("dependencies") or []:
        if isinstance(dep, dict) and "pip" in dep:
            pip_specs += [str(s) for s in dep["pip"] or []]
        elif isinstance(dep, str):
            conda_name = dep.split("::")[-1].replace(" ", "")
            if conda_name.split("=")[0].split("<")[0].split(">")[0] == "python":
                version = conda_name[len("python") :].lstrip("=")
                python = ".".join(version.split(".")[:2]) or None
    for spec in pip_specs:
        if spec.startswith("-"):
            raise InvalidSpec(f"{path.name}: pip options like {spec!r} are not accepted")
    # Conda packages beyond python and pip make it a conda environment; a file with
    # only those (and a pip: list) suits every kind.
    return Imported(
        tuple(parse_pypi_specs(pip_specs)),
        python=python,
        conda_specs=tuple(conda_specs),
        channels=tuple(channels),
        needs_channels=bool(conda_deps),
    )


def read_lock_text(text: str, source: str) -> Imported:
    """An exported lock's text (``source`` names it in messages)."""
    import yaml
    from packaging.requirements import InvalidRequirement

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidSpec(f"{source} is not valid TOML: {exc}") from None
    if "lock-version" not in data:
        raise InvalidSpec(f"{source} is not a lock exported by `jupyter userpkg export`")
    tool = data.get("tool", {}).get("jupyter-userpkg", {})
    try:
        lock_entries(text)  # every name, version and hash, before any reaches uv
        locked = parse_lock(text)
    except InvalidSpec as exc:
        raise InvalidSpec(f"{source}: {exc.message}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidSpec(f"{source} is not a valid lock: missing or bad field {exc}") from None
    specs: list[str] = []
    for name, value in (tool.get("pypi-dependencies") or {}).items():
        try:
            specs.append(str(manifest_entry_to_requirement(name, value)))
        except (InvalidRequirement, AttributeError, TypeError):
            raise InvalidSpec(
                f"{source}: the entry for {name!r} is not a valid requirement"
            ) from None
    if not tool:
        specs = [f"{p.name}=={p.version}" for p in locked.values()]
    try:
        reqs = parse_pypi_specs(specs)
    except InvalidSpec as exc:
        raise InvalidSpec(f"{source}: {exc.message}") from None
    # A conda env's PyPI requests may be satisfied by its conda packages.
    conda_lock = str(tool.get("conda-lock") or "") if "conda-lock" in tool else None
    try:
        held = {canonical_name(n) for n in condameta.parse_lock(conda_lock or "")}
    except (yaml.YAMLError, AttributeError, TypeError, ValueError):
        raise InvalidSpec(f"{source}: its conda lock is not valid") from None
    # Requests the lock does not hold: the kind decides (a layer's base may hold them).
    unlocked = tuple(
        req.name
        for req in reqs
        if canonical_name(req.name) not in locked and canonical_name(req.name) not in held
    )
    conda_specs = [
        conda_entry_to_spec(name, value) for name, value in (tool.get("dependencies") or {}).items()
    ]
    return Imported(
        tuple(reqs),
        python=tool.get("python") or None,
        kind=tool.get("kind") or None,
        lock_text=text,
        unlocked=unlocked,
        conda_specs=tuple(conda_specs),
        channels=tuple(str(c) for c in tool.get("channels") or ()),
        conda_lock_text=conda_lock,
    )
