"""The mirror's configuration file (TOML), read into one frozen value.

The keys are a contract the admin guide documents::

    output = "/srv/userpkg-mirror"      # the served tree is output/current
    policy = "/etc/jupyter/jupyter_userpkg_policy.json"   # default: the effective policy
    grace_days = 14
    [pypi]   upstream, python, platforms, keep_latest
    [conda]  channels, subdirs
    [seed]   requirements, environments, envs

The builder reads its upstreams from here only: the policy's ``indexes`` and
``channels`` point users at the mirror and are never upstreams.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .engines import InvalidRequest, Policy, PolicyError, effective_policy, from_data

PYPI = "https://pypi.org/simple"


class MirrorConfigError(InvalidRequest):
    """A mirror configuration that cannot be used (said with the file and the key)."""

    code = "invalid_mirror_config"


@dataclass(frozen=True)
class PypiConfig:
    upstream: str = PYPI
    python: tuple[str, ...] = ("3.11",)
    platforms: tuple[str, ...] = ("linux",)
    keep_latest: int = 1


@dataclass(frozen=True)
class CondaConfig:
    channels: tuple[str, ...] = ()
    subdirs: tuple[str, ...] = ("linux-64", "noarch")


@dataclass(frozen=True)
class SeedConfig:
    requirements: tuple[str, ...] = ()
    environments: tuple[str, ...] = ()
    envs: tuple[str, ...] = ()


@dataclass(frozen=True)
class MirrorConfig:
    path: Path
    output: Path
    policy_file: str = ""
    grace_days: float = 14
    pypi: PypiConfig = PypiConfig()
    conda: CondaConfig = CondaConfig()
    seed: SeedConfig = SeedConfig()

    def policy(self) -> Policy:
        """The policy file the config names, else the administrator's effective policy."""
        if not self.policy_file:
            return effective_policy()
        path = Path(self.policy_file)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise PolicyError(f"policy {path}: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise PolicyError(f"policy {path} is not valid JSON: {exc}") from None
        return from_data(data, str(path))


_TOP = {"output", "policy", "grace_days", "pypi", "conda", "seed"}
_TABLES: dict[str, dict[str, type]] = {
    "pypi": {"upstream": str, "python": list, "platforms": list, "keep_latest": int},
    "conda": {"channels": list, "subdirs": list},
    "seed": {"requirements": list, "environments": list, "envs": list},
}


def load_config(path: Path) -> MirrorConfig:
    """Read and validate ``path``; any doubt is one line naming the file and the key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MirrorConfigError(f"mirror config {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise MirrorConfigError(f"mirror config {path} is not valid TOML: {exc}") from None

    def bad(what: str) -> MirrorConfigError:
        return MirrorConfigError(f"mirror config {path}: {what}")

    unknown = sorted(set(data) - _TOP)
    if unknown:
        raise bad(f"unknown key {unknown[0]!r} (known: {', '.join(sorted(_TOP))})")
    if not isinstance(data.get("output"), str) or not data["output"]:
        raise bad("'output' (the directory the mirror is written to) is required")
    grace = data.get("grace_days", 14)
    if isinstance(grace, bool) or not isinstance(grace, int | float) or grace < 0:
        raise bad("'grace_days' must be a number of days, 0 or more")
    if not isinstance(data.get("policy", ""), str):
        raise bad("'policy' must be the path of a policy file")
    tables = {name: _table(data, name, bad) for name in _TABLES}
    pypi = PypiConfig(**tables["pypi"])
    if pypi.keep_latest < 1:
        raise bad("'pypi.keep_latest' must be at least 1")
    base = path.parent
    output = Path(data["output"])
    return MirrorConfig(
        path=path,
        output=output if output.is_absolute() else base / output,
        policy_file=data.get("policy", ""),
        grace_days=float(grace),
        pypi=pypi,
        conda=CondaConfig(**tables["conda"]),
        seed=SeedConfig(**tables["seed"]),
    )


def _table(data: dict[str, Any], name: str, bad: Any) -> dict[str, Any]:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise bad(f"'{name}' must be a table ([{name}])")
    kinds = _TABLES[name]
    unknown = sorted(set(table) - set(kinds))
    if unknown:
        raise bad(f"unknown key '{name}.{unknown[0]}' (known: {', '.join(sorted(kinds))})")
    out: dict[str, Any] = {}
    for key, value in table.items():
        kind = kinds[key]
        if kind is list:
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise bad(f"'{name}.{key}' must be a list of non-empty strings")
            out[key] = tuple(value)
        elif not isinstance(value, kind) or isinstance(value, bool):
            raise bad(f"'{name}.{key}' must be a {kind.__name__}")
        else:
            out[key] = value.rstrip("/") if isinstance(value, str) else value
    return out
